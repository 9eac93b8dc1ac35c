import StrataCodecs

/// What `Store.verify()` found.
public struct VerifyReport: Sendable {
    /// One damaged thing: the file, and what is wrong with it.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The damaged file.
        public var path: String
        /// What is wrong with it.
        public var message: String
        /// `path: message`.
        public var description: String { "\(path): \(message)" }
    }
    /// Segment files read.
    public var segments = 0
    /// Segments already replaced by a compaction's output and awaiting deletion (after the grace
    /// period): their points are counted in the replacement, so they are not counted or read here.
    public var replacedSegments = 0
    /// Chunks read and decoded.
    public var chunks = 0
    /// Points decoded.
    public var points = 0
    /// Write-ahead logs read.
    public var logs = 0
    /// Everything found damaged (empty when the store is healthy).
    public var problems: [Problem] = []
    /// True when nothing is damaged.
    public var isHealthy: Bool { problems.isEmpty }
}

extension Store {
    /// Reads every segment, chunk, log and catalog record, checks every checksum and decodes every
    /// column. Damaged files are listed; nothing is changed or deleted.
    ///
    /// - Returns: What was read, and every problem found.
    /// - Throws: ``StrataError`` only when the store cannot be read at all (the store's own locks or catalog); damaged files are reported in the result, not thrown.
    public func verify() throws(StrataError) -> VerifyReport {
        try lock.withLock { () throws(StrataError) in
            var report = VerifyReport()
            try catalog.refresh()
            // The whole log, not only the tail after the checkpoint; then the checkpoint itself.
            let wholeLog = Catalog(path: paths.catalog, useCheckpoint: false)
            try wholeLog.refresh()
            for d in wholeLog.damaged {
                report.problems.append(.init(path: paths.catalog, message: "byte \(d.offset): \(d.reason)"))
            }
            for problem in catalog.checkpointProblems() {
                report.problems.append(.init(path: catalog.checkpointPath, message: problem))
            }
            var opened: [(name: String, segment: Segment?, error: StrataError?)] = []
            for name in ((try? Sys.list(paths.segments)) ?? []).sorted() where name.hasSuffix(".seg") {
                do throws(StrataError) {
                    opened.append((name, try Segment(path: paths.segment(name), name: name), nil))
                } catch {
                    opened.append((name, nil, error))
                }
            }
            // As readers do: a segment named as replaced by a readable segment is not read.
            let replaced = Set(opened.compactMap(\.segment).flatMap(\.meta.replaces))
            for (name, segment, failure) in opened {
                let path = paths.segment(name)
                if replaced.contains(name) {
                    report.replacedSegments += 1
                    continue
                }
                do throws(StrataError) {
                    if let failure { throw failure }
                    let seg = segment!
                    report.segments += 1
                    for problem in seg.checkRunIndex() { report.problems.append(.init(path: path, message: problem)) }
                    // A segment opened from its run index whose whole directory turns out damaged.
                    if let damage = seg.lateDamage { throw StrataError.corrupt(damage, path: path) }
                    for problem in seg.checkPackedSummaries() { report.problems.append(.init(path: path, message: problem)) }
                    for s in seg.series {
                        do throws(StrataError) {
                            let entries = try s.chunks()
                            for (i, e) in entries.enumerated() {
                                report.chunks += 1
                                do throws(StrataError) {
                                    try Store.verifyChunk(ChunkHandle(segment: seg, entry: e, rankBase: 0), e)
                                    report.points += e.count
                                } catch {
                                    report.problems.append(
                                        .init(path: path, message: "series \(s.key.canonical) of run \(s.key.run), chunk \(i): \(error.message)"))
                                }
                            }
                        } catch {
                            report.problems.append(.init(path: path, message: "series \(s.key.canonical) of run \(s.key.run): \(error.message)"))
                        }
                    }
                } catch {
                    report.problems.append(.init(path: path, message: error.message))
                }
            }
            for name in ((try? Sys.list(paths.logs)) ?? []).sorted() where name.hasSuffix(".wal") {
                let path = paths.logs + "/" + name
                report.logs += 1
                do throws(StrataError) {
                    let tail = try LogTail(path: path, name: name)
                    tail.refresh()
                    if let d = tail.damage { report.problems.append(.init(path: path, message: d)) }
                    for (key, series) in tail.series {
                        do throws(StrataError) { _ = try MemoryChunk.build(series) } catch {
                            report.problems.append(.init(path: path, message: "series \(key.canonical) of run \(key.run): \(error.message)"))
                        }
                    }
                } catch {
                    report.problems.append(.init(path: path, message: error.message))
                }
            }
            for name in ((try? Sys.list(paths.damaged)) ?? []).sorted() {
                report.problems.append(.init(path: paths.damaged + "/" + name, message: "set aside as damaged during recovery"))
            }
            return report
        }
    }

    static func verifyChunk(_ c: ChunkHandle, _ e: ChunkEntry) throws(StrataError) {
        let n = e.count
        if case .segment(let seg, _) = c.source {
            _ = try seg.blob(e.steps); _ = try seg.blob(e.values); _ = try seg.blob(e.times); _ = try seg.blob(e.tier)
        }
        let cols = try ChunkColumns(c)
        let s = cols.steps, v = cols.values
        for i in 1..<max(1, n) where s[i] < s[i - 1] {
            throw StrataError(.corrupt, "steps out of order at point \(i)")
        }
        let a = Aggregate.of(steps: s, values: v)
        guard a.count == e.stats.count, a.nanCount == e.stats.nanCount, a.firstStep == e.stats.firstStep, a.lastStep == e.stats.lastStep,
            a.min.bitPattern == e.stats.min.bitPattern || (a.min == e.stats.min),
            a.max.bitPattern == e.stats.max.bitPattern || (a.max == e.stats.max)
        else {
            throw StrataError(.corrupt, "chunk statistics do not match its points")
        }
        // The quantile sketch must decode and be the sketch of the chunk's values.
        if let stored = try c.sketch() {
            var expected = QuantileSketch()
            for x in v { expected.add(x) }
            guard stored == expected else { throw StrataError(.corrupt, "chunk quantile sketch does not match its points") }
        }
    }
}

/// Merges the segments of a store into one, series by series, in step order (stable by arrival),
/// applying rewinds, re-chunking into full chunks and rebuilding tier blocks.
///
/// Safe at any moment: the output is written under a temporary name and renamed; it names the
/// segments it replaces, so a reader that sees both ignores the replaced ones, and a crash before
/// they are deleted leaves a store that reads every point once. Replaced segments are deleted
/// only after `grace` seconds so a concurrent directory listing never misses both a replaced
/// segment and its replacement. Only one compactor runs at a time (`compaction.lock`).
/// Memory: one decoded chunk per overlapping input chunk plus one output chunk.
enum Compactor {
    struct Outcome: Sendable {
        /// Segments merged.
        var inputSegments = 0
        /// The segment written, if any.
        var outputSegment: String?
        /// Points written.
        var points = 0
        /// Replaced segments deleted.
        var deletedSegments = 0
    }

    /// `latestRewind`: the latest rewind's sequence; `epoch`: a rewind epoch fixed after reading
    /// the catalog (`RewindEpoch`), recorded in the output (its rewinds are applied by the merge).
    /// `drop`: runs whose points are left out of the output (deleted runs being reclaimed).
    static func run(
        paths: StorePaths, reader: StoreReader, grace: Double, latestRewind: Int64, epoch: Int64, drop: Set<RunID> = []
    ) throws(StrataError) -> Outcome? {
        let lockFd = try Sys.open(paths.compactionLock, .readWrite, .create)
        defer { Sys.close(lockFd) }
        guard try Sys.tryLockExclusive(lockFd, paths.compactionLock) else { return nil }
        defer { Sys.unlock(lockFd) }
        TempFiles.removeStale(paths)  // e.g. the output of a compaction that was killed
        try reader.refresh()
        var outcome = Outcome()
        outcome.deletedSegments = try deleteReplaced(paths: paths, reader: reader, grace: grace)
        // Segments written after the epoch was fixed may hold rewinds the catalog read for it
        // lacks: they wait for the next compaction.
        let inputs = reader.liveSegments.filter { $0.meta.rewindEpoch <= epoch }
        let needsRewind = inputs.contains { $0.meta.rewindEpoch < latestRewind && $0.meta.firstSequence < latestRewind }
        let dropping = !drop.isEmpty && inputs.contains { seg in seg.runTable.contains(where: drop.contains) }
        guard inputs.count > 1 || (needsRewind && !inputs.isEmpty) || dropping else { return outcome }
        outcome.inputSegments = inputs.count
        let name = "c\(Clock.nanoseconds())-\(Sys.pid).seg"
        var writer = try SegmentWriter(path: paths.segment(name), tmpDir: paths.tmp)
        do throws(StrataError) {
            var keys = Set<SeriesKey>()
            for seg in inputs { for s in seg.series { keys.insert(s.key) } }
            for key in keys.sorted() where !drop.contains(key.run) {
                let chunks = try reader.chunks(key, includeTails: false)
                writer.beginSeries(key)
                outcome.points += try merge(chunks, into: &writer)
                try writer.endSeries()
            }
            let meta = SegmentMeta(
                writer: "", generation: 0,
                firstSequence: inputs.map(\.meta.firstSequence).min() ?? Clock.nanoseconds(),
                lastSequence: inputs.map(\.meta.lastSequence).max() ?? Clock.nanoseconds(),
                replaces: inputs.map(\.name), rewindEpoch: epoch)
            try writer.finish(meta: meta)
        } catch {
            writer.abandon()
            throw error
        }
        outcome.outputSegment = name
        try reader.refresh()
        if grace <= 0 { outcome.deletedSegments += try deleteReplaced(paths: paths, reader: reader, grace: 0) }
        return outcome
    }

    /// k-way merge of sorted chunks by (step, arrival), re-chunked into full chunks.
    private static func merge(_ chunks: [ChunkHandle], into writer: inout SegmentWriter) throws(StrataError) -> Int {
        let order = chunks.sorted { ($0.stats.firstStep, $0.rankBase) < ($1.stats.firstStep, $1.rankBase) }
        struct Cursor { var c: ChunkColumns; var rank: UInt64; var i: Int }
        var active: [Cursor] = []
        var next = 0
        let reuse = ColumnReuse()
        var out = ChunkColumns()
        out.steps.reserveCapacity(ChunkLayout.chunkCapacity); out.values.reserveCapacity(ChunkLayout.chunkCapacity)
        out.times.reserveCapacity(ChunkLayout.chunkCapacity)
        var total = 0
        func flush(_ w: inout SegmentWriter) throws(StrataError) {
            if out.count == 0 { return }
            try w.addChunk(ChunkEncoder.encode(out, reuse: reuse))
            total += out.count
            out.steps.removeAll(keepingCapacity: true); out.values.removeAll(keepingCapacity: true); out.times.removeAll(keepingCapacity: true)
        }
        func take(_ c: ChunkColumns, _ j: Int, _ w: inout SegmentWriter) throws(StrataError) {
            out.steps.append(c.steps[j]); out.values.append(c.values[j]); out.times.append(c.times[j])
            if out.count == ChunkLayout.chunkCapacity { try flush(&w) }
        }
        while true {
            // Open every chunk that starts at or before the smallest step among active cursors.
            let frontier = active.map { $0.c.steps[$0.i] }.min() ?? Int64.max
            while next < order.count && (active.isEmpty || order[next].stats.firstStep <= frontier) {
                let c = order[next]
                active.append(Cursor(c: try ChunkColumns(c), rank: c.rankBase, i: 0))
                next += 1
            }
            if active.isEmpty { break }
            if active.count == 1 && (next == order.count || order[next].stats.firstStep > active[0].c.steps.last!) {
                // Fast path: one chunk alone over its whole remaining range.
                let c = active[0]
                var j = c.i
                while j < c.c.count {
                    let k = Swift.min(c.c.count, j + ChunkLayout.chunkCapacity - out.count)
                    out.steps += c.c.steps[j..<k]; out.values += c.c.values[j..<k]; out.times += c.c.times[j..<k]
                    if out.count == ChunkLayout.chunkCapacity { try flush(&writer) }
                    j = k
                }
                active.removeAll()
                continue
            }
            // Pick the smallest (step, rank).
            var best = 0
            for k in 1..<active.count {
                let a = active[k], b = active[best]
                if (a.c.steps[a.i], a.rank &+ UInt64(a.i)) < (b.c.steps[b.i], b.rank &+ UInt64(b.i)) { best = k }
            }
            try take(active[best].c, active[best].i, &writer)
            active[best].i += 1
            if active[best].i == active[best].c.count { active.remove(at: best) }
        }
        try flush(&writer)
        return total
    }

    /// Deletes segments replaced by a present segment older than `grace` seconds.
    static func deleteReplaced(paths: StorePaths, reader: StoreReader, grace: Double) throws(StrataError) -> Int {
        let now = Clock.nanoseconds()
        var deleted = 0
        for seg in reader.allSegments where !seg.meta.replaces.isEmpty {
            guard Double(now - seg.createdNs) / 1e9 >= grace else { continue }
            for old in seg.meta.replaces where Sys.kind(paths.segment(old)) == .file {
                try Sys.unlink(paths.segment(old))
                deleted += 1
            }
        }
        return deleted
    }
}

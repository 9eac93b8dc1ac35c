/// Merges the segments of a store into one, series by series, in step order (stable by arrival),
/// applying rewinds, re-chunking into full chunks and rebuilding tier blocks.
///
/// Safe at any moment: the output is written under a temporary name and renamed; it names the
/// segments it replaces, so a reader that sees both ignores the replaced ones, and a crash before
/// they are deleted leaves a store that reads every point once. Replaced segments are deleted
/// only after `grace` seconds so a concurrent directory listing never misses both a replaced
/// segment and its replacement. Only one compactor runs at a time (`compaction.lock`).
/// Memory: one decoded chunk per input chunk overlapping the merge front, plus one output chunk;
/// what reading the inputs built up is released as series are done (`releaseEvery`).
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
        /// Full chunks written as stored (not decoded and encoded again).
        var copiedChunks = 0
        /// Most input chunks held decoded at once by the merge of one series.
        var peakOpenChunks = 0
    }

    /// Points merged between releases of what reading the input segments built up (chunk headers,
    /// checked blobs, mapped pages, counted in the resident size): a merged series is not read again.
    static let releaseEvery = 1 << 22

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
            // Only the inputs' points: a live segment left out (cut after the epoch was fixed) is
            // not replaced by the output, so its points stay in it alone.
            let inputNames = Set(inputs.map(\.name))
            var sinceRelease = 0
            for key in keys.sorted() where !drop.contains(key.run) {
                let chunks = try reader.segmentChunks(key, of: inputNames)
                writer.beginSeries(key)
                let points = try merge(chunks, into: &writer, &outcome)
                try writer.endSeries()
                outcome.points += points
                sinceRelease += points
                if sinceRelease >= releaseEvery {
                    for seg in inputs { seg.releaseReadState() }
                    sinceRelease = 0
                }
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

    /// A point's place in the merge order: its step, then its arrival rank.
    private typealias Position = (step: Int64, rank: UInt64)

    /// A decoded input chunk and the next point of it to merge.
    private struct Cursor {
        var columns: ChunkColumns
        var rank: UInt64
        var i: Int
        var head: Position { (columns.steps[i], rank &+ UInt64(i)) }
        /// The first point at or after `i` that is not before `bound` (at least `i + 1`): points are
        /// sorted by (step, rank) within a chunk.
        func end(before bound: Position) -> Int {
            let n = columns.count
            if (columns.steps[n - 1], rank &+ UInt64(n - 1)) < bound { return n }
            var j = i + 1
            while j < n && (columns.steps[j], rank &+ UInt64(j)) < bound { j += 1 }
            return j
        }
    }

    /// The output chunk being filled, encoded and added to the writer when full.
    private struct Output {
        var columns = ChunkColumns()
        let reuse = ColumnReuse()
        var total = 0
        init() {
            columns.steps.reserveCapacity(ChunkLayout.chunkCapacity); columns.values.reserveCapacity(ChunkLayout.chunkCapacity)
            columns.times.reserveCapacity(ChunkLayout.chunkCapacity)
        }
        var isEmpty: Bool { columns.count == 0 }

        mutating func append(_ c: ChunkColumns, _ range: Range<Int>, _ writer: inout SegmentWriter) throws(StrataError) {
            var j = range.lowerBound
            while j < range.upperBound {
                let k = Swift.min(range.upperBound, j + ChunkLayout.chunkCapacity - columns.count)
                columns.steps += c.steps[j..<k]; columns.values += c.values[j..<k]; columns.times += c.times[j..<k]
                if columns.count == ChunkLayout.chunkCapacity { try flush(&writer) }
                j = k
            }
        }

        mutating func flush(_ writer: inout SegmentWriter) throws(StrataError) {
            if columns.count == 0 { return }
            try writer.addChunk(ChunkEncoder.encode(columns, reuse: reuse))
            total += columns.count
            columns.steps.removeAll(keepingCapacity: true); columns.values.removeAll(keepingCapacity: true)
            columns.times.removeAll(keepingCapacity: true)
        }
    }

    /// k-way merge of sorted chunks by (step, arrival), re-chunked into full chunks.
    ///
    /// Chunks are opened (decoded) only when the merge reaches their first point, so memory holds
    /// the chunks that overlap there plus one output chunk; a run of points that no other chunk
    /// interleaves is taken whole. A full stored chunk that starts an output chunk and ends before
    /// every later chunk begins is copied as stored (columns, tier blocks, sketch, checksums):
    /// decoding and encoding it again would give the same points.
    private static func merge(_ chunks: [ChunkHandle], into writer: inout SegmentWriter, _ outcome: inout Outcome) throws(StrataError) -> Int {
        let order = chunks.sorted { ($0.stats.firstStep, $0.rankBase) < ($1.stats.firstStep, $1.rankBase) }
        func first(_ k: Int) -> Position { (order[k].stats.firstStep, order[k].rankBase) }
        var active: [Cursor] = []
        var next = 0
        var out = Output()
        var copied = 0
        while true {
            if active.isEmpty {
                guard next < order.count else { break }
                let c = order[next]
                if out.isEmpty && c.count == ChunkLayout.chunkCapacity
                    && (next + 1 == order.count || first(next + 1) > (c.stats.lastStep, c.rankBase &+ UInt64(c.count - 1))),
                    let stored = try c.storedEncoding()
                {
                    try writer.addChunk(stored)
                    copied += c.count
                    outcome.copiedChunks += 1
                    next += 1
                    continue
                }
                active.append(Cursor(columns: try ChunkColumns(c), rank: c.rankBase, i: 0))
                next += 1
            }
            // The smallest next point; chunks whose first point comes before it are opened.
            var best = 0
            for k in active.indices.dropFirst() where active[k].head < active[best].head { best = k }
            while next < order.count && first(next) < active[best].head {
                let c = order[next]
                active.append(Cursor(columns: try ChunkColumns(c), rank: c.rankBase, i: 0))
                next += 1
                if active[active.count - 1].head < active[best].head { best = active.count - 1 }
            }
            outcome.peakOpenChunks = max(outcome.peakOpenChunks, active.count)
            // Take the best chunk's points up to the next point of any other chunk.
            var bound: Position = next < order.count ? first(next) : (.max, .max)
            for k in active.indices where k != best && active[k].head < bound { bound = active[k].head }
            let end = active[best].end(before: bound)
            try out.append(active[best].columns, active[best].i..<end, &writer)
            if end == active[best].columns.count { active.remove(at: best) } else { active[best].i = end }
        }
        try out.flush(&writer)
        return out.total + copied
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

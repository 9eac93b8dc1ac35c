import StrataCodecs

/// Immutable segment files: encoded column chunks of many series, their level-1 tier blocks,
/// per-series chunk tables and a directory, closed by a fixed trailer.
/// Byte layout: `docs/FORMAT.md`, "Segment files".
enum SegmentFormat {
    static let magic: [UInt8] = Array("STRATSEG".utf8)
    static let endMagic: [UInt8] = Array("STRATEND".utf8)
    /// Version written: 3 (stored statistics of packed series, header flag `flagPackedSummaries`).
    /// Version 2 (packed small series; full chunks may carry a quantile sketch after their tier
    /// blocks, chunk flag bit 1) and version 1 (no packed series, no sketch) stay readable.
    static let version: UInt32 = 3
    /// Header flag (version 3): the directory ends with the table of the packed series' stored
    /// statistics (`PackedSummaries`).
    static let flagPackedSummaries: UInt32 = 1
    /// Header flag bit 1 (version 3): the directory ends with the run index (`docs/FORMAT.md`,
    /// "Run index"), so a reader opens the segment from its fixed footer and decodes the series
    /// entries of a run only when that run is asked for.
    static let flagRunIndex: UInt32 = 2
    /// Bytes of the run index's fixed footer, of one run row and of one pack row.
    static let runIndexFooterSize = 64
    static let runRowSize = 16
    static let packRowSize = 8
    static let headerSize = 16
    static let trailerSize = 40
    static let chunkEntrySize = 192
    /// Bytes of stored statistics (`writeStats`).
    static let statisticsSize = 104
    /// Most series in one segment, most chunks of one series in one segment.
    static let maxSeries = 1 << 22
    static let maxChunks = 1 << 24
    /// A pack (the columns of small series, checksummed together) is closed once it holds this many bytes.
    static let packTarget = 64 << 10
    /// Distinct run ids, names, packs and packed blobs in one segment.
    static let maxTableEntries = 1 << 24
}

/// Descriptive fields of a segment.
struct SegmentMeta {
    /// The writer process that produced it ("" for compaction output).
    var writer: String
    /// The writer's log generation it was cut from (0 for compaction output).
    var generation: UInt64
    /// Arrival window of its points: nanoseconds since 1970.
    var firstSequence: Int64
    var lastSequence: Int64
    /// File names of the segments this one replaces (compaction).
    var replaces: [String]
    /// Rewinds made at or before this time (ns) are already applied to the points (compaction).
    var rewindEpoch: Int64 = 0
}

/// Writes one segment file: temporary name, fsync, rename. A segment is whole or absent.
struct SegmentWriter {
    let finalPath: String
    let tmpPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var offset = 0
    private var blobIndex: [UInt64: [(offset: Int, length: Int, bytes: [UInt8])]] = [:]
    private var directory = ByteWriter()
    private var seriesCount = 0
    /// Format version written (1 only for tests of old stores: no packing, no name tables).
    let version: UInt32
    /// Version 2 directory tables: run ids and series names, each stored once.
    private var runIndex: [RunID: Int] = [:]
    private var runTable = ByteWriter()
    private var nameIndex: [String: Int] = [:]
    private var nameTable = ByteWriter()
    /// Packed small series: the open pack's bytes, the closed packs and every packed blob's length.
    private var pack: [UInt8] = []
    private var packBlobs = 0
    private var packTable = ByteWriter()
    private var packCount = 0
    private var packedLengths = ByteWriter()
    private var packedCount = 0
    private var packedIndex: [UInt64: [(index: Int, bytes: [UInt8])]] = [:]
    /// Version 3: the chunk header of every packed series, in directory order (stored at `finish`).
    private var packedSummaries: [PackedSummaries.Entry] = []
    /// Their name-table indexes (a group stores its series ordered by name).
    private var packedNames: [Int32] = []
    /// Bytes written per column kind, for stats.
    private(set) var dedupedBytes = 0

    /// - Parameter runIndex: whether a version 3 segment ends its directory with the run index
    ///   (header flag bit 1); false only for tests writing the layout of earlier writers.
    init(path: String, tmpDir: String, version: UInt32 = SegmentFormat.version, runIndex: Bool = true) throws(StrataError) {
        precondition((1...SegmentFormat.version).contains(version))
        self.version = version
        indexable = version >= 3 && runIndex
        finalPath = path
        (fd, tmpPath) = try Sys.createTemporary(in: tmpDir, suffix: ".seg.tmp")
        buffer.reserveCapacity(1 << 20)
        var h = ByteWriter()
        h.raw(SegmentFormat.magic); h.u32(version); h.u32(headerFlags)
        try emit(h.bytes)
    }

    /// The header's flags as written so far (bit 1 is cleared at `finish` when the series did
    /// not come grouped by run in ascending order).
    private var headerFlags: UInt32 {
        (version >= 3 ? SegmentFormat.flagPackedSummaries : 0) | (indexable ? SegmentFormat.flagRunIndex : 0)
    }
    /// Whether the run index is written: series arrive grouped by run, runs in ascending order.
    private var indexable: Bool
    /// Run index rows so far: per run (run-table order), the position of its first entry in
    /// `directory`, the entries, fresh packed blobs and packed series before it.
    private var runRows: [(position: Int, entry: Int, fresh: Int, ordinal: Int)] = []
    /// Per pack, its first packed blob and the position of its first length in `packedLengths`.
    private var packRows: [(firstBlob: Int, lengthsAt: Int)] = []
    private var lastIndexedRun: RunID?

    private mutating func emit(_ bytes: [UInt8]) throws(StrataError) {
        buffer.append(contentsOf: bytes)
        offset += bytes.count
        if buffer.count >= 1 << 20 { try drain() }
    }

    private mutating func drain() throws(StrataError) {
        if buffer.isEmpty { return }
        let path = tmpPath, fd = fd
        try Sys.writeAll(fd, buffer, path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes a blob once: identical bytes already written are referenced again.
    private mutating func blob(_ bytes: [UInt8]) throws(StrataError) -> (offset: Int, length: Int, sum: UInt64) {
        let sum = Checksum.xxh64(bytes)
        if let c = blobIndex[sum]?.first(where: { $0.bytes == bytes }) {
            dedupedBytes += bytes.count
            return (c.offset, c.length, sum)
        }
        if let c = earlierBlobs[sum]?.first(where: { $0.bytes == bytes }) {
            // Still shared: indexed again in the current generation (its bytes are not copied).
            dedupedBytes += bytes.count
            blobIndex[sum, default: []].append(c)
            return (c.offset, c.length, sum)
        }
        let at = offset
        try emit(bytes)
        blobIndex[sum, default: []].append((at, bytes.count, bytes))
        blobBytes += bytes.count
        return (at, bytes.count, sum)
    }

    /// A packed blob's reference (FORMAT.md, "Packed series"): 0 = the next new blob, appended to
    /// the open pack; k ≥ 1 = the blob k places before the next new one (identical bytes, stored once).
    private mutating func packedRef(_ bytes: [UInt8]) -> UInt64 {
        let sum = Checksum.xxh64(bytes)
        if let candidates = packedIndex[sum] {
            for c in candidates where c.bytes == bytes {
                dedupedBytes += bytes.count
                return UInt64(packedCount - c.index)
            }
        }
        packedIndex[sum, default: []].append((packedCount, bytes))
        if packBlobs == 0 { packRows.append((packedCount, packedLengths.count)) }
        pack.append(contentsOf: bytes)
        packedLengths.varint(UInt64(bytes.count))
        packedCount += 1
        packBlobs += 1
        blobBytes += bytes.count
        return 0
    }

    /// Writes the open pack (if any) and records it in the pack table.
    private mutating func closePack() throws(StrataError) {
        if packBlobs == 0 { return }
        packTable.varint(UInt64(offset))
        packTable.varint(UInt64(packBlobs))
        packTable.u64(Checksum.xxh64(pack))
        packCount += 1
        let bytes = pack
        pack.removeAll(keepingCapacity: true)
        packBlobs = 0
        try emit(bytes)
    }

    /// The series being written by `beginSeries`/`addChunk`/`endSeries`. `small` holds the first
    /// chunk while it may still be the only one (then the series is packed).
    private var current:
        (key: SeriesKey, table: ByteWriter, summary: Aggregate, minT: Int64, maxT: Int64, rank: UInt64, chunks: Int, small: EncodedChunk?)?

    /// Adds one series with its chunks (in arrival order).
    mutating func add(series key: SeriesKey, chunks: [EncodedChunk]) throws(StrataError) {
        precondition(!chunks.isEmpty)
        beginSeries(key)
        for c in chunks { try addChunk(c) }
        try endSeries()
    }

    /// Starts a series whose chunks follow one by one (compaction streams them).
    mutating func beginSeries(_ key: SeriesKey) {
        precondition(current == nil)
        // Shared columns are found within a run: forget other runs' blobs to bound memory. Within
        // a long run, the blobs indexed so far are kept (the next series shares the previous
        // one's times) and the generation before them is forgotten.
        if let last = lastRun, last != key.run {
            blobIndex.removeAll(); earlierBlobs.removeAll(); packedIndex.removeAll(); blobBytes = 0
        } else if blobBytes > dedupBound {
            earlierBlobs = blobIndex
            blobIndex.removeAll(); packedIndex.removeAll(); blobBytes = 0
        }
        lastRun = key.run
        current = (key, ByteWriter(), Aggregate(), .max, .min, 0, 0, nil)
    }

    private var lastRun: RunID?
    private var blobBytes = 0
    /// Bytes of new blobs indexed before the index starts a new generation (tests lower it).
    var dedupBound = 32 << 20
    /// The blobs indexed before the last time `blobBytes` outgrew `dedupBound` (same run).
    private var earlierBlobs: [UInt64: [(offset: Int, length: Int, bytes: [UInt8])]] = [:]

    mutating func addChunk(_ c: EncodedChunk) throws(StrataError) {
        guard var cur = current else { preconditionFailure("addChunk outside a series") }
        if let first = cur.small {
            try writeEntry(first, into: &cur.table)
            cur.small = nil
        }
        if cur.chunks == 0 && version >= 2 && c.stats.count < ChunkLayout.chunkCapacity {
            cur.small = c
        } else {
            try writeEntry(c, into: &cur.table)
        }
        var st = c.stats
        st.firstRank = cur.rank; st.lastRank = cur.rank + UInt64(c.stats.count - 1)
        cur.rank += UInt64(c.stats.count)
        cur.summary.merge(st)
        cur.minT = min(cur.minT, c.minTime); cur.maxT = max(cur.maxT, c.maxTime)
        cur.chunks += 1
        current = cur
    }

    private mutating func writeEntry(_ c: EncodedChunk, into table: inout ByteWriter) throws(StrataError) {
        // Version 1 (written only by tests rebuilding the old format) has no sketches: the tier
        // blob keeps its tier entries alone.
        let sketch = c.hasSketch && version >= 2
        let tier = c.hasSketch && !sketch ? Array(c.tier.prefix(ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize)) : c.tier
        let s = try blob(c.steps), v = try blob(c.values), t = try blob(c.times), tr = try blob(tier)
        SegmentFormat.writeEntry(
            &table, stats: c.stats, minTime: c.minTime, maxTime: c.maxTime,
            flags: (c.linearSteps ? SegmentFormat.flagLinearSteps : 0) | (sketch ? SegmentFormat.flagSketch : 0),
            steps: s, values: v, times: t, tier: tr)
    }

    /// Writes the series' chunk table and directory entry (or packs it: one chunk that is not
    /// full); a series without chunks is dropped.
    mutating func endSeries() throws(StrataError) {
        guard let cur = current else { preconditionFailure("endSeries outside a series") }
        current = nil
        if cur.chunks == 0 { return }
        if indexable {
            let r = runNumber(cur.key.run)
            if r == runRows.count {
                if let prev = lastIndexedRun, !(prev < cur.key.run) { indexable = false }
                lastIndexedRun = cur.key.run
                runRows.append((directory.count, seriesCount, packedCount, packedSummaries.count))
            } else if r != runRows.count - 1 {
                indexable = false  // a run's series are not contiguous
            }
        }
        seriesCount += 1
        if version == 1 {
            directory.string(cur.key.run.text)
            directory.string(cur.key.canonical)
        } else {
            directory.varint(UInt64(runNumber(cur.key.run)))
            directory.varint(UInt64(nameNumber(cur.key.canonical)))
        }
        if let c = cur.small {
            // Packed: point count, then references to the three columns; statistics are derived.
            directory.varint(UInt64(c.stats.count))
            let s = packedRef(c.steps), v = packedRef(c.values), t = packedRef(c.times)
            directory.varint(s); directory.varint(v); directory.varint(t)
            if version >= 3 {
                packedSummaries.append(.init(stats: c.stats, minTime: c.minTime, maxTime: c.maxTime, linearSteps: c.linearSteps))
                packedNames.append(Int32(nameNumber(cur.key.canonical)))
            }
            if pack.count >= SegmentFormat.packTarget { try closePack() }
            return
        }
        let tableAt = offset
        try emit(cur.table.bytes)
        if version >= 2 { directory.varint(0) }
        directory.varint(UInt64(cur.chunks))
        directory.u64(UInt64(tableAt))
        directory.u64(Checksum.xxh64(cur.table.bytes))
        SegmentFormat.writeStats(&directory, cur.summary, minTime: cur.minT, maxTime: cur.maxT)
    }

    private mutating func runNumber(_ run: RunID) -> Int {
        if let i = runIndex[run] { return i }
        let i = runIndex.count
        runIndex[run] = i
        runTable.string(run.text)
        return i
    }

    private mutating func nameNumber(_ name: String) -> Int {
        if let i = nameIndex[name] { return i }
        let i = nameIndex.count
        nameIndex[name] = i
        nameTable.string(name)
        return i
    }

    var isEmpty: Bool { seriesCount == 0 }

    /// Writes directory and trailer, fsyncs and renames into place.
    mutating func finish(meta: SegmentMeta) throws(StrataError) {
        try closePack()
        let summaryTable = version >= 3 ? try writePackedSummaries() : nil
        var d = ByteWriter()
        var at = (runs: 0, names: 0, packs: 0, lengths: 0, series: 0, meta: 0)
        if version >= 2 {
            d.varint(UInt64(runIndex.count))
            at.runs = d.count
            d.raw(runTable.bytes)
            at.names = d.count
            d.varint(UInt64(nameIndex.count)); d.raw(nameTable.bytes)
            at.packs = d.count
            d.varint(UInt64(packCount)); d.raw(packTable.bytes)
            at.lengths = d.count
            d.raw(packedLengths.bytes)
        }
        d.varint(UInt64(seriesCount))
        at.series = d.count
        d.raw(directory.bytes)
        at.meta = d.count
        d.string(meta.writer)
        d.u64(meta.generation)
        d.i64(meta.firstSequence)
        d.i64(meta.lastSequence)
        d.varint(UInt64(meta.replaces.count))
        for r in meta.replaces { d.string(r) }
        d.i64(meta.rewindEpoch)
        if let summaryTable { d.raw(summaryTable) }
        if indexable && runRows.count == runIndex.count && d.count + 16 * (runRows.count + 1) + 8 * packRows.count < Int(UInt32.max) {
            appendRunIndex(&d, at: at)
        } else if indexable {
            indexable = false
        }
        let dirAt = offset
        try emit(d.bytes)
        var t = ByteWriter()
        t.u64(UInt64(dirAt)); t.u64(UInt64(d.count)); t.u64(Checksum.xxh64(d.bytes))
        t.u32(version); t.u32(0)
        t.raw(SegmentFormat.endMagic)
        try emit(t.bytes)
        try drain()
        if version >= 3 && !indexable {
            // The header promised a run index that the series' order did not allow.
            var flags = ByteWriter()
            flags.u32(headerFlags)
            try Sys.pwriteAll(fd, flags.bytes, at: 12, tmpPath)
        }
        try Sys.fsync(fd, tmpPath)
        // Renamed before the descriptor (and its lock) is closed: see `TempFiles`.
        try Sys.rename(tmpPath, finalPath)
        Sys.close(fd)
        fd = -1
        try Sys.fsyncDirectory(Sys.parent(of: finalPath))
    }

    /// Appends the run index (header flag bit 1; `docs/FORMAT.md`, "Run index") to directory `d`,
    /// whose parts begin at the positions `at`: a row per run and a sentinel row, a row per pack,
    /// then the fixed footer with the checksums of the directory's three parts.
    private func appendRunIndex(_ d: inout ByteWriter, at: (runs: Int, names: Int, packs: Int, lengths: Int, series: Int, meta: Int)) {
        let rowsAt = d.count
        let tail = Checksum.xxh64(Array(d.bytes[at.meta..<rowsAt]))
        for row in runRows {
            d.u32(UInt32(at.series + row.position)); d.u32(UInt32(row.entry)); d.u32(UInt32(row.fresh)); d.u32(UInt32(row.ordinal))
        }
        d.u32(UInt32(at.meta)); d.u32(UInt32(seriesCount)); d.u32(UInt32(packedCount)); d.u32(UInt32(packedSummaries.count))
        for row in packRows { d.u32(UInt32(row.firstBlob)); d.u32(UInt32(at.lengths + row.lengthsAt)) }
        let rows = Checksum.xxh64(Array(d.bytes[rowsAt..<d.count]))
        let footerAt = d.count
        d.u32(UInt32(runRows.count)); d.u32(UInt32(packRows.count)); d.u32(UInt32(nameIndex.count)); d.u32(UInt32(at.runs))
        d.u32(UInt32(at.names)); d.u32(UInt32(at.packs)); d.u32(UInt32(at.series)); d.u32(UInt32(at.meta))
        d.u64(Checksum.xxh64(Array(d.bytes[0..<at.meta])))
        d.u64(rows)
        d.u64(tail)
        d.u64(Checksum.xxh64(Array(d.bytes[footerAt..<d.count])))
    }

    /// Writes the groups of packed series statistics (version 3) and returns their table for the
    /// directory: varint group count, then per group varint offset, varint length, varint
    /// uncompressed size, u64 xxh64 of the stored bytes.
    private mutating func writePackedSummaries() throws(StrataError) -> [UInt8] {
        var table = ByteWriter()
        let groups = (packedSummaries.count + PackedSummaries.groupSize - 1) / PackedSummaries.groupSize
        table.varint(UInt64(groups))
        if groups == 0 { return table.bytes }
        let zstd = CatalogZstd()
        for g in 0..<groups {
            let lo = g * PackedSummaries.groupSize, hi = min(packedSummaries.count, lo + PackedSummaries.groupSize)
            let raw = PackedSummaries.encode(packedSummaries[lo..<hi], names: Array(packedNames[lo..<hi]))
            guard let frame = zstd.compress(raw, dictionary: [], level: PackedSummaries.zstdLevel) else {
                throw StrataError(.io, "cannot compress the statistics of packed series", path: tmpPath)
            }
            table.varint(UInt64(offset)); table.varint(UInt64(frame.count)); table.varint(UInt64(raw.count))
            table.u64(Checksum.xxh64(frame))
            try emit(frame)
        }
        return table.bytes
    }

    /// Removes the temporary file after a failure.
    mutating func abandon() {
        if fd >= 0 { Sys.close(fd); fd = -1 }
        try? Sys.unlink(tmpPath)
    }
}

extension SegmentFormat {
    static func writeStats(_ w: inout ByteWriter, _ a: Aggregate, minTime: Int64, maxTime: Int64) {
        w.u32(UInt32(a.count)); w.u32(UInt32(a.nanCount))
        w.i64(a.firstStep); w.i64(a.lastStep); w.i64(minTime); w.i64(maxTime)
        w.f64(a.min); w.f64(a.max); w.f64(a.sum); w.f64(a.m2); w.f64(a.firstValue); w.f64(a.lastValue)
        w.i64(a.minStep); w.i64(a.maxStep)
    }

    static func readStats(_ r: inout ByteReader) throws(StrataError) -> (Aggregate, minTime: Int64, maxTime: Int64) {
        var a = Aggregate()
        a.count = Int(try r.u32()); a.nanCount = Int(try r.u32())
        a.firstStep = try r.i64(); a.lastStep = try r.i64()
        let minT = try r.i64(), maxT = try r.i64()
        a.min = try r.f64(); a.max = try r.f64(); a.sum = try r.f64(); a.m2 = try r.f64()
        a.firstValue = try r.f64(); a.lastValue = try r.f64()
        a.minStep = try r.i64(); a.maxStep = try r.i64()
        if a.nanCount > a.count { throw StrataError.corrupt("NaN count \(a.nanCount) exceeds count \(a.count)", path: r.path, offset: r.offset) }
        return (a, minT, maxT)
    }

    /// Chunk flag: steps are `firstStep + i * stride` (stride from first and last step).
    static let flagLinearSteps: UInt32 = 1

    /// A stored linear-steps flag, honoured only when the stride divides the span exactly (never
    /// trusted blindly; one point: when its first and last step are the same, else stride = span / 0).
    static func trustedLinear(_ flag: Bool, _ stats: Aggregate) -> Bool {
        guard flag else { return false }
        if stats.count > 1 {
            let span = stats.lastStep.subtractingReportingOverflow(stats.firstStep)
            return !span.overflow && span.partialValue >= 0 && span.partialValue % Int64(stats.count - 1) == 0
        }
        return stats.firstStep == stats.lastStep
    }
    /// xxh64 of no bytes: the checksum of an empty blob.
    static let emptyChecksum: UInt64 = 0xef46_db37_51d8_e999
    /// Chunk flag: the tier blob holds a quantile sketch after its tier entries (full chunks,
    /// segment version 2).
    static let flagSketch: UInt32 = 2

    static func writeEntry(
        _ w: inout ByteWriter, stats: Aggregate, minTime: Int64, maxTime: Int64, flags: UInt32,
        steps: (offset: Int, length: Int, sum: UInt64), values: (offset: Int, length: Int, sum: UInt64),
        times: (offset: Int, length: Int, sum: UInt64), tier: (offset: Int, length: Int, sum: UInt64)
    ) {
        writeStats(&w, stats, minTime: minTime, maxTime: maxTime)
        w.u32(flags); w.u32(0)
        for b in [steps, values, times, tier] { w.u64(UInt64(b.offset)); w.u32(UInt32(b.length)) }
        for b in [steps, values, times, tier] { w.u64(b.sum) }
    }
}

/// Where a column of a chunk lives in its segment file.
struct BlobRef: Sendable, Equatable {
    var offset: Int
    var length: Int
    /// xxh64 of the blob (unused for a packed blob: its pack's checksum covers it).
    var checksum: UInt64
    /// The pack holding it (packed small series), or -1 for a blob with its own checksum.
    var pack: Int = -1
}

/// One chunk's header, parsed from its segment's chunk table.
struct ChunkEntry: Sendable {
    var stats: Aggregate
    var minTime: Int64
    var maxTime: Int64
    /// Steps are an arithmetic progression: a step's index is found by arithmetic.
    var linearSteps: Bool
    var steps: BlobRef
    var values: BlobRef
    var times: BlobRef
    var tier: BlobRef
    /// The tier blob ends with the chunk's quantile sketch.
    var hasSketch = false
    var count: Int { stats.count }
}

/// A series' place in one segment: a chunk table with directory statistics, or a packed chunk
/// whose statistics are derived from its columns on first use.
final class SegmentSeries {
    enum Layout {
        case table(chunkCount: Int, tableOffset: Int, tableChecksum: UInt64, summary: Aggregate, minTime: Int64, maxTime: Int64)
        /// `ordinal`: the series' place among the segment's packed series, whose stored statistics
        /// (version 3) it reads; -1 when the segment stores none.
        case packed(count: Int, steps: BlobRef, values: BlobRef, times: BlobRef, ordinal: Int)
    }
    let key: SeriesKey
    let layout: Layout
    unowned let segment: Segment
    /// Parsed (table) or derived (packed) on first use.
    private var entries: [ChunkEntry]?
    /// The coarse tier over the chunks (`CoarseTier`), built on first use.
    var coarseTier: CoarseTier?
    /// Per chunk, once a curve's edge walk opened it (its value and tier columns then verified):
    /// its value column's block offsets (empty: none); nil before. Warm curves open edge chunks
    /// without the segment's checksum and offset lookups (issue 17). Set under the store lock.
    var edgeOffsets: [[Int32]?] = []
    /// Per chunk, its record in `edgeChunks` once a curve's edge walk opened it (see
    /// `EdgeChunk`): -1 before, -2 for a chunk the record does not fit (steps not linear, no tier
    /// blocks, a compressed value column), which goes through `edgeOffsets`. Set under the store lock.
    var edgeSlots: [Int32] = []
    /// The compact records of the edge chunks opened so far, in the order they were opened, and
    /// their value columns' block offsets (`ChunkLayout.blocksPerChunk` a record).
    var edgeChunks: [EdgeChunk] = []
    var edgeBlockOffsets: [Int32] = []

    init(key: SeriesKey, layout: Layout, segment: Segment) {
        self.key = key; self.layout = layout; self.segment = segment
    }

    var isPacked: Bool { if case .packed = layout { true } else { false } }

    /// Statistics of the series in this segment. A packed series derives them from its columns;
    /// when those are damaged it counts as empty here (queries and `verify` report the damage).
    var summary: Aggregate { stored.summary }
    var minTime: Int64 { stored.minTime }
    var maxTime: Int64 { stored.maxTime }

    private var stored: (summary: Aggregate, minTime: Int64, maxTime: Int64) {
        switch layout {
        case .table(_, _, _, let summary, let minT, let maxT): return (summary, minT, maxT)
        case .packed:
            // Stored statistics (version 3) when present, else derived from the columns; kept.
            guard let e = try? chunks().first else { return (Aggregate(), .max, .min) }
            return (e.stats, e.minTime, e.maxTime)
        }
    }

    /// The chunk headers, checked against the table checksum and the file bounds (a packed
    /// series: its one chunk, with statistics computed from its checksum-verified columns).
    func chunks() throws(StrataError) -> [ChunkEntry] {
        if let entries { return entries }
        let parsed: [ChunkEntry]
        switch layout {
        case .table(let n, let at, let sum, _, _, _): parsed = try segment.parseTable(self, count: n, offset: at, checksum: sum)
        case .packed(let n, let s, let v, let t, let ordinal):
            if let e = segment.storedPackedSummary(ordinal) {
                // Stored statistics (version 3): the columns are decoded only when read.
                parsed = [
                    ChunkEntry(
                        stats: e.stats, minTime: e.minTime, maxTime: e.maxTime, linearSteps: e.linearSteps, steps: s, values: v, times: t,
                        tier: Segment.noTier)
                ]
            } else {
                parsed = [try segment.packedEntry(self, count: n, steps: s, values: v, times: t)]
            }
        }
        entries = parsed
        return parsed
    }
}

/// A segment file opened for reading: mapped, trailer and directory parsed, data untouched.
///
/// The header, trailer, directory and chunk tables are read through a bounds-checked view of the
/// read-only mapping (`MappedFile.view`, alive as long as the segment); column bytes are handed
/// to the chunk readers by `blob` (Storage/Unsafe/SegmentBlob.swift).
final class Segment {
    let name: String
    let file: MappedFile
    private(set) var meta = SegmentMeta(writer: "", generation: 0, firstSequence: 0, lastSequence: 0, replaces: [])
    /// The series names of the directory (version 1: collected from its entries).
    var nameTable: [String] {
        ensureParsed()
        return names
    }
    private var names: [String] = []
    /// A series' directory entry: indexes into the tables above. `points` > 0: a packed series
    /// whose columns are packed blobs `a`, `b`, `c`; 0: a series with chunk table `tables[a]`.
    fileprivate struct DirEntry {
        var run: Int32; var name: Int32; var points: Int32; var a: Int32; var b: Int32; var c: Int32; var ordinal: Int32 = -1
    }
    fileprivate struct TableInfo {
        var chunkCount: Int; var tableOffset: Int; var tableChecksum: UInt64; var summary: Aggregate; var minTime: Int64; var maxTime: Int64
    }
    private var entries: [DirEntry] = []
    private var tables: [TableInfo] = []
    /// Opened from its run index (header flag bit 1): where the directory's parts lie
    /// (positions from the directory's start) and the checksums of the parts not yet checked.
    fileprivate struct RunIndexInfo {
        var runs = 0, packs = 0, names = 0, runTable = 0, nameTable = 0, packTable = 0, series = 0, meta = 0
        var rows = 0, packRows = 0, summaryTable = 0
        var headSum: UInt64 = 0, rowsSum: UInt64 = 0
    }
    fileprivate var runIndex = RunIndexInfo()
    /// Whether the run index's tables were read and found sound (nil: not yet looked at).
    fileprivate var indexReady: Bool?
    /// Why the run index could not be used (`verify` reports it).
    fileprivate(set) var indexDamage: String?
    /// The sentinel row: series entries, packed blobs and packed series of the whole directory.
    fileprivate var indexTotals = (position: 0, entry: 0, fresh: 0, ordinal: 0)
    fileprivate var packBlobCounts: [Int] = []
    /// Entries decoded through the run index, by directory position, and the runs decoded.
    fileprivate var lazyEntries: [Int: DirEntry] = [:]
    fileprivate var decodedRuns = Set<Int>()
    fileprivate var lazyPackOffsets: [Int: [Int]] = [:]

    /// Directory entry `i`, from the whole parse or decoded through the run index.
    private func entry(_ i: Int) -> DirEntry { fullyParsed ? entries[i] : lazyEntries[i]! }
    private var builtSeries: [SegmentSeries]?

    /// Every series of the segment, in directory order (built on first use).
    var series: [SegmentSeries] {
        if let builtSeries { return builtSeries }
        ensureParsed()
        let out = entries.indices.map(seriesObject)
        builtSeries = out
        return out
    }

    /// Series objects made so far, by directory position (one object per series and process).
    private var madeSeries: [Int: SegmentSeries] = [:]
    /// A parsed name per name-table position: other runs' keys of the same name share its text.
    private var nameKeys: [SeriesKey?] = []

    private func seriesObject(_ i: Int) -> SegmentSeries {
        if let made = madeSeries[i] { return made }
        let e = entry(i)
        let run = runID(Int(e.run))
        if nameKeys.isEmpty { nameKeys = Array(repeating: nil, count: names.count) }
        let key: SeriesKey
        if let template = nameKeys[Int(e.name)] {
            key = SeriesKey(run: run, named: template)
        } else {
            key = SeriesKey(run: run, canonical: names[Int(e.name)])
            nameKeys[Int(e.name)] = key
        }
        let layout: SegmentSeries.Layout
        if e.points > 0 {
            layout = .packed(
                count: Int(e.points), steps: packedBlob(Int(e.a)), values: packedBlob(Int(e.b)), times: packedBlob(Int(e.c)),
                ordinal: summaryGroups.isEmpty ? -1 : Int(e.ordinal))
        } else {
            let t = tables[Int(e.a)]
            layout = .table(
                chunkCount: t.chunkCount, tableOffset: t.tableOffset, tableChecksum: t.tableChecksum, summary: t.summary, minTime: t.minTime,
                maxTime: t.maxTime)
        }
        let made = SegmentSeries(key: key, layout: layout, segment: self)
        madeSeries[i] = made
        return made
    }

    /// The directory positions of each run's series (`byRun[starts[r]..<starts[r + 1]]`), built
    /// on the first lookup by run.
    private var runStarts: [Int32] = []
    private var byRun: [Int32] = []

    /// The series of one run in this segment (directory order), without building the others.
    func series(of run: RunID) -> [SegmentSeries] {
        if let found = indexedSeries(of: RunKey(run)) { return found }
        guard let r = runNumber(of: RunKey(run)) else { return [] }
        return directoryPositions(ofRunNumber: r).map { seriesObject(Int($0)) }
    }

    /// The directory positions of the series of run-table entry `r`, in directory order.
    private func directoryPositions(ofRunNumber r: Int) -> ArraySlice<Int32> {
        if runStarts.isEmpty {
            // Counting sort of the entries by run, stable (directory order within a run).
            let runCount = runKeys.count
            var starts = [Int32](repeating: 0, count: runCount + 1)
            for e in entries { starts[Int(e.run) + 1] += 1 }
            for r in 0..<runCount { starts[r + 1] += starts[r] }
            var next = starts
            var order = [Int32](repeating: 0, count: entries.count)
            for (i, e) in entries.enumerated() {
                order[Int(next[Int(e.run)])] = Int32(i)
                next[Int(e.run)] += 1
            }
            runStarts = starts; byRun = order
        }
        return byRun[Int(runStarts[r])..<Int(runStarts[r + 1])]
    }

    /// Calls `body` with the run and name table positions and the statistics of every series of
    /// the directory, in directory order, without building series objects: the walk of a
    /// whole-store summary (`StoreReader.metricSummaries(ofRuns:)`). A packed series reads its
    /// stored statistics (version 3), else derives them as `SegmentSeries.summary` does.
    func eachSeriesSummary(_ body: (_ run: Int, _ name: Int, _ summary: Aggregate) -> Void) {
        ensureParsed()
        for i in entries.indices { body(Int(entries[i].run), Int(entries[i].name), entryStats(i).summary) }
    }

    /// The statistics of directory entry `i` in this segment, without a series object when they
    /// are stored: a chunk table's from the directory, a packed series' stored ones (version 3),
    /// else what its `SegmentSeries` derives from its columns.
    private func entryStats(_ i: Int) -> (summary: Aggregate, minTime: Int64, maxTime: Int64) {
        let e = entry(i)
        if e.points == 0 {
            let t = tables[Int(e.a)]
            return (t.summary, t.minTime, t.maxTime)
        }
        if let st = storedPackedSummary(Int(e.ordinal)) { return (st.stats, st.minTime, st.maxTime) }
        let s = seriesObject(i)
        return (s.summary, s.minTime, s.maxTime)
    }

    /// Calls `body` with the run and name table positions and the point count of every series of
    /// the directory, in directory order, from the directory alone (no statistics decoded).
    func eachSeriesCount(_ body: (_ run: Int, _ name: Int, _ count: Int) -> Void) {
        ensureParsed()
        for e in entries {
            body(Int(e.run), Int(e.name), e.points > 0 ? Int(e.points) : tables[Int(e.a)].summary.count)
        }
    }

    /// How many series the directory lists.
    var seriesCount: Int {
        ensureParsed()
        return entries.count
    }
    /// Order among segments for "stable by arrival" (assigned by the store snapshot).
    var arrivalOrder = 0
    /// Blobs whose checksum was verified, by (offset, length).
    var verifiedBlobs = Set<BlobKey>()
    struct BlobKey: Hashable { var offset: Int; var length: Int }
    /// When the file was written (its modification time), nanoseconds since 1970.
    private(set) var createdNs: Int64 = 0

    var path: String { file.path }

    init(path: String, name: String) throws(StrataError) {
        self.name = name
        file = try MappedFile(path: path)
        createdNs = Sys.modificationNs(path) ?? Clock.nanoseconds()
        try parse()
    }

    private func parse() throws(StrataError) {
        let b = file.view
        let path = file.path
        guard b.count >= SegmentFormat.headerSize + SegmentFormat.trailerSize else {
            throw StrataError.corrupt("segment is truncated: \(b.count) bytes", path: path)
        }
        guard b[0..<8].equals(SegmentFormat.magic) else {
            throw StrataError(.notAStore, "not a Strata segment (bad magic number)", path: path, offset: 0)
        }
        var h = ByteReader(b, from: 8, path: path)
        let version = try h.u32()
        let headerFlags = try h.u32()
        if version > SegmentFormat.version {
            throw StrataError(
                .unsupportedVersion,
                "segment format version \(version) is newer than this Strata (reads up to \(SegmentFormat.version)); upgrade Strata", path: path,
                offset: 8)
        }
        var t = ByteReader(b, from: b.count - SegmentFormat.trailerSize, path: path)
        let dirAt = Int(clamping: try t.u64()), dirLen = Int(clamping: try t.u64()), dirSum = try t.u64()
        _ = try t.u32(); _ = try t.u32()
        let end = try t.bytes(8, "end magic")
        guard end.equals(SegmentFormat.endMagic) else {
            throw StrataError.corrupt("segment trailer is damaged or the file is truncated (no end magic)", path: path, offset: b.count - 8)
        }
        let limit = b.count - SegmentFormat.trailerSize
        guard dirAt >= SegmentFormat.headerSize, dirLen >= 0, dirAt <= limit, dirLen <= limit - dirAt else {
            throw StrataError.corrupt(
                "segment directory location \(dirAt)+\(dirLen) is outside the file", path: path, offset: b.count - SegmentFormat.trailerSize)
        }
        directory = (dirAt, dirLen, dirSum, version, headerFlags, limit)
        if version >= 3 && headerFlags & SegmentFormat.flagRunIndex != 0 {
            do throws(StrataError) {
                try openFromRunIndex()
                return
            } catch {
                // The whole directory is still there to read (and its checksum judges it).
                indexDamage = error.message
            }
        }
        try parseDirectory()
        fullyParsed = true
    }

    /// Where the directory lies, its checksum, the header's version and flags, and the end of
    /// the data (start of the trailer).
    private var directory = (at: 0, length: 0, checksum: UInt64(0), version: UInt32(0), flags: UInt32(0), limit: 0)
    /// Whether the whole directory was checked and parsed into `entries` (always, without a run
    /// index; with one, on the first use that needs every entry).
    private var fullyParsed = false
    /// Where the parts of the directory begin (file offsets), recorded by the whole parse: the run
    /// and name tables from the directory's start, then the pack table, the packed blob lengths, the
    /// series list (count and entries), the descriptive fields and the packed statistics table,
    /// which ends at `end` (the run index, when there is one, runs from there to the directory's
    /// end); `packedEntries`: bytes of the packed series' entries. For `structureBytes`.
    fileprivate struct DirectoryParts {
        var packTable = 0, packedLengths = 0, seriesCount = 0, meta = 0, summaryTable = 0, end = 0, packedEntries = 0
    }
    fileprivate var directoryParts = DirectoryParts()
    /// The error met parsing a directory later than at open (a segment opened from its run
    /// index whose other parts turn out damaged): its series then read as absent; `verify`
    /// reports it.
    private(set) var lateDamage: String?

    /// Checks and parses the whole directory, once (a segment opened from its run index).
    private func ensureParsed() {
        if fullyParsed { return }
        fullyParsed = true
        do throws(StrataError) {
            try parseDirectory()
        } catch {
            lateDamage = error.message
            entries = []; tables = []; runKeys = []; runTextOffsets = []; v1RunTable = []; packedDirectory = []
            builtSeries = []
        }
    }

    /// The whole-directory parse (every segment without a run index; with one, on demand).
    private func parseDirectory() throws(StrataError) {
        let b = file.view
        let path = file.path
        let (dirAt, dirLen, dirSum, version, headerFlags, limit) = directory
        guard b[dirAt..<(dirAt + dirLen)].xxh64() == dirSum else {
            throw StrataError.corrupt("segment directory checksum mismatch", path: path, offset: dirAt)
        }
        entries = []; tables = []; runKeys = []; runTextOffsets = []; v1RunTable = []; names = []
        packList = []; packedOffsets = []; packFirstBlob = []; packedDirectory = []; summaryGroups = []
        runKeyIndex = nil
        var r = ByteReader(b, from: dirAt, to: dirAt + dirLen, path: path)
        var parts = DirectoryParts(packTable: dirAt, packedLengths: dirAt, seriesCount: dirAt)
        defer { directoryParts = parts }
        // Version 2: run ids and names stored once, then the packs of small series' columns.
        if version >= 2 {
            let nr = try r.count("run count", max: SegmentFormat.maxTableEntries)
            runKeys.reserveCapacity(nr)
            runTextOffsets.reserveCapacity(nr)
            for _ in 0..<nr {
                // Checked as `RunID` would check it, kept as its key and place (ids made on first use).
                let len = try r.length("run id length", max: 64)
                let at = r.offset
                let text = try r.bytes(len, "run id")
                guard let key = RunKey(view: text) else {
                    throw StrataError.corrupt("bad run id \"\(text.string)\"", path: path, offset: r.offset)
                }
                runKeys.append(key)
                runTextOffsets.append(at)
            }
            let nn = try r.count("name count", max: SegmentFormat.maxTableEntries)
            names.reserveCapacity(nn)
            for _ in 0..<nn { names.append(try r.string("series name", max: 4096)) }
            parts.packTable = r.offset
            parts.packedLengths = try readPacks(&r, limit: limit)
        }
        parts.seriesCount = r.offset
        // Series entries are kept compact (indexes into the tables); their keys and objects are
        // built on first use of `series`, so an open that only lists runs stays cheap.
        var runNumbers: [RunID: Int32] = [:], nameNumbers: [String: Int32] = [:]
        let n = try r.count("series count", max: SegmentFormat.maxSeries)
        entries.reserveCapacity(n)
        var fresh = 0
        for _ in 0..<n {
            let entryAt = r.offset
            if version >= 2 {
                let (e, table) = try decodeEntry(
                    &r, fresh: &fresh, packedTotal: packedOffsets.count, runCount: runKeys.count, ordinal: packedDirectory.count)
                if e.points > 0 {
                    parts.packedEntries += r.offset - entryAt
                    packedDirectory.append(Int32(entries.count))
                    entries.append(e)
                } else if let table {
                    var e = e
                    e.a = Int32(tables.count)
                    tables.append(table)
                    entries.append(e)
                }
                continue
            }
            var e = DirEntry(run: 0, name: 0, points: 0, a: 0, b: 0, c: 0)
            let run = try readRun(&r)
            let canonical = try r.string("series name", max: 4096)
            if let k = runNumbers[run] {
                e.run = k
            } else {
                e.run = Int32(runKeys.count); runNumbers[run] = e.run
                runKeys.append(RunKey(run)); v1RunTable.append(run)
            }
            if let k = nameNumbers[canonical] {
                e.name = k
            } else {
                e.name = Int32(names.count); nameNumbers[canonical] = e.name; names.append(canonical)
            }
            let table = try readTableInfo(&r, canonical)
            e.a = Int32(tables.count)
            tables.append(table)
            entries.append(e)
        }
        parts.meta = r.offset
        try readMeta(&r)
        parts.summaryTable = r.offset
        if version >= 3 && headerFlags & SegmentFormat.flagPackedSummaries != 0 {
            try readPackedSummaryTable(&r, limit: limit, packedSeries: packedDirectory.count)
        }
        parts.end = r.offset
    }

    /// Reads one series entry of a version 2 or 3 directory (`fresh`: packed blobs introduced
    /// before it, advanced past its own; `ordinal`: packed series before it): a packed entry, or
    /// one with a chunk table (returned beside it; its `a` is left to the caller).
    private func decodeEntry(
        _ r: inout ByteReader, fresh: inout Int, packedTotal: Int, runCount: Int, ordinal: Int
    ) throws(StrataError) -> (DirEntry, TableInfo?) {
        var e = DirEntry(run: 0, name: 0, points: 0, a: 0, b: 0, c: 0)
        let ri = try r.length("run index", max: max(0, runCount - 1)), ni = try r.length("name index", max: max(0, names.count - 1))
        guard ri < runCount, ni < names.count else {
            throw StrataError.corrupt("series entry names no run or name", path: path, offset: r.offset)
        }
        e.run = Int32(ri); e.name = Int32(ni)
        let canonical = names[ni]
        let points = try r.length("packed point count", max: ChunkLayout.chunkCapacity - 1)
        if points > 0 {
            var refs: (Int32, Int32, Int32) = (0, 0, 0)
            for j in 0..<3 {
                let k = try r.length("packed column reference", max: fresh)
                let i = k == 0 ? fresh : fresh - k
                if k == 0 { fresh += 1 }
                guard i < packedTotal else {
                    throw StrataError.corrupt("packed column \(i) of \(canonical) is not in the packs (\(packedTotal))", path: path, offset: r.offset)
                }
                if j == 0 { refs.0 = Int32(i) } else if j == 1 { refs.1 = Int32(i) } else { refs.2 = Int32(i) }
            }
            e.points = Int32(points); e.a = refs.0; e.b = refs.1; e.c = refs.2
            e.ordinal = Int32(ordinal)
            return (e, nil)
        }
        return (e, try readTableInfo(&r, canonical))
    }

    /// The chunk table fields of a series entry, checked against the file.
    private func readTableInfo(_ r: inout ByteReader, _ canonical: String) throws(StrataError) -> TableInfo {
        let dirAt = directory.at
        let chunks = try r.length("chunk count", max: SegmentFormat.maxChunks)
        let tableAt = Int(clamping: try r.u64())
        let tableSum = try r.u64()
        let (summary, minT, maxT) = try SegmentFormat.readStats(&r)
        guard chunks > 0, tableAt >= SegmentFormat.headerSize,
            tableAt <= dirAt, chunks <= (dirAt - tableAt) / SegmentFormat.chunkEntrySize
        else {
            throw StrataError.corrupt("chunk table of \(canonical) is outside the file", path: path, offset: r.offset)
        }
        return TableInfo(chunkCount: chunks, tableOffset: tableAt, tableChecksum: tableSum, summary: summary, minTime: minT, maxTime: maxT)
    }

    /// The descriptive fields after the series entries (writer id to rewind epoch).
    private func readMeta(_ r: inout ByteReader) throws(StrataError) {
        let writer = try r.string("writer", max: 256)
        let gen = try r.u64()
        let first = try r.i64(), last = try r.i64()
        let nr = try r.count("replaced count", max: 1 << 20)
        var replaces: [String] = []
        for _ in 0..<nr {
            let name = try r.string("replaced segment", max: 512)
            // Compaction deletes the segments named here: a segment file name, never a path.
            guard name.hasSuffix(".seg"), !name.contains("/") else {
                throw StrataError.corrupt("replaced segment name \"\(name.prefix(64))\" is not a segment file name", path: path, offset: r.offset)
            }
            replaces.append(name)
        }
        let epoch = try r.i64()
        meta = SegmentMeta(writer: writer, generation: gen, firstSequence: first, lastSequence: last, replaces: replaces, rewindEpoch: epoch)
    }

    private func readRun(_ r: inout ByteReader) throws(StrataError) -> RunID {
        let runText = try r.string("run id", max: 64)
        guard let run = RunID(runText) else { throw StrataError.corrupt("bad run id \"\(runText)\"", path: path, offset: r.offset) }
        return run
    }

    /// The pack table and the lengths of the packed blobs: where every packed blob lies.
    /// One entry of the pack table (varint offset, varint blob count, u64 checksum), its length
    /// still unknown (0), and its blob count; `number` names it in the error.
    private func readPackEntry(_ r: inout ByteReader, number: Int, limit: Int) throws(StrataError) -> (Pack, Int) {
        let at = try r.length("pack offset", max: limit)
        let blobs = try r.count("pack blob count", max: SegmentFormat.maxTableEntries)
        let sum = try r.u64()
        guard at >= SegmentFormat.headerSize, blobs > 0 else {
            throw StrataError.corrupt("pack \(number) at \(at) with \(blobs) columns is malformed", path: path, offset: r.offset)
        }
        return (Pack(offset: at, length: 0, checksum: sum), blobs)
    }

    /// Returns where the packed blob lengths begin (after the pack table).
    private func readPacks(_ r: inout ByteReader, limit: Int) throws(StrataError) -> Int {
        let np = try r.count("pack count", max: SegmentFormat.maxTableEntries)
        var counts: [Int] = []
        for k in 0..<np {
            let (pack, blobs) = try readPackEntry(&r, number: k, limit: limit)
            packList.append(pack)
            counts.append(blobs)
        }
        packedOffsets.reserveCapacity(counts.reduce(0, +))
        let lengthsAt = r.offset
        for (k, blobs) in counts.enumerated() {
            var at = packList[k].offset
            packFirstBlob.append(packedOffsets.count)
            for _ in 0..<blobs {
                let len = try r.length("packed column length", max: limit - at)
                packedOffsets.append(at)
                at += len
            }
            packList[k].length = at - packList[k].offset
        }
        return lengthsAt
    }

    /// The directory position of every packed series, in order (its ordinal is its index here).
    private var packedDirectory: [Int32] = []
    /// Version 3: where the groups of stored packed series statistics lie, and those decoded.
    private struct SummaryGroup { var offset: Int; var length: Int; var size: Int; var checksum: UInt64 }
    private var summaryGroups: [SummaryGroup] = []
    private var decodedSummaries: [Int: [PackedSummaries.Entry]] = [:]
    /// Groups that failed their checksum or did not decode, with the reason (`verify` reports them;
    /// their series derive their statistics from their columns, as in version 2).
    private(set) var damagedSummaries: [Int: String] = [:]
    static let noTier = BlobRef(offset: SegmentFormat.headerSize, length: 0, checksum: SegmentFormat.emptyChecksum)

    private func readPackedSummaryTable(_ r: inout ByteReader, limit: Int, packedSeries: Int) throws(StrataError) {
        let groups = try r.count("packed statistics group count", max: SegmentFormat.maxTableEntries)
        let expected = (packedSeries + PackedSummaries.groupSize - 1) / PackedSummaries.groupSize
        guard groups == expected else {
            throw StrataError.corrupt(
                "\(groups) groups of packed series statistics for \(packedSeries) packed series", path: path, offset: r.offset)
        }
        for g in 0..<groups {
            let at = try r.length("packed statistics offset", max: limit)
            let len = try r.length("packed statistics length", max: limit - at)
            let n = min(PackedSummaries.groupSize, packedSeries - g * PackedSummaries.groupSize)
            let size = try r.length("packed statistics size", max: PackedSummaries.maxSize(n))
            let sum = try r.u64()
            guard at >= SegmentFormat.headerSize, len > 0 else {
                throw StrataError.corrupt("packed statistics group \(g) at \(at)+\(len) is malformed", path: path, offset: r.offset)
            }
            summaryGroups.append(SummaryGroup(offset: at, length: len, size: size, checksum: sum))
        }
    }

    /// The stored chunk header of packed series `ordinal` (version 3), its group checked and
    /// decoded on first use; nil without stored statistics or when its group is damaged.
    func storedPackedSummary(_ ordinal: Int) -> PackedSummaries.Entry? {
        guard ordinal >= 0 else { return nil }
        let g = ordinal / PackedSummaries.groupSize
        if let group = decodedSummaries[g] { return group[ordinal % PackedSummaries.groupSize] }
        if damagedSummaries[g] != nil || g >= summaryGroups.count { return nil }
        do throws(StrataError) {
            let group = try decodeSummaryGroup(g)
            decodedSummaries[g] = group
            return group[ordinal % PackedSummaries.groupSize]
        } catch {
            damagedSummaries[g] = error.message
            return nil
        }
    }

    private func decodeSummaryGroup(_ g: Int) throws(StrataError) -> [PackedSummaries.Entry] {
        let info = summaryGroups[g]
        let frame = file.view[info.offset..<(info.offset + info.length)]
        guard frame.xxh64() == info.checksum else {
            throw StrataError.corrupt("checksum mismatch in statistics of packed series (group \(g))", path: path, offset: info.offset)
        }
        guard let raw = CatalogZstd().decompress(frame, size: info.size, dictionary: []) else {
            throw StrataError.corrupt(
                "statistics of packed series (group \(g)) do not decompress to \(info.size) bytes", path: path, offset: info.offset)
        }
        let counts: [Int], names: [Int32]
        if fullyParsed {
            let lo = g * PackedSummaries.groupSize, hi = min(packedDirectory.count, lo + PackedSummaries.groupSize)
            counts = packedDirectory[lo..<hi].map { Int(entries[Int($0)].points) }
            names = packedDirectory[lo..<hi].map { entries[Int($0)].name }
        } else {
            (counts, names) = try indexedPackedGroup(g)
        }
        return try PackedSummaries.decode(raw, counts: counts, names: names, path: path, offset: info.offset)
    }

    /// Checks every group of stored packed statistics and that each entry is what the series'
    /// columns give (for `verify`); one message per problem.
    func checkPackedSummaries() -> [String] {
        ensureParsed()
        var problems: [String] = []
        for g in summaryGroups.indices {
            do throws(StrataError) { _ = try decodeSummaryGroup(g) } catch { problems.append(error.message) }
        }
        if !problems.isEmpty { return problems }
        for s in series {
            guard case .packed(let n, let st, let v, let t, let ordinal) = s.layout, let stored = storedPackedSummary(ordinal) else { continue }
            do throws(StrataError) {
                let derived = try packedEntry(s, count: n, steps: st, values: v, times: t)
                let d = PackedSummaries.Entry(
                    stats: derived.stats, minTime: derived.minTime, maxTime: derived.maxTime, linearSteps: derived.linearSteps)
                if d != stored {
                    problems.append("stored statistics of packed series \(s.key.canonical) of run \(s.key.run) do not match its points")
                }
            } catch {
                problems.append("series \(s.key.canonical) of run \(s.key.run): \(error.message)")
            }
        }
        return problems
    }

    /// Packs of small series' columns (version 2), each checksummed as a whole.
    struct Pack { var offset: Int; var length: Int; var checksum: UInt64 }
    var packs: [Pack] {
        ensureParsed()
        return packList
    }
    private var packList: [Pack] = []
    private var verifiedPacks = Set<Int>()
    /// How many packs were read (checksum-verified) so far in this process.
    var readPacks: Int { verifiedPacks.count }
    /// Whether the segment stores the statistics of its packed series (version 3).
    var storesPackedSummaries: Bool {
        ensureParsed()
        return !summaryGroups.isEmpty
    }
    /// Bytes of the stored statistics of packed series (their compressed groups).
    var packedSummaryBytes: Int {
        ensureParsed()
        return summaryGroups.reduce(0) { $0 + $1.length }
    }

    /// Checks pack `k` against its checksum once per process.
    func verifyPack(_ k: Int) throws(StrataError) {
        if verifiedPacks.contains(k) { return }
        let p = packList[k]
        guard file.view[p.offset..<(p.offset + p.length)].xxh64() == p.checksum else {
            throw StrataError.corrupt("pack checksum mismatch (columns of small series)", path: path, offset: p.offset)
        }
        verifiedPacks.insert(k)
    }

    /// The one chunk of a packed series: its columns decoded (after the pack's checksum), steps
    /// checked to be sorted, and the statistics a chunk header would hold computed from them.
    func packedEntry(_ s: SegmentSeries, count n: Int, steps: BlobRef, values: BlobRef, times: BlobRef) throws(StrataError) -> ChunkEntry {
        let none = Segment.noTier
        var provisional = Aggregate()
        provisional.count = n
        let raw = ChunkEntry(stats: provisional, minTime: 0, maxTime: 0, linearSteps: false, steps: steps, values: values, times: times, tier: none)
        let cols = try ChunkColumns(ChunkHandle(segment: self, entry: raw, rankBase: 0))
        for i in 1..<max(1, n) where cols.steps[i] < cols.steps[i - 1] {
            throw StrataError.corrupt("steps of packed series \(s.key.canonical) out of order at point \(i)", path: path, offset: steps.offset)
        }
        let (stats, minT, maxT, linear) = ChunkEncoder.statistics(cols)
        return ChunkEntry(stats: stats, minTime: minT, maxTime: maxT, linearSteps: linear, steps: steps, values: values, times: times, tier: none)
    }

    func parseTable(_ s: SegmentSeries, count chunkCount: Int, offset tableOffset: Int, checksum: UInt64) throws(StrataError) -> [ChunkEntry] {
        let b = file.view
        let len = chunkCount * SegmentFormat.chunkEntrySize
        guard b[tableOffset..<(tableOffset + len)].xxh64() == checksum else {
            throw StrataError.corrupt("chunk table checksum mismatch for series \(s.key.canonical)", path: path, offset: tableOffset)
        }
        var r = ByteReader(b, from: tableOffset, to: tableOffset + len, path: path)
        var out: [ChunkEntry] = []
        out.reserveCapacity(chunkCount)
        let dataEnd = b.count - SegmentFormat.trailerSize
        for _ in 0..<chunkCount {
            let (stats, minT, maxT) = try SegmentFormat.readStats(&r)
            let flags = try r.u32()
            _ = try r.u32()
            // The four column locations, then their checksums (no array per chunk: a table of
            // tens of thousands of chunks is parsed on the first query of a long series).
            func location() throws(StrataError) -> BlobRef {
                let off = Int(clamping: try r.u64()), len = Int(try r.u32())
                guard off >= SegmentFormat.headerSize, off <= dataEnd, len <= dataEnd - off else {
                    throw StrataError.corrupt("column location \(off)+\(len) is outside the file", path: path, offset: r.offset)
                }
                return BlobRef(offset: off, length: len, checksum: 0)
            }
            var refs = (try location(), try location(), try location(), try location())
            refs.0.checksum = try r.u64(); refs.1.checksum = try r.u64(); refs.2.checksum = try r.u64(); refs.3.checksum = try r.u64()
            guard stats.count > 0, stats.count <= ChunkLayout.chunkCapacity else {
                throw StrataError.corrupt(
                    "chunk point count \(stats.count) is outside 1...\(ChunkLayout.chunkCapacity)", path: path, offset: r.offset)
            }
            let blocks = (stats.count + ChunkLayout.blockSize - 1) / ChunkLayout.blockSize
            let sketch = flags & SegmentFormat.flagSketch != 0
            if sketch {
                // A sketch follows the tier entries of a full chunk (at least its 6 fixed bytes).
                guard stats.count == ChunkLayout.chunkCapacity, refs.3.length >= blocks * ChunkLayout.tierEntrySize + 6 else {
                    throw StrataError.corrupt(
                        "tier blob of \(refs.3.length) bytes cannot hold the tier and quantile sketch of \(stats.count) points", path: path,
                        offset: r.offset)
                }
            } else {
                guard refs.3.length == 0 || refs.3.length == blocks * ChunkLayout.tierEntrySize else {
                    throw StrataError.corrupt(
                        "tier block length \(refs.3.length) does not match \(stats.count) points", path: path, offset: r.offset)
                }
            }
            let linear = SegmentFormat.trustedLinear(flags & SegmentFormat.flagLinearSteps != 0, stats)
            out.append(
                ChunkEntry(
                    stats: stats, minTime: minT, maxTime: maxT, linearSteps: linear,
                    steps: refs.0, values: refs.1, times: refs.2, tier: refs.3, hasSketch: sketch))
        }
        return out
    }

    /// Block offsets of value columns, found once per process (warm curves skip header walks).
    private var valueBlockOffsets: [Int: [Int32]] = [:]

    /// Where each block of a value column begins (nil for an LZ4-compressed column).
    func blockOffsets(values ref: BlobRef, count: Int) throws(StrataError) -> [Int32]? {
        if let cached = valueBlockOffsets[ref.offset] { return cached.isEmpty ? nil : cached }
        let bytes = try blob(ref)
        let offsets: [Int32]?
        do { offsets = try DoubleColumn.blockOffsets(bytes, count: count) } catch {
            throw StrataError.corrupt("cannot decode values: \(error.message)", path: path, offset: ref.offset)
        }
        valueBlockOffsets[ref.offset] = offsets ?? []
        return offsets
    }

    // MARK: run table and packed blobs, found without making an object per entry (s24-listing)

    /// Each run-table entry's key, in table order, and where its text lies in the file (version
    /// 2; version 1 keeps its ids in `v1RunTable`). Whether the keys are ascending (as writers
    /// store them): then a run is found by binary search, else through `runKeyIndex`.
    private var runKeys: [RunKey] = []
    private var runTextOffsets: [Int] = []
    private var v1RunTable: [RunID] = []
    private var madeRunTable: [RunID]?
    private lazy var runKeysAscending: Bool = zip(runKeys, runKeys.dropFirst()).allSatisfy { $0 < $1 }
    private var runKeyIndex: [RunKey: Int]?

    /// The run ids of the directory, in table order (version 1: collected from its entries); made
    /// on first use, as listing runs by id needs them and finding a few runs' series does not.
    var runTable: [RunID] {
        if let madeRunTable { return madeRunTable }
        ensureParsed()
        let made = v1RunTable.isEmpty ? runKeys.indices.map(runID) : v1RunTable
        madeRunTable = made
        return made
    }

    /// Whether `runTable` was made (for tests: finding a few runs must not make it).
    var runTableIsMade: Bool { madeRunTable != nil || !v1RunTable.isEmpty }
    /// Whether the whole directory was parsed (for tests: opening from the run index and
    /// reading a few runs must not parse it).
    var directoryIsParsed: Bool { fullyParsed }

    /// Run-table entry `r` as a run id.
    private func runID(_ r: Int) -> RunID {
        if let madeRunTable { return madeRunTable[r] }
        if !v1RunTable.isEmpty { return v1RunTable[r] }
        let at = fullyParsed ? runTextOffsets[r] : directory.at + runIndex.runTable + r * 27 + 1
        // Checked when the directory was parsed (`RunKey(view:)` refuses what `RunID` refuses).
        return RunID(file.view[at..<(at + 26)].string)!
    }

    /// The run-table position of a run, if the segment has points of it.
    func runNumber(of key: RunKey) -> Int? {
        if !fullyParsed { return indexedRunNumber(key) }
        if runKeysAscending {
            var lo = 0, hi = runKeys.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if runKeys[mid] < key { lo = mid + 1 } else { hi = mid }
            }
            return lo < runKeys.count && runKeys[lo] == key ? lo : nil
        }
        if runKeyIndex == nil {
            var index: [RunKey: Int] = [:]
            index.reserveCapacity(runKeys.count)
            for (i, k) in runKeys.enumerated() { index[k] = i }
            runKeyIndex = index
        }
        return runKeyIndex?[key]
    }

    /// Where each packed blob begins (version 2), and the first blob of each pack: blob `i`
    /// ends where the next begins, or at its pack's end.
    private var packedOffsets: [Int] = []
    private var packFirstBlob: [Int] = []

    /// Where packed blob `i` lies.
    private func packedBlob(_ i: Int) -> BlobRef {
        if !fullyParsed { return indexedPackedBlob(i) }
        // The pack holding it: the last pack whose first blob is at or before it.
        var lo = 0, hi = packFirstBlob.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if packFirstBlob[mid] <= i { lo = mid } else { hi = mid }
        }
        let k = lo
        let lastOfPack = k + 1 < packFirstBlob.count ? packFirstBlob[k + 1] - 1 : packedOffsets.count - 1
        let end = i < lastOfPack ? packedOffsets[i + 1] : packList[k].offset + packList[k].length
        return BlobRef(offset: packedOffsets[i], length: end - packedOffsets[i], checksum: 0, pack: k)
    }

    /// The directory statistics of the series named `canonical` of every run, each reported once
    /// per directory entry in directory order as `body(run table position, summary, minTime,
    /// maxTime)`: what a per-metric column of the whole store (`StoreReader.metricColumn`) reads.
    func eachSummary(named canonical: String, _ body: (Int, Aggregate, Int64, Int64) -> Void) {
        ensureParsed()
        guard let ni = names.firstIndex(of: canonical) else { return }
        for (i, e) in entries.enumerated() where e.name == Int32(ni) {
            let (summary, lo, hi) = entryStats(i)
            body(Int(e.run), summary, lo, hi)
        }
    }

    /// The directory statistics of the series named `canonical` of the runs `runs` (positions in
    /// that array), each reported once per directory entry in directory order as
    /// `body(position, summary, minTime, maxTime)`: what merging one metric of many runs reads,
    /// without a series object per entry. A packed series' statistics are those its
    /// `SegmentSeries.summary` gives.
    func eachSummary(
        named canonical: String, runs: [RunKey], _ body: (Int, Aggregate, Int64, Int64) -> Void
    ) {
        ensureParsed()
        guard let ni = names.firstIndex(of: canonical) else { return }
        var wanted = [Int32](repeating: -1, count: runKeys.count)
        var any = false
        for (p, key) in runs.enumerated() {
            if let r = runNumber(of: key) { wanted[r] = Int32(p); any = true }
        }
        if !any { return }
        for (i, e) in entries.enumerated() where e.name == Int32(ni) {
            let p = wanted[Int(e.run)]
            if p < 0 { continue }
            let (summary, lo, hi) = entryStats(i)
            body(Int(p), summary, lo, hi)
        }
    }
}

// MARK: - Run index (header flag bit 1): opening from the footer, decoding a run's entries on demand

extension Segment {
    /// Opens from the run index's footer: checks the footer and the part holding the descriptive
    /// fields (writer id to the packed statistics table) and reads those fields. Nothing that
    /// grows with the runs is read.
    fileprivate func openFromRunIndex() throws(StrataError) {
        let b = file.view
        let (dirAt, dirLen, _, _, _, _) = directory
        let footerSize = SegmentFormat.runIndexFooterSize
        guard dirLen >= footerSize else { throw StrataError.corrupt("run index footer is missing", path: path, offset: dirAt) }
        let footerAt = dirAt + dirLen - footerSize
        var f = ByteReader(b, from: footerAt, to: dirAt + dirLen, path: path)
        var fields: [Int] = []
        for _ in 0..<8 { fields.append(Int(try f.u32())) }
        let headSum = try f.u64(), rowsSum = try f.u64(), tailSum = try f.u64(), footerSum = try f.u64()
        guard b[footerAt..<(footerAt + footerSize - 8)].xxh64() == footerSum else {
            throw StrataError.corrupt("run index footer checksum mismatch", path: path, offset: footerAt)
        }
        var info = RunIndexInfo()
        (info.runs, info.packs, info.names, info.runTable) = (fields[0], fields[1], fields[2], fields[3])
        (info.nameTable, info.packTable, info.series, info.meta) = (fields[4], fields[5], fields[6], fields[7])
        let rowBytes = (info.runs + 1) * SegmentFormat.runRowSize + info.packs * SegmentFormat.packRowSize
        guard rowBytes <= dirLen - footerSize else {
            throw StrataError.corrupt("run index of \(info.runs) runs and \(info.packs) packs exceeds the directory", path: path, offset: footerAt)
        }
        info.rows = dirLen - footerSize - rowBytes
        info.packRows = info.rows + (info.runs + 1) * SegmentFormat.runRowSize
        guard info.runTable > 0, info.nameTable == info.runTable + 27 * info.runs, info.nameTable <= info.packTable,
            info.packTable <= info.series, info.series <= info.meta, info.meta <= info.rows
        else {
            throw StrataError.corrupt("run index footer places the directory's parts out of order", path: path, offset: footerAt)
        }
        info.headSum = headSum
        info.rowsSum = rowsSum
        guard b[(dirAt + info.meta)..<(dirAt + info.rows)].xxh64() == tailSum else {
            throw StrataError.corrupt("checksum mismatch in the segment's descriptive fields", path: path, offset: dirAt + info.meta)
        }
        var r = ByteReader(b, from: dirAt + info.meta, to: dirAt + info.rows, path: path)
        try readMeta(&r)
        info.summaryTable = r.offset - dirAt
        runIndex = info
    }

    /// Checks the rest of the run index and reads its small tables (names, packs, packed
    /// statistics groups) on the first lookup; false when it is damaged (the whole directory is
    /// then parsed instead, and judged by its own checksum).
    fileprivate func prepareIndex() -> Bool {
        if let indexReady { return indexReady }
        do throws(StrataError) {
            try readIndexTables()
            indexReady = true
        } catch {
            indexDamage = error.message
            indexReady = false
            ensureParsed()
        }
        return indexReady!
    }

    private func readIndexTables() throws(StrataError) {
        let b = file.view
        let (dirAt, dirLen, _, _, headerFlags, limit) = directory
        let info = runIndex
        guard b[dirAt..<(dirAt + info.meta)].xxh64() == info.headSum else {
            throw StrataError.corrupt("segment directory checksum mismatch (run table, names, packs, series entries)", path: path, offset: dirAt)
        }
        let rowsEnd = dirAt + dirLen - SegmentFormat.runIndexFooterSize
        guard b[(dirAt + info.rows)..<rowsEnd].xxh64() == info.rowsSum else {
            throw StrataError.corrupt("run index rows checksum mismatch", path: path, offset: dirAt + info.rows)
        }
        var h = ByteReader(b, from: dirAt, to: dirAt + info.runTable, path: path)
        guard try h.varint("run count") == UInt64(info.runs), h.offset == dirAt + info.runTable else {
            throw StrataError.corrupt("run index disagrees with the run table's count", path: path, offset: dirAt)
        }
        var r = ByteReader(b, from: dirAt + info.nameTable, to: dirAt + info.packTable, path: path)
        let nn = try r.count("name count", max: SegmentFormat.maxTableEntries)
        guard nn == info.names else { throw StrataError.corrupt("run index disagrees with the name table", path: path, offset: r.offset) }
        var names: [String] = []
        names.reserveCapacity(nn)
        for _ in 0..<nn { names.append(try r.string("series name", max: 4096)) }
        guard r.offset == dirAt + info.packTable else {
            throw StrataError.corrupt("name table does not end where the pack table begins", path: path, offset: r.offset)
        }
        r = ByteReader(b, from: dirAt + info.packTable, to: dirAt + info.series, path: path)
        guard try r.count("pack count", max: SegmentFormat.maxTableEntries) == info.packs else {
            throw StrataError.corrupt("run index disagrees with the pack table", path: path, offset: r.offset)
        }
        var packs: [Pack] = [], blobCounts: [Int] = []
        for k in 0..<info.packs {
            let (pack, blobs) = try readPackEntry(&r, number: k, limit: limit)
            packs.append(pack)
            blobCounts.append(blobs)
        }
        let lengthsAt = r.offset - dirAt
        // The sentinel row closes the series list; the first row opens it.
        let end = try row(info.runs)
        let first = info.runs == 0 ? end : try row(0)
        guard end.position == info.meta, end.entry <= SegmentFormat.maxSeries, end.fresh == blobCounts.reduce(0, +), end.ordinal <= end.entry,
            info.runs == 0 || (first.position == info.series && first.entry == 0 && first.fresh == 0 && first.ordinal == 0)
        else {
            throw StrataError.corrupt("run index rows do not span the series list", path: path, offset: dirAt + info.rows)
        }
        for k in 0..<info.packs {
            let p = try packRow(k)
            let next = k + 1 < info.packs ? try packRow(k + 1).firstBlob : end.fresh
            guard p.firstBlob + blobCounts[k] == next, p.lengthsAt >= lengthsAt, p.lengthsAt < info.series,
                k > 0 || (p.firstBlob == 0 && p.lengthsAt == lengthsAt)
            else {
                throw StrataError.corrupt("run index row of pack \(k) disagrees with the pack table", path: path, offset: dirAt + info.packRows)
            }
        }
        summaryGroups = []
        if directory.version >= 3 && headerFlags & SegmentFormat.flagPackedSummaries != 0 {
            var t = ByteReader(b, from: dirAt + info.summaryTable, to: dirAt + info.rows, path: path)
            try readPackedSummaryTable(&t, limit: limit, packedSeries: end.ordinal)
            guard t.offset == dirAt + info.rows else {
                throw StrataError.corrupt("bytes between the packed statistics table and the run index", path: path, offset: t.offset)
            }
        } else if info.summaryTable != info.rows {
            throw StrataError.corrupt("bytes between the descriptive fields and the run index", path: path, offset: dirAt + info.summaryTable)
        }
        self.names = names
        packList = packs
        packBlobCounts = blobCounts
        indexTotals = end
    }

    /// Run row `r` (0…run count; the last is the sentinel): where its first series entry lies,
    /// and the entries, fresh packed blobs and packed series before it.
    private func row(_ r: Int) throws(StrataError) -> (position: Int, entry: Int, fresh: Int, ordinal: Int) {
        var rd = ByteReader(file.view, from: directory.at + runIndex.rows + r * SegmentFormat.runRowSize, path: path)
        return (Int(try rd.u32()), Int(try rd.u32()), Int(try rd.u32()), Int(try rd.u32()))
    }

    private func packRow(_ k: Int) throws(StrataError) -> (firstBlob: Int, lengthsAt: Int) {
        var rd = ByteReader(file.view, from: directory.at + runIndex.packRows + k * SegmentFormat.packRowSize, path: path)
        return (Int(try rd.u32()), Int(try rd.u32()))
    }

    /// The run-table position of `key`, by binary search of the stored (ascending) run ids.
    fileprivate func indexedRunNumber(_ key: RunKey) -> Int? {
        guard prepareIndex() else { return runNumber(of: key) }
        let b = file.view
        var lo = 0, hi = runIndex.runs
        while lo < hi {
            let mid = (lo + hi) / 2
            let at = directory.at + runIndex.runTable + mid * 27
            guard b[at] == 26, let k = RunKey(view: b[(at + 1)..<(at + 27)]) else {
                indexFailed(StrataError.corrupt("bad run id in the run table", path: path, offset: at))
                return runNumber(of: key)
            }
            if k == key { return mid }
            if k < key { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// The series of one run, decoding only its entries; nil when the directory was parsed whole
    /// (or the run index is damaged): the caller then uses the parsed entries.
    func indexedSeries(of key: RunKey) -> [SegmentSeries]? {
        if fullyParsed || !prepareIndex() { return nil }
        guard let r = indexedRunNumber(key) else { return fullyParsed ? nil : [] }
        do throws(StrataError) {
            let range = try decodeRun(r)
            return range.map(seriesObject)
        } catch {
            indexFailed(error)
            return nil
        }
    }

    /// The run index turned out damaged: the whole directory is parsed (and checked) instead.
    private func indexFailed(_ error: StrataError) {
        indexDamage = error.message
        indexReady = false
        ensureParsed()
    }

    /// Decodes the series entries of run-table entry `r` (once) and returns their directory
    /// positions.
    @discardableResult
    fileprivate func decodeRun(_ r: Int) throws(StrataError) -> Range<Int> {
        let a = try row(r), z = try row(r + 1)
        if decodedRuns.contains(r) { return a.entry..<z.entry }
        let info = runIndex, dirAt = directory.at
        // Every run of the run table has at least one series entry.
        guard info.series <= a.position, a.position < z.position, z.position <= info.meta, a.entry < z.entry, a.fresh <= z.fresh,
            a.ordinal <= z.ordinal, z.entry <= indexTotals.entry, z.fresh <= indexTotals.fresh, z.ordinal <= indexTotals.ordinal
        else {
            throw StrataError.corrupt("run index row \(r) is out of order", path: path, offset: dirAt + info.rows + r * SegmentFormat.runRowSize)
        }
        var rd = ByteReader(file.view, from: dirAt + a.position, to: dirAt + z.position, path: path)
        var fresh = a.fresh, ordinal = a.ordinal
        var made: [(Int, DirEntry)] = []
        for i in a.entry..<z.entry {
            let (decoded, table) = try decodeEntry(&rd, fresh: &fresh, packedTotal: indexTotals.fresh, runCount: info.runs, ordinal: ordinal)
            var e = decoded
            guard Int(e.run) == r else {
                throw StrataError.corrupt("series entry of another run in run \(r)'s entries", path: path, offset: rd.offset)
            }
            if e.points > 0 {
                ordinal += 1
                for blob in [e.a, e.b, e.c] { _ = try packOffsets(ofBlob: Int(blob)) }
            } else if let table {
                e.a = Int32(tables.count)
                tables.append(table)
            }
            made.append((i, e))
        }
        guard rd.offset == dirAt + z.position, fresh == z.fresh, ordinal == z.ordinal else {
            throw StrataError.corrupt("run \(r)'s series entries disagree with the run index", path: path, offset: rd.offset)
        }
        for (i, e) in made { lazyEntries[i] = e }
        decodedRuns.insert(r)
        return a.entry..<z.entry
    }

    /// Where packed blob `i`'s pack lies, with its blobs' offsets (decoded once per pack).
    private func packOffsets(ofBlob i: Int) throws(StrataError) -> (pack: Int, first: Int, offsets: [Int]) {
        var lo = 0, hi = runIndex.packs
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try packRow(mid).firstBlob <= i { lo = mid } else { hi = mid }
        }
        let p = try packRow(lo)
        if let cached = lazyPackOffsets[lo] { return (lo, p.firstBlob, cached) }
        let limit = directory.limit
        var rd = ByteReader(file.view, from: directory.at + p.lengthsAt, to: directory.at + runIndex.series, path: path)
        var at = packList[lo].offset
        var offsets = [at]
        for _ in 0..<packBlobCounts[lo] {
            at += try rd.length("packed column length", max: limit - at)
            offsets.append(at)
        }
        packList[lo].length = at - packList[lo].offset
        lazyPackOffsets[lo] = offsets
        return (lo, p.firstBlob, offsets)
    }

    /// Where packed blob `i` lies (its pack located by `decodeRun` before).
    fileprivate func indexedPackedBlob(_ i: Int) -> BlobRef {
        guard let p = try? packOffsets(ofBlob: i) else { preconditionFailure("packed blob located before use") }
        let j = i - p.first
        return BlobRef(offset: p.offsets[j], length: p.offsets[j + 1] - p.offsets[j], checksum: 0, pack: p.pack)
    }

    /// The point counts and name positions of the packed series of statistics group `g`, from
    /// the entries of the runs holding them.
    fileprivate func indexedPackedGroup(_ g: Int) throws(StrataError) -> (counts: [Int], names: [Int32]) {
        let lo = g * PackedSummaries.groupSize, hi = min(indexTotals.ordinal, lo + PackedSummaries.groupSize)
        // The last run whose packed series start at or before `lo`.
        var a = 0, z = runIndex.runs
        while z - a > 1 {
            let mid = (a + z) / 2
            if try row(mid).ordinal <= lo { a = mid } else { z = mid }
        }
        var counts: [Int] = [], names: [Int32] = []
        var r = a
        while r < runIndex.runs, try row(r).ordinal < hi {
            for i in try decodeRun(r) {
                let e = lazyEntries[i]!
                if e.points > 0 && Int(e.ordinal) >= lo && Int(e.ordinal) < hi {
                    counts.append(Int(e.points)); names.append(e.name)
                }
            }
            r += 1
        }
        guard counts.count == hi - lo else {
            throw StrataError.corrupt("packed statistics group \(g) does not match the run index", path: path, offset: directory.at + runIndex.rows)
        }
        return (counts, names)
    }

    /// Whether two chunk table fields are the same, statistics compared as their stored bytes (NaN first or last values included).
    private static func sameTable(_ a: TableInfo, _ b: TableInfo) -> Bool {
        var x = ByteWriter(), y = ByteWriter()
        SegmentFormat.writeStats(&x, a.summary, minTime: a.minTime, maxTime: a.maxTime)
        SegmentFormat.writeStats(&y, b.summary, minTime: b.minTime, maxTime: b.maxTime)
        return (a.chunkCount, a.tableOffset, a.tableChecksum) == (b.chunkCount, b.tableOffset, b.tableChecksum) && x.bytes == y.bytes
    }

    /// Checks the run index against the whole directory (for `verify`): every run's entries as
    /// the index decodes them equal the parsed ones, and every pack's blobs lie where the parse
    /// puts them. One message per problem; none for a segment without a run index.
    func checkRunIndex() -> [String] {
        if let indexDamage { return ["run index: \(indexDamage)"] }
        guard directory.version >= 3, directory.flags & SegmentFormat.flagRunIndex != 0 else { return [] }
        ensureParsed()
        if lateDamage != nil { return [] }
        do throws(StrataError) {
            let probe = try Segment(path: path, name: name)
            guard probe.prepareIndex() else { return ["run index: \(probe.indexDamage ?? "damaged")"] }
            guard probe.runIndex.runs == runKeys.count, probe.indexTotals.entry == entries.count,
                probe.indexTotals.ordinal == packedDirectory.count, probe.indexTotals.fresh == packedOffsets.count
            else { return ["run index: its counts disagree with the directory"] }
            for r in 0..<probe.runIndex.runs {
                for i in try probe.decodeRun(r) {
                    let x = probe.lazyEntries[i]!, y = entries[i]
                    let same =
                        (x.run, x.name, x.points, x.ordinal) == (y.run, y.name, y.points, y.ordinal)
                        && (x.points > 0
                            ? (x.a, x.b, x.c) == (y.a, y.b, y.c)
                                && [x.a, x.b, x.c].allSatisfy { probe.indexedPackedBlob(Int($0)) == packedBlob(Int($0)) }
                            : Self.sameTable(probe.tables[Int(x.a)], tables[Int(y.a)]))
                    if !same { return ["run index: series entry \(i) of run \(r) differs from the directory"] }
                }
            }
        } catch {
            return ["run index: \(error.message)"]
        }
        return []
    }
}

// MARK: - Compaction: letting go of what merged series held

extension Segment {
    /// Lets go of what reading its series built up: parsed chunk headers, the record of blobs
    /// already checked, block offsets, mapped pages. Compaction reads each series once; over a
    /// long store it would otherwise hold all of it at the end. Rebuilt (and checked) on next use.
    func releaseReadState() {
        for s in madeSeries.values { s.forgetChunks() }
        for s in builtSeries ?? [] { s.forgetChunks() }
        verifiedBlobs.removeAll()
        valueBlockOffsets.removeAll()
        file.releaseResidentPages()
    }
}

extension SegmentSeries {
    fileprivate func forgetChunks() {
        entries = nil
        edgeOffsets = []  // columns are checked again on next use
        edgeSlots = []
        edgeChunks = []
        edgeBlockOffsets = []
    }
}

// MARK: - Bytes by structure (`Store.storageStats`)

/// The bytes of one segment file by structure (`docs/FORMAT.md`, "Segment files"), apart from the
/// column and tier blobs of every series, chunked or packed (the caller attributes those from the
/// chunk entries, each blob once): with those blobs they add up to the file's size.
struct SegmentStructureBytes {
    /// The 16-byte header and the 40-byte trailer.
    var headerAndTrailer = 0
    /// The directory's run ids and series names (version 2 on; version 1 repeats them in its entries).
    var runAndNameTables = 0
    /// What locates packed series: the pack table, the packed blob lengths and the packed series'
    /// directory entries.
    var packTables = 0
    /// The series count and the directory entries of series with a chunk table, without their statistics.
    var seriesEntries = 0
    /// The statistics (104 bytes) of every series with a chunk table, in the directory.
    var seriesStatistics = 0
    /// Writer id, generation, sequences, replaced segments, rewind epoch.
    var descriptiveFields = 0
    /// The stored statistics of packed series: their compressed groups and the directory's table of them.
    var packedStatistics = 0
    /// The run index's rows and footer.
    var runIndex = 0
    /// The chunk tables (192 bytes a chunk).
    var chunkTables = 0
}

extension Segment {
    /// The segment's bytes by structure (the whole directory is parsed); nil when the directory
    /// turns out damaged.
    func structureBytes() -> SegmentStructureBytes? {
        ensureParsed()
        if lateDamage != nil { return nil }
        let d = directory, p = directoryParts
        var out = SegmentStructureBytes()
        out.headerAndTrailer = SegmentFormat.headerSize + SegmentFormat.trailerSize
        out.runAndNameTables = p.packTable - d.at
        out.packTables = p.seriesCount - p.packTable + p.packedEntries
        out.seriesStatistics = tables.count * SegmentFormat.statisticsSize
        out.seriesEntries = p.meta - p.seriesCount - p.packedEntries - out.seriesStatistics
        out.descriptiveFields = p.summaryTable - p.meta
        out.packedStatistics = p.end - p.summaryTable + summaryGroups.reduce(0) { $0 + $1.length }
        out.runIndex = d.at + d.length - p.end
        out.chunkTables = tables.reduce(0) { $0 + $1.chunkCount * SegmentFormat.chunkEntrySize }
        return out
    }
}

import StrataCodecs

/// Reads a chunk that a curve's bucket edge cuts, from its compact record (`EdgeChunk`): steps by
/// arithmetic, whole blocks from the tier, the blocks an edge cuts decoded (each at most once).
/// The same numbers as `ChunkCursor.aggregate` over the same chunk: the same pieces, merged in
/// the same order.
///
/// Unsafe memory: `valueBytes` and `tierBytes` are slices of the segment's read-only mapping
/// (bounds-checked by `Segment.verifiedBytes`; their checksums were verified when the record was
/// made), kept alive by `segment`. `values` is the buffer of a `ValueScratch`
/// (`ChunkLayout.chunkCapacity` doubles) that the cursor holds; only indexes below the record's
/// count (at most the capacity, checked when the record was made) are written or read. Tier
/// entries are read at block indexes below the count's block count, inside the tier blob (its
/// length was checked against them when the record was made).
struct EdgeCursor: StepCursor {
    let record: EdgeChunk
    let rankBase: UInt64
    private let segment: Segment
    /// The series whose `edgeBlockOffsets` hold the record's block offsets (read at each decode,
    /// not held: a record made while this cursor lives must not copy the array).
    private let series: SegmentSeries
    private let scratch: ValueScratch
    private let valueBytes: UnsafeRawBufferPointer
    private let tierBytes: UnsafeRawBufferPointer
    private var decoded: UInt64 = 0

    /// A cursor over the record at `slot` of `series` (`SegmentSeries.edgeSlot`).
    init(_ series: SegmentSeries, slot: Int, rankBase: UInt64, scratch: ValueScratch) {
        let r = series.edgeChunks[slot]
        record = r
        self.rankBase = rankBase
        segment = series.segment
        self.series = series
        self.scratch = scratch
        valueBytes = segment.verifiedBytes(offset: r.valueOffset, length: r.valueLength)
        tierBytes = segment.verifiedBytes(offset: r.tierOffset, length: r.tierLength)
    }

    var firstStep: Int64 { record.firstStep }
    var lastStep: Int64 { record.lastStep }
    var count: Int { record.count }

    func lowerBound(_ step: Int64) -> Int { EdgeCursor.index(of: step, in: record) }

    /// Index of the first point of `r` with step >= `step` (its count when none).
    static func index(of step: Int64, in r: EdgeChunk) -> Int {
        if step <= r.firstStep { return 0 }
        if step > r.lastStep { return r.count }
        let stride = r.stride
        if stride == 0 { return 0 }
        // ceil((step - first) / stride), without overflow: step is inside [first, last].
        let off = UInt64(bitPattern: step &- r.firstStep)
        let s = UInt64(stride)
        return Int(off / s + (off % s == 0 ? 0 : 1))
    }

    func step(_ i: Int) -> Int64 { record.firstStep &+ record.stride &* Int64(i) }

    /// Makes values[range] available in the scratch buffer.
    private mutating func ensure(_ range: Range<Int>) throws(StrataError) {
        var done = decoded
        try ChunkCursor.decodeMissing(range, count: record.count, decoded: &done) { (points) throws(StrataError) in
            do throws(CodecError) {
                let at = Int(series.edgeBlockOffsets[record.offsetsAt + points.lowerBound / ChunkLayout.blockSize])
                try DoubleColumn.decode(valueBytes, count: record.count, range: points, into: scratch.values + points.lowerBound, blockAt: at)
            } catch {
                throw StrataError.corrupt("cannot decode values: \(error.message)", path: segment.path, offset: record.valueOffset)
            }
        }
        decoded = done
    }

    private mutating func value(_ i: Int) throws(StrataError) -> Double {
        try ensure(i..<(i + 1))
        return scratch.values[i]
    }

    /// Statistics of points [r) of the chunk, as `ChunkCursor.aggregate` makes them: the partial
    /// first block decoded, whole blocks from the tier, the partial last block decoded.
    mutating func aggregate(_ r: Range<Int>) throws(StrataError) -> Aggregate {
        let n = record.count
        let values = scratch.values
        var a = try ChunkCursor.valueStats(r, count: n, tier: tierBytes) { (part) throws(StrataError) in
            try ensure(part)
            return Aggregate.values(values, part)
        }
        a.firstValue = r.lowerBound == 0 ? record.firstValue : try value(r.lowerBound)
        a.lastValue = r.upperBound == n ? record.lastValue : try value(r.upperBound - 1)
        a.firstStep = step(r.lowerBound)
        a.lastStep = step(r.upperBound - 1)
        a.firstRank = rankBase + UInt64(r.lowerBound)
        a.lastRank = rankBase + UInt64(r.upperBound - 1)
        // Where the min/max is reached is not tracked below chunk level.
        a.minStep = .max
        a.maxStep = .max
        return a
    }
}

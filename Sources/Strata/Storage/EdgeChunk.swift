/// What a curve's edge walk reads of a chunk that a bucket edge cuts, kept per series once the
/// chunk was first opened (issue 17): where its value and tier columns lie in the segment, its
/// steps (linear: first step and stride), its count and its first and last values. A warm curve
/// opens such a chunk from this record (`EdgeCursor`) instead of a `ChunkHandle` (a 260-byte
/// copy of the chunk header), a `ChunkCursor` and the segment's checksum and offset lookups; the
/// records of one series lie in one array, in the order their chunks were first opened, which is
/// the order a repeated curve opens them again.
///
/// Only chunks with linear steps, tier blocks and an uncompressed block layout get a record
/// (every full chunk of a series logged at a constant stride); the others are opened as before.
struct EdgeChunk {
    var valueOffset: Int
    var valueLength: Int
    var tierOffset: Int
    var tierLength: Int
    var firstStep: Int64
    var stride: Int64
    var count: Int
    var firstValue: Double
    var lastValue: Double
    /// Where the chunk's block offsets start in `SegmentSeries.edgeBlockOffsets`.
    var offsetsAt: Int

    var lastStep: Int64 { firstStep &+ stride &* Int64(count - 1) }
}

/// Step access shared by the cursors a bucket walk goes through (`SeriesQuery.walkBuckets`):
/// a chunk's step span and count, the index of a step, the step of an index.
protocol StepCursor {
    var firstStep: Int64 { get }
    var lastStep: Int64 { get }
    var count: Int { get }
    /// Index of the first point with step >= `step` (count when none).
    mutating func lowerBound(_ step: Int64) throws(StrataError) -> Int
    mutating func step(_ i: Int) throws(StrataError) -> Int64
}

extension SegmentSeries {
    /// The slot in `edgeChunks` of chunk `i` of `entries` (this series' chunk table), its
    /// columns verified and its record made on first use; nil when the chunk does not fit a
    /// record (see `EdgeChunk`).
    func edgeSlot(_ i: Int, of entries: [ChunkEntry]) throws(StrataError) -> Int? {
        if edgeSlots.count != entries.count { edgeSlots = Array(repeating: -1, count: entries.count) }
        let known = edgeSlots[i]
        if known >= 0 { return Int(known) }
        if known == -2 { return nil }
        let e = entries[i]
        let blocks = (e.count + ChunkLayout.blockSize - 1) / ChunkLayout.blockSize
        guard e.linearSteps, e.count > 0, e.count <= ChunkLayout.chunkCapacity, e.tier.length >= blocks * ChunkLayout.tierEntrySize,
            e.values.pack < 0, e.tier.pack < 0
        else {
            edgeSlots[i] = -2
            return nil
        }
        // Both checksums now (the record's reads skip them), then the block offsets.
        _ = try segment.blob(e.tier)
        guard let offsets = try segment.blockOffsets(values: e.values, count: e.count), offsets.count == blocks else {
            edgeSlots[i] = -2
            return nil
        }
        let stride = e.count > 1 ? (e.stats.lastStep &- e.stats.firstStep) / Int64(e.count - 1) : 0
        let slot = edgeChunks.count
        edgeChunks.append(
            EdgeChunk(
                valueOffset: e.values.offset, valueLength: e.values.length, tierOffset: e.tier.offset, tierLength: e.tier.length,
                firstStep: e.stats.firstStep, stride: stride, count: e.count, firstValue: e.stats.firstValue, lastValue: e.stats.lastValue,
                offsetsAt: edgeBlockOffsets.count))
        edgeBlockOffsets.append(contentsOf: offsets)
        edgeSlots[i] = Int32(slot)
        return slot
    }
}

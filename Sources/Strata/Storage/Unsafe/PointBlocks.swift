/// Hands decoded points to a scan's body a block at a time (`Store.scan`, `Store.scanPoints`).
///
/// Unsafe memory: the blocks are three buffers of `ChunkLayout.chunkCapacity` elements allocated
/// here and freed when the visit ends, or the storage of arrays held for the call; each buffer
/// covers only initialised elements (the part just decoded). The body sees them only as `Span`s:
/// bounds-checked, and the compiler keeps them from escaping the call, so the pointers never
/// leave this file. Covered by `ScanTests` (Tests/StrataTests) and the store fuzzer
/// (`FuzzEntry.query` scans every chunk set it builds).
enum PointBlocks {
    /// A scan's body: steps, values and times (empty when not asked for) of one block.
    typealias Body = (Span<Int64>, Span<Double>, Span<Int64>) throws -> Void
    /// A scan's body without times.
    typealias StepValueBody = (Span<Int64>, Span<Double>) throws -> Void

    /// Decodes each part (a chunk and a range of its points, at most a chunk) into reused buffers
    /// and calls `body` with it, in the order given.
    static func visit(_ parts: [(ChunkHandle, Range<Int>)], times wantTimes: Bool, _ body: Body) throws(StrataError) {
        let cap = ChunkLayout.chunkCapacity
        let steps = UnsafeMutablePointer<Int64>.allocate(capacity: cap)
        let values = UnsafeMutablePointer<Double>.allocate(capacity: cap)
        let times = UnsafeMutablePointer<Int64>.allocate(capacity: cap)
        defer { steps.deallocate(); values.deallocate(); times.deallocate() }
        for (chunk, range) in parts {
            precondition(range.count <= cap)
            try chunk.decodeSteps(range, into: steps)
            try chunk.decodeValues(range, into: values)
            if wantTimes { try chunk.decodeTimes(range, into: times) }
            try typed {
                try body(
                    UnsafeBufferPointer(start: steps, count: range.count).span, UnsafeBufferPointer(start: values, count: range.count).span,
                    UnsafeBufferPointer(start: times, count: wantTimes ? range.count : 0).span)
            }
        }
    }

    /// Calls `body` once with columns already in memory.
    static func visit(_ d: SeriesData, _ body: Body) throws(StrataError) {
        try typed { try body(d.steps.span, d.values.span, d.times.span) }
    }
}

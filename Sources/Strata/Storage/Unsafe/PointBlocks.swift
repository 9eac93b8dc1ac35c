/// Hands decoded points to a scan's body a block at a time (`Store.scan`, `Store.scanPoints`).
///
/// Unsafe memory: the blocks are three buffers of `ChunkLayout.chunkCapacity` elements allocated
/// here and freed when the visit ends, or the storage of arrays held for the call; each buffer
/// passed to the body covers only initialised elements (the part just decoded) and is valid only
/// during that call of the body (documented on the public `scan`).
enum PointBlocks {
    /// A scan's body: steps, values and times (empty when not asked for) of one block.
    typealias Body = (UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Int64>) throws -> Void
    /// A scan's body without times.
    typealias StepValueBody = (UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Double>) throws -> Void

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
                    UnsafeBufferPointer(start: steps, count: range.count), UnsafeBufferPointer(start: values, count: range.count),
                    UnsafeBufferPointer(start: times, count: wantTimes ? range.count : 0))
            }
        }
    }

    /// Calls `body` once with columns already in memory.
    static func visit(_ d: SeriesData, _ body: Body) throws(StrataError) {
        try typed {
            try d.steps.withUnsafeBufferPointer { s in
                try d.values.withUnsafeBufferPointer { v in
                    try d.times.withUnsafeBufferPointer { t in try body(s, v, t) }
                }
            }
        }
    }
}

import StrataCodecs

/// The columns of (part of) a chunk decoded into three arrays: the one whole-chunk decoder, for a
/// stored chunk (`ChunkHandle`: segment or log tail) and for a chunk record of a log
/// (`LogChunkRecord`). Used by rewind trimming, compaction, time curves, reads and recovery.
///
/// Unsafe memory: each array is sized first, then filled by a column decoder that writes exactly
/// the requested number of elements through the array's own buffer pointer, inside
/// `withUnsafeMutableBufferPointer` (the pointer never escapes the call).
struct ChunkColumns {
    var steps: [Int64] = []
    var values: [Double] = []
    /// Empty when decoded without times.
    var times: [Int64] = []
    var count: Int { steps.count }

    init() {}

    /// Points `range` of a stored chunk (all of it when nil).
    init(_ chunk: ChunkHandle, _ range: Range<Int>? = nil, times: Bool = true) throws(StrataError) {
        try append(chunk, range ?? 0..<chunk.count, times: times)
    }

    /// Appends points `range` of a stored chunk after those already held.
    mutating func append(_ chunk: ChunkHandle, _ range: Range<Int>, times wantTimes: Bool) throws(StrataError) {
        let at = steps.count, n = range.count
        steps.append(contentsOf: repeatElement(0, count: n))
        values.append(contentsOf: repeatElement(0, count: n))
        try steps.withUnsafeMutableBufferPointer { (p) throws(StrataError) in try chunk.decodeSteps(range, into: p.baseAddress! + at) }
        try values.withUnsafeMutableBufferPointer { (p) throws(StrataError) in try chunk.decodeValues(range, into: p.baseAddress! + at) }
        if wantTimes {
            times.append(contentsOf: repeatElement(0, count: n))
            try times.withUnsafeMutableBufferPointer { (p) throws(StrataError) in try chunk.decodeTimes(range, into: p.baseAddress! + at) }
        }
    }

    /// Every point of a log's chunk record.
    init(_ record: LogChunkRecord, path: String) throws(StrataError) {
        let n = record.count
        steps = [Int64](repeating: 0, count: n)
        values = [Double](repeating: 0, count: n)
        times = [Int64](repeating: 0, count: n)
        do {
            try steps.withUnsafeMutableBufferPointer { (p) throws(CodecError) in
                try record.steps.withUnsafeBytes { (b) throws(CodecError) in try Int64Column.decode(b, count: n, range: 0..<n, into: p.baseAddress!) }
            }
            try values.withUnsafeMutableBufferPointer { (p) throws(CodecError) in
                try record.values.withUnsafeBytes { (b) throws(CodecError) in try DoubleColumn.decode(b, count: n, range: 0..<n, into: p.baseAddress!)
                }
            }
            try times.withUnsafeMutableBufferPointer { (p) throws(CodecError) in
                try record.times.withUnsafeBytes { (b) throws(CodecError) in try Int64Column.decode(b, count: n, range: 0..<n, into: p.baseAddress!) }
            }
        } catch {
            throw StrataError.corrupt("chunk record: \(error.message)", path: path)
        }
    }

    /// Keeps only the points with a step at or below `limit` (rewinds), in order.
    mutating func keep(upTo limit: Int64) {
        if limit == .max { return }
        var kept = 0
        for j in 0..<steps.count where steps[j] <= limit {
            steps[kept] = steps[j]; values[kept] = values[j]
            if !times.isEmpty { times[kept] = times[j] }
            kept += 1
        }
        steps.removeLast(steps.count - kept); values.removeLast(values.count - kept)
        if !times.isEmpty { times.removeLast(times.count - kept) }
    }

    /// Reorders the points by step, stable by `ranks` (equal steps from different chunks).
    mutating func sort(ranks: [UInt64]) {
        var order = Array(0..<count)
        let st = steps
        order.sort { (st[$0], ranks[$0]) < (st[$1], ranks[$1]) }
        steps = order.map { st[$0] }
        let va = values
        values = order.map { va[$0] }
        if !times.isEmpty { let ti = times; times = order.map { ti[$0] } }
    }
}

/// An encoded chunk record as it lies in a mapped log (`LogScanner`'s `.chunk`): valid while the
/// log's mapping is (the holder keeps the `MappedFile` alive).
struct LogChunkRecord {
    var count: Int
    var steps: ByteView
    var values: ByteView
    var times: ByteView
}

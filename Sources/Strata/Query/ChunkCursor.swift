import StrataCodecs

/// Reads one chunk during a query: decodes value blocks on demand (each block of 128 at most
/// once) into a scratch buffer, and combines tier entries for whole blocks.
///
/// Unsafe memory: `values` is a scratch buffer of `ChunkLayout.chunkCapacity` doubles owned by
/// the caller and reused across chunks; it must outlive the cursor.
struct ChunkCursor {
    let chunk: ChunkHandle
    private let values: UnsafeMutablePointer<Double>
    private var decoded: UInt64 = 0
    private let valueBytes: UnsafeRawBufferPointer?
    private let tierBytes: UnsafeRawBufferPointer?
    private var stepCache: [Int64]?

    init(_ chunk: ChunkHandle, scratch: UnsafeMutablePointer<Double>) throws(StrataError) {
        self.chunk = chunk
        values = scratch
        switch chunk.source {
        case .segment(let seg, let e):
            valueBytes = try seg.blob(e.values)
            tierBytes = e.tier.length > 0 ? try seg.blob(e.tier) : nil
        case .memory(let m):
            valueBytes = nil
            tierBytes = nil
            m.values.withUnsafeBufferPointer { scratch.update(from: $0.baseAddress!, count: m.values.count) }
            decoded = .max
        }
    }

    /// Makes values[range] available in the scratch buffer.
    private mutating func ensure(_ range: Range<Int>) throws(StrataError) {
        if decoded == .max || range.isEmpty { return }
        let bs = ChunkLayout.blockSize
        var b = range.lowerBound / bs
        let bEnd = (range.upperBound - 1) / bs
        while b <= bEnd {
            if decoded & (1 << UInt64(b)) != 0 { b += 1; continue }
            var e = b
            while e + 1 <= bEnd && decoded & (1 << UInt64(e + 1)) == 0 { e += 1 }
            let lo = b * bs, hi = Swift.min(chunk.count, (e + 1) * bs)
            do {
                try DoubleColumn.decode(valueBytes!, count: chunk.count, range: lo..<hi, into: values + lo)
            } catch {
                if case .segment(let seg, let entry) = chunk.source {
                    throw StrataError.corrupt("cannot decode values: \(error.message)", path: seg.path, offset: entry.values.offset)
                }
            }
            for k in b...e { decoded |= 1 << UInt64(k) }
            b = e + 1
        }
    }

    mutating func value(_ i: Int) throws(StrataError) -> Double {
        try ensure(i..<(i + 1))
        return values[i]
    }

    mutating func lowerBound(_ step: Int64) throws(StrataError) -> Int {
        try chunk.lowerBound(step, steps: &stepCache)
    }

    mutating func step(_ i: Int) throws(StrataError) -> Int64 {
        if chunk.linearSteps {
            let stride = chunk.count > 1 ? (chunk.stats.lastStep &- chunk.stats.firstStep) / Int64(chunk.count - 1) : 0
            return chunk.stats.firstStep &+ stride &* Int64(i)
        }
        if stepCache == nil { _ = try chunk.lowerBound(chunk.stats.lastStep, steps: &stepCache) }
        if let s = stepCache { return s[i] }
        var s: Int64 = 0
        try chunk.decodeSteps(i..<(i + 1), into: &s)
        return s
    }

    /// Statistics of points [r) of the chunk: whole tier blocks from the tier, the rest decoded.
    mutating func aggregate(_ r: Range<Int>) throws(StrataError) -> Aggregate {
        var a = Aggregate()
        let bs = ChunkLayout.blockSize
        if let tier = tierBytes {
            var i = r.lowerBound
            while i < r.upperBound {
                let blockEnd = Swift.min(chunk.count, (i / bs + 1) * bs)
                let end = Swift.min(blockEnd, r.upperBound)
                if i % bs == 0 && end == blockEnd {
                    a.mergeValues(ChunkCursor.tierEntry(tier, block: i / bs, count: end - i))
                } else {
                    try ensure(i..<end)
                    a.mergeValues(Aggregate.of(steps: nil, values: values, range: i..<end, baseRank: 0))
                }
                i = end
            }
        } else {
            try ensure(r)
            a.mergeValues(Aggregate.of(steps: nil, values: values, range: r, baseRank: 0))
        }
        a.firstValue = try value(r.lowerBound)
        a.lastValue = try value(r.upperBound - 1)
        a.firstStep = try step(r.lowerBound)
        a.lastStep = try step(r.upperBound - 1)
        a.firstRank = chunk.rankBase + UInt64(r.lowerBound)
        a.lastRank = chunk.rankBase + UInt64(r.upperBound - 1)
        // Where the min/max is reached is not tracked below chunk level.
        a.minStep = .max
        a.maxStep = .max
        return a
    }

    @inline(__always)
    static func tierEntry(_ bytes: UnsafeRawBufferPointer, block b: Int, count: Int) -> Aggregate {
        let at = b * ChunkLayout.tierEntrySize
        var a = Aggregate()
        a.count = count
        a.sum = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        a.m2 = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)))
        a.min = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)))
        a.max = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self)))
        a.nanCount = Swift.min(count, Int(bytes[at + 32]))
        return a
    }
}

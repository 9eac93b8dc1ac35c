import StrataCodecs

/// Reads one chunk during a query: decodes value blocks on demand (each block of 128 at most
/// once) into a scratch buffer, and combines tier entries for whole blocks.
///
/// Unsafe memory: `values` is the buffer of a `ValueScratch` (`ChunkLayout.chunkCapacity`
/// doubles) reused across the chunks of one query; the cursor holds the scratch, so the buffer
/// outlives it. Value and tier bytes are slices of the segment's mapping (kept by the chunk's
/// segment). Only indexes below the chunk's count (at most the capacity) are written or read.
struct ChunkCursor {
    let chunk: ChunkHandle
    private let scratch: ValueScratch
    private var values: UnsafeMutablePointer<Double> { scratch.values }
    private var decoded: UInt64 = 0
    private let valueBytes: UnsafeRawBufferPointer?
    private let tierBytes: UnsafeRawBufferPointer?
    /// Block offsets of the value column, cached by the segment (nil for LZ4 columns).
    private var offsets: [Int32]?
    /// Whether `offsets` was looked up (or given: `init(verified:offsets:scratch:)`).
    private var offsetsKnown = false
    private var stepCache: [Int64]?

    init(_ chunk: ChunkHandle, scratch: ValueScratch) throws(StrataError) {
        self.chunk = chunk
        self.scratch = scratch
        switch chunk.source {
        case .segment(let seg, let e):
            valueBytes = try seg.blob(e.values)
            tierBytes = e.tier.length > 0 ? try seg.blob(e.tier) : nil
        case .memory(let m):
            valueBytes = nil
            tierBytes = nil
            m.values.withUnsafeBufferPointer { scratch.values.update(from: $0.baseAddress!, count: m.values.count) }
            decoded = .max
        }
    }

    /// A cursor over a segment chunk whose value and tier columns an earlier cursor of this
    /// process verified (`blockOffsetsForReuse` gave `known`: the value column's block offsets,
    /// empty for a column without them): no checksum or offset lookup in the segment's tables.
    init(verified chunk: ChunkHandle, offsets known: [Int32], scratch: ValueScratch) {
        guard case .segment(let seg, let e) = chunk.source else { preconditionFailure("ChunkCursor(verified:): not a segment chunk") }
        self.chunk = chunk
        self.scratch = scratch
        valueBytes = seg.verifiedBlob(e.values)
        tierBytes = e.tier.length > 0 ? seg.verifiedBlob(e.tier) : nil
        offsets = known.isEmpty ? nil : known
        offsetsKnown = true
    }

    /// The value column's block offsets (empty when it has none), looked up now if no decode
    /// did yet; with the columns verified by `init(_:scratch:)`, what `init(verified:…)` needs.
    mutating func blockOffsetsForReuse() throws(StrataError) -> [Int32] {
        if !offsetsKnown, case .segment(let seg, let entry) = chunk.source {
            offsets = try seg.blockOffsets(values: entry.values, count: chunk.count)
            offsetsKnown = true
        }
        return offsets ?? []
    }

    /// Makes values[range] available in the scratch buffer.
    private mutating func ensure(_ range: Range<Int>) throws(StrataError) {
        if decoded == .max || range.isEmpty { return }
        var done = decoded
        try ChunkCursor.decodeMissing(range, count: chunk.count, decoded: &done) { (points) throws(StrataError) in
            if !offsetsKnown, case .segment(let seg, let entry) = chunk.source {
                offsets = try seg.blockOffsets(values: entry.values, count: chunk.count)
                offsetsKnown = true
            }
            do throws(CodecError) {
                if let offsets {
                    try DoubleColumn.decode(valueBytes!, count: chunk.count, range: points, into: values + points.lowerBound, blockOffsets: offsets)
                } else {
                    try DoubleColumn.decode(valueBytes!, count: chunk.count, range: points, into: values + points.lowerBound)
                }
            } catch {
                if case .segment(let seg, let entry) = chunk.source {
                    throw StrataError.corrupt("cannot decode values: \(error.message)", path: seg.path, offset: entry.values.offset)
                }
            }
        }
        decoded = done
    }

    /// Hands each run of blocks of `range` not yet marked in `decoded` (bit k: block k) to
    /// `decode` as a range of points (of a chunk of `count` points), then marks them: the one
    /// block walk of `ChunkCursor` and `EdgeCursor`.
    @inline(__always)
    static func decodeMissing(
        _ range: Range<Int>, count: Int, decoded: inout UInt64, _ decode: (Range<Int>) throws(StrataError) -> Void
    ) throws(StrataError) {
        if range.isEmpty { return }
        let bs = ChunkLayout.blockSize
        var b = range.lowerBound / bs
        let bEnd = (range.upperBound - 1) / bs
        while b <= bEnd {
            if decoded & (1 << UInt64(b)) != 0 { b += 1; continue }
            var e = b
            while e + 1 <= bEnd && decoded & (1 << UInt64(e + 1)) == 0 { e += 1 }
            try decode((b * bs)..<Swift.min(count, (e + 1) * bs))
            for k in b...e { decoded |= 1 << UInt64(k) }
            b = e + 1
        }
    }

    /// Value statistics of points `r` of a chunk of `count` points with tier blocks: the partial
    /// first block from `partial` (decoded values), the whole blocks from the tier, the partial
    /// last block from `partial`, merged in that order: the one split of `ChunkCursor` and
    /// `EdgeCursor`, so both give the same numbers bit for bit.
    @inline(__always)
    static func valueStats(
        _ r: Range<Int>, count: Int, tier: UnsafeRawBufferPointer, partial: (Range<Int>) throws(StrataError) -> Aggregate
    ) throws(StrataError) -> Aggregate {
        var a = Aggregate()
        let bs = ChunkLayout.blockSize
        let firstWhole = (r.lowerBound + bs - 1) / bs
        let lastWhole = r.upperBound == count ? (count + bs - 1) / bs : r.upperBound / bs
        if firstWhole >= lastWhole {
            a.mergeValues(try partial(r))
            return a
        }
        if r.lowerBound < firstWhole * bs { a.mergeValues(try partial(r.lowerBound..<(firstWhole * bs))) }
        a.mergeValues(tierRun(tier, blocks: firstWhole..<lastWhole, chunkCount: count))
        let tailStart = Swift.min(count, lastWhole * bs)
        if tailStart < r.upperBound { a.mergeValues(try partial(tailStart..<r.upperBound)) }
        return a
    }

    /// `ensure` for the quantile extension.
    mutating func ensureRange(_ range: Range<Int>) throws(StrataError) { try ensure(range) }
    var scratchValues: UnsafeMutablePointer<Double> { values }

    mutating func value(_ i: Int) throws(StrataError) -> Double {
        try ensure(i..<(i + 1))
        return values[i]
    }

    mutating func lowerBound(_ step: Int64) throws(StrataError) -> Int {
        try chunk.lowerBound(step, steps: &stepCache)
    }

    mutating func step(_ i: Int) throws(StrataError) -> Int64 {
        if chunk.linearSteps {
            return chunk.stats.firstStep &+ chunk.stride &* Int64(i)
        }
        if stepCache == nil { _ = try chunk.lowerBound(chunk.stats.lastStep, steps: &stepCache) }
        if let s = stepCache { return s[i] }
        var s: Int64 = 0
        try chunk.decodeSteps(i..<(i + 1), into: &s)
        return s
    }

    /// Statistics of points [r) of the chunk: whole tier blocks from the tier, the rest decoded.
    mutating func aggregate(_ r: Range<Int>) throws(StrataError) -> Aggregate {
        var a: Aggregate
        if let tier = tierBytes {
            // Partial first block, whole blocks from the tier, partial last block.
            a = try ChunkCursor.valueStats(r, count: chunk.count, tier: tier) { (part) throws(StrataError) in
                try ensure(part)
                return Aggregate.values(values, part)
            }
        } else {
            try ensure(r)
            a = Aggregate()
            a.mergeValues(Aggregate.values(values, r))
        }
        // The chunk's own first and last values are in its statistics: a part that starts or ends
        // with the chunk decodes no block for them (only the blocks its edges cut).
        a.firstValue = r.lowerBound == 0 ? chunk.stats.firstValue : try value(r.lowerBound)
        a.lastValue = r.upperBound == chunk.count ? chunk.stats.lastValue : try value(r.upperBound - 1)
        a.firstStep = try step(r.lowerBound)
        a.lastStep = try step(r.upperBound - 1)
        a.firstRank = chunk.rankBase + UInt64(r.lowerBound)
        a.lastRank = chunk.rankBase + UInt64(r.upperBound - 1)
        // Where the min/max is reached is not tracked below chunk level.
        a.minStep = .max
        a.maxStep = .max
        return a
    }

    /// How many points of `r` are +Inf and −Inf, and the smallest and largest finite value among
    /// them. A whole tier block whose min and max are finite comes from its tier entry (no
    /// infinity; its min and max are the finite extremes); other blocks are decoded.
    mutating func valueKinds(_ r: Range<Int>) throws(StrataError) -> ValueKinds {
        var k = ValueKinds()
        let bs = ChunkLayout.blockSize
        var b = r.lowerBound / bs
        while b * bs < r.upperBound {
            let lo = Swift.max(r.lowerBound, b * bs), hi = Swift.min(r.upperBound, (b + 1) * bs)
            if let tier = tierBytes, lo == b * bs, hi == Swift.min(chunk.count, (b + 1) * bs) {
                let at = b * ChunkLayout.tierEntrySize
                let l = Double(bitPattern: UInt64(littleEndian: tier.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)))
                let h = Double(bitPattern: UInt64(littleEndian: tier.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self)))
                if l > -.infinity && h < .infinity {
                    if l <= h { k.addFinite(l); k.addFinite(h) }  // (an all-NaN block has l = +Inf > h)
                    b += 1
                    continue
                }
            }
            try ensure(lo..<hi)
            for i in lo..<hi { k.add(values[i]) }
            b += 1
        }
        return k
    }

    /// Value statistics of consecutive whole tier blocks, in two passes over their entries (sums,
    /// then the spread of block means around the overall mean): no division per block.
    static func tierRun(_ bytes: UnsafeRawBufferPointer, blocks: Range<Int>, chunkCount: Int) -> Aggregate {
        var a = Aggregate()
        var sum = 0.0, m2 = 0.0, lo = Double.infinity, hi = -Double.infinity
        var count = 0, nan = 0
        let bs = ChunkLayout.blockSize
        for b in blocks {
            let at = b * ChunkLayout.tierEntrySize
            let n = Swift.min(bs, chunkCount - b * bs)
            sum += Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
            m2 += Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)))
            let l = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)))
            let h = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self)))
            lo = l < lo ? l : lo
            hi = h > hi ? h : hi
            count += n
            nan += Swift.min(n, Int(bytes[at + 32]))
        }
        let numeric = count - nan
        if numeric > 0 {
            let mean = sum / Double(numeric)
            for b in blocks {
                let at = b * ChunkLayout.tierEntrySize
                let n = Swift.min(bs, chunkCount - b * bs)
                let nb = Double(n - Swift.min(n, Int(bytes[at + 32])))
                if nb == 0 { continue }
                let s = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                let d = s * (nb == Double(bs) ? 1.0 / Double(bs) : 1.0 / nb) - mean
                m2 += nb * d * d
            }
        }
        a.count = count; a.nanCount = nan; a.sum = sum; a.m2 = m2; a.min = lo; a.max = hi
        return a
    }
}

/// A chunk-sized buffer of doubles that the chunk cursors of one query reuse.
final class ValueScratch {
    let values = UnsafeMutablePointer<Double>.allocate(capacity: ChunkLayout.chunkCapacity)
    deinit { values.deallocate() }
}

extension ChunkCursor {
    /// Appends the values of points [r) of the chunk to `out` (decoding only the blocks they lie
    /// in); for quantiles of a part of a chunk.
    mutating func appendValues(_ r: Range<Int>, to out: inout [Double]) throws(StrataError) {
        if r.isEmpty { return }
        precondition(r.lowerBound >= 0 && r.upperBound <= chunk.count, "ChunkCursor.appendValues: range outside the chunk")
        try ensureRange(r)
        out.append(contentsOf: UnsafeBufferPointer(start: scratchValues + r.lowerBound, count: r.count))
    }
}

extension ChunkCursor: StepCursor {
    var firstStep: Int64 { chunk.stats.firstStep }
    var lastStep: Int64 { chunk.stats.lastStep }
    var count: Int { chunk.count }
}

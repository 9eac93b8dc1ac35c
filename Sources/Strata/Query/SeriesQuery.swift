/// Scans, aggregates and curves over one series, exact, from chunk statistics and tier blocks,
/// decoding raw points only where a bucket edge cuts a block.
struct SeriesQuery {
    let chunks: [ChunkHandle]

    /// A closed step interval [lo, hi].
    struct StepInterval {
        var lo: Int64
        var hi: Int64
        static let all = StepInterval(lo: .min, hi: .max)
        init(lo: Int64, hi: Int64) { self.lo = lo; self.hi = hi }
        init(_ r: Range<Int64>?) {
            guard let r else { self = .all; return }
            lo = r.lowerBound
            hi = r.isEmpty ? r.lowerBound &- 1 : r.upperBound - 1
        }
        var isEmpty: Bool { hi < lo }
    }

    /// Every point with a step in `interval`, ordered by step, stable by arrival.
    func points(_ interval: StepInterval) throws(StrataError) -> [Point] {
        let d = try read(interval, times: true)
        var out = [Point]()
        out.reserveCapacity(d.count)
        for i in 0..<d.count { out.append(Point(step: d.steps[i], value: d.values[i], time: d.times[i])) }
        return out
    }

    /// Columns of every point with a step in `interval`, ordered by step, stable by arrival.
    /// Chunks that do not overlap are decoded straight into place; overlapping ones are merged.
    func read(_ interval: StepInterval, times wantTimes: Bool) throws(StrataError) -> SeriesData {
        if interval.isEmpty { return SeriesData() }
        struct Part { var chunk: ChunkHandle; var range: Range<Int>; var firstStep: Int64; var lastStep: Int64; var rank: UInt64 }
        var parts: [Part] = []
        var total = 0
        for c in chunks where c.stats.lastStep >= interval.lo && c.stats.firstStep <= interval.hi {
            var stepCache: [Int64]? = nil
            let whole = c.stats.firstStep >= interval.lo && c.stats.lastStep <= interval.hi
            let i0 = whole ? 0 : try c.lowerBound(interval.lo, steps: &stepCache)
            let i1 = whole || interval.hi == .max ? c.count : try c.lowerBound(interval.hi + 1, steps: &stepCache)
            if i1 <= i0 { continue }
            parts.append(Part(chunk: c, range: i0..<i1, firstStep: Swift.max(interval.lo, c.stats.firstStep),
                              lastStep: Swift.min(interval.hi, c.stats.lastStep), rank: c.rankBase + UInt64(i0)))
            total += i1 - i0
        }
        parts.sort { ($0.firstStep, $0.rank) < ($1.firstStep, $1.rank) }
        var disjoint = true
        for i in 1..<Swift.max(1, parts.count) where parts[i].firstStep < parts[i - 1].lastStep
            || (parts[i].firstStep == parts[i - 1].lastStep && parts[i].rank < parts[i - 1].rank) {
            disjoint = false
            break
        }
        var d = SeriesData()
        d.steps = [Int64](repeating: 0, count: total)
        d.values = [Double](repeating: 0, count: total)
        if wantTimes { d.times = [Int64](repeating: 0, count: total) }
        var at = 0
        var ranks: [UInt64] = disjoint ? [] : [UInt64](repeating: 0, count: total)
        for p in parts {
            let n = p.range.count
            try typed {
                try d.steps.withUnsafeMutableBufferPointer { try p.chunk.decodeSteps(p.range, into: $0.baseAddress! + at) }
                try d.values.withUnsafeMutableBufferPointer { try p.chunk.decodeValues(p.range, into: $0.baseAddress! + at) }
                if wantTimes { try d.times.withUnsafeMutableBufferPointer { try p.chunk.decodeTimes(p.range, into: $0.baseAddress! + at) } }
            }
            if !disjoint { for j in 0..<n { ranks[at + j] = p.rank + UInt64(j) } }
            at += n
        }
        if !disjoint {
            var order = Array(0..<total)
            let st = d.steps
            order.sort { (st[$0], ranks[$0]) < (st[$1], ranks[$1]) }
            d.steps = order.map { st[$0] }
            let va = d.values
            d.values = order.map { va[$0] }
            if wantTimes { let ti = d.times; d.times = order.map { ti[$0] } }
        }
        return d
    }

    /// Statistics of the points in `interval`.
    func aggregate(_ interval: StepInterval) throws(StrataError) -> Aggregate {
        var acc = Aggregate()
        if interval.isEmpty { return acc }
        var stepCache: [Int64]? = nil
        for c in chunks where c.stats.lastStep >= interval.lo && c.stats.firstStep <= interval.hi {
            if c.stats.firstStep >= interval.lo && c.stats.lastStep <= interval.hi {
                acc.merge(c.stats)
                continue
            }
            stepCache = nil
            let i0 = try c.lowerBound(interval.lo, steps: &stepCache)
            let i1 = interval.hi == .max ? c.count : try c.lowerBound(interval.hi + 1, steps: &stepCache)
            var valueCache: [Double]? = nil
            if i1 > i0 { acc.merge(try rangeAggregate(c, i0..<i1, stepCache: &stepCache, valueCache: &valueCache)) }
        }
        return acc
    }

    /// Per-bucket statistics over [lo, hi) in `buckets` equal step widths:
    /// bucket of a step = floor((step - lo) * buckets / (hi - lo)), exactly.
    func curve(lo: Int64, hi: Int64, buckets: Int) throws(StrataError) -> [(bucket: Int, stats: Aggregate)] {
        precondition(buckets > 0 && hi > lo)
        let width = UInt64(bitPattern: hi &- lo)
        let b64 = UInt64(buckets)
        @inline(__always) func bucket(_ step: Int64) -> Int {
            let off = UInt64(bitPattern: step &- lo)
            let p = off.multipliedFullWidth(by: b64)
            return Int(width.dividingFullWidth((high: p.high, low: p.low)).quotient)
        }
        /// First step of bucket b (b in 1...buckets): lo + ceil(b * width / buckets).
        @inline(__always) func start(_ b: Int) -> Int64 {
            let p = UInt64(b).multipliedFullWidth(by: width)
            let (q, r) = b64.dividingFullWidth((high: p.high, low: p.low))
            return lo &+ Int64(bitPattern: q &+ (r == 0 ? 0 : 1))
        }
        var acc = [Aggregate](repeating: Aggregate(), count: buckets)
        let last = hi - 1
        for c in chunks where c.stats.lastStep >= lo && c.stats.firstStep <= last {
            let fs = Swift.max(c.stats.firstStep, lo), ls = Swift.min(c.stats.lastStep, last)
            let bFirst = bucket(fs), bLast = bucket(ls)
            if bFirst == bLast && c.stats.firstStep >= lo && c.stats.lastStep <= last {
                acc[bFirst].merge(c.stats)
                continue
            }
            var stepCache: [Int64]? = nil
            var valueCache: [Double]? = nil
            var i = try c.lowerBound(fs, steps: &stepCache)
            let iEnd = c.stats.lastStep <= last ? c.count : try c.lowerBound(hi, steps: &stepCache)
            var b = bFirst
            while b <= bLast && i < iEnd {
                let j = b == bLast ? iEnd : Swift.min(iEnd, try c.lowerBound(start(b + 1), steps: &stepCache))
                if j > i {
                    acc[b].merge(try rangeAggregate(c, i..<j, stepCache: &stepCache, valueCache: &valueCache))
                    i = j
                }
                b += 1
                // Skip empty buckets quickly when the next point lies several buckets ahead.
                if i < iEnd && b <= bLast {
                    let nextStep = try stepAt(c, i, &stepCache)
                    b = Swift.max(b, bucket(nextStep))
                }
            }
        }
        var out: [(Int, Aggregate)] = []
        for (b, a) in acc.enumerated() where !a.isEmpty { out.append((b, a)) }
        return out
    }

    private func stepAt(_ c: ChunkHandle, _ i: Int, _ cache: inout [Int64]?) throws(StrataError) -> Int64 {
        if let cache { return cache[i] }
        var s: Int64 = 0
        try c.decodeSteps(i..<(i + 1), into: &s)
        return s
    }

    /// Statistics of points [i, j) of one chunk: whole tier blocks from the tier, the rest decoded.
    private func rangeAggregate(_ c: ChunkHandle, _ r: Range<Int>, stepCache: inout [Int64]?, valueCache: inout [Double]?) throws(StrataError) -> Aggregate {
        var a = Aggregate()
        if c.hasTier {
            let bs = ChunkLayout.blockSize
            var i = r.lowerBound
            var scratch = [Double](repeating: 0, count: bs)
            while i < r.upperBound {
                let blockEnd = Swift.min(c.count, (i / bs + 1) * bs)
                let end = Swift.min(blockEnd, r.upperBound)
                if i % bs == 0 && end == blockEnd {
                    a.mergeValues(try c.tierBlock(i / bs))
                } else {
                    let n = end - i
                    try scratch.withUnsafeMutableBufferPointer { (p) throws(StrataError) in
                        try c.decodeValues(i..<end, into: p.baseAddress!)
                        a.mergeValues(Aggregate.of(steps: nil, values: p.baseAddress!, range: 0..<n, baseRank: 0))
                    }
                }
                i = end
            }
            var edge: Double = 0
            try c.decodeValues(r.lowerBound..<(r.lowerBound + 1), into: &edge)
            a.firstValue = edge
            try c.decodeValues((r.upperBound - 1)..<r.upperBound, into: &edge)
            a.lastValue = edge
        } else {
            if valueCache == nil {
                var all = [Double](repeating: 0, count: c.count)
                try all.withUnsafeMutableBufferPointer { (p) throws(StrataError) in try c.decodeValues(0..<c.count, into: p.baseAddress!) }
                valueCache = all
            }
            valueCache!.withUnsafeBufferPointer { v in
                a.mergeValues(Aggregate.of(steps: nil, values: v.baseAddress!, range: r, baseRank: 0))
            }
            a.firstValue = valueCache![r.lowerBound]
            a.lastValue = valueCache![r.upperBound - 1]
        }
        a.firstStep = try stepAt(c, r.lowerBound, &stepCache)
        a.lastStep = try stepAt(c, r.upperBound - 1, &stepCache)
        a.firstRank = c.rankBase + UInt64(r.lowerBound)
        a.lastRank = c.rankBase + UInt64(r.upperBound - 1)
        // Where the min/max is reached is not tracked below chunk level.
        a.minStep = .max
        a.maxStep = .max
        return a
    }
}

extension Aggregate {
    /// Merges only the value statistics (count, NaN count, sum, m2, min, max).
    mutating func mergeValues(_ o: Aggregate) {
        let keep = (firstStep, firstValue, firstRank, lastStep, lastValue, lastRank)
        var other = o
        other.firstStep = .max; other.firstRank = .max
        other.lastStep = .min; other.lastRank = 0
        let wasEmpty = count == 0
        merge(other)
        if wasEmpty {
            (firstStep, firstValue, firstRank, lastStep, lastValue, lastRank) = (Int64.max, Double.nan, UInt64.max, Int64.min, Double.nan, 0)
        } else {
            (firstStep, firstValue, firstRank, lastStep, lastValue, lastRank) = keep
        }
    }
}

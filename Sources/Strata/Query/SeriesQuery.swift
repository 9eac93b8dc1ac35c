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
            // An empty range becomes [1, 0] (never [Int64.min, Int64.max] by wrapping).
            if r.isEmpty { lo = 1; hi = 0; return }
            lo = r.lowerBound
            hi = r.upperBound - 1
        }
        init(_ r: ClosedRange<Int64>) { lo = r.lowerBound; hi = r.upperBound }
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

    /// The points of one chunk that a step interval selects.
    struct Part {
        var chunk: ChunkHandle
        var range: Range<Int>
        /// Rank (arrival) of the part's first point.
        var rank: UInt64
        /// Bounds of its steps within the interval.
        var firstStep: Int64
        var lastStep: Int64
    }

    /// The chunk selection of reads and scans: the parts of the chunks with steps in `interval`,
    /// ordered by first step then arrival; `disjoint` when each part starts after the one before
    /// ends (the usual case: then concatenating the parts is step order, stable by arrival).
    func select(_ interval: StepInterval) throws(StrataError) -> (parts: [Part], disjoint: Bool, points: Int) {
        if interval.isEmpty { return ([], true, 0) }
        var parts: [Part] = []
        parts.reserveCapacity(chunks.count)  // no regrowth copies of these large values
        var total = 0
        for c in chunks where c.stats.lastStep >= interval.lo && c.stats.firstStep <= interval.hi {
            var stepCache: [Int64]? = nil
            let whole = c.stats.firstStep >= interval.lo && c.stats.lastStep <= interval.hi
            let i0 = whole ? 0 : try c.lowerBound(interval.lo, steps: &stepCache)
            let i1 = whole || interval.hi == .max ? c.count : try c.lowerBound(interval.hi + 1, steps: &stepCache)
            if i1 <= i0 { continue }
            parts.append(
                Part(
                    chunk: c, range: i0..<i1, rank: c.rankBase + UInt64(i0), firstStep: Swift.max(interval.lo, c.stats.firstStep),
                    lastStep: Swift.min(interval.hi, c.stats.lastStep)))
            total += i1 - i0
        }
        // Chunks usually arrive in step order already: sort (moving large values) only when not.
        var sorted = true
        for i in parts.indices.dropFirst() where (parts[i].firstStep, parts[i].rank) < (parts[i - 1].firstStep, parts[i - 1].rank) {
            sorted = false
            break
        }
        if !sorted { parts.sort { ($0.firstStep, $0.rank) < ($1.firstStep, $1.rank) } }
        var disjoint = true
        for i in 1..<Swift.max(1, parts.count)
        where parts[i].firstStep < parts[i - 1].lastStep
            || (parts[i].firstStep == parts[i - 1].lastStep && parts[i].rank < parts[i - 1].rank)
        {
            disjoint = false
            break
        }
        return (parts, disjoint, total)
    }

    /// Calls `body` with consecutive blocks of the points in `interval`, in step order (stable by
    /// arrival), decoded into two reused buffers: nothing proportional to the series is allocated
    /// when chunks do not overlap (the usual case); overlapping chunks are merged first.
    func scan(_ interval: StepInterval, _ body: PointBlocks.StepValueBody) throws(StrataError) {
        try scan(interval, times: false) { s, v, _ in try body(s, v) }
    }

    /// `scan` with wall times too (an empty buffer when `times` is false).
    func scan(_ interval: StepInterval, times wantTimes: Bool, _ body: PointBlocks.Body) throws(StrataError) {
        let (parts, disjoint, _) = try select(interval)
        if !disjoint {
            try PointBlocks.visit(try read(interval, times: wantTimes), body)
            return
        }
        try PointBlocks.visit(parts.map { ($0.chunk, $0.range) }, times: wantTimes, body)
    }

    /// Columns of every point with a step in `interval`, ordered by step, stable by arrival.
    /// Chunks that do not overlap are decoded straight into place; overlapping ones are merged.
    func read(_ interval: StepInterval, times wantTimes: Bool) throws(StrataError) -> SeriesData {
        let (parts, disjoint, total) = try select(interval)
        var cols = ChunkColumns()
        cols.steps.reserveCapacity(total); cols.values.reserveCapacity(total)
        if wantTimes { cols.times.reserveCapacity(total) }
        var ranks: [UInt64] = []
        if !disjoint { ranks.reserveCapacity(total) }
        for p in parts {
            try cols.append(p.chunk, p.range, times: wantTimes)
            if !disjoint { for j in 0..<p.range.count { ranks.append(p.rank + UInt64(j)) } }
        }
        if !disjoint { cols.sort(ranks: ranks) }
        var d = SeriesData()
        d.steps = cols.steps; d.values = cols.values; d.times = cols.times
        return d
    }

    /// Statistics of the points in `interval`.
    func aggregate(_ interval: StepInterval) throws(StrataError) -> Aggregate {
        var acc = Aggregate()
        if interval.isEmpty { return acc }
        let scratch = ValueScratch()
        for c in chunks where c.stats.lastStep >= interval.lo && c.stats.firstStep <= interval.hi {
            if c.stats.firstStep >= interval.lo && c.stats.lastStep <= interval.hi {
                acc.merge(c.stats)
                continue
            }
            var cur = try ChunkCursor(c, scratch: scratch)
            let i0 = try cur.lowerBound(interval.lo)
            let i1 = interval.hi == .max ? c.count : try cur.lowerBound(interval.hi + 1)
            if i1 > i0 { acc.merge(try cur.aggregate(i0..<i1)) }
        }
        return acc
    }

    /// Per-bucket statistics over the closed step interval of `buckets` (see `Buckets.index`), for
    /// the buckets from `first` on (the others are left out, and cost nothing), with their ±Inf counts.
    func curve(_ buckets: Buckets, from first: Int = 0) throws(StrataError) -> [CurveRow] {
        let last = buckets.last
        guard first < buckets.count else { return [] }
        let lo = first > 0 ? buckets.start(first) : buckets.lo
        if lo > last { return [] }
        // Only the non-empty buckets are held, in bucket order (a dense array of every bucket
        // costs a fresh allocation of buckets × 112 bytes per query; see `BucketRows`).
        var acc = BucketRows(capacity: Swift.min(buckets.count - first, 1 << 16))
        let scratch = ValueScratch()
        var finder = BucketFinder(buckets, from: first)
        for c in chunks where c.stats.lastStep >= lo && c.stats.firstStep <= last {
            try SeriesQuery.curveChunk(c, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
        }
        return try SeriesQuery.withValueKinds(acc.rows, chunks, buckets, lo: lo, scratch: scratch)
    }

    /// Adds the points of chunk `c` with steps in `[lo, last]` to their buckets (`finder`'s,
    /// from `lo` on): the whole chunk from its statistics when it lies in one bucket, else bucket
    /// by bucket from its tier blocks, decoding only the blocks a bucket edge cuts (once each).
    static func curveChunk(
        _ c: ChunkHandle, lo: Int64, last: Int64, finder: inout BucketFinder, acc: inout BucketRows, scratch: ValueScratch
    ) throws(StrataError) {
        let fs = Swift.max(c.stats.firstStep, lo), ls = Swift.min(c.stats.lastStep, last)
        let bFirst = finder.index(fs)
        if c.stats.firstStep >= lo && c.stats.lastStep <= last && finder.holds(bFirst, ls) {
            acc.merge(bFirst, c.stats)
            return
        }
        var cur = try ChunkCursor(c, scratch: scratch)
        try walkBuckets(&cur, lo: lo, last: last, finder: &finder) { (b, r, cur) throws(StrataError) in acc.merge(b, try cur.aggregate(r)) }
    }

    /// The bucket walk inside one chunk, shared by curves and quantile curves: calls `piece` with
    /// each bucket `b` (of `finder`) that holds points of the chunk with steps in `[lo, last]`, and
    /// the range of those points (consecutive, as the chunk's steps are sorted), in bucket order.
    /// Bucket edges come from `finder` (no division per edge); empty buckets are skipped by the
    /// bucket of the next point.
    @inline(__always)
    static func walkBuckets<Cursor: StepCursor>(
        _ cur: inout Cursor, lo: Int64, last: Int64, finder: inout BucketFinder,
        _ piece: (Int, Range<Int>, inout Cursor) throws(StrataError) -> Void
    ) throws(StrataError) {
        // (The chunk's fields are read in place: no copy of its handle.)
        let first = cur.firstStep, lastStep = cur.lastStep
        let fs = Swift.max(first, lo), ls = Swift.min(lastStep, last)
        if fs > ls { return }
        var b = finder.index(fs)
        let bLast = finder.holds(b, ls) ? b : finder.index(ls)
        var i = fs <= first ? 0 : try cur.lowerBound(fs)
        // last < the chunk's last step <= Int64.max here, so last + 1 cannot overflow.
        let iEnd = lastStep <= last ? cur.count : try cur.lowerBound(last + 1)
        while b <= bLast && i < iEnd {
            let j = b == bLast ? iEnd : Swift.min(iEnd, try cur.lowerBound(finder.start(b + 1)))
            if j > i {
                try piece(b, i..<j, &cur)
                i = j
            }
            b += 1
            // Skip empty buckets quickly when the next point lies several buckets ahead (its step
            // lies in [fs, ls], inside the finder's buckets).
            if i < iEnd && b <= bLast {
                let st = try cur.step(i)
                if st >= finder.start(b) { b = Swift.max(b, finder.index(st)) }
            }
        }
    }

    /// `rows` with the ±Inf counts and finite extremes of the buckets whose min is −Inf or max is
    /// +Inf, from the chunks' parts in those buckets only: whole chunks without an infinity from
    /// their statistics, whole tier blocks without one from the tier, the rest decoded.
    static func withValueKinds(_ rows: [CurveRow], _ chunks: [ChunkHandle], _ buckets: Buckets, lo: Int64, scratch: ValueScratch) throws(StrataError)
        -> [CurveRow]
    {
        let infinite = rows.filter(\.mayHoldInfinity).map(\.bucket)
        if infinite.isEmpty { return rows }
        let last = buckets.last
        var kinds: [Int: ValueKinds] = [:]
        for c in chunks where c.stats.lastStep >= lo && c.stats.firstStep <= last {
            let fs = Swift.max(c.stats.firstStep, lo), ls = Swift.min(c.stats.lastStep, last)
            let bLast = buckets.index(ls)
            // The first infinite bucket at or after the chunk's first (binary search).
            var k = 0, n = infinite.count
            let bFirst = buckets.index(fs)
            while k < n {
                let m = (k + n) / 2
                if infinite[m] < bFirst { k = m + 1 } else { n = m }
            }
            if k == infinite.count || infinite[k] > bLast { continue }
            var cur = try ChunkCursor(c, scratch: scratch)
            while k < infinite.count && infinite[k] <= bLast {
                let b = infinite[k]
                k += 1
                let s0 = Swift.max(buckets.start(b), fs), s1 = Swift.min(buckets.end(b), ls)
                if s1 < s0 { continue }
                let i0 = s0 <= c.stats.firstStep ? 0 : try cur.lowerBound(s0)
                // s1 < the chunk's last step <= Int64.max when it is not the chunk's end: no overflow.
                let i1 = s1 >= c.stats.lastStep ? c.count : try cur.lowerBound(s1 + 1)
                if i1 <= i0 { continue }
                if i0 == 0 && i1 == c.count && !c.stats.mayHoldInfinity {
                    kinds[b, default: ValueKinds()].add(finiteStatsOf: c.stats)
                } else {
                    kinds[b, default: ValueKinds()].merge(try cur.valueKinds(i0..<i1))
                }
            }
        }
        var out = rows
        for i in out.indices where out[i].mayHoldInfinity { out[i].kinds = kinds[out[i].bucket] ?? ValueKinds() }
        return out
    }
}

extension SeriesQuery {
    /// Per-bucket statistics with wall time on the x-axis. A point's x is its time, or, with an
    /// `origin`, `time - origin` when that difference is an `Int64` (points whose difference is
    /// not are outside every range). Whole chunks whose x span falls in one bucket are merged from
    /// their statistics; other chunks are decoded point by point.
    /// First/last within a bucket are by step (then arrival), as everywhere.
    /// Only the buckets from `first` on are computed (the others are left out).
    func timeCurve(_ buckets: Buckets, origin: Int64?, from first: Int = 0) throws(StrataError) -> [CurveRow] {
        @inline(__always) func x(_ t: Int64) -> Int64? {
            guard let origin else { return t }
            let (d, overflow) = t.subtractingReportingOverflow(origin)
            return overflow ? nil : d
        }
        guard first < buckets.count else { return [] }
        let lo = first > 0 ? buckets.start(first) : buckets.lo
        if lo > buckets.last { return [] }
        var acc = [Aggregate](repeating: Aggregate(), count: buckets.count)
        var kinds = [ValueKinds](repeating: ValueKinds(), count: buckets.count)
        let scratch = ValueScratch()
        for c in chunks {
            // x is increasing in t where defined, so the chunk's x span is [x(minTime), x(maxTime)].
            let x0 = x(c.minTime), x1 = x(c.maxTime)
            if let x0, x0 > buckets.last { continue }
            if let x1, x1 < lo { continue }
            if let x0, let x1, x0 >= lo, buckets.contains(x1), buckets.index(x0) == buckets.index(x1) {
                let b = buckets.index(x0)
                acc[b].merge(c.stats)
                if c.stats.mayHoldInfinity {
                    var cur = try ChunkCursor(c, scratch: scratch)
                    kinds[b].merge(try cur.valueKinds(0..<c.count))
                } else {
                    kinds[b].add(finiteStatsOf: c.stats)
                }
                continue
            }
            let n = c.count
            let cols = try ChunkColumns(c)
            let s = cols.steps, v = cols.values, t = cols.times
            for i in 0..<n {
                guard let xi = x(t[i]), xi >= lo, buckets.contains(xi) else { continue }
                let b = buckets.index(xi)
                acc[b].add(step: s[i], value: v[i], rank: c.rankBase + UInt64(i))
                kinds[b].add(v[i])
            }
        }
        var rows = SeriesQuery.nonEmpty(acc)
        for k in rows.indices where rows[k].mayHoldInfinity { rows[k].kinds = kinds[rows[k].bucket] }
        return rows
    }
}

extension SeriesQuery {
    /// The non-empty buckets of per-bucket accumulators, in bucket order (no value kinds yet).
    static func nonEmpty(_ acc: [Aggregate]) -> [CurveRow] {
        var out: [CurveRow] = []
        for (b, a) in acc.enumerated() where !a.isEmpty { out.append(CurveRow(bucket: b, stats: a)) }
        return out
    }
}

/// The non-empty buckets of a step curve while it is computed, in bucket order. Chunks arrive in
/// arrival order, which is step order unless a series was rewound or logged out of order: a bucket
/// at or after the last one is merged or appended in O(1); an earlier one (overlapping chunks) is
/// found by binary search and merged, or inserted. Each bucket merges its parts in chunk order, as
/// a dense per-bucket array would, so the numbers are the same.
struct BucketRows {
    private(set) var rows: [CurveRow] = []

    init(capacity: Int) { rows.reserveCapacity(Swift.max(0, capacity)) }

    mutating func merge(_ bucket: Int, _ a: Aggregate) {
        if a.isEmpty { return }
        let n = rows.count
        if n == 0 || rows[n - 1].bucket < bucket {
            rows.append(CurveRow(bucket: bucket, stats: a))
            return
        }
        if rows[n - 1].bucket == bucket {
            rows[n - 1].stats.merge(a)
            return
        }
        var lo = 0, hi = n - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid].bucket < bucket { lo = mid + 1 } else { hi = mid }
        }
        if rows[lo].bucket == bucket {
            rows[lo].stats.merge(a)
        } else {
            rows.insert(CurveRow(bucket: bucket, stats: a), at: lo)
        }
    }
}

/// One non-empty bucket of a curve as queries compute it: its statistics and, when its min is
/// −Inf or its max +Inf, how many values are ±Inf and its finite extremes (`kinds`; nil: no
/// infinity, so the finite extremes are the statistics' min and max).
struct CurveRow {
    var bucket: Int
    var stats: Aggregate
    var kinds: ValueKinds? = nil
    var mayHoldInfinity: Bool { stats.mayHoldInfinity }
}

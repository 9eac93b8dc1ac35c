/// Quantiles over one series: whole chunks from their sketches, the rest from decoded values
/// (exact when no sketch was used). See `QuantileSketch` and docs/QUERIES.md, "Quantiles".
extension SeriesQuery {
    /// Most points an exact quantile query decodes and sorts.
    static let exactQuantileLimit = 20_000_000

    /// What answers quantiles of the points in `interval`: sketches of the chunks that lie wholly
    /// inside it (unless `exact`), decoded values of every other point.
    func quantiles(_ interval: StepInterval, exact: Bool) throws(StrataError) -> QuantileAccumulator {
        var acc = QuantileAccumulator()
        if interval.isEmpty { return acc }
        let scratch = ValueScratch()
        for c in chunks where c.stats.lastStep >= interval.lo && c.stats.firstStep <= interval.hi {
            let whole = c.stats.firstStep >= interval.lo && c.stats.lastStep <= interval.hi
            if whole && !exact, let s = try c.sketch() {
                acc.merge(s)
                continue
            }
            var cur = try ChunkCursor(c, scratch: scratch)
            let i0 = whole ? 0 : try cur.lowerBound(interval.lo)
            let i1 = whole || interval.hi == .max ? c.count : try cur.lowerBound(interval.hi + 1)
            if i1 > i0 {
                if exact && acc.values.count + (i1 - i0) > SeriesQuery.exactQuantileLimit {
                    throw .invalid(
                        "exact quantiles decode and sort at most \(SeriesQuery.exactQuantileLimit) points; narrow the step range or leave out exact")
                }
                try cur.appendValues(i0..<i1, to: &acc.values)
            }
        }
        return acc
    }

    /// Per-bucket quantile accumulators over the closed step interval of `buckets` (from bucket
    /// `first` on): a chunk wholly inside one bucket gives its sketch, other chunks their decoded
    /// values, split at bucket edges (the same walk as `curve`).
    func quantileCurve(_ buckets: Buckets, from first: Int = 0, exact: Bool) throws(StrataError) -> [Int: QuantileAccumulator] {
        let last = buckets.last
        guard first < buckets.count else { return [:] }
        let lo = first > 0 ? buckets.start(first) : buckets.lo
        if lo > last { return [:] }
        var acc: [Int: QuantileAccumulator] = [:]
        var decoded = 0
        let scratch = ValueScratch()
        var finder = BucketFinder(buckets, from: first)
        for c in chunks where c.stats.lastStep >= lo && c.stats.firstStep <= last {
            let bFirst = finder.index(Swift.max(c.stats.firstStep, lo))
            if c.stats.firstStep >= lo && c.stats.lastStep <= last && finder.holds(bFirst, c.stats.lastStep) && !exact, let s = try c.sketch() {
                acc[bFirst, default: QuantileAccumulator()].merge(s)
                continue
            }
            var cur = try ChunkCursor(c, scratch: scratch)
            try SeriesQuery.walkBuckets(&cur, lo: lo, last: last, finder: &finder) { (b, r, cur) throws(StrataError) in
                decoded += r.count
                if exact && decoded > SeriesQuery.exactQuantileLimit {
                    throw .invalid(
                        "exact quantiles decode and sort at most \(SeriesQuery.exactQuantileLimit) points; narrow the step range or leave out exact")
                }
                try cur.appendValues(r, to: &acc[b, default: QuantileAccumulator()].values)
            }
        }
        return acc
    }
}

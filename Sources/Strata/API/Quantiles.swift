/// Quantiles of a series over a step range: what ``Store/quantiles(_:_:labels:steps:levels:exact:lineage:)`` answers.
public struct QuantileSummary: Sendable, Hashable {
    /// The relative error bound of a quantile answered from sketches: 1/101 + 2⁻³¹ (< 0.991 %).
    /// See docs/QUERIES.md, "Quantiles".
    public static let sketchRelativeError = QuantileSketch.relativeError
    /// The quantiles asked, each in (0, 1).
    public var levels: [Double]
    /// The quantile of each level, in the same order.
    public var values: [Double]
    /// Whether the values are exact order statistics (interpolated as ``Quantile`` defines):
    /// true when every point was read, false when whole chunks were answered from their sketches
    /// (each value is then within ``sketchRelativeError`` of the exact one, relative to the larger
    /// magnitude of the two order statistics it interpolates).
    public var exact: Bool
    /// Values ranked: every point that is not NaN (±Inf included).
    public var count: Int
    /// The relative error bound of `values` (0 when exact).
    public var relativeError: Double { exact ? 0 : QuantileSummary.sketchRelativeError }
}

extension Store {
    /// Quantiles of a series over a closed step interval (every step when nil): whole chunks from
    /// their quantile sketches, the points of partial chunks and of live logs read exactly.
    /// With `exact`, every point is read and the exact order statistics are returned (at most
    /// 20,000,000 points). NaN is left out; ±Inf rank below and above every finite value.
    ///
    /// ```swift
    /// let q = try store.quantiles(run.id, "train/step_ms", levels: [0.5, 0.99])
    /// q.values   // [p50, p99]
    /// ```
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval (every step when nil).
    ///   - levels: The quantiles, each strictly between 0 and 1 (at most 100).
    ///   - exact: Read every point and return exact order statistics.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The quantiles.
    /// - Throws: ``StrataError``: `.invalidArgument` for a level outside (0, 1) or an exact query over
    ///   too many points, `.notFound` when no finite value of the series lies in `steps`, as
    ///   ``aggregate(_:_:labels:steps:lineage:)-(_,_,_,Range<Int64>?,_)`` otherwise.
    public func quantiles(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>? = nil, levels: [Double], exact: Bool = false,
        lineage: Lineage = .full
    ) throws(StrataError) -> QuantileSummary {
        try Quantile.check(levels)
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let interval = steps.map { SeriesQuery.StepInterval($0) } ?? .all
        let acc = try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.quantiles(interval, exact: exact) }
        guard let values = acc.quantiles(levels) else {
            let window = steps.map { " in steps \($0.lowerBound)...\($0.upperBound)" } ?? ""
            throw StrataError(.notFound, "\(metric) has no finite value\(window) (\(acc.count) non-NaN points); quantiles need one")
        }
        return QuantileSummary(levels: levels, values: values, exact: acc.isExact, count: acc.count)
    }

    /// A step curve (as ``curve(_:_:labels:steps:buckets:since:lineage:)``) whose buckets also carry the
    /// quantiles `levels` of their values (``CurveBucket/quantiles``): a chunk that falls wholly
    /// inside one bucket is answered by its sketch (unless `exact`), other points are read.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - levels: The quantiles, each strictly between 0 and 1 (at most 100).
    ///   - exact: Read every point (exact order statistics; at most 20,000,000 points).
    ///   - since: As for ``curve(_:_:labels:steps:buckets:since:lineage:)``.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count or level out of range; as the curve otherwise.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, buckets: Int, quantiles levels: [Double],
        exact: Bool = false, since: Int64? = nil, lineage: Lineage = .full
    ) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        try Quantile.check(levels)
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let b = Buckets(steps, count: buckets)
        let first = b.firstBucket(since: since)
        let (rows, accs) = try withChunks(key, lineage: lineage) { q throws(StrataError) in
            (try q.curve(b, from: first), try q.quantileCurve(b, from: first, exact: exact))
        }
        return rows.map { row in
            var out = CurveBucket(b, row)
            let acc = accs[row.bucket] ?? QuantileAccumulator()
            out.quantiles = acc.quantiles(levels) ?? levels.map { _ in .nan }
            out.quantilesExact = acc.isExact
            return out
        }
    }
}

/// One non-empty bucket of a curve.
public struct CurveBucket: Sendable, Hashable {
    /// Bucket number in 0..<buckets.
    public var bucket: Int
    /// The exact statistics of the bucket's points.
    public var stats: Stats
    /// The bucket's bounds on the curve's x-axis (steps, wall ms, or ms since the origin), both
    /// inclusive: `Buckets.start(bucket)...Buckets.end(bucket)` of the curve's `Buckets`. These are
    /// the bounds of the bucket, not the x of its first and last point: every point of the bucket
    /// has its x in this range, and the ranges of a curve's buckets tile its whole range.
    public var range: ClosedRange<Int64>
    /// How many of the bucket's values are +Inf (exact; they are part of `stats.count`).
    public var positiveInfinityCount: Int
    /// How many of the bucket's values are −Inf (exact; they are part of `stats.count`).
    public var negativeInfinityCount: Int
    /// How many of the bucket's values are finite: `count − nanCount − positiveInfinityCount −
    /// negativeInfinityCount`.
    public var finiteCount: Int { stats.count - stats.nanCount - positiveInfinityCount - negativeInfinityCount }
    /// The smallest finite value of the bucket (exact; NaN when it has none). Equals `stats.min`
    /// unless the bucket holds −Inf: then it is the smallest value above it, so that a chart can
    /// draw how far a curve went before it diverged.
    public var finiteMin: Double
    /// The largest finite value of the bucket (exact; NaN when it has none). Equals `stats.max`
    /// unless the bucket holds +Inf.
    public var finiteMax: Double
    /// The quantiles asked of a curve (`curve(_:_:labels:steps:buckets:quantiles:exact:since:)`),
    /// in the order asked; NaN when the bucket holds no finite value. Empty when none was asked.
    public var quantiles: [Double] = []
    /// Whether `quantiles` are exact order statistics (else within ``QuantileSummary/sketchRelativeError``).
    public var quantilesExact = true

    /// Equal buckets: the same bucket, range, statistics (`Stats`' equality) and counts, and the
    /// same finite extremes bit for bit (so NaN equals NaN, as in `Stats`).
    public static func == (x: CurveBucket, y: CurveBucket) -> Bool {
        x.bucket == y.bucket && x.range == y.range && x.stats == y.stats && x.positiveInfinityCount == y.positiveInfinityCount
            && x.negativeInfinityCount == y.negativeInfinityCount && x.finiteMin.bitPattern == y.finiteMin.bitPattern
            && x.finiteMax.bitPattern == y.finiteMax.bitPattern && x.quantiles.map(\.bitPattern) == y.quantiles.map(\.bitPattern)
            && x.quantilesExact == y.quantilesExact
    }
    public func hash(into h: inout Hasher) { h.combine(bucket); h.combine(range); h.combine(stats) }

    init(_ buckets: Buckets, _ row: CurveRow) {
        bucket = row.bucket
        stats = Stats(row.stats)
        range = buckets.start(row.bucket)...buckets.end(row.bucket)
        if let k = row.kinds {
            positiveInfinityCount = k.positive
            negativeInfinityCount = k.negative
            let any = k.finiteMin <= k.finiteMax
            finiteMin = any ? k.finiteMin : .nan
            finiteMax = any ? k.finiteMax : .nan
        } else {
            positiveInfinityCount = 0
            negativeInfinityCount = 0
            finiteMin = stats.min
            finiteMax = stats.max
        }
    }
}

extension Buckets {
    /// The first bucket whose range ends at or after `x` (nil: 0; `count` when `x` is past the end).
    func firstBucket(since x: Int64?) -> Int {
        guard let x, x > lo else { return 0 }
        return x > last ? count : index(x)
    }
}

extension Store {
    /// Statistics of a series over a step range (everything when nil); nil when no point is in it.
    /// Exact: answered from chunk statistics and tier blocks, decoding only partial blocks.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The statistics, or nil when no point is in `steps`.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func aggregate(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, lineage: Lineage = .full)
        throws(StrataError) -> Stats?
    {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let a = try withCoarse(key, lineage: lineage) { q throws(StrataError) in try q.aggregate(.init(steps)) }
        return a.isEmpty ? nil : Stats(a)
    }

    /// The points of a series with steps in `steps` (all when nil) as columns: the fast path for
    /// scans and exports. `times: false` skips decoding wall times.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - times: Whether to decode wall times.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The points as columns.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func read(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, times: Bool = true,
        lineage: Lineage = .full
    ) throws(StrataError) -> SeriesData {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.read(.init(steps), times: times) }
    }

    /// Visits the points of a series with steps in `steps` (all when nil) in step order, stable by
    /// arrival, a block at a time (up to 4,096 points), without materialising the series: the
    /// fastest way to reduce a long history. (Chunks that overlap, where steps were logged again
    /// out of order, are merged first and visited as one block.)
    ///
    /// The blocks reach `body` as `Span`s: bounds-checked views that the compiler keeps from
    /// escaping the call (copy out the elements that must outlive it).
    /// Do not call back into the store from `body` (the store is locked while it runs).
    ///
    /// ```swift
    /// var sum = 0.0
    /// try store.scan(run.id, "train/loss") { steps, values in
    ///     for i in values.indices { sum += values[i] }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps and values of each block.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scan(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil,
        lineage: Lineage = .full,
        _ body: (_ steps: Span<Int64>, _ values: Span<Double>) throws -> Void
    ) throws(StrataError) {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.scan(.init(steps), body) }
    }

    /// The x-axis of a curve.
    public enum XAxis: String, Sendable, CaseIterable {
        /// Training steps.
        case step
        /// Wall-clock milliseconds since 1970.
        case time
        /// Milliseconds since the run's first point: the smallest time of any point of any of the
        /// run's series (`relativeOrigin(of:)`), so every metric of a run shares one clock.
        case relative
    }

    /// A curve with any x-axis over `[range.lowerBound, range.upperBound)`: in steps, in wall-clock
    /// ms, or in ms since the run's first point. See the closed-range overload (which can
    /// include `Int64.max`).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - x: The x-axis.
    ///   - range: The half-open interval of x.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:lineage:)-(_,_,_,Range<Int64>?,_)`` otherwise.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], x: XAxis, range: Range<Int64>, buckets: Int, lineage: Lineage = .full
    ) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        guard !range.isEmpty else { return [] }
        return try curve(run, metric, labels: labels, x: x, range: range.lowerBound...(range.upperBound - 1), buckets: buckets, lineage: lineage)
    }

    /// A curve with any x-axis over the closed interval `range`: in steps, in wall-clock ms, or in
    /// ms since `origin` for `.relative` (default: the run's first time, `relativeOrigin(of:)`;
    /// the server and the CLI use the same). A point's relative x is `time - origin`, computed
    /// exactly; a point whose difference is not an `Int64` (only when times lie more than 2⁶³ ms
    /// apart) is outside every range. Step curves cost O(buckets); time curves merge whole chunks
    /// whose time span falls in one bucket and decode the others point by point (O(points) at
    /// fine resolution). Buckets: `Buckets(range, count: buckets)`; each row carries its bounds.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - x: The x-axis.
    ///   - range: The closed interval of x.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - origin: The time that relative x counts from (`.relative` only; the run's first time, ``relativeOrigin(of:lineage:)``, when nil).
    ///   - since: When given, only the buckets whose range ends at or after `since` are computed and
    ///     returned (the same buckets, with the same numbers, as in the whole curve): a live view
    ///     that has the curve up to `since` fetches only what can have changed.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:lineage:)-(_,_,_,Range<Int64>?,_)`` otherwise.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], x: XAxis, range: ClosedRange<Int64>, buckets: Int,
        origin: Int64? = nil, since: Int64? = nil, lineage: Lineage = .full
    ) throws(StrataError) -> [CurveBucket] {
        if x == .step { return try curve(run, metric, labels: labels, steps: range, buckets: buckets, since: since, lineage: lineage) }
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let b = Buckets(range, count: buckets)
        let first = b.firstBucket(since: since)
        let rows = try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            try checkNotDeletedLocked(run)
            var start: Int64? = nil
            if x == .relative { start = origin; if start == nil { start = try relativeOriginLocked(run, lineage) } }
            return try SeriesQuery(chunks: lineageChunksLocked(key, lineage)).timeCurve(b, origin: start, from: first)
        }
        return rows.map { CurveBucket(b, $0) }
    }

    /// The wall time (ms) that is 0 on the `.relative` axis: the smallest time of any point of
    /// any series of the run (rewound points left out); nil when the run has no point.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The run's first time, milliseconds since 1970, or nil.
    /// - Throws: ``StrataError``: `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func relativeOrigin(of run: RunID, lineage: Lineage = .full) throws(StrataError) -> Int64? {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            return try relativeOriginLocked(run, lineage)
        }
    }

    private func relativeOriginLocked(_ run: RunID, _ lineage: Lineage) throws(StrataError) -> Int64? {
        var first: Int64?
        for k in try lineageSeriesKeysLocked(run, lineage) {
            if let t = try lineageSummaryLocked(k, lineage)?.minTime { first = min(first ?? .max, t) }
        }
        return first
    }

    /// The x range of a whole series on an axis (steps, wall ms, or ms since the run's first
    /// point), the default range of curves in the server and the CLI; nil when it has no point.
    /// A relative x beyond `Int64.max` is clamped to it.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - x: The x-axis.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The smallest and largest x of the series' points, or nil.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func curveRange(_ run: RunID, _ metric: String, labels: [String: String] = [:], x: XAxis, lineage: Lineage = .full) throws(StrataError)
        -> ClosedRange<Int64>?
    {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try lock.withLock { () throws(StrataError) -> ClosedRange<Int64>? in
            try checkOpenLocked()
            try reader.refresh()
            guard let (a, minT, maxT) = try lineageSummaryLocked(key, lineage) else { return nil }
            switch x {
            case .step: return a.firstStep...a.lastStep
            case .time: return minT...maxT
            case .relative:
                let t0 = try relativeOriginLocked(run, lineage).map { $0 } ?? minT
                func rel(_ t: Int64) -> Int64 {
                    let (d, overflow) = t.subtractingReportingOverflow(t0)
                    return overflow ? .max : d
                }
                return rel(minT)...rel(maxT)
            }
        }
    }

    /// `scan` with wall times: `body` gets steps, values and times (milliseconds) of each block.
    /// The same rules apply: the spans live only during the call; do not call the store.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps, values and times of each block.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scanPoints(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil,
        lineage: Lineage = .full,
        _ body: (_ steps: Span<Int64>, _ values: Span<Double>, _ times: Span<Int64>) throws -> Void
    ) throws(StrataError) {
        try scanPoints(try SeriesKey(run: run, metric: metric, labels: labels), steps: steps, lineage: lineage, body)
    }

    /// `scanPoints` for a series key as returned by `series(of:)` (labels included).
    ///
    /// - Parameters:
    ///   - key: The series, as ``Store/SeriesInfo/key`` gives it.
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps, values and times of each block.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scanPoints(
        _ key: SeriesKey, steps: Range<Int64>? = nil,
        lineage: Lineage = .full,
        _ body: (_ steps: Span<Int64>, _ values: Span<Double>, _ times: Span<Int64>) throws -> Void
    ) throws(StrataError) {
        try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.scan(.init(steps), times: true, body) }
    }

    /// `scanPoints` that reads past damage: chunks whose bytes are damaged (and damaged chunk
    /// tables or log records) are left out and appended to `damaged`; every readable point is
    /// visited. For exports and copies that must save what can be saved.
    ///
    /// - Parameters:
    ///   - key: The series.
    ///   - steps: The half-open step range (every step when nil).
    ///   - damaged: Receives a ``DamagedRange`` for every part left out.
    ///   - body: Called with the steps, values and times of each readable block.
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``, or an error thrown by `body`.
    public func scanPoints(
        _ key: SeriesKey, steps: Range<Int64>? = nil, skippingDamage damaged: inout [DamagedRange],
        _ body: (_ steps: Span<Int64>, _ values: Span<Double>, _ times: Span<Int64>) throws -> Void
    ) throws(StrataError) {
        var found: [DamagedRange] = []
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            try checkNotDeletedLocked(key.run)
            let chunks = try reader.chunks(key, skipDamaged: { found.append($0) })
            try SeriesQuery(chunks: chunks).scan(.init(steps), times: true, body)
        }
        damaged += found
    }

    /// Files of the store that cannot be opened at all (a damaged segment directory or trailer,
    /// a damaged log header): their points are unreachable until repaired. See also `verify()`.
    ///
    /// - Returns: One ``DamagedRange`` per unreadable file (series and steps unknown).
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``.
    public func unreadableFiles() throws(StrataError) -> [DamagedRange] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            return reader.unreadableFiles
        }
    }

    /// A curve of `buckets` equal step-width buckets over `steps` (half-open; use the closed-range
    /// overload to include `Int64.max`): per non-empty bucket, the exact statistics of its points.
    /// The bucket of a point is `floor((step - lo) * buckets / (hi - lo))`, computed exactly.
    /// Cost grows with `buckets`, not with the number of points.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:lineage:)-(_,_,_,Range<Int64>?,_)`` otherwise.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>, buckets: Int, lineage: Lineage = .full
    ) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        guard !steps.isEmpty else { return [] }
        return try curve(run, metric, labels: labels, steps: steps.lowerBound...(steps.upperBound - 1), buckets: buckets, lineage: lineage)
    }

    /// A curve over the closed step interval `steps` (any `Int64` bounds, `Int64.max` included):
    /// the bucket of a point is `floor((step - lo) * buckets / (last - lo + 1))`, computed exactly
    /// with 128-bit intermediates (`Buckets`).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - since: When given, only the buckets whose range ends at or after `since` (the same
    ///     buckets as in the whole curve; cost grows with them only).
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:lineage:)-(_,_,_,Range<Int64>?,_)`` otherwise.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, buckets: Int, since: Int64? = nil,
        lineage: Lineage = .full
    ) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let b = Buckets(steps, count: buckets)
        let first = b.firstBucket(since: since)
        let rows = try withCoarse(key, lineage: lineage) { q throws(StrataError) in try q.curve(b, from: first) }
        return rows.map { CurveBucket(b, $0) }
    }

    /// Statistics of a series over a closed step interval; nil when no point is in it.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The statistics, or nil when no point is in `steps`.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func aggregate(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, lineage: Lineage = .full)
        throws(StrataError) -> Stats?
    {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let a = try withCoarse(key, lineage: lineage) { q throws(StrataError) in try q.aggregate(.init(steps)) }
        return a.isEmpty ? nil : Stats(a)
    }

    /// `read` over a closed step interval (so `Int64.max` can be included).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    ///   - times: Whether to decode wall times.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The points as columns.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func read(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, times: Bool = true,
        lineage: Lineage = .full
    ) throws(StrataError) -> SeriesData {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.read(.init(steps), times: times) }
    }

    /// `points` over a closed step interval (so `Int64.max` can be included).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The points, ordered by step, stable by arrival.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func points(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, lineage: Lineage = .full)
        throws(StrataError) -> [Point]
    {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.points(.init(steps)) }
    }
}

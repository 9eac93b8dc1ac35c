/// Statistics of a set of points.
///
/// `count` counts every point; NaN values are counted in `nanCount` and left out of
/// `min`, `max`, `sum`, `mean` and `std` (population). ±Inf take part with IEEE rules
/// (a mean with +Inf is +Inf; a std with ±Inf is NaN). `first` and `last` are the values at the
/// smallest and largest step (first and last arrival among equal steps), NaN or not.
public struct Stats: Sendable, Hashable {
    /// Number of points, NaN values included.
    public var count: Int
    /// Number of NaN values.
    public var nanCount: Int
    /// Smallest value other than NaN (±infinity included); NaN when every value is NaN.
    public var min: Double
    /// Largest value other than NaN (±infinity included); NaN when every value is NaN.
    public var max: Double
    /// Sum of the values other than NaN.
    public var sum: Double
    /// Mean of the values other than NaN.
    public var mean: Double
    /// Population standard deviation of the values other than NaN.
    public var std: Double
    /// The value at the smallest step (the first to arrive among equal steps), NaN or not.
    public var first: Double
    /// The value at the largest step (the last to arrive among equal steps), NaN or not.
    public var last: Double
    /// The smallest step.
    public var firstStep: Int64
    /// The largest step.
    public var lastStep: Int64
    /// Smallest step where `min` / `max` is reached (nil when every value is NaN or unknown).
    public var minStep: Int64?
    /// Smallest step where `max` is reached (nil when every value is NaN or unknown).
    public var maxStep: Int64?

    init(_ a: Aggregate) {
        minStep = a.numericCount > 0 && a.minStep != .max ? a.minStep : nil
        maxStep = a.numericCount > 0 && a.maxStep != .max ? a.maxStep : nil
        count = a.count
        nanCount = a.nanCount
        let numeric = a.numericCount > 0
        min = numeric ? a.min : .nan
        max = numeric ? a.max : .nan
        sum = a.sum
        mean = a.mean
        std = a.std
        first = a.firstValue
        last = a.lastValue
        firstStep = a.firstStep
        lastStep = a.lastStep
    }

    /// Whether two statistics are the same: counts and steps equal, and `min`, `max`, `sum`, `first`
    /// and `last` bit for bit equal (so NaN equals the same NaN).
    public static func == (x: Stats, y: Stats) -> Bool {
        x.count == y.count && x.nanCount == y.nanCount && x.min.bitPattern == y.min.bitPattern && x.max.bitPattern == y.max.bitPattern
            && x.sum.bitPattern == y.sum.bitPattern && x.first.bitPattern == y.first.bitPattern && x.last.bitPattern == y.last.bitPattern
            && x.firstStep == y.firstStep && x.lastStep == y.lastStep
    }
    /// Hashes the counts and steps (consistent with `==`).
    public func hash(into h: inout Hasher) { h.combine(count); h.combine(firstStep); h.combine(lastStep) }
}

/// The points of a series as columns (struct of arrays), ordered by step, stable by arrival.
public struct SeriesData: Sendable {
    /// The steps, ascending.
    public var steps: [Int64] = []
    /// The value of each point, at the same index as its step.
    public var values: [Double] = []
    /// Empty when the read was made with `times: false`.
    public var times: [Int64] = []
    /// Number of points.
    public var count: Int { steps.count }
    /// An empty series.
    public init() {}
}

/// A part of a series that a lenient read (`Store.scanPoints(_:steps:skippingDamage:_:)`) left
/// out because its bytes are damaged: the file, the series and the steps it held.
public struct DamagedRange: Sendable, Hashable, CustomStringConvertible {
    /// The segment or log file holding the damaged bytes.
    public var path: String
    /// The series (nil when a whole file is unreadable).
    public var series: SeriesKey?
    /// Smallest and largest step of the points left out, when known.
    public var steps: ClosedRange<Int64>?
    /// How many points were left out, when known.
    public var points: Int?
    /// What is wrong.
    public var reason: String

    /// The damaged file, the series and steps involved when known, and the reason, on one line.
    public var description: String {
        var s = path
        if let series { s += ": series \(series.canonical) of run \(series.run)" }
        if let steps { s += ", steps \(steps.lowerBound)...\(steps.upperBound)" }
        if let points { s += " (\(points) points)" }
        return s + ": " + reason
    }
}

/// One non-empty bucket of a curve.
public struct CurveBucket: Sendable, Hashable {
    /// Bucket number in 0..<buckets.
    public var bucket: Int
    /// The exact statistics of the bucket's points.
    public var stats: Stats
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
    /// - Returns: The statistics, or nil when no point is in `steps`.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func aggregate(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil) throws(StrataError) -> Stats? {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let a = try withChunks(key) { q throws(StrataError) in try q.aggregate(.init(steps)) }
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
    /// - Returns: The points as columns.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func read(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, times: Bool = true) throws(StrataError) -> SeriesData {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key) { q throws(StrataError) in try q.read(.init(steps), times: times) }
    }

    /// Visits the points of a series with steps in `steps` (all when nil) in step order, stable by
    /// arrival, a block at a time (up to 4,096 points), without materialising the series: the
    /// fastest way to reduce a long history.
    ///
    /// The buffers passed to `body` are valid only during that call: do not let them escape, and
    /// do not call back into the store from `body` (the store is locked while it runs).
    ///
    /// ```swift
    /// var sum = 0.0
    /// try store.scan(run.id, "train/loss") { steps, values in for v in values { sum += v } }
    /// ```
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps and values of each block.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scan(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil,
                     _ body: (_ steps: UnsafeBufferPointer<Int64>, _ values: UnsafeBufferPointer<Double>) throws -> Void) throws(StrataError) {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        try withChunks(key) { q throws(StrataError) in try q.scan(.init(steps), body) }
    }

    /// The x-axis of a curve.
    public enum XAxis: String, Sendable, CaseIterable {
        /// Training steps.
        case step
        /// Wall-clock milliseconds since 1970.
        case time
        /// Milliseconds since the series' first point.
        case relative
    }

    /// A curve with any x-axis over `[range.lowerBound, range.upperBound)`: in steps, in wall-clock
    /// ms, or in ms since the series' first point. See the closed-range overload (which can
    /// include `Int64.max`).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - x: The x-axis.
    ///   - range: The half-open interval of x.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:)-(_,_,_,Range<Int64>?)`` otherwise.
    public func curve(_ run: RunID, _ metric: String, labels: [String: String] = [:], x: XAxis, range: Range<Int64>, buckets: Int) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        guard !range.isEmpty else { return [] }
        return try curve(run, metric, labels: labels, x: x, range: range.lowerBound...(range.upperBound - 1), buckets: buckets)
    }

    /// A curve with any x-axis over the closed interval `range`: in steps, in wall-clock ms, or in
    /// ms since `origin` for `.relative` (default: the series' first time). A point's relative x is
    /// `time - origin`, computed exactly; a point whose difference is not an `Int64` (only when
    /// times lie more than 2⁶³ ms apart) is outside every range. Step curves cost O(buckets);
    /// time curves merge whole chunks whose time span falls in one bucket and decode the others
    /// point by point (O(points) at fine resolution). Buckets: `Buckets(range, count: buckets)`.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - x: The x-axis.
    ///   - range: The closed interval of x.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - origin: The time that relative x counts from (`.relative` only; the series' first time when nil).
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:)-(_,_,_,Range<Int64>?)`` otherwise.
    public func curve(_ run: RunID, _ metric: String, labels: [String: String] = [:], x: XAxis, range: ClosedRange<Int64>, buckets: Int,
                      origin: Int64? = nil) throws(StrataError) -> [CurveBucket] {
        if x == .step { return try curve(run, metric, labels: labels, steps: range, buckets: buckets) }
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let rows = try withChunks(key) { q throws(StrataError) in
            let start = origin ?? q.chunks.map(\.minTime).min() ?? 0
            return try q.timeCurve(Buckets(range, count: buckets), origin: x == .relative ? start : nil)
        }
        return rows.map { CurveBucket(bucket: $0.bucket, stats: Stats($0.stats)) }
    }

    /// `scan` with wall times: `body` gets steps, values and times (milliseconds) of each block.
    /// The same rules apply: the buffers are valid only during the call; do not call the store.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps, values and times of each block.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scanPoints(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil,
                           _ body: (_ steps: UnsafeBufferPointer<Int64>, _ values: UnsafeBufferPointer<Double>, _ times: UnsafeBufferPointer<Int64>) throws -> Void) throws(StrataError) {
        try scanPoints(try SeriesKey(run: run, metric: metric, labels: labels), steps: steps, body)
    }

    /// `scanPoints` for a series key as returned by `series(of:)` (labels included).
    ///
    /// - Parameters:
    ///   - key: The series, as ``Store/SeriesInfo/key`` gives it.
    ///   - steps: The half-open step range (every step when nil).
    ///   - body: Called with the steps, values and times of each block.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func scanPoints(_ key: SeriesKey, steps: Range<Int64>? = nil,
                           _ body: (_ steps: UnsafeBufferPointer<Int64>, _ values: UnsafeBufferPointer<Double>, _ times: UnsafeBufferPointer<Int64>) throws -> Void) throws(StrataError) {
        try withChunks(key) { q throws(StrataError) in try q.scan(.init(steps), times: true, body) }
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
    public func scanPoints(_ key: SeriesKey, steps: Range<Int64>? = nil, skippingDamage damaged: inout [DamagedRange],
                           _ body: (_ steps: UnsafeBufferPointer<Int64>, _ values: UnsafeBufferPointer<Double>, _ times: UnsafeBufferPointer<Int64>) throws -> Void) throws(StrataError) {
        var found: [DamagedRange] = []
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
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
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:)-(_,_,_,Range<Int64>?)`` otherwise.
    public func curve(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>, buckets: Int) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        guard !steps.isEmpty else { return [] }
        return try curve(run, metric, labels: labels, steps: steps.lowerBound...(steps.upperBound - 1), buckets: buckets)
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
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket count out of range; as ``points(_:_:labels:steps:)-(_,_,_,Range<Int64>?)`` otherwise.
    public func curve(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, buckets: Int) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let rows = try withChunks(key) { q throws(StrataError) in try q.curve(Buckets(steps, count: buckets)) }
        return rows.map { CurveBucket(bucket: $0.bucket, stats: Stats($0.stats)) }
    }

    /// Statistics of a series over a closed step interval; nil when no point is in it.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    /// - Returns: The statistics, or nil when no point is in `steps`.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func aggregate(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>) throws(StrataError) -> Stats? {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let a = try withChunks(key) { q throws(StrataError) in try q.aggregate(.init(steps)) }
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
    /// - Returns: The points as columns.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func read(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, times: Bool = true) throws(StrataError) -> SeriesData {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key) { q throws(StrataError) in try q.read(.init(steps), times: times) }
    }

    /// `points` over a closed step interval (so `Int64.max` can be included).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The closed step interval.
    /// - Returns: The points, ordered by step, stable by arrival.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func points(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>) throws(StrataError) -> [Point] {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key) { q throws(StrataError) in try q.points(.init(steps)) }
    }
}

/// Identifies a series: a run, a metric name and optional context labels.
///
/// Its canonical text is `metric` or `metric{key=value,key=value}` with keys sorted.
public struct SeriesKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The run the series belongs to.
    public let run: RunID
    /// The metric name, such as `train/loss`.
    public let metric: String
    /// Context labels such as `rank=3`, sorted by key.
    public let labels: [(key: String, value: String)]
    /// `metric{k=v,...}`: what is stored on disk next to the run id.
    public let canonical: String

    /// Validates the metric name and labels.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    /// - Throws: ``StrataError`` with code `.invalidArgument` for an invalid metric name, too many labels or an invalid label.
    public init(run: RunID, metric: String, labels: [String: String] = [:]) throws(StrataError) {
        try Names.validateMetric(metric)
        if labels.count > Limits.maxLabels { throw .invalid("series \(metric) has \(labels.count) labels; the limit is \(Limits.maxLabels)") }
        for (k, v) in labels { try Names.validateLabel(key: k, value: v) }
        self.run = run
        self.metric = metric
        let sorted = labels.sorted { $0.key < $1.key }
        self.labels = sorted.map { (key: $0.key, value: $0.value) }
        self.canonical = sorted.isEmpty ? metric : metric + "{" + sorted.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
    }

    /// Parses a stored canonical text (trusted: written by `init`).
    init(run: RunID, canonical: String) {
        self.run = run
        self.canonical = canonical
        (metric, labels) = Self.parse(canonical)
    }

    /// The metric and labels of a stored canonical text (trusted: written by `init`).
    static func parse(_ canonical: String) -> (metric: String, labels: [(key: String, value: String)]) {
        guard let brace = canonical.firstIndex(of: "{"), canonical.hasSuffix("}") else { return (canonical, []) }
        let inner = canonical[canonical.index(after: brace)..<canonical.index(before: canonical.endIndex)]
        let labels = inner.split(separator: ",").map { part in
            let kv = part.split(separator: "=", maxSplits: 1)
            return (key: String(kv.first ?? ""), value: kv.count > 1 ? String(kv[1]) : "")
        }
        return (String(canonical[..<brace]), labels)
    }

    /// The series of the same metric and labels in another run (no parsing: shares `other`'s text).
    init(run: RunID, named other: SeriesKey) {
        self.run = run
        self.metric = other.metric
        self.labels = other.labels
        self.canonical = other.canonical
    }

    /// `run/canonical`, e.g. `01J…/loss{rank=3}`.
    public var description: String { "\(run)/\(canonical)" }

    /// Same run and same canonical text.
    ///
    /// - Parameters:
    ///   - a: A key.
    ///   - b: A key.
    /// - Returns: Whether they name the same series.
    public static func == (a: SeriesKey, b: SeriesKey) -> Bool { a.run == b.run && a.canonical == b.canonical }
    /// Hashes the run and the canonical text.
    ///
    /// - Parameter h: The hasher.
    public func hash(into h: inout Hasher) { h.combine(run); h.combine(canonical) }
    /// Orders by run, then by canonical text.
    ///
    /// - Parameters:
    ///   - a: A key.
    ///   - b: A key.
    /// - Returns: Whether `a` sorts before `b`.
    public static func < (a: SeriesKey, b: SeriesKey) -> Bool { (a.run, a.canonical) < (b.run, b.canonical) }
}

/// One measurement: a step, a value and a wall-clock time in milliseconds since 1970.
/// NaN (any payload), ±Inf, -0.0 and subnormal values are legal and kept bit-exactly.
public struct Point: Sendable, Hashable {
    /// The training step.
    public var step: Int64
    /// The measured value (kept bit for bit).
    public var value: Double
    /// Wall-clock time, milliseconds since 1970.
    public var time: Int64
    /// A point.
    ///
    /// - Parameters:
    ///   - step: The training step.
    ///   - value: The measured value.
    ///   - time: Wall-clock time, milliseconds since 1970.
    public init(step: Int64, value: Double, time: Int64) {
        self.step = step; self.value = value; self.time = time
    }
    /// Same step, same time and bit for bit the same value (so a NaN equals the same NaN).
    ///
    /// - Parameters:
    ///   - a: A point.
    ///   - b: A point.
    /// - Returns: Whether they are the same point.
    public static func == (a: Point, b: Point) -> Bool {
        a.step == b.step && a.value.bitPattern == b.value.bitPattern && a.time == b.time
    }
    /// Hashes step, value bits and time (consistent with `==`).
    ///
    /// - Parameter h: The hasher.
    public func hash(into h: inout Hasher) { h.combine(step); h.combine(value.bitPattern); h.combine(time) }
}

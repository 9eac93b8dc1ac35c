/// What an alert rule watches: every run of a project, or one run.
public enum AlertScope: Sendable, Hashable, CustomStringConvertible {
    /// Every run of the project, including runs created after the rule.
    case project(String)
    /// One run.
    case run(RunID)

    /// `project NAME` or `run ID`.
    public var description: String {
        switch self {
        case .project(let p): "project \(p)"
        case .run(let r): "run \(r.text)"
        }
    }
}

/// Whether smaller or larger values are better, for ``AlertCondition/noImprovement(steps:mode:)``.
public enum ImprovementMode: String, Sendable, Hashable, CaseIterable {
    /// Smaller is better (a loss).
    case min
    /// Larger is better (an accuracy).
    case max
}

/// The condition of an alert rule, evaluated on each point of a watched series.
///
/// A rule fires once when its condition becomes true, and re-arms when it becomes false again
/// (see ``AlertEvent``). NaN is neither above nor below a threshold and never an improvement.
public enum AlertCondition: Sendable, Hashable, CustomStringConvertible {
    /// The value is NaN, +∞ or −∞.
    case nonFinite
    /// The value is greater than the threshold (±∞ counts, NaN does not).
    case above(Double)
    /// The value is smaller than the threshold.
    case below(Double)
    /// The best value (smallest for `.min`, largest for `.max`) was reached `steps` or more steps
    /// before the largest step seen (`steps` ≥ 1).
    case noImprovement(steps: Int64, mode: ImprovementMode)
    /// No new point for `milliseconds` of wall-clock time while the run is `running` (a stalled
    /// or dead run). Evaluated by a timer, not by points.
    case stalled(milliseconds: Int64)
    /// The value differs from the baseline run's value of the same series at the same step by
    /// more than `percent` % of the baseline's magnitude (steps the baseline lacks, and
    /// non-finite values on either side, are not compared).
    case baseline(run: RunID, percent: Double)

    /// A short text such as `above 2.5` or `no improvement for 500 steps (min)`.
    public var description: String {
        switch self {
        case .nonFinite: "non-finite (NaN or ±Inf)"
        case .above(let t): "above \(t)"
        case .below(let t): "below \(t)"
        case .noImprovement(let n, let m): "no improvement for \(n) steps (\(m.rawValue))"
        case .stalled(let ms): "no new point for \(Double(ms) / 60_000) minutes"
        case .baseline(let r, let p): "departs from baseline \(r.text) by more than \(p) %"
        }
    }

    /// Checks the condition's numbers: finite thresholds, a positive step count, a positive
    /// duration, a positive finite percentage.
    ///
    /// - Throws: ``StrataError`` with code `.invalidArgument` naming the bad number.
    public func validate() throws(StrataError) {
        switch self {
        case .nonFinite: return
        case .above(let t), .below(let t):
            guard t.isFinite else { throw .invalid("alert threshold must be a finite number, got \(t)") }
        case .noImprovement(let n, _):
            guard n >= 1 else { throw .invalid("alert step count must be at least 1, got \(n)") }
        case .stalled(let ms):
            guard ms >= 1000 else { throw .invalid("alert stall duration must be at least 1 second, got \(ms) ms") }
        case .baseline(_, let p):
            guard p.isFinite, p > 0 else { throw .invalid("alert baseline percentage must be a positive finite number, got \(p)") }
        }
    }
}

/// An alert rule stored in the store (`alerts/rules`, docs/FORMAT.md "Alerts").
public struct AlertRule: Sendable, Hashable {
    /// The rule's identifier (a ULID).
    public var id: String
    /// The runs it watches.
    public var scope: AlertScope
    /// The metric it watches (every series of that name, whatever its labels).
    public var metric: String
    /// When it fires.
    public var condition: AlertCondition
    /// Where `strata serve` posts its events (an `http://` URL), or nil.
    public var webhook: String?
    /// When the rule was added, milliseconds since 1970.
    public var createdMs: Int64

    /// A rule.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - scope: The runs it watches.
    ///   - metric: The metric it watches.
    ///   - condition: When it fires.
    ///   - webhook: Where events are posted, or nil.
    ///   - createdMs: When the rule was added.
    public init(id: String, scope: AlertScope, metric: String, condition: AlertCondition, webhook: String?, createdMs: Int64) {
        self.id = id
        self.scope = scope
        self.metric = metric
        self.condition = condition
        self.webhook = webhook
        self.createdMs = createdMs
    }

    /// Whether the rule watches a run of `project` with id `run`.
    func covers(run: RunID, project: String) -> Bool {
        switch scope {
        case .project(let p): p == project
        case .run(let r): r == run
        }
    }
}

/// One firing of a rule: the condition became true on a series (`alerts/events`).
///
/// Firing is exactly-once per crossing, also across restarts; delivery to a webhook is
/// at-least-once, so a receiver deduplicates by ``id``.
public struct AlertEvent: Sendable, Hashable {
    /// The event's identifier (a ULID), the same in every delivery attempt.
    public var id: String
    /// The rule that fired.
    public var rule: String
    /// The run of the series.
    public var run: RunID
    /// The series (`metric` or `metric{k=v,…}`).
    public var series: String
    /// The step of the point that made the condition true (for a stalled run, its last step).
    public var step: Int64
    /// That point's value.
    public var value: Double
    /// When the rule fired, milliseconds since 1970.
    public var timeMs: Int64
    /// When the event was delivered to the rule's webhook, or nil.
    public var deliveredMs: Int64?
}

/// Validates a webhook URL: `http://host[:port][/path]`, no spaces or control characters.
///
/// - Parameter url: The URL as given.
/// - Throws: ``StrataError`` with code `.invalidArgument` saying what is wrong.
public func validateWebhookURL(_ url: String) throws(StrataError) {
    guard url.hasPrefix("http://") else {
        throw .invalid("webhook URL \"\(url)\" must start with http:// (https is not supported; post to a local relay)")
    }
    let rest = url.dropFirst(7)
    let hostPort = rest.prefix { $0 != "/" }
    guard !hostPort.isEmpty else { throw .invalid("webhook URL \"\(url)\" has no host") }
    guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
        throw .invalid("webhook URL \"\(url)\" contains spaces, control or non-ASCII characters")
    }
    guard url.utf8.count <= 2048 else { throw .invalid("webhook URL is longer than 2048 bytes") }
    if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
        let port = hostPort[hostPort.index(after: colon)...]
        guard let p = Int(port), (1...65535).contains(p) else {
            throw .invalid("webhook URL \"\(url)\" has a bad port \"\(port)\" (1 to 65535)")
        }
        guard colon != hostPort.startIndex else { throw .invalid("webhook URL \"\(url)\" has no host") }
    }
}

extension AlertCondition {
    /// The condition named by exactly one of the given options — the words of `strata alert add`
    /// and of the API's rule object (docs/CLI.md, docs/API.md).
    ///
    /// - Parameters:
    ///   - nonFinite: `--nonfinite`.
    ///   - above: `--above X`.
    ///   - below: `--below X`.
    ///   - noImprovement: `--no-improvement N` (with `mode`, `min` unless given).
    ///   - mode: `--mode min|max`.
    ///   - stalledMinutes: `--stalled MINUTES`.
    ///   - baseline: `--baseline RUN` (with `percent`).
    ///   - percent: `--percent X`.
    /// - Returns: The condition, validated.
    /// - Throws: ``StrataError`` with code `.invalidArgument` when none or several are given, a
    ///   companion option is missing or misplaced, or a number is out of range.
    public static func from(
        nonFinite: Bool = false, above: Double? = nil, below: Double? = nil, noImprovement: Int64? = nil, mode: String? = nil,
        stalledMinutes: Double? = nil, baseline: RunID? = nil, percent: Double? = nil
    ) throws(StrataError) -> AlertCondition {
        var found: [AlertCondition] = []
        if nonFinite { found.append(.nonFinite) }
        if let above { found.append(.above(above)) }
        if let below { found.append(.below(below)) }
        if let noImprovement {
            guard let m = ImprovementMode(rawValue: mode ?? "min") else { throw .invalid("mode must be min or max, got \"\(mode ?? "")\"") }
            found.append(.noImprovement(steps: noImprovement, mode: m))
        } else if mode != nil {
            throw .invalid("mode is for a no-improvement rule only")
        }
        if let stalledMinutes {
            guard stalledMinutes.isFinite, stalledMinutes > 0, stalledMinutes < 1e9 else {
                throw .invalid("stalled minutes must be a positive number, got \(stalledMinutes)")
            }
            found.append(.stalled(milliseconds: Int64((stalledMinutes * 60_000).rounded())))
        }
        if let baseline {
            guard let percent else { throw .invalid("a baseline rule needs a percentage (--percent X)") }
            found.append(.baseline(run: baseline, percent: percent))
        } else if percent != nil {
            throw .invalid("percent is for a baseline rule only (--baseline RUN)")
        }
        guard found.count == 1 else {
            throw .invalid(
                found.isEmpty
                    ? "an alert needs one condition: nonfinite, above, below, no-improvement, stalled or baseline"
                    : "an alert has one condition; got \(found.count): \(found.map(\.description).joined(separator: "; "))")
        }
        try found[0].validate()
        return found[0]
    }
}

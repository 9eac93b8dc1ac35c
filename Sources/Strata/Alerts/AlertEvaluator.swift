// Incremental evaluation of alert rules (docs/API.md "Alerts"): per (rule, series) state kept in
// memory, updated by each point as it arrives; history is read once per series (to seed the best
// value of a no-improvement rule, the values of a baseline run), never per point.

/// The series a batch of points belongs to, with the rule states that watch it: resolved once per
/// series (``AlertEvaluator/watch(run:metric:labels:)``), then passed with each point.
public final class AlertWatch: @unchecked Sendable {
    // @unchecked Sendable: its states are touched only under the evaluator's lock.
    let states: [AlertSeriesState]
    init(_ states: [AlertSeriesState]) { self.states = states }
}

/// The state of one rule on one series.
final class AlertSeriesState {
    /// The rule's condition without reference-counted payloads, switched on per point.
    enum Kind {
        case nonFinite, above(Double), below(Double), noImprovement(Int64, min: Bool), stalled, baseline(Double)

        init(_ c: AlertCondition) {
            switch c {
            case .nonFinite: self = .nonFinite
            case .above(let t): self = .above(t)
            case .below(let t): self = .below(t)
            case .noImprovement(let n, let mode): self = .noImprovement(n, min: mode == .min)
            case .stalled: self = .stalled
            case .baseline(_, let p): self = .baseline(p)
            }
        }
    }

    let rule: AlertRule
    let kind: Kind
    let run: RunID
    let series: String
    var live = true
    var armed: Bool
    var best = Double.nan
    var bestStep: Int64 = 0
    var hasBest = false
    var lastStep: Int64 = .min
    var lastValue = Double.nan
    var lastTime: Int64 = .min
    var running = true
    var baseline: [Int64: Double] = [:]

    init(rule: AlertRule, run: RunID, series: String, armed: Bool) {
        self.rule = rule
        self.kind = Kind(rule.condition)
        self.run = run
        self.series = series
        self.armed = armed
    }

    /// Takes one point; returns whether the condition is now true, or nil when this point does
    /// not decide it (a stalled rule; a step the baseline lacks).
    func take(step: Int64, value: Double, time: Int64) -> Bool? {
        if step >= lastStep { lastStep = step; lastValue = value }
        if time > lastTime { lastTime = time }
        switch kind {
        case .nonFinite: return !value.isFinite
        case .above(let t): return value > t
        case .below(let t): return value < t
        case .noImprovement(let n, let min):
            let better = min ? value < best : value > best
            if !value.isNaN && (!hasBest || better) {
                best = value
                bestStep = step
                hasBest = true
            }
            return hasBest && lastStep - bestStep >= n
        case .stalled: return false
        case .baseline(let pct):
            guard let b = baseline[step], b.isFinite, value.isFinite else { return nil }
            return abs(value - b) > pct / 100 * abs(b)
        }
    }
}

/// The points of one watched series, as columns: what ``AlertEvaluator/observe(columns:)`` takes
/// (a batch's points of a series in arrival order, evaluated without one object per point).
public struct AlertColumn: Sendable {
    /// The series' watch.
    public var watch: AlertWatch
    /// The points' steps.
    public private(set) var steps: [Int64]
    /// The points' values (as many as steps).
    public private(set) var values: [Double]
    /// The points' times (ms since 1970), or nil when every point has time ``time``.
    public private(set) var times: [Int64]?
    /// The time of every point when ``times`` is nil.
    public private(set) var time: Int64

    /// Points of a series.
    ///
    /// - Parameters:
    ///   - watch: The series' watch.
    ///   - steps: The steps.
    ///   - values: The values, one per step.
    ///   - times: The times, one per step, or nil for `time` for all.
    ///   - time: The time of every point when `times` is nil (ms since 1970).
    public init(_ watch: AlertWatch, steps: [Int64] = [], values: [Double] = [], times: [Int64]? = nil, time: Int64) {
        precondition(steps.count == values.count && (times == nil || times!.count == steps.count), "alert column of unequal lengths")
        self.watch = watch
        self.steps = steps
        self.values = values
        self.times = times
        self.time = time
    }

    /// The number of points.
    public var count: Int { steps.count }

    /// Appends one point.
    ///
    /// - Parameters:
    ///   - step: Its step.
    ///   - value: Its value.
    ///   - time: Its time, ms since 1970.
    public mutating func append(step: Int64, value: Double, time: Int64) {
        if times == nil {
            if steps.isEmpty || time == self.time {
                if steps.isEmpty { self.time = time }
                steps.append(step)
                values.append(value)
                return
            }
            times = Array(repeating: self.time, count: steps.count)
        }
        steps.append(step)
        values.append(value)
        times!.append(time)
    }

    /// Appends points (as ``init(_:steps:values:times:time:)`` takes them).
    ///
    /// - Parameters:
    ///   - steps: The steps.
    ///   - values: The values, one per step.
    ///   - times: The times, one per step, or nil for `time` for all.
    ///   - time: The time of every point when `times` is nil.
    public mutating func append(steps: [Int64], values: [Double], times: [Int64]?, time: Int64) {
        precondition(steps.count == values.count && (times == nil || times!.count == steps.count), "alert column of unequal lengths")
        if self.steps.isEmpty {
            self.steps = steps
            self.values = values
            self.times = times
            self.time = time
            return
        }
        if self.times == nil && (times != nil || time != self.time) { self.times = Array(repeating: self.time, count: self.steps.count) }
        self.steps += steps
        self.values += values
        if self.times != nil { self.times! += times ?? Array(repeating: time, count: steps.count) }
    }

    func time(at i: Int) -> Int64 { times?[i] ?? time }
}

/// Evaluates a store's alert rules incrementally: `strata serve` feeds it the points it ingests
/// and calls ``tick(now:)`` every second (for stalled runs); `strata watch` feeds it the points it
/// polls. A rule fires once when its condition becomes true on a series and re-arms when it
/// becomes false. With `persist`, firings and re-armings are recorded in `alerts/events` (a firing
/// fsynced before it is returned), and the armed state is read back from it at start, so a restart
/// does not fire again for the same crossing.
public final class AlertEvaluator: @unchecked Sendable {
    // @unchecked Sendable: every field is touched only under `lock`.
    let store: Store
    let persist: Bool
    private let lock = Lock()
    private var rules: [AlertRule] = []
    /// The rules by metric name, rebuilt when the rules change: a series whose metric no rule
    /// names costs one hash lookup per batch.
    private var byMetric: [String: [AlertRule]] = [:]
    private var rulesStamp: FileStatus?
    private var disarmed: Set<String> = []
    private var states: [String: AlertSeriesState] = [:]
    private var watches: [String: AlertWatch] = [:]
    private var projects: [RunID: String] = [:]
    private var eventsEnd: Int?
    private var lastDiscovery: Int64?
    /// How often (ms) ``tick(now:)`` looks for running runs of stalled rules' scopes.
    public var discoveryIntervalMs: Int64 = 10_000

    /// An evaluator of `store`'s rules.
    ///
    /// - Parameters:
    ///   - store: The store whose rules and points are evaluated.
    ///   - persist: Record events in the store and resume the armed state recorded there.
    /// - Throws: ``StrataError`` when the alert files cannot be read.
    public init(store: Store, persist: Bool) throws(StrataError) {
        self.store = store
        self.persist = persist
        if persist {
            for rec in try AlertFiles.readEvents(store.path) {
                switch rec {
                case .fired(let e): disarmed.insert(Self.key(e.rule, e.run, e.series))
                case .rearmed(let rule, let run, let series, _): disarmed.remove(Self.key(rule, run, series))
                case .delivered: break
                }
            }
        }
        try lock.withLock { () throws(StrataError) in _ = try reloadLocked() }
    }

    static func key(_ rule: String, _ run: RunID, _ series: String) -> String { rule + "/" + run.text + "/" + series }

    /// The rules in force.
    public var activeRules: [AlertRule] { lock.withLock { rules } }

    /// Re-reads `alerts/rules` when it changed. Under the lock. Returns whether it changed.
    private func reloadLocked() throws(StrataError) -> Bool {
        let stamp = try Sys.status(AlertFiles.rules(store.path))
        if stamp == rulesStamp { return false }
        let fresh = try AlertFiles.readRules(store.path)
        rulesStamp = stamp
        rules = fresh
        byMetric = Dictionary(grouping: fresh, by: \.metric)
        projects = [:]
        let ids = Set(fresh.map(\.id))
        for (k, s) in states where !ids.contains(s.rule.id) {
            s.live = false
            states[k] = nil
        }
        watches = [:]
        lastDiscovery = nil
        return true
    }

    /// Drops the cached project, and the watches, of every run moved to another project since it
    /// was cached (`strata run move`): the rules of a project scope cover it from the next batch.
    /// Under the lock; ``tick(now:)`` calls it every second.
    private func refreshProjectsLocked() {
        var moved: [RunID] = []
        for (run, project) in projects where (store.runInfo(run)?.project ?? "") != project { moved.append(run) }
        if moved.isEmpty { return }
        for run in moved {
            projects[run] = nil
            let prefix = run.text + "/"
            for k in watches.keys where k.hasPrefix(prefix) { watches[k] = nil }
        }
    }

    /// Re-reads `alerts/rules` now if it changed (``tick(now:)`` does it every second): a server
    /// calls this after adding or removing a rule, so the next batch it ingests is evaluated with
    /// the new rules.
    ///
    /// - Throws: ``StrataError`` when the rules file cannot be read.
    public func reloadRules() throws(StrataError) {
        try lock.withLock { () throws(StrataError) in _ = try reloadLocked() }
    }

    /// The rule states watching a series, or nil when no rule does: call once per series, not per
    /// point. Seeds a new state from the series' stored points (no-improvement rules) and the
    /// baseline run's points (baseline rules).
    ///
    /// - Parameters:
    ///   - run: The series' run.
    ///   - metric: The series' metric.
    ///   - labels: The series' labels.
    /// - Returns: The watch to pass to ``observe(_:)`` or ``observe(columns:)``, or nil.
    public func watch(run: RunID, metric: String, labels: [String: String] = [:]) -> AlertWatch? {
        lock.withLock { () -> AlertWatch? in
            guard let named = byMetric[metric] else { return nil }
            guard let key = try? SeriesKey(run: run, metric: metric, labels: labels) else { return nil }
            let wk = run.text + "/" + key.canonical
            if let w = watches[wk] { return w.states.isEmpty ? nil : w }
            let project: String
            if let p = projects[run] {
                project = p
            } else {
                project = store.runInfo(run)?.project ?? ""
                projects[run] = project
            }
            var list: [AlertSeriesState] = []
            for r in named where r.covers(run: run, project: project) {
                if case .baseline(let b, _) = r.condition, b == run { continue }
                list.append(stateLocked(r, key))
            }
            let w = AlertWatch(list)
            watches[wk] = w
            return list.isEmpty ? nil : w
        }
    }

    private func stateLocked(_ r: AlertRule, _ key: SeriesKey) -> AlertSeriesState {
        let sk = Self.key(r.id, key.run, key.canonical)
        if let s = states[sk] { return s }
        let s = AlertSeriesState(rule: r, run: key.run, series: key.canonical, armed: !disarmed.contains(sk))
        let labels = Dictionary(key.labels.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        switch r.condition {
        case .noImprovement:
            // Seeds the best value from the points stored so far (read once per series).
            for p in (try? store.points(key.run, key.metric, labels: labels)) ?? [] {
                _ = s.take(step: p.step, value: p.value, time: p.time)
            }
        case .baseline(let b, _):
            for p in (try? store.points(b, key.metric, labels: labels)) ?? [] { s.baseline[p.step] = p.value }
        default: break
        }
        states[sk] = s
        return s
    }

    /// One point of a watched series.
    public struct Observation: Sendable {
        /// The series' watch.
        public var watch: AlertWatch
        /// The point's step, value and time (ms since 1970).
        public var step: Int64, value: Double, timeMs: Int64
        /// A point.
        ///
        /// - Parameters:
        ///   - watch: The series' watch.
        ///   - step: The point's step.
        ///   - value: The point's value.
        ///   - timeMs: The point's time, ms since 1970.
        public init(_ watch: AlertWatch, step: Int64, value: Double, timeMs: Int64) {
            self.watch = watch
            self.step = step
            self.value = value
            self.timeMs = timeMs
        }
    }

    /// Evaluates points in order (one lock for all of them) and returns the events fired.
    ///
    /// - Parameter points: The points, each with its series' watch.
    /// - Returns: The events fired, already recorded when the evaluator persists.
    /// - Throws: ``StrataError`` when an event cannot be recorded; the rules that would have
    ///   fired stay armed, so a later point fires them.
    public func observe(_ points: [Observation]) throws(StrataError) -> [AlertEvent] {
        var columns: [AlertColumn] = []
        for p in points {
            if let last = columns.last, last.watch === p.watch {
                columns[columns.count - 1].append(step: p.step, value: p.value, time: p.timeMs)
            } else {
                columns.append(AlertColumn(p.watch, steps: [p.step], values: [p.value], times: [p.timeMs], time: p.timeMs))
            }
        }
        return try observe(columns: columns)
    }

    /// Evaluates columns of points (each column's points in arrival order; one lock for all)
    /// and returns the events fired. Threshold and non-finite rules scan a column's values for
    /// the next crossing only; nothing is written unless a rule fires or re-arms.
    ///
    /// - Parameter columns: The points, a column per watched series.
    /// - Returns: The events fired, already recorded when the evaluator persists.
    /// - Throws: ``StrataError`` when an event cannot be recorded; the rules that would have
    ///   fired stay armed, so a later point fires them.
    public func observe(columns: [AlertColumn]) throws(StrataError) -> [AlertEvent] {
        if columns.isEmpty { return [] }
        return try lock.withLock { () throws(StrataError) -> [AlertEvent] in
            var t = Transitions(now: Clock.milliseconds())
            for c in columns where c.count > 0 { evaluate(c, &t) }
            try commitLocked(t.changes, t.records)
            return t.fired
        }
    }

    /// What evaluating a batch changed: armed flags, records to write, events fired.
    private struct Transitions {
        let now: Int64
        var changes: [(AlertSeriesState, Bool)] = []
        var records: [AlertFiles.Record] = []
        var fired: [AlertEvent] = []
    }

    /// Evaluates one column on every live state watching its series. Under the lock.
    private func evaluate(_ c: AlertColumn, _ t: inout Transitions) {
        let steps = c.steps, values = c.values, n = c.count
        // The column's last point (largest step, last arrival among equal) and latest time, once
        // for all the states that only keep them (threshold, non-finite, stalled).
        var top = 0
        for i in 1..<max(n, 1) where steps[i] >= steps[top] { top = i }
        let latest = c.times?.max() ?? c.time
        for s in c.watch.states where s.live {
            switch s.kind {
            case .nonFinite: scan(s, c, &t) { !$0.isFinite }
            case .above(let x): scan(s, c, &t) { $0 > x }
            case .below(let x): scan(s, c, &t) { $0 < x }
            case .stalled:
                if !s.armed { transition(s, false, step: steps[0], value: values[0], &t) }  // a new point ends a stall
            case .noImprovement, .baseline:
                for i in 0..<n {
                    guard let cond = s.take(step: steps[i], value: values[i], time: c.time(at: i)) else { continue }
                    transition(s, cond, step: steps[i], value: values[i], &t)
                }
                continue
            }
            if steps[top] >= s.lastStep { s.lastStep = steps[top]; s.lastValue = values[top] }
            if latest > s.lastTime { s.lastTime = latest }
        }
    }

    /// Fires `s` at the first point of the column where `cond` holds while it is armed, re-arms
    /// it at the next point where it does not, and so on: a scan of the values, no per-point state.
    @inline(__always)
    private func scan(_ s: AlertSeriesState, _ c: AlertColumn, _ t: inout Transitions, _ cond: (Double) -> Bool) {
        let values = c.values, n = values.count
        var i = 0
        while i < n {
            let want = s.armed
            while i < n && cond(values[i]) != want { i += 1 }
            if i == n { return }
            transition(s, want, step: c.steps[i], value: values[i], &t)
            i += 1
        }
    }

    private func transition(_ s: AlertSeriesState, _ cond: Bool, step: Int64, value: Double, _ t: inout Transitions) {
        transition(s, cond, step: step, value: value, now: t.now, &t.changes, &t.records, &t.fired)
    }

    private func transition(
        _ s: AlertSeriesState, _ cond: Bool, step: Int64, value: Double, now: Int64,
        _ changes: inout [(AlertSeriesState, Bool)], _ records: inout [AlertFiles.Record], _ fired: inout [AlertEvent]
    ) {
        if cond && s.armed {
            s.armed = false
            changes.append((s, true))
            let e = AlertEvent(
                id: RunID.generate().text, rule: s.rule.id, run: s.run, series: s.series, step: step, value: value, timeMs: now,
                deliveredMs: nil)
            fired.append(e)
            records.append(.fired(e))
        } else if !cond && !s.armed {
            s.armed = true
            changes.append((s, false))
            records.append(.rearmed(rule: s.rule.id, run: s.run, series: s.series, step: step))
        }
    }

    /// Records the transitions; on failure restores the states' armed flags.
    private func commitLocked(_ changes: [(AlertSeriesState, Bool)], _ records: [AlertFiles.Record]) throws(StrataError) {
        guard persist, !records.isEmpty else { return }
        let sync = records.contains { if case .fired = $0 { true } else { false } }
        do {
            try AlertFiles.append(store.path, records, sync: sync, damagedDir: store.path + "/damaged", knownEnd: &eventsEnd)
        } catch {
            for (s, wasArmed) in changes.reversed() { s.armed = wasArmed }
            throw error
        }
        for (s, _) in changes {
            let k = Self.key(s.rule.id, s.run, s.series)
            if s.armed { disarmed.remove(k) } else { disarmed.insert(k) }
        }
    }

    /// Re-reads changed rules and fires stalled rules whose series had no point for their
    /// duration. Every `discoveryIntervalMs` it also lists the running runs in the scope of
    /// stalled rules and reads their series' last point times from the segment summaries (so
    /// points logged by other processes count too, and runs that ended stop counting).
    ///
    /// - Parameter now: The wall time, ms since 1970 (the clock's when nil).
    /// - Returns: The events fired.
    /// - Throws: ``StrataError`` when the rules cannot be read or an event cannot be recorded.
    public func tick(now: Int64? = nil) throws(StrataError) -> [AlertEvent] {
        let now = now ?? Clock.milliseconds()
        let stalled = try lock.withLock { () throws(StrataError) -> [AlertRule] in
            _ = try reloadLocked()
            refreshProjectsLocked()
            return rules.filter { if case .stalled = $0.condition { true } else { false } }
        }
        if stalled.isEmpty { return [] }
        let due = lock.withLock { () -> Bool in
            if let last = lastDiscovery, now >= last, now - last < discoveryIntervalMs { return false }
            lastDiscovery = now
            return true
        }
        if due { try discover(stalled) }
        return try lock.withLock { () throws(StrataError) -> [AlertEvent] in
            var changes: [(AlertSeriesState, Bool)] = []
            var records: [AlertFiles.Record] = []
            var fired: [AlertEvent] = []
            for s in states.values where s.live {
                guard case .stalled(let ms) = s.rule.condition, s.lastTime != .min else { continue }
                let cond = s.running && now.subtractingReportingOverflow(s.lastTime).partialValue > ms
                transition(s, cond, step: s.lastStep, value: s.lastValue, now: now, &changes, &records, &fired)
            }
            try commitLocked(changes, records)
            return fired
        }
    }

    /// Finds the series of stalled rules (outside the lock: reads the store).
    private func discover(_ stalled: [AlertRule]) throws(StrataError) {
        let runs = try store.runs()
        var found: [(AlertRule, SeriesKey, Store.SeriesInfo, Bool)] = []
        for info in runs {
            let rs = stalled.filter { $0.covers(run: info.id, project: info.project) }
            if rs.isEmpty { continue }
            for s in try store.series(of: info.id) {
                for r in rs where r.metric == s.key.metric { found.append((r, s.key, s, info.status == .running)) }
            }
        }
        lock.withLock {
            for (r, key, info, running) in found where states[Self.key(r.id, key.run, key.canonical)] != nil || running {
                let s = stateLocked(r, key)
                s.running = running
                if info.maxTime > s.lastTime { s.lastTime = info.maxTime }
                if info.lastStep >= s.lastStep { s.lastStep = info.lastStep; s.lastValue = info.lastValue }
            }
        }
    }
}

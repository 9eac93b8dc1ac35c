/// A run this process logs to. Get one from `Store.createRun` or `Store.resumeRun`.
///
/// Once a `log` or `append` call returns, its points survive `kill -9` of the process; call
/// `Store.flush()` to make them survive power loss.
///
/// ```swift
/// try run.log(["train/loss": 0.42, "lr": 3e-4], step: 100)
/// let hot = try run.metrics(["train/loss", "train/grad_norm"])   // resolve names once
/// try run.log(hot, step: 101, values: [0.41, 1.7])
/// ```
public final class Run: @unchecked Sendable {
    // @unchecked Sendable: the name cache is guarded by `cacheLock`; all store state by the store's lock.
    /// The run's identifier.
    public let id: RunID
    /// The run's display name.
    public let name: String
    let store: Store
    private let cacheLock = Lock()
    private var cache: [String: Int32] = [:]
    /// Names the dictionary `log` met lately (at most `hotLimit`) and their series ids, searched by
    /// comparing strings (no hashing, no lock per key); guarded by `cacheLock`. Every name here was
    /// resolved (and so checked) by `seriesId` first.
    private var hotNames: [String] = []
    private var hotIds: [Int32] = []
    static let hotLimit = 16
    /// This run's create record is in catalog.log (`Store.writeCreateIfPending` returned), or in
    /// this process's log (`Store.logCreateIfPending` returned); guarded by `cacheLock`.
    private var createWritten = false
    private var createLogged = false

    init(store: Store, id: RunID, name: String) {
        self.store = store
        self.id = id
        self.name = name
    }

    /// Metric names resolved once, for the fastest per-step logging.
    public struct MetricGroup: Sendable {
        let run: RunID
        let ids: [Int32]
        /// The metric names, in the order `log(_:step:values:)` expects values.
        public let names: [String]
    }

    /// `ahead`: a bulk `append` logs the run's waiting creation ahead of its catalog batch
    /// (`LoggedCreates`; other processes see the run within `writeDelayMs`); `log` writes the
    /// batch first, so a run being trained is visible to other processes with its first point.
    private func seriesId(_ metric: String, labels: [String: String] = [:], ahead: Bool = false) throws(StrataError) -> Int32 {
        if labels.isEmpty, let id = cacheLock.withLock({ cache[metric] }) { return id }
        let key = try SeriesKey(run: id, metric: metric, labels: labels)
        // A run's create record is in catalog.log, or logged, before any of its points is logged.
        // Once written it stays written, and once logged it stays logged (each new log logs it
        // again until it is written): the store's lock is taken only until then.
        let (written, logged) = cacheLock.withLock { (createWritten, createLogged) }
        if ahead {
            if !written && !logged {
                try store.logCreateIfPending(id)
                cacheLock.withLock { createLogged = true }
            }
        } else if !written {
            try store.writeCreateIfPending(id)
            cacheLock.withLock { createWritten = true }
        }
        let sid = try store.withWriter { w throws(StrataError) in Int32(try w.seriesId(key)) }
        if labels.isEmpty { cacheLock.withLock { cache[metric] = sid } }
        return sid
    }

    /// Resolves metric names (and optional context labels shared by all of them) once.
    ///
    /// - Parameters:
    ///   - names: The metric names, in the order values will be given.
    ///   - labels: Context labels shared by every metric of the group.
    /// - Returns: A group to pass to ``log(_:step:values:time:)`` or ``AtomicBatch``.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bad name or label (no series is created), `.closed` after ``Store/close()``.
    public func metrics(_ names: [String], labels: [String: String] = [:]) throws(StrataError) -> MetricGroup {
        if names.count > Limits.maxMetricsPerLog { throw .invalid("\(names.count) metrics in one group; the limit is \(Limits.maxMetricsPerLog)") }
        var ids: [Int32] = []
        for n in names { ids.append(try seriesId(n, labels: labels)) }
        return MetricGroup(run: id, ids: ids, names: names)
    }

    /// Logs one value per metric of `group` at `step`. `time` is milliseconds since 1970 (now when nil).
    ///
    /// - Parameters:
    ///   - group: Metrics resolved by ``metrics(_:labels:)`` for this run.
    ///   - step: The training step.
    ///   - values: One value per metric of `group`, in its order.
    ///   - time: Wall-clock time, milliseconds since 1970 (now when nil).
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func log(_ group: MetricGroup, step: Int64, values: [Double], time: Int64? = nil) throws(StrataError) {
        guard group.run == id else { throw .invalid("metric group of run \(group.run) used with run \(id)") }
        guard values.count == group.ids.count else {
            throw .invalid("\(values.count) values for a group of \(group.ids.count) metrics (\(group.names.joined(separator: ", ")))")
        }
        let t = time ?? Clock.milliseconds()
        try store.withWriter { w throws(StrataError) in
            try w.logRow(step: step, time: t, ids: group.ids, values: values)
        }
    }

    /// Logs several metrics at one step (the call a training loop makes once per step).
    ///
    /// - Parameters:
    ///   - metrics: Values by metric name.
    ///   - step: The training step.
    ///   - time: Wall-clock time, milliseconds since 1970 (now when nil).
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func log(_ metrics: [String: Double], step: Int64, time: Int64? = nil) throws(StrataError) {
        if metrics.isEmpty { return }
        if metrics.count > Limits.maxMetricsPerLog {
            throw .invalid("\(metrics.count) metrics in one log call; the limit is \(Limits.maxMetricsPerLog)")
        }
        let t = time ?? Clock.milliseconds()
        if metrics.count <= Run.hotLimit {
            // A training loop logs the same few names step after step: find them among the hot
            // names, in the dictionary's order, without allocating.
            var ids = InlineArray<16, Int32>(repeating: 0)
            var vs = InlineArray<16, Double>(repeating: 0)
            if hotLookup(metrics, &ids, &vs) {
                let n = metrics.count
                try store.withWriter { w throws(StrataError) in
                    try w.logRow(step: step, time: t, ids: ids.span.extracting(0..<n), values: vs.span.extracting(0..<n))
                }
                return
            }
        }
        var ids: [Int32] = []
        var vs: [Double] = []
        ids.reserveCapacity(metrics.count); vs.reserveCapacity(metrics.count)
        for (name, v) in metrics {
            ids.append(try seriesId(name))
            vs.append(v)
        }
        if metrics.count <= Run.hotLimit { rememberHot(metrics, ids) }
        try store.withWriter { w throws(StrataError) in
            try w.logRow(step: step, time: t, ids: ids, values: vs)
        }
    }

    /// Fills ids[0..<n] and values[0..<n] for the n entries of `metrics` (in its iteration order)
    /// when every name is hot; false (and nothing to use) otherwise.
    private func hotLookup(_ metrics: [String: Double], _ ids: inout InlineArray<16, Int32>, _ vs: inout InlineArray<16, Double>) -> Bool {
        cacheLock.withLock {
            let count = hotNames.count
            if count < metrics.count { return false }
            var i = 0
            var j = 0  // where the search for the next name starts: right after the last match
            for (name, v) in metrics {
                var tries = 0
                while hotNames[j] != name {
                    j = j + 1 == count ? 0 : j + 1
                    tries += 1
                    if tries == count { return false }
                }
                ids[i] = hotIds[j]
                vs[i] = v
                i += 1
                j = j + 1 == count ? 0 : j + 1
            }
            return true
        }
    }

    /// Adds resolved names to the hot names (starting over with these when they would not fit).
    private func rememberHot(_ metrics: [String: Double], _ ids: [Int32]) {
        cacheLock.withLock {
            var fresh: [(String, Int32)] = []
            for (k, name) in metrics.keys.enumerated() where !hotNames.contains(name) { fresh.append((name, ids[k])) }
            if hotNames.count + fresh.count > Run.hotLimit {
                hotNames = Array(metrics.keys)
                hotIds = ids
                return
            }
            for (name, id) in fresh {
                hotNames.append(name)
                hotIds.append(id)
            }
        }
    }

    /// Logs one metric at one step, with optional context labels (e.g. `["rank": "3"]`).
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/loss`.
    ///   - value: The value.
    ///   - step: The training step.
    ///   - time: Wall-clock time, milliseconds since 1970 (now when nil).
    ///   - labels: The series' context labels (none by default).
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func log(_ metric: String, _ value: Double, step: Int64, time: Int64? = nil, labels: [String: String] = [:]) throws(StrataError) {
        let ids = [try seriesId(metric, labels: labels)]
        let vs = [value]
        let t = time ?? Clock.milliseconds()
        try store.withWriter { w throws(StrataError) in
            try w.logRow(step: step, time: t, ids: ids, values: vs)
        }
    }

    /// Appends whole arrays of one series (an importer's path). `times` defaults to now for every point.
    /// Points may be in any step order; reads order them by step, stable by arrival.
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The steps of the points.
    ///   - values: One value per step.
    ///   - times: One wall-clock time per step, milliseconds since 1970 (now for every point when nil).
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func append(_ metric: String, labels: [String: String] = [:], steps: [Int64], values: [Double], times: [Int64]? = nil) throws(StrataError)
    {
        guard steps.count == values.count else { throw .invalid("append \(metric): \(steps.count) steps but \(values.count) values") }
        if let times, times.count != steps.count { throw .invalid("append \(metric): \(steps.count) steps but \(times.count) times") }
        if steps.isEmpty { return }
        let sid = try seriesId(metric, labels: labels, ahead: true)
        var s = steps, v = values
        var t = times ?? [Int64](repeating: Clock.milliseconds(), count: steps.count)
        StableSort.sort(steps: &s, values: &v, times: &t)
        try store.withWriter { w throws(StrataError) in
            try w.append(id: Int(sid), steps: s, values: v, times: t)
        }
    }

    /// Sets or replaces params (typed; merged into the existing ones).
    ///
    /// - Parameter params: The params to set, by flattened key.
    /// - Throws: ``StrataError`` with code `.invalidArgument` or `.limitExceeded` for a key or value over the limits (nothing is written).
    public func setParams(_ params: [String: ParamValue]) throws(StrataError) {
        try ParamCoding.validate(params, what: "param", run: name)
        try store.appendCatalog([Catalog.paramsRecord(id, params)])
    }

    /// Sets or replaces metadata entries (e.g. `git.commit`, `purpose`, `dataset.train`).
    ///
    /// - Parameter metadata: The entries to set.
    /// - Throws: ``StrataError`` with code `.invalidArgument` or `.limitExceeded` for a key or value over the limits (nothing is written).
    public func setMetadata(_ metadata: [String: ParamValue]) throws(StrataError) {
        try ParamCoding.validate(metadata, what: "metadata", run: name)
        try store.appendCatalog([Catalog.paramsRecord(id, metadata, metadata: true)])
    }

    /// Adds and removes tags.
    ///
    /// - Parameters:
    ///   - add: Tags to add.
    ///   - remove: Tags to remove.
    /// - Throws: ``StrataError`` with code `.invalidArgument` or `.limitExceeded` for a bad tag (nothing is written).
    public func tag(add: [String] = [], remove: [String] = []) throws(StrataError) {
        try Limits.check(tags: add + remove)
        try store.appendCatalog([Catalog.tagsRecord(id, add: add, remove: remove)])
    }

    /// Marks the run finished (or failed) and makes its points durable. `endedMs`: when it ended
    /// (now when nil; importers pass the original time).
    ///
    /// - Parameters:
    ///   - status: The final status (`.finished` or `.failed`).
    ///   - endedMs: When the run ended, milliseconds since 1970.
    /// - Throws: ``StrataError`` when the log cannot be synced or the catalog written.
    public func finish(_ status: RunStatus = .finished, endedMs: Int64? = nil) throws(StrataError) {
        try store.flush()
        try store.appendCatalog([Catalog.statusRecord(id, status, at: endedMs ?? Clock.milliseconds())], sync: true)
    }

    /// Resumes from a checkpoint: hides every point logged so far at a step greater than `step`,
    /// by any process. Points logged after this call returns, by any process, are visible
    /// whatever their step. Compaction drops the hidden points for good. Takes about a
    /// millisecond (see docs/FORMAT.md, "Rewinds").
    ///
    /// - Parameter step: The last step that stays visible.
    /// - Throws: ``StrataError`` when the catalog cannot be written.
    public func rewind(to step: Int64) throws(StrataError) {
        try store.rewind(id, to: step)
    }

    /// The run's current record.
    public var info: RunInfo? { store.runInfo(id) }
}

import Foundation
import Strata
import StrataInterop

/// Applies validated ingest batches to the store, finding or creating the runs they name.
///
/// Run resolution follows `strata ingest`: a name already in the store resumes the newest run of
/// that name, a new name creates a run; a `run_id` of the store is that run, an unknown `run_id`
/// creates a run named `run` and maps the id to it for the life of the server process.
final class Ingestor: @unchecked Sendable {
    // @unchecked Sendable: `byName` and `byId` are touched only under `lock`.
    let store: Store
    private let lock = Lock()
    private var byName: [String: Run] = [:]
    private var byId: [String: Run] = [:]
    /// Evaluates alert rules on the points of each batch once it is stored (nil: no alerts).
    let alerts: AlertService?

    init(store: Store, alerts: AlertService? = nil) {
        self.store = store
        self.alerts = alerts
    }

    struct Outcome {
        var records = 0
        var points = 0
        /// Runs the batch touched, in first-touched order: (run, created by this batch).
        var runs: [(Run, Bool)] = []
    }

    /// Finds or creates a run (serialised, so two batches naming a new run create it once).
    private func resolve(name: String?, id: String?, project: String?) throws(StrataError) -> (Run, Bool) {
        try lock.withLock { () throws(StrataError) -> (Run, Bool) in
            if let id {
                if let r = byId[id.uppercased()] ?? byId[id] { return (r, false) }
                let (r, created) = try store.openRun(id: id, name: name, project: project ?? "default")
                if !created { byId[r.id.text] = r; return (r, false) }
                byId[id] = r
                byId[r.id.text] = r
                return (r, true)
            }
            let name = name!
            if let r = byName[name] { return (r, false) }
            // One step across processes: another process may be creating the same name right now.
            let (r, created) = try store.openRun(name: name, project: project ?? "default")
            byName[name] = r
            return (r, created)
        }
    }

    /// A finished run is resolved afresh next time (and so resumed).
    private func forget(_ run: Run) {
        lock.withLock {
            if byName[run.name] === run { byName[run.name] = nil }
            for (k, v) in byId where v === run { byId[k] = nil }
        }
    }

    /// Applies a batch atomically: run records (creations, params, tags, metadata, status) in
    /// order, then every point in one atomic step of the log together with `commit(outcome)`
    /// (the batch's key and answer). Records were validated: only a store failure (disk full, I/O
    /// error) can stop this; then no point of the batch is stored, while run records already
    /// applied stay (applying them again, as a retry does, changes nothing).
    func apply(_ records: [IngestRecord], commit: (Outcome) -> BatchCommit) throws(StrataError) -> (Outcome, BatchCommit) {
        var out = Outcome()
        var local: [String: Run] = [:]  // per batch: "n:name" / "i:id"
        var groups: [ObjectIdentifier: (names: [String], group: Run.MetricGroup, watched: [(index: Int, column: Int)])] = [:]
        var batch = AtomicBatch()
        var finished = false
        // Alerts: the rules watching a series are resolved once per series and batch (one hash
        // lookup for a metric no rule names), and the points of watched series are gathered into
        // one column per series (evaluated after the batch is stored).
        let evaluator = alerts?.evaluator
        var alertColumns = AlertColumns()
        let now = Clock.milliseconds()
        for r in records {
            let localKey = r.runId.map { "i:" + $0 } ?? "n:" + r.run!
            let run: Run
            if let cached = local[localKey] {
                run = cached
            } else {
                let (found, created) = try resolve(name: r.run, id: r.runId, project: r.project)
                run = found
                local[localKey] = run
                out.runs.append((run, created))
            }
            if !r.params.isEmpty { try run.setParams(r.params) }
            if !r.meta.isEmpty { try run.setMetadata(r.meta) }
            if !r.tags.isEmpty { try run.tag(add: r.tags) }
            if let c = r.column {
                batch.append(try run.metrics([c.metric], labels: r.labels), steps: c.steps, values: c.values, times: c.times)
                if let evaluator, let w = evaluator.watch(run: run.id, metric: c.metric, labels: r.labels) {
                    alertColumns.append(w, steps: c.steps, values: c.values, times: c.times, time: now)
                }
            } else if !r.names.isEmpty {
                let step = r.step!
                if r.labels.isEmpty {
                    // Resolve the metric names once per run while consecutive records repeat them.
                    let oid = ObjectIdentifier(run)
                    let group: Run.MetricGroup
                    let watched: [(index: Int, column: Int)]
                    if let g = groups[oid], g.names == r.names {
                        group = g.group
                        watched = g.watched
                    } else {
                        group = try run.metrics(r.names)
                        watched = alertColumns.watched(evaluator, run.id, r.names, [:], time: now)
                        groups[oid] = (r.names, group, watched)
                    }
                    batch.log(group, step: step, values: r.values, time: r.time)
                    let t = r.time ?? now
                    for w in watched { alertColumns.columns[w.column].append(step: step, value: r.values[w.index], time: t) }
                } else {
                    let t = r.time ?? Clock.milliseconds()
                    batch.log(try run.metrics(r.names, labels: r.labels), step: step, values: r.values, time: t)
                    for w in alertColumns.watched(evaluator, run.id, r.names, r.labels, time: t) {
                        alertColumns.columns[w.column].append(step: step, value: r.values[w.index], time: t)
                    }
                }
            }
            out.points += r.pointCount
            out.records += 1
            if let st = r.status {
                try run.finish(st)
                finished = true
                forget(run)
                local[localKey] = nil
            }
        }
        let c = commit(out)
        try store.log(batch, commit: c)
        alerts?.observe(alertColumns.columns)
        // A finished run's points survive power loss, as `Run.finish` promises.
        if finished { try store.flush() }
        return (out, c)
    }
}

/// The points of a batch that alert rules watch: one column per watched series, in arrival order.
struct AlertColumns {
    var columns: [AlertColumn] = []
    private var index: [ObjectIdentifier: Int] = [:]

    /// The column of `watch` (created empty when the batch has none yet).
    mutating func column(_ watch: AlertWatch, time: Int64) -> Int {
        if let i = index[ObjectIdentifier(watch)] { return i }
        columns.append(AlertColumn(watch, time: time))
        index[ObjectIdentifier(watch)] = columns.count - 1
        return columns.count - 1
    }

    /// Appends a columnar record's points to its series' column.
    mutating func append(_ watch: AlertWatch, steps: [Int64], values: [Double], times: [Int64]?, time: Int64) {
        columns[column(watch, time: time)].append(steps: steps, values: values, times: times, time: time)
    }

    /// The watched metrics among `names`: (index in `names`, column), none when no rule watches them.
    mutating func watched(_ evaluator: AlertEvaluator?, _ run: RunID, _ names: [String], _ labels: [String: String], time: Int64)
        -> [(index: Int, column: Int)]
    {
        guard let evaluator else { return [] }
        var out: [(index: Int, column: Int)] = []
        for (i, n) in names.enumerated() {
            if let w = evaluator.watch(run: run, metric: n, labels: labels) { out.append((i, column(w, time: time))) }
        }
        return out
    }
}

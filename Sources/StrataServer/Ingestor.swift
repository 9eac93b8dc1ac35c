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
        var groups: [ObjectIdentifier: (names: [String], group: Run.MetricGroup, watched: [(Int, AlertWatch)])] = [:]
        var batch = AtomicBatch()
        var finished = false
        // Alerts: the rules watching a series are resolved once per series and batch, and only
        // points of watched series are collected (evaluated after the batch is stored).
        let evaluator = alerts?.evaluator
        var observed: [AlertEvaluator.Observation] = []
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
                    for i in c.steps.indices {
                        observed.append(.init(w, step: c.steps[i], value: c.values[i], timeMs: c.times?[i] ?? now))
                    }
                }
            } else if !r.names.isEmpty {
                let step = r.step!
                if r.labels.isEmpty {
                    // Resolve the metric names once per run while consecutive records repeat them.
                    let oid = ObjectIdentifier(run)
                    let group: Run.MetricGroup
                    let watched: [(Int, AlertWatch)]
                    if let g = groups[oid], g.names == r.names {
                        group = g.group
                        watched = g.watched
                    } else {
                        group = try run.metrics(r.names)
                        watched = Self.watches(evaluator, run.id, r.names, [:])
                        groups[oid] = (r.names, group, watched)
                    }
                    batch.log(group, step: step, values: r.values, time: r.time)
                    for (i, w) in watched { observed.append(.init(w, step: step, value: r.values[i], timeMs: r.time ?? now)) }
                } else {
                    let t = r.time ?? Clock.milliseconds()
                    batch.log(try run.metrics(r.names, labels: r.labels), step: step, values: r.values, time: t)
                    for (i, w) in Self.watches(evaluator, run.id, r.names, r.labels) {
                        observed.append(.init(w, step: step, value: r.values[i], timeMs: t))
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
        alerts?.observe(observed)
        // A finished run's points survive power loss, as `Run.finish` promises.
        if finished { try store.flush() }
        return (out, c)
    }

    /// The watched metrics among `names` (their indices), none when there are no rules.
    private static func watches(_ evaluator: AlertEvaluator?, _ run: RunID, _ names: [String], _ labels: [String: String]) -> [(Int, AlertWatch)] {
        guard let evaluator else { return [] }
        var out: [(Int, AlertWatch)] = []
        for (i, n) in names.enumerated() {
            if let w = evaluator.watch(run: run, metric: n, labels: labels) { out.append((i, w)) }
        }
        return out
    }
}

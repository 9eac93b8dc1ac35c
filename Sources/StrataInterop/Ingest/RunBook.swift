import Strata

/// Finds or creates the runs named by input lines, once each.
public final class RunBook {
    /// The store the runs are in.
    public let store: Store
    /// Always create new runs instead of resuming runs of the same name already in the store.
    public let newRuns: Bool
    private var cache: [String: Run] = [:]
    /// The runs the input touched, in first-touched order.
    public private(set) var touched: [Run] = []
    /// How many of them it created.
    public private(set) var created = 0
    /// Runs this book created (their `created` may be set from the data's times).
    private var createdHere: Set<RunID> = []
    /// Per run: the smallest and largest time of its points here, and whether any point had none.
    private var times: [RunID: (lo: Int64, hi: Int64, untimed: Bool)] = [:]

    /// Notes the time of a point logged to `run` (nil: the line carried none).
    package func note(_ run: Run, time: Int64?) {
        var t = times[run.id] ?? (.max, .min, false)
        if let time { t.lo = min(t.lo, time); t.hi = max(t.hi, time) } else { t.untimed = true }
        times[run.id] = t
    }

    /// When every point logged to `run` here carried a time: the latest one (its `ended`).
    package func dataEnd(_ run: Run) -> Int64? {
        guard let t = times[run.id], !t.untimed, t.lo <= t.hi else { return nil }
        return t.hi
    }

    /// A run created here whose every point so far carried a time begins at its first point's time
    /// (called before the run is ended: only a running run's start is changed).
    package func startFromData(_ run: Run) throws {
        guard createdHere.contains(run.id), let t = times[run.id], !t.untimed, t.lo <= t.hi else { return }
        try store.setCreated(run.id, ms: t.lo)
    }

    /// Ends the input: a run created here whose every point carried a time begins at its first
    /// point's time, and a run still running ends at its last point's time (both from the data,
    /// not the clock of the ingest); `Store.close` ends the rest now.
    public func finishFromData() throws {
        for r in touched {
            guard let t = times[r.id], !t.untimed, t.lo <= t.hi else { continue }
            try startFromData(r)
            guard let info = r.info, info.status == .running else { continue }
            try r.finish(.finished, endedMs: max(t.hi, info.createdMs))
        }
    }

    /// A book over `store`; `newRuns`: create a new run for every name instead of resuming.
    public init(store: Store, newRuns: Bool) {
        self.store = store
        self.newRuns = newRuns
    }

    /// The run for a line's `run` (name) and optional `run_id`.
    /// - A `run_id` present in the store is that run; an unknown `run_id` creates a run named `name`
    ///   and maps that id to it for the rest of the input (so `export` output re-ingests faithfully).
    /// - A name alone resumes the newest run of that name (unless `newRuns`), else creates it.
    package func run(name: String?, id: String?, project: String?) throws -> Run {
        if let id {
            if let r = cache["id:" + id] { return r }
            let r: Run
            if newRuns {
                r = try create(name ?? id, project: project)
            } else {
                let (found, isNew) = try store.openRun(id: id, name: name, project: project ?? "default")
                r = found
                if isNew { created += 1; createdHere.insert(found.id) }
            }
            cache["id:" + id] = r
            touched.append(r)
            return r
        }
        guard let name else { throw InteropError("no run: give \"run\" in the line or --run NAME") }
        if let r = cache["name:" + name] { return r }
        let r: Run
        if newRuns {
            r = try create(name, project: project)
        } else {
            // Resolve-or-create in one step across processes (two ingests naming a new run create one).
            let (found, isNew) = try store.openRun(name: name, project: project ?? "default")
            r = found
            if isNew { created += 1; createdHere.insert(found.id) }
        }
        cache["name:" + name] = r
        touched.append(r)
        return r
    }

    private func create(_ name: String, project: String?) throws -> Run {
        created += 1
        let r = try store.createRun(name: name, project: project ?? "default")
        createdHere.insert(r.id)
        return r
    }
}

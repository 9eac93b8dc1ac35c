/// Logging a run's creation ahead of its catalog batch (Storage/LoggedCreates.swift): the store's
/// side. Bulk creation of many short runs (create, append a few series, next run) no longer writes
/// the catalog once a run.
extension Store {
    /// Writes the batch of created runs when `run` is in it (before a point of it is logged by
    /// `log`: a run being trained is visible to other processes with its first point).
    func writeCreateIfPending(_ run: RunID) throws(StrataError) {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                if catalog.isPending(run) { try catalog.flushPending(sync: false) }
            }
        }
    }

    /// Before the first point of `run` is logged: when its create record waits in the creation
    /// batch, logs it in this process's log (so it survives `kill -9` with the point), once.
    func logCreateIfPending(_ run: RunID) throws(StrataError) {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                guard catalog.isPending(run), !loggedCreates.contains(run) else { return }
                try logPendingCreateLocked(run)
            }
        }
    }

    /// Logs `run`'s waiting create record, or writes the whole batch to
    /// the catalog when the records held would pass `LoggedCreates.maxLoggedBytes`. Schedules
    /// the batch's write to the catalog. Under the lock.
    func logPendingCreateLocked(_ run: RunID) throws(StrataError) {
        guard let body = catalog.pendingBody(run) else { return }
        let held = loggedCreates.heldBytes
        let logged = try withWriter { (w) throws(StrataError) -> Bool in
            guard held + body.count <= LoggedCreates.maxLoggedBytes(capacity: w.wal.capacity) else { return false }
            try w.logCreate(body)
            return true
        }
        guard logged else {
            try catalog.flushPending(sync: false)
            return
        }
        loggedCreates.insert(run, body)
        loggedCreates.scheduleWrite(afterMs: options.createdRunsWriteDelayMs) { [weak self] in self?.writeLoggedCreates() }
    }

    /// The scheduled write of the creation batch (best effort: on failure the records stay in the
    /// log and in the batch, written by the next flush, close or catalog change, which report it).
    private func writeLoggedCreates() {
        lock.withLock {
            guard (try? checkOpenLocked()) != nil else { return }
            try? catalog.flushPending(sync: false)
        }
    }
}

import Dispatch
import StrataCodecs

/// Runs created in batches and logged before their batch is written (issue 10, bulk creation).
///
/// A run's create record must survive `kill -9` once a point of it is acknowledged. Writing the
/// catalog for that (a locked append per run) cost more than the points of a short run, so the
/// first point of a run still waiting in the creation batch is preceded by a `run` record in the
/// writer's log instead (docs/FORMAT.md, "Write-ahead log", kind 7), which costs a copy into the
/// mapped log. The batch itself is written to `catalog.log` when it is full, at `flush()` or
/// `close()`, with any other catalog change, or at the latest `writeDelayMs` after the first such
/// run was logged (so other processes see the run within that delay). Recovery of a dead writer's
/// log writes the create records it finds for runs the catalog does not have.
///
/// The records logged and not yet in the catalog are kept here, so a cut to a new log logs them
/// again before the old log (their only copy) is deleted. Guarded by its own lock: the store adds
/// and clears under the store lock, the writer reads under the write lock.
final class LoggedCreates: @unchecked Sendable {
    // @unchecked Sendable: every field is touched only under `lock`.
    private let lock = Lock()
    private var bodies: [RunID: [UInt8]] = [:]
    private var order: [RunID] = []
    private var bytes = 0
    private var writeScheduled = false

    /// How long, at most, a run logged this way waits before its batch is written to the catalog.
    static let writeDelayMs = 50

    /// Whether `run`'s create record is in the current log and not yet in the catalog.
    func contains(_ run: RunID) -> Bool { lock.withLock { bodies[run] != nil } }

    /// Bytes of the records held: a cut logs them all again in the new log, so the store writes
    /// the batch to the catalog rather than let them pass `maxLoggedBytes`.
    var heldBytes: Int { lock.withLock { bytes } }

    /// Records that `run`'s create record (plain body) was logged.
    func insert(_ run: RunID, _ body: [UInt8]) {
        lock.withLock {
            if let old = bodies.updateValue(body, forKey: run) { bytes -= old.count } else { order.append(run) }
            bytes += body.count
        }
    }

    /// Forgets every record: the catalog has them now.
    func removeAll() {
        lock.withLock {
            bodies = [:]
            order = []
            bytes = 0
        }
    }

    /// The records to log again in a new log, in the order they were first logged.
    func snapshot() -> [[UInt8]] { lock.withLock { order.compactMap { bodies[$0] } } }

    /// Runs `write` on a global queue after `delayMs`, unless a write is scheduled already.
    func scheduleWrite(afterMs delayMs: Int = LoggedCreates.writeDelayMs, _ write: @escaping @Sendable () -> Void) {
        let first = lock.withLock { () -> Bool in
            defer { writeScheduled = true }
            return !writeScheduled
        }
        guard first else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delayMs)) { [self] in
            lock.withLock { writeScheduled = false }
            write()
        }
    }

    /// The most bytes of create records held in a log of `capacity` bytes (what a cut logs again
    /// at the start of the new log); past that the batch is written to the catalog instead.
    static func maxLoggedBytes(capacity: Int) -> Int { capacity / 8 }

    /// Collects the `run` records of a log (recovery).
    struct Collector: LogRecordSink {
        var bodies: [ByteView] = []
        mutating func series(_ id: UInt32, _ key: SeriesKey) {}
        mutating func point(_ id: UInt32, step: Int64, value: Double, time: Int64, sequence: Int64) {}
        mutating func chunk(_ id: UInt32, _ record: LogChunkRecord, sequence: Int64) {}
        mutating func commit(_ c: BatchCommit) {}
        mutating func run(_ body: ByteView) { bodies.append(body) }
    }

    /// Recovery of a dead writer's log: writes (fsynced) the create records the log holds for runs
    /// the catalog does not have, the last one of each run, before the log can be deleted. A
    /// record that cannot be parsed is left out (the run's points stay reachable by id).
    static func recover(log bytes: ByteView, path: String, catalog: Catalog) throws(StrataError) {
        var scanner = try LogScanner(bytes: bytes, path: path)
        var collector = Collector()
        do { try scanner.walk(into: &collector) } catch {}  // damage: what came before it counts
        if collector.bodies.isEmpty { return }
        try catalog.refresh()
        var last: [RunID: CatalogRecord] = [:]
        var order: [RunID] = []
        for body in collector.bodies {
            guard let rec = Catalog.record(plainBody: body), rec.kind == .create, !catalog.contains(rec.run) else { continue }
            if last.updateValue(rec, forKey: rec.run) == nil { order.append(rec.run) }
        }
        if order.isEmpty { return }
        try catalog.append(order.compactMap { last[$0] }, sync: true)
    }
}

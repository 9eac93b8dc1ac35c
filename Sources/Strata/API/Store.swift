/// A Strata store: one directory holding runs, their params and their metric points.
///
/// Open it, create or resume runs, log points, query. Several processes may open the same store
/// at once; each writes its own log and segments. Every method is thread-safe.
///
/// ```swift
/// let store = try Store.open()                       // ./.strata or $STRATA_STORE
/// let run = try store.createRun(name: "baseline", params: ["lr": 3e-4, "model": "base"])
/// for step in 0..<1000 {
///     try run.log(["train/loss": loss(step), "lr": lr(step)], step: Int64(step))
/// }
/// try run.finish()
/// let curve = try store.points(run.id, "train/loss")
/// try store.close()
/// ```
public final class Store: @unchecked Sendable {
    // @unchecked Sendable: catalog and reader state is touched only under `lock`, the writer only
    // under `writeLock`; `closed` is written under both.

    /// The store directory.
    public let path: String
    let paths: StorePaths
    /// Guards the catalog and the reader (queries). Taken before `writeLock` when both are needed.
    let lock = Lock()
    /// Guards this process's writer, so logging never waits for a query (and vice versa).
    let writeLock = Lock()
    let catalog: Catalog
    let reader: StoreReader
    /// The segment side of the series curves and windows read last; touched only under `lock`.
    var coarseCache = CoarseSeriesCache()
    /// Touched only under `writeLock`.
    private var writer: LogWriter?
    /// Written under both locks (so either lock suffices to read it).
    private var closed = false
    /// This process's writer identity (log and segment names).
    let writerId: String
    let options: Options
    /// Logs of dead writers recovered when the store was opened.
    public private(set) var recoveredLogs: [String] = []
    /// Create records of runs logged ahead of their catalog batch (Storage/LoggedCreates.swift).
    let loggedCreates = LoggedCreates()

    /// Tuning knobs. The defaults suit training loops and importers.
    public struct Options: Sendable {
        /// Size of one write-ahead log file; a full log is cut into a segment.
        public var logCapacity: Int
        /// The log size used when none is given: 64 MiB.
        public static let defaultLogCapacity = LogFormat.defaultCapacity
        /// Create the store when the directory does not exist.
        public var create: Bool
        /// How long a run whose creation was logged ahead of its catalog batch waits, at most,
        /// before the batch is written (`LoggedCreates`; tests lengthen it).
        var createdRunsWriteDelayMs = LoggedCreates.writeDelayMs
        /// Options with the given log size and creation rule.
        ///
        /// - Parameters:
        ///   - logCapacity: Size of one write-ahead log file (default ``defaultLogCapacity``).
        ///   - create: Create the store when the directory does not exist.
        public init(logCapacity: Int = Options.defaultLogCapacity, create: Bool = true) {
            self.logCapacity = logCapacity
            self.create = create
        }
    }

    /// The store path used when none is given: `$STRATA_STORE`, else `./.strata`.
    public static var defaultPath: String {
        if let s = Sys.environment("STRATA_STORE"), !s.isEmpty { return s }
        return ".strata"
    }

    /// Opens (and, unless `options.create` is false, creates) the store at `path`.
    ///
    /// Recovers the logs of writers that died, marking their running runs `crashed`.
    /// - Throws: `StrataError` with code `.notAStore` when the path is a file or a foreign
    ///   directory, `.unsupportedVersion` for a store written by a newer Strata, `.notFound`
    ///   when it does not exist and `create` is false.
    ///
    /// - Parameters:
    ///   - path: The store directory (``defaultPath`` when nil).
    ///   - options: Tuning knobs and whether to create the store.
    /// - Returns: The open store; ``close()`` it when done.
    public static func open(at path: String? = nil, options: Options = Options()) throws(StrataError) -> Store {
        try Store(path: path ?? defaultPath, options: options)
    }

    private init(path: String, options: Options) throws(StrataError) {
        self.path = path
        self.options = options
        paths = StorePaths(root: path)
        FaultInjection.loadEnvironment()
        try StoreLayout.prepare(paths, create: options.create)
        let catalog = Catalog(path: paths.catalog)
        self.catalog = catalog
        reader = StoreReader(paths: paths)
        reader.rewinds = { catalog.rewinds(of: $0) }
        catalog.pendingWritten = { [loggedCreates] in loggedCreates.removeAll() }
        writerId = RunID.generate().text
        try catalog.refresh()
        recoverDeadWriters()
        TempFiles.removeStale(paths)
        try reader.refresh()
    }

    /// Recovers the logs of dead writers, then marks `crashed` every running run whose writer
    /// no longer holds a log (a writer creates its log before it creates or resumes a run).
    ///
    /// Best effort: opening a store must not need to write (a full disk, a read-only mount, a
    /// store readable but not writable by this user). A log that cannot be recovered now stays
    /// where it is; readers read it as a log tail and the next open tries again.
    private func recoverDeadWriters() {
        let names = (try? Sys.list(paths.logs)) ?? []
        for name in names where name.hasSuffix(".wal") {
            guard (try? Recovery.recoverIfDead(logPath: paths.logs + "/" + name, paths: paths, catalog: catalog)) != nil else { continue }
            recoveredLogs.append(name)
        }
        let live = Set(
            ((try? Sys.list(paths.logs)) ?? []).compactMap { name -> String? in
                guard name.hasSuffix(".wal"), let dash = name.lastIndex(of: "-") else { return nil }
                return String(name[..<dash])
            })
        let now = Clock.milliseconds()
        var records: [CatalogRecord] = []
        for info in catalog.runningRuns() where !live.contains(info.owner) {
            records.append(Catalog.statusRecord(info.id, .crashed, at: now))
        }
        if !records.isEmpty { try? catalog.append(records, sync: true) }
    }

    deinit {
        if !closed { try? close() }
    }

    // MARK: runs

    /// Creates a run and makes this process its writer.
    ///
    /// Creation is batched: the run's record (with its params, tags and metadata) is kept in
    /// memory and written to the catalog together with other new runs, in one write, when
    /// ``createBatchSize`` runs are waiting, when this process first logs a point to one of them,
    /// makes any other catalog change (params, tags, status, another process's view is needed),
    /// or calls ``flush()`` or ``close()``. A bulk ``Run/append(_:labels:steps:values:times:)``
    /// does not write the batch: it logs the run's creation in this process's write-ahead log
    /// with its points, and the batch follows within 50 ms (docs/FORMAT.md, "Runs logged
    /// ahead"). The run is visible to this store at once; other processes see it once written.
    /// It survives `kill -9` once written or once a point of it is logged, and power loss after
    /// ``flush()`` or ``close()``.
    ///
    /// - Parameters:
    ///   - name: A display name (1–200 bytes, no control characters); need not be unique.
    ///   - project: Groups runs; "default" unless given.
    ///   - params: Typed hyperparameters (nested keys flattened with dots by `ParamTree`).
    ///   - tags: Labels such as "baseline".
    ///   - metadata: Reproduction facts; `host`, `pid` and `command` are filled in automatically.
    ///   - parent: The run this one resumes or forks.
    ///   - createdMs: When the run began (now when nil; importers pass the original time).
    ///
    /// - Returns: The new run, logging through this store.
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func createRun(
        name: String, project: String = "default", params: [String: ParamValue] = [:],
        tags: Set<String> = [], metadata: [String: ParamValue] = [:], parent: RunID? = nil,
        createdMs: Int64? = nil
    ) throws(StrataError) -> Run {
        let info = try newRunInfo(
            name: name, project: project, params: params, tags: tags, metadata: metadata,
            parent: parent, createdMs: createdMs)
        try lock.withLock { () throws(StrataError) in
            try checkOpen()
            if let parent, catalog.info(parent) == nil { throw StrataError(.notFound, "parent run \(parent) does not exist") }
            try writing { () throws(StrataError) in
                try writeLock.withLock { () throws(StrataError) in try ensureWriter() }
                try catalog.deferCreate(info)
                if catalog.pendingCount >= Store.createBatchSize { try catalog.flushPending(sync: false) }
            }
        }
        return Run(store: self, id: info.id, name: name)
    }

    /// How many created runs wait, at most, before their records are written in one batch.
    public static let createBatchSize = 4096

    /// Writes the runs this store created but has not written yet (see
    /// ``createRun(name:project:params:tags:metadata:parent:createdMs:)``), in one write without
    /// fsync: they then survive `kill -9` of this process and other processes see them.
    /// ``flush()`` does this and also makes them survive power loss.
    ///
    /// - Throws: ``StrataError`` with code `.closed` after ``close()``, `.noSpace` or `.io` when the catalog cannot be written.
    public func writeCreatedRuns() throws(StrataError) {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                try checkOpen()
                try catalog.flushPending(sync: false)
            }
        }
    }

    /// Sets when a run began, e.g. to the time of its first point when it is logged from data that
    /// carries times (`strata ingest`). Only for a run this store created and still has running,
    /// without rewinds: the run's create record is written again with `ms` (a second create
    /// replaces the run, docs/FORMAT.md), so anything else is left alone and this returns false.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - ms: The new creation time, milliseconds since 1970.
    /// - Returns: Whether the time was set.
    /// - Throws: ``StrataError`` when the catalog cannot be read or written, or the store is closed.
    @discardableResult
    public func setCreated(_ run: RunID, ms: Int64) throws(StrataError) -> Bool {
        try writing { () throws(StrataError) -> Bool in
            try lock.withLock { () throws(StrataError) -> Bool in
                try checkOpen()
                return try CatalogLock.with(paths, exclusive: true) { () throws(StrataError) -> Bool in
                    try catalog.refresh()
                    guard var info = catalog.info(run), info.owner == writerId, info.status == .running,
                        info.rewinds.isEmpty
                    else { return false }
                    info.createdMs = ms
                    if catalog.isPending(run) {
                        try catalog.deferCreate(info)  // not written yet: written once, with the new time
                        // Logged ahead with the old time: written now (recovery skips a run the catalog has).
                        if loggedCreates.contains(run) { try catalog.flushPending(sync: false) }
                    } else {
                        try catalog.append(Catalog.createRecords(info), sync: false)  // a fork stays a fork
                    }
                    return true
                }
            }
        }
    }

    /// Resumes the newest run named `name`, or creates it when the store has none: the lookup
    /// and the creation are one step across processes (under `catalog.lock`), so several
    /// processes opening the same new name at once create one run and all log into it.
    ///
    /// - Returns: the run, and whether this call created it.
    ///
    /// - Parameters:
    ///   - name: The run name to resume or create.
    ///   - project: The project of a run created by this call.
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name, value or argument (nothing is written), `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func openRun(name: String, project: String = "default") throws(StrataError) -> (run: Run, created: Bool) {
        let fresh = try newRunInfo(name: name, project: project, params: [:], tags: [], metadata: [:], parent: nil, createdMs: nil)
        return try writing { () throws(StrataError) -> (run: Run, created: Bool) in
            try lock.withLock { () throws(StrataError) -> (run: Run, created: Bool) in
                try checkOpen()
                // The log exists before this process owns a run (and before the file lock is taken:
                // nothing under the file lock waits for this process's writer).
                try writeLock.withLock { () throws(StrataError) in try ensureWriter() }
                return try CatalogLock.with(paths, exclusive: true) { () throws(StrataError) -> (run: Run, created: Bool) in
                    try catalog.refresh()
                    if let info = catalog.newest(named: name) {
                        try catalog.append([Catalog.statusRecord(info.id, .running, at: Clock.milliseconds(), owner: writerId)], sync: false)
                        return (Run(store: self, id: info.id, name: info.name), false)
                    }
                    try catalog.append([Catalog.createRecord(fresh)], sync: false)
                    return (Run(store: self, id: fresh.id, name: name), true)
                }
            }
        }
    }

    /// The run an ingested record names by id: a `run_id` of this store resumes that run; any
    /// other id (one from another store, e.g. re-ingesting `strata export` output) creates a run
    /// named `name` (or the id when there is no name). Name and project are validated as for
    /// ``createRun(name:project:params:tags:metadata:parent:createdMs:)``.
    ///
    /// - Parameters:
    ///   - id: The `run_id` of the record.
    ///   - name: The run's name (the id when nil and a run is created).
    ///   - project: The project of a run created.
    /// - Returns: the run, and whether this call created it.
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad name or project, `.closed` after ``Store/close()``, `.noSpace` when the disk is full, `.io` when a write fails.
    public func openRun(id: String, name: String?, project: String = "default") throws(StrataError) -> (run: Run, created: Bool) {
        if let name { try Limits.check(runName: name) }
        try Limits.check(runName: project, what: "project name")
        if RunID(id) != nil, let info = try? run(id), info.id.text == id.uppercased() {
            return (try resumeRun(info.id.text), false)
        }
        // Written at once, not batched: ingest and the server acknowledge the run as it is made.
        let run = try createRun(name: name ?? id, project: project)
        try writeCreatedRuns()
        return (run, true)
    }

    /// Validates the fields of a new run and fills in its id, time, owner and environment.
    func newRunInfo(
        name: String, project: String, params: [String: ParamValue], tags: Set<String>,
        metadata: [String: ParamValue], parent: RunID?, createdMs: Int64?
    ) throws(StrataError) -> RunInfo {
        try Names.validateRunName(name)
        try Names.validateRunName(project, what: "project name")
        try ParamCoding.validate(params, what: "param", run: name)
        try ParamCoding.validate(metadata, what: "metadata", run: name)
        try Limits.check(tags: tags)
        var meta = Environment.capture()
        meta.merge(metadata) { _, given in given }
        var info = RunInfo(
            id: RunID.generate(), name: name, project: project, status: .running,
            createdMs: createdMs ?? Clock.milliseconds(), endedMs: nil, params: params, tags: tags,
            metadata: meta, parent: parent, rewinds: [])
        info.owner = writerId
        return info
    }

    /// Reopens an existing run for logging (status back to running).
    ///
    /// - Parameter idOrName: An id, a name or an id fragment, as ``run(_:)`` resolves them.
    /// - Returns: The run, logging through this store.
    /// - Throws: ``StrataError`` with code `.notFound` when no run matches, `.invalidArgument` when a fragment is ambiguous.
    public func resumeRun(_ idOrName: String) throws(StrataError) -> Run {
        let info = try run(idOrName)
        try lock.withLock { () throws(StrataError) in
            try checkOpen()
            try writing { () throws(StrataError) in
                try writeLock.withLock { () throws(StrataError) in try ensureWriter() }
                try catalog.append([Catalog.statusRecord(info.id, .running, at: Clock.milliseconds(), owner: writerId)], sync: false)
            }
        }
        return Run(store: self, id: info.id, name: info.name)
    }

    /// Every run, oldest first.
    ///
    /// - Returns: The runs of the catalog, and a stand-in for every run that has points but no catalog record.
    /// - Throws: ``StrataError`` when the catalog or a segment cannot be read.
    public func runs() throws(StrataError) -> [RunInfo] {
        try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            try reader.refresh()
            return knownRunsLocked()
        }
    }

    /// The oldest `limit` runs (by id), decoding only those: the first page of a listing, at a
    /// cost that does not grow with the number of runs in the catalog (see docs/FORMAT.md,
    /// "Catalog checkpoint").
    ///
    /// - Parameter limit: The most runs returned (positive).
    /// - Returns: The runs, oldest first, as ``runs()`` would list them.
    /// - Throws: ``StrataError`` when the catalog or a segment cannot be read, `.invalidArgument` for a limit below 1.
    public func runs(limit: Int) throws(StrataError) -> [RunInfo] {
        guard limit > 0 else { throw .invalid("limit must be positive, got \(limit)") }
        return try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            try reader.refresh()
            let first = catalog.firstIDs(limit)
            let extra = standInIDsLocked()
            let ids = extra.isEmpty ? first : Array((first + extra).sorted().prefix(limit))
            return ids.compactMap(knownRunLocked)
        }
    }

    /// A run by id, by name (the most recently created run of that name), or by a unique
    /// beginning or end of its id, at least 4 characters in any case (`strata runs` shows the last
    /// 10; runs created in one millisecond share all but the last characters). In that order: a
    /// name wins over an id fragment. A fragment that several runs match is an
    /// ``StrataError/Code/invalidArgument`` error listing them.
    ///
    /// - Parameter idOrName: An id, a name, or at least 4 characters of the beginning or end of an id.
    /// - Returns: The run's record.
    /// - Throws: ``StrataError`` with code `.notFound` when no run matches, `.invalidArgument` when a fragment matches several.
    public func run(_ idOrName: String) throws(StrataError) -> RunInfo {
        try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            if let id = RunID(idOrName) {
                try checkNotDeletedLocked(id)  // run management: a deleted run is hidden
                if let info = catalog.info(id) { return info }
                try reader.refresh()
                if let info = knownRunLocked(id) { return info }
            }
            if let info = catalog.newest(named: idOrName) { return info }
            let fragment = idOrName.uppercased()
            if fragment.utf8.count >= 4, fragment.utf8.count < 26, fragment.utf8.allSatisfy(RunID.alphabet.contains) {
                try reader.refresh()
                let matches = knownRunIDsLocked().filter { $0.text.hasPrefix(fragment) || $0.text.hasSuffix(fragment) }
                    .compactMap(knownRunLocked)
                if matches.count == 1 { return matches[0] }
                if matches.count > 1 {
                    let listed = matches.prefix(10).map { "\($0.id.text) (\($0.name))" }.joined(separator: ", ")
                    throw StrataError(
                        .invalidArgument,
                        "id \"\(idOrName)\" is ambiguous: it matches \(matches.count) runs: \(listed)\(matches.count > 10 ? ", …" : ""); give more characters"
                    )
                }
            }
            throw StrataError(.notFound, "no run with id or name \"\(idOrName)\" in store \(path)")
        }
    }

    /// Hides every point of `run` logged so far at a step greater than `step` (resuming from a
    /// checkpoint), without changing the run's status. Points logged after this call returns —
    /// by this process or any other — stay visible whatever their step. See `Run.rewind(to:)`.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - step: The last step that stays visible.
    /// - Throws: ``StrataError`` with code `.notFound` for an unknown run, `.closed` after ``close()``, or when the catalog cannot be written.
    public func rewind(_ run: RunID, to step: Int64) throws(StrataError) {
        guard runInfo(run) != nil else { throw StrataError(.notFound, "no run \(run) in store \(path)") }
        // The rewind's sequence is taken and recorded under catalog.lock, so whoever fixes a
        // rewind epoch sees it or gets a later epoch (see RewindEpoch).
        let sequence = try lock.withLock { () throws(StrataError) -> Int64 in
            try checkOpen()
            return try CatalogLock.with(paths, exclusive: true) { () throws(StrataError) -> Int64 in
                let t = CatalogLock.uniqueNow()
                try catalog.append([Catalog.rewindRecord(run, step: step, sequence: t)], sync: true)
                return t
            }
        }
        // Every log marks its records at least every `markInterval`: once that has passed, a
        // point logged by any writer carries a sequence after the rewind's.
        while Clock.nanoseconds() <= sequence + LogFormat.markInterval { Sys.sleep(microseconds: 200) }
    }

    // MARK: reading

    /// Everything a series is, without its points.
    public struct SeriesInfo: Sendable, Hashable {
        /// The run, metric and labels of the series.
        public var key: SeriesKey
        /// Number of points, NaN values included.
        public var count: Int
        /// Number of NaN values.
        public var nanCount: Int
        /// The smallest step.
        public var firstStep: Int64
        /// The largest step.
        public var lastStep: Int64
        /// The value at the largest step (last arrival among equal steps).
        public var lastValue: Double
        /// The smallest and largest value other than NaN (±infinity included); both NaN when every
        /// value is NaN (there is no number to take them from: see `allNaN`), as in `Stats`.
        public var min: Double
        /// The largest value other than NaN; NaN when every value is NaN (see `min`).
        public var max: Double
        /// The earliest wall-clock time of a point, milliseconds since 1970.
        public var minTime: Int64
        /// The latest wall-clock time of a point, milliseconds since 1970.
        public var maxTime: Int64
        /// True when the series has points and every one is NaN (`min` and `max` are then NaN).
        public var allNaN: Bool { count > 0 && nanCount == count }
    }

    /// The series of a run with their summaries (read from segment directories, not chunks).
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - lineage: Whether a forked run's series include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: One summary per series, labelled series included.
    /// - Throws: ``StrataError`` when the store is closed or a segment cannot be read.
    public func series(of run: RunID, lineage: Lineage = .full) throws(StrataError) -> [SeriesInfo] {
        try lock.withLock { () throws(StrataError) in
            try checkOpen()
            try reader.refresh()
            try checkNotDeletedLocked(run)
            return try seriesInfosLocked(run, lineage)
        }
    }

    /// Raw points of a series with steps in `steps` (all when nil), ordered by step, stable by arrival.
    /// Includes points still only in live writers' logs.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name, such as `train/loss`.
    ///   - labels: The series' context labels (none by default).
    ///   - steps: The half-open step range to read (every step when nil).
    ///   - lineage: For a forked run, its full lineage (default) or its own points only (``Lineage``).
    /// - Returns: The points, empty when the series has none in `steps`.
    /// - Throws: ``StrataError``: `.invalidArgument` for an invalid metric name or labels, `.closed` after ``Store/close()``, `.corrupt` or `.io` when stored bytes cannot be read.
    public func points(_ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, lineage: Lineage = .full)
        throws(StrataError) -> [Point]
    {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage) { q throws(StrataError) in try q.points(.init(steps)) }
    }

    /// Runs `body` over the chunks of a series through `lineage` (docs/QUERIES.md, "Lineage"); a
    /// deleted run's series only with `deleted: .readable` (``DeletedRuns``).
    func withChunks<T>(
        _ key: SeriesKey, lineage: Lineage = .full, deleted: DeletedRuns = .hidden, _ body: (SeriesQuery) throws(StrataError) -> T
    ) throws(StrataError) -> T {
        try lock.withLock { () throws(StrataError) in
            try checkOpen()
            try reader.refresh()
            if deleted == .hidden { try checkNotDeletedLocked(key.run) }
            return try body(SeriesQuery(chunks: lineageChunksLocked(key, lineage)))
        }
    }

    /// Picks up segments and log records written by other processes since the last read.
    ///
    /// - Throws: ``StrataError`` when the catalog or a new segment cannot be read.
    public func refresh() throws(StrataError) {
        try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            try reader.refresh()
        }
    }

    // MARK: writing

    func withWriter<T>(_ body: (LogWriter) throws(StrataError) -> T) throws(StrataError) -> T {
        try writing { () throws(StrataError) in
            try writeLock.withLock { () throws(StrataError) in
                try checkOpen()
                try ensureWriter()
                return try body(writer!)
            }
        }
    }

    /// Runs a write; a full disk is reported naming this store (the error names the file).
    func writing<T>(_ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        do {
            return try body()
        } catch  where error.code == .noSpace && !error.message.hasPrefix("store ") {
            var e = error
            e.message = "store \(path): \(error.message); writing resumes once space is freed"
            throw e
        }
    }

    /// Creates this process's log (under `writeLock`) before it owns any run.
    func ensureWriter() throws(StrataError) {
        if writer == nil {
            writer = try LogWriter(paths: paths, writerId: writerId, capacity: options.logCapacity, loggedCreates: loggedCreates)
        }
    }

    func appendCatalog(_ records: [CatalogRecord], sync: Bool = false) throws(StrataError) {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                try checkOpen()
                try catalog.append(records, sync: sync)
            }
        }
    }

    /// The record of a run by id (a stand-in for a run with points but no record), nil for an unknown id.
    package func runInfo(_ id: RunID) -> RunInfo? { lock.withLock { knownRunLocked(id) } }

    /// The catalog's runs, plus a stand-in for every run that has points but whose catalog
    /// records are missing (a damaged catalog): its points stay reachable by id. Under the lock.
    /// In id order.
    func knownRunsLocked() -> [RunInfo] {
        let runs = catalog.allRuns()
        let extra = standInIDsLocked()
        if extra.isEmpty { return runs }
        return (runs + extra.compactMap(knownRunLocked)).sorted { $0.id < $1.id }
    }

    /// The ids of `knownRunsLocked()`, in id order, without decoding any run. Under the lock.
    func knownRunIDsLocked() -> [RunID] {
        let ids = catalog.ids()
        let extra = standInIDsLocked()
        return extra.isEmpty ? ids : (ids + extra).sorted()
    }

    /// Runs with points but no catalog record, in no order; segments the catalog checkpoint
    /// records as checked are skipped (their runs all have records). Under the lock.
    func standInIDsLocked() -> Set<RunID> {
        reader.runIDs(outside: catalog.checkedSegments).filter { !catalog.contains($0) }
    }

    /// One run of `knownRunsLocked()`. Under the lock.
    func knownRunLocked(_ id: RunID) -> RunInfo? {
        if let info = catalog.info(id) { return info }
        guard reader.allRunIDs().contains(id) else { return nil }
        return RunInfo(
            id: id, name: id.text, project: "(unknown)", status: .crashed, createdMs: id.milliseconds,
            endedMs: nil, params: [:], tags: [], metadata: ["catalog.missing": .bool(true)], parent: nil, rewinds: catalog.rewinds(of: id))
    }

    /// Makes everything logged so far survive power loss (msync + fsync of this process's log),
    /// runs created and not yet written included (their records are written and the catalog
    /// fsynced). May also write a catalog checkpoint (docs/FORMAT.md, "Catalog checkpoint").
    ///
    /// - Throws: ``StrataError`` with code `.closed` after ``close()``, `.io` when the sync fails.
    public func flush() throws(StrataError) {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                try checkOpen()
                try catalog.flushPending(sync: catalog.pendingCount > 0)
                checkpointCatalogIfLong()
            }
            try writeLock.withLock { () throws(StrataError) in
                try checkOpen()
                try writer?.sync()
            }
        }
    }

    /// Records after the catalog checkpoint past which `flush()`, `close()` and `compact()`
    /// write a new checkpoint (see docs/FORMAT.md, "Catalog checkpoint").
    static let checkpointTail = 1000

    /// Writes a catalog checkpoint when the tail read since the last one is long. Best effort (a
    /// read-only store, a full disk): the log stays the truth and the next close tries again.
    /// Under the lock.
    func checkpointCatalogIfLong(force: Bool = false) {
        // A damaged checkpoint is replaced at once (its store reads the whole log until then).
        let due = force || catalog.checkpointProblem != nil
        guard catalog.tailRecords >= (due ? 1 : Store.checkpointTail) || (due && catalog.base == nil) else { return }
        writeCatalogCheckpoint()
    }

    /// Writes a catalog checkpoint recording as checked every live segment whose runs all have
    /// records. The reader is refreshed first: segments this process cut since its last read (its
    /// own log's, at close; compaction's output) are listed too, so later opens do not read their
    /// run tables in search of stand-in runs. Best effort. Under the lock.
    func writeCatalogCheckpoint() {
        try? reader.refresh()
        _ = try? catalog.writeCheckpoint(tmpDir: paths.tmp, segments: reader.liveSegments.map { (name: $0.name, runs: $0.runTable) })
    }

    /// Cuts this process's buffered points into a segment now (they are durable already; this
    /// makes them visible as a segment and frees the log).
    ///
    /// - Throws: ``StrataError`` with code `.closed` after ``close()``, `.noSpace` or `.io` when the segment cannot be written.
    public func checkpoint() throws(StrataError) {
        try writing { () throws(StrataError) in
            try writeLock.withLock { () throws(StrataError) in
                try checkOpen()
                try writer?.cut(wait: true)
            }
        }
    }

    /// Writes everything into a segment, fsyncs it and deletes this process's log; writes the
    /// runs created and not yet written, and fsyncs the catalog. The store cannot be used afterwards.
    ///
    /// - Throws: ``StrataError`` with code `.noSpace` or `.io` when the last segment cannot be written (the log stays, and the next open recovers it).
    public func close() throws(StrataError) {
        try writing { () throws(StrataError) in try closeNow() }
    }

    private func closeNow() throws(StrataError) {
        try lock.withLock { () throws(StrataError) in
            if closed { return }
            // Runs created but not written yet go first (a failure here leaves the store open).
            try catalog.flushPending(sync: false)
            let w = try writeLock.withLock { () throws(StrataError) -> LogWriter? in
                closed = true
                defer { writer = nil }
                try writer?.close()
                return writer
            }
            if w != nil {
                // Runs this process still had open end as finished: the writer closed cleanly.
                try catalog.refresh()
                let now = Clock.milliseconds()
                let open = catalog.runningRuns().filter { $0.owner == writerId }
                try catalog.append(open.map { Catalog.statusRecord($0.id, .finished, at: now) }, sync: true)
            }
            try? catalog.refresh()
            checkpointCatalogIfLong()
        }
    }

    private func checkOpen() throws(StrataError) {
        if closed { throw StrataError(.closed, "the store at \(path) is closed") }
    }

    /// `checkOpen` for extensions in other files (call under the lock).
    func checkOpenLocked() throws(StrataError) { try checkOpen() }
}

/// What `Store.compact()` did.
public struct CompactionReport: Sendable {
    /// Segments merged (0 when there was nothing to do or another compactor was running).
    public var inputSegments: Int
    /// The new segment's file name.
    public var outputSegment: String?
    /// Points written into the new segment.
    public var points: Int
    /// Replaced segments deleted (those older than the grace period).
    public var deletedSegments: Int
    /// True when another process was compacting and this call did nothing.
    public var busy: Bool
    /// Deleted runs reclaimed (their points and catalog state removed).
    public var reclaimedRuns: [RunID] = []
    /// Full chunks written as they were stored (no other chunk's points fell among theirs), not
    /// decoded and encoded again.
    public var copiedChunks = 0
    /// Most input chunks the merge of one series held decoded at once (a measure of its memory).
    var peakOpenChunks = 0
}

extension Store {
    /// Merges every segment of the store into one: points in step order, rewinds applied, full
    /// chunks and tiers rebuilt. Safe while writers and readers run and against a crash at any
    /// moment. Replaced segments are deleted once older than `graceSeconds` (readers listing the
    /// directory at that moment must still find them); a later `compact()` deletes the rest.
    ///
    /// - Parameter graceSeconds: How old a replaced segment must be before it is deleted.
    /// - Returns: What was merged and deleted, or `busy` when another process was compacting.
    /// - Throws: ``StrataError`` with code `.closed` after ``close()``, `.corrupt` when a segment is damaged, `.noSpace` or `.io` when the new segment cannot be written.
    public func compact(graceSeconds: Double = 30) throws(StrataError) -> CompactionReport {
        try compact(graceSeconds: graceSeconds, reclaimingDeletedAfter: Store.deletedRunGraceSeconds)
    }

    /// ``compact(graceSeconds:)``, reclaiming runs deleted at least `deletedGraceSeconds` ago:
    /// their points are left out of the new segment and their catalog state is dropped (a run
    /// that is another run's parent is kept). See docs/API.md, "Run management".
    ///
    /// - Parameters:
    ///   - graceSeconds: How old a replaced segment must be before it is deleted.
    ///   - deletedGraceSeconds: How long ago a run must have been deleted to be reclaimed.
    /// - Returns: What was merged, deleted and reclaimed.
    /// - Throws: ``StrataError`` as ``compact(graceSeconds:)``.
    public func compact(graceSeconds: Double, reclaimingDeletedAfter deletedGraceSeconds: Double) throws(StrataError) -> CompactionReport {
        try writing { () throws(StrataError) in try compactNow(graceSeconds, deletedGraceSeconds) }
    }

    private func compactNow(_ graceSeconds: Double, _ deletedGraceSeconds: Double) throws(StrataError) -> CompactionReport {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            // Rewinds up to the epoch are in the catalog as read (and applied by the merge).
            let epoch = try RewindEpoch.fix(paths, catalog)
            checkpointCatalogIfLong(force: true)
            let latest = catalog.latestRewindSequence()
            let drop = reclaimableRunsLocked(deletedGraceSeconds)
            guard let o = try Compactor.run(paths: paths, reader: reader, grace: graceSeconds, latestRewind: latest, epoch: epoch, drop: drop) else {
                return CompactionReport(inputSegments: 0, outputSegment: nil, points: 0, deletedSegments: 0, busy: true)
            }
            var report = CompactionReport(
                inputSegments: o.inputSegments, outputSegment: o.outputSegment, points: o.points,
                deletedSegments: o.deletedSegments, busy: false)
            report.copiedChunks = o.copiedChunks
            report.peakOpenChunks = o.peakOpenChunks
            report.reclaimedRuns = try purgeReclaimedLocked(drop)
            // The merged segment is recorded as checked (its runs all have records, stand-ins aside).
            writeCatalogCheckpoint()
            return report
        }
    }
}

import Dispatch
import StrataCodecs

/// The writing side of one process: its write-ahead log, its buffers and the segments it cuts.
///
/// Not thread-safe: `Store` serialises calls. A log that fills up is cut: everything buffered goes
/// into segment `<writer>-<generation>.seg` (fsynced, renamed), a new log begins and the old one is
/// deleted. The segment's name ties it to the log it came from, so recovery knows whether a dead
/// writer's log was already cut.
final class LogWriter {
    let paths: StorePaths
    let writerId: String
    let capacity: Int
    private(set) var wal: WriteAheadLog
    private(set) var buffers = SeriesBuffers()
    /// The segment being written from the previous log, off the caller's thread.
    private var pendingCut: DispatchGroup?
    private let cutter = DispatchQueue(label: "strata.cutter")
    private let cutFailure = FailureBox()
    private var ids: [HashedKey: Int] = [:]
    /// Reusable row scratch (series ids) for `log` calls.
    private var pairScratch: [(UInt32, Double)] = []
    /// The sequence of the records logged now: the last `mark` written, or the log's creation.
    private var lastMark: Int64
    /// True while the records of an atomic batch are written (no mark, no cut in between).
    private var inBatch = false
    /// Batches committed in the current log (their keys go to a key file when it is cut).
    private var commits: [BatchCommit] = []
    /// The catalog as cuts read it (for rewinds); used by one cut at a time.
    private let cutCatalog: Catalog

    /// Create records logged ahead of their catalog batch, logged again in each new log.
    let loggedCreates: LoggedCreates?

    init(paths: StorePaths, writerId: String, capacity: Int = LogFormat.defaultCapacity, loggedCreates: LoggedCreates? = nil)
        throws(StrataError)
    {
        self.paths = paths
        self.writerId = writerId
        self.loggedCreates = loggedCreates
        self.capacity = max(capacity, LogFormat.minimumCapacity)
        wal = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: writerId, generation: 1, capacity: self.capacity)
        lastMark = wal.createdNs
        cutCatalog = Catalog(path: paths.catalog, rewindsOnly: true)
    }

    /// Makes room for a record of `payload` bytes, preceded by a `mark` record when the last mark
    /// is `markInterval` old, so every record's sequence is at most that much before it was logged.
    @inline(__always)
    func stamp(_ payload: Int) throws(StrataError) {
        if inBatch { return }  // room was made for the whole batch
        let now = Clock.nanoseconds()
        let size = WriteAheadLog.recordSize(payload: payload)
        if now - lastMark < LogFormat.markInterval {
            if size > wal.remaining { try ensureSpace(payload) }
            return
        }
        if size + LogFormat.markRecordSize > wal.remaining {
            try ensureSpace(payload + LogFormat.markRecordSize)  // a new log: its creation is a later mark
            return
        }
        wal.append(kind: .mark, payload: 8) { $0.storeBytes(of: now.littleEndian, as: Int64.self) }
        lastMark = now
    }

    /// The local number of a series, defining it in the log on first use.
    func seriesId(_ key: SeriesKey) throws(StrataError) -> Int {
        let hashed = HashedKey(key)
        if let id = ids[hashed] { return id }
        let id = buffers.add(key)
        ids[hashed] = id
        try writeDefinition(id: id, key: key)
        return id
    }

    private func writeDefinition(id: Int, key: SeriesKey) throws(StrataError) {
        var w = ByteWriter()
        w.u32(UInt32(id))
        w.string(key.run.text)
        w.string(key.canonical)
        try ensureSpace(w.count)
        wal.append(kind: .series, bytes: w.bytes)
    }

    /// Logs a run's create record (a catalog record's plain body; see `LoggedCreates`).
    func logCreate(_ body: [UInt8]) throws(StrataError) {
        try ensureSpace(body.count)
        wal.append(kind: .run, bytes: body)
    }

    private func ensureSpace(_ payload: Int) throws(StrataError) {
        if WriteAheadLog.recordSize(payload: payload) > wal.remaining {
            precondition(!inBatch, "a batch outgrew the room made for it")
            try cut()
            if WriteAheadLog.recordSize(payload: payload) > wal.remaining {
                if wal.capacity < capacity {
                    // The disk had room only for a smaller log (see `WriteAheadLog.reserve`).
                    throw StrataError(
                        .noSpace, "no space left on device: room for a log of only \(wal.capacity) bytes, too small for a record of \(payload) bytes",
                        path: wal.path)
                }
                throw StrataError(.limitExceeded, "a log record of \(payload) bytes does not fit in a log of \(capacity) bytes")
            }
        }
    }

    static func chunkPayload(_ chunk: EncodedChunk) -> Int { 20 + chunk.steps.count + chunk.values.count + chunk.times.count }

    /// One piece of an atomic batch, prepared (series numbered, chunks encoded) before writing.
    enum BatchItem {
        case row(step: Int64, time: Int64, ids: [Int32], values: [Double])
        case chunk(id: Int, chunk: EncodedChunk)
    }

    /// Writes a batch atomically: a `begin` record giving the length of what follows, the
    /// records, then `commit`. Room for all of it is made first (a cut, into a larger log when
    /// the batch needs one), so no cut or mark falls inside; readers and recovery count the
    /// records only once the commit is there.
    func logBatch(_ items: [BatchItem], commit: BatchCommit) throws(StrataError) {
        var body = 0
        for item in items {
            switch item {
            case .row(_, _, let ids, _): body += WriteAheadLog.recordSize(payload: 20 + 12 * ids.count)
            case .chunk(_, let chunk): body += WriteAheadLog.recordSize(payload: LogWriter.chunkPayload(chunk))
            }
        }
        var c = ByteWriter()
        commit.write(into: &c)
        let total = LogFormat.markRecordSize + WriteAheadLog.recordSize(payload: 8) + body + WriteAheadLog.recordSize(payload: c.count)
        if total > wal.remaining {
            try cut(atLeast: total + LogFormat.headerSize + 64 * 1024)
            guard total <= wal.remaining else {
                throw StrataError(
                    .limitExceeded,
                    "a batch of \(total) log bytes does not fit in a new log (\(wal.remaining) bytes free after its series definitions)")
            }
        }
        try stamp(0)
        inBatch = true
        defer { inBatch = false }
        wal.append(kind: .begin, payload: 8) { $0.storeBytes(of: UInt64(body).littleEndian, as: UInt64.self) }
        for item in items {
            switch item {
            case .row(let step, let time, let ids, let values):
                try logRow(step: step, time: time, ids: ids, values: values)
            case .chunk(let id, let chunk):
                try logChunk(id: id, chunk: chunk)
            }
        }
        wal.append(kind: .commit, bytes: c.bytes)
        if !commit.key.isEmpty { commits.append(commit) }
    }

    /// Starts the next log and hands everything held to a background thread, which writes it
    /// into a segment and then deletes the previous log (kept locked until then, so no other
    /// process recovers it meanwhile; readers see its points through the log until the segment
    /// appears). One cut runs at a time; `wait` returns only when this one is done.
    /// `atLeast`: the new log's smallest size (a batch larger than the usual log).
    func cut(wait: Bool = false, atLeast: Int = 0) throws(StrataError) {
        try finishCut()
        let old = wal
        let oldBuffers = buffers
        let oldCommits = commits
        wal = try WriteAheadLog(
            directory: paths.logs, tmpDir: paths.tmp, writerId: writerId, generation: old.generation + 1,
            capacity: max(capacity, (atLeast + 4095) / 4096 * 4096))
        lastMark = wal.createdNs
        commits = []
        // The new buffers keep every series number; the new log defines every series again.
        let fresh = SeriesBuffers()
        for s in oldBuffers.series { _ = fresh.add(s.key) }
        buffers = fresh
        for (key, id) in ids.sorted(by: { $0.value < $1.value }) { try writeDefinition(id: id, key: key.key) }
        // The old log is deleted once its segment is written: create records still waiting for
        // their catalog batch go into the new log first.
        for body in loggedCreates?.snapshot() ?? [] { try logCreate(body) }
        let group = DispatchGroup()
        group.enter()
        let job = UncheckedBox((oldBuffers, old, oldCommits, self))
        let failure = cutFailure
        cutter.async {
            let (buffers, log, commits, writer) = job.value
            do throws(StrataError) {
                try writer.writeSegment(of: log, buffers: buffers, commits: commits)
                try log.remove()
            } catch {
                // Leave the log for recovery by the next process that opens the store.
                log.abandon()
                failure.set(error)
            }
            group.leave()
        }
        pendingCut = group
        if wait { try finishCut() }
    }

    /// Waits for the background cut, if any, and reports its failure.
    func finishCut() throws(StrataError) {
        if let g = pendingCut {
            g.wait()
            pendingCut = nil
        }
        if let e = cutFailure.take() { throw e }
    }

    /// Makes everything logged so far survive power loss.
    func sync() throws(StrataError) {
        try finishCut()
        try wal.sync()
    }

    /// Cuts the final segment and deletes the log.
    /// On failure (a full disk) the log is left unlocked for the next opening to recover.
    func close() throws(StrataError) {
        do throws(StrataError) {
            try finishCut()
            try writeSegment(of: wal, buffers: buffers, commits: commits)
            try wal.remove()
        } catch {
            wal.abandon()
            throw error
        }
    }

    /// Writes the segment of a log no longer written to: its batch keys first, then its points,
    /// with the rewinds recorded up to the segment's rewind epoch applied. When no rewind of the
    /// catalog falls within the log's life the buffers are written as they are; otherwise the
    /// log is replayed, leaving out what those rewinds hide.
    private func writeSegment(of log: WriteAheadLog, buffers: SeriesBuffers, commits: [BatchCommit]) throws(StrataError) {
        let epoch = try RewindEpoch.fix(paths, cutCatalog)
        let meta = SegmentMeta(
            writer: writerId, generation: log.generation, firstSequence: log.createdNs,
            lastSequence: Clock.nanoseconds(), replaces: [], rewindEpoch: epoch)
        let path = paths.segment(StorePaths.segmentName(writer: writerId, generation: log.generation))
        try BatchKeys.write(commits, writer: writerId, generation: log.generation, paths: paths)
        let runs = Set(buffers.series.map(\.key.run))
        let catalog = cutCatalog
        let within = runs.contains { run in
            catalog.rewinds(of: run).contains { $0.sequence > log.createdNs && $0.sequence <= epoch }
        }
        if !within {
            try buffers.writeSegment(path: path, tmpDir: paths.tmp, meta: meta)
            return
        }
        var scanner = try LogScanner(bytes: log.written, path: log.path)
        var replay = LogReplay(rewinds: { catalog.rewinds(of: $0) }, epoch: epoch)
        replay.run(&scanner, path: log.path)
        if let damage = replay.damage { throw StrataError(.io, "cannot replay the log being cut: \(damage)", path: log.path) }
        try replay.buffers.writeSegment(path: path, tmpDir: paths.tmp, meta: meta)
    }

    var pendingBytes: Int { buffers.pendingBytes }
}

/// A series key with its hash computed once: the writer's table of series (50,000 in a bulk
/// import of short runs) rehashes integers, not run ids and names, each time it grows.
private struct HashedKey: Hashable {
    let key: SeriesKey
    let hash: Int
    init(_ key: SeriesKey) {
        self.key = key
        hash = key.hashValue
    }
    static func == (a: HashedKey, b: HashedKey) -> Bool { a.hash == b.hash && a.key == b.key }
    func hash(into h: inout Hasher) { h.combine(hash) }
}

/// An error handed from a background job to the thread that waits for it.
final class FailureBox: @unchecked Sendable {
    // @unchecked Sendable: `error` is only touched under `lock`.
    private let lock = Lock()
    private var error: StrataError?
    func set(_ e: StrataError) { lock.withLock { error = e } }
    func take() -> StrataError? {
        lock.withLock {
            defer { error = nil }; return error
        }
    }
}

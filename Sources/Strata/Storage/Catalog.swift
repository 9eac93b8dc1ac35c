import StrataCodecs

/// The run catalog: an append-only file of run records (`catalog.log`) shared by every process.
///
/// Each record is written with one `write` on an `O_APPEND` descriptor, so records of concurrent
/// writers never interleave; a torn record at the end (a writer killed mid-write) fails its
/// checksum and is ignored. Readers replay the file and keep the latest state of each run.
/// Byte layout: `docs/FORMAT.md`, "Catalog".
struct CatalogRecord {
    enum Kind: UInt8 {
        case create = 1, params = 2, tags = 3, metadata = 4, status = 5, rewind = 6
        /// A fork: the run's parent and the parent's step it inherits up to (`Forks.swift`).
        case fork = 8
        // Run management (issue 15; RunManagement.swift, CatalogManagement.swift).
        case state = 9, rename = 10, annotate = 11, tagEdit = 12, artifact = 13, deployment = 14
    }
    var kind: Kind
    var run: RunID
    var body: [UInt8]
}

final class Catalog {
    static let magic: UInt32 = 0x5254_5343  // "CSTR" little-endian
    static let headerSize = 16

    let path: String
    /// `catalog.ckpt` beside the log.
    let checkpointPath: String
    /// The checkpoint the state starts from (nil: the log is read from its beginning).
    private(set) var base: CatalogCheckpoint?
    /// The whole current state of every run that records after the checkpoint touched (every run,
    /// when there is no checkpoint).
    private var overlay: [RunID: RunInfo] = [:]
    /// Runs created after the checkpoint, by the name of their first create record.
    private var overlayNames: [String: [RunID]] = [:]
    /// Runs created by this process whose create records are not written yet (see `deferCreate`).
    private var pending: [RunID: RunInfo] = [:]
    /// Their create records, encoded once.
    private var pendingRecords: [RunID: CatalogRecord] = [:]
    private var pendingOrder: [RunID] = []
    /// Byte ranges that failed their checksum in the middle of the file (not a torn tail).
    private(set) var damaged: [(offset: Int, reason: String)] = []
    private var readOffset = 0
    /// Records applied after the checkpoint (all records when there is none): how long the tail is.
    private(set) var tailRecords = 0
    /// Why the checkpoint was not used or was given up (the log was read from its beginning).
    private(set) var checkpointProblem: String?
    private var checkpointTried = false
    /// A checkpoint read that failed while records were applied (handled after the scan).
    private var failedCheckpointRead: StrataError?
    /// Keeps only what rewinds need (each run's rewinds; other fields empty): the catalog a log
    /// cut reads, without parsing every run's params.
    let rewindsOnly: Bool
    /// Whether to start from `catalog.ckpt` (verify replays the whole log without it).
    let useCheckpoint: Bool
    /// Run management: deleted runs (hidden from listings, still readable by id) and runs purged
    /// by compaction (gone). See CatalogManagement.swift.
    var deletedIDs = Set<RunID>()
    var purgedIDs = Set<RunID>()
    /// zstd contexts for packed records (made when first needed).
    private lazy var zstd = CatalogZstd()
    /// The last reference body read from the log for packed records (offset of its record).
    private var referenceCache: (offset: Int, body: [UInt8])?
    /// This process's reference for the packed records it writes: the offset and body of the last
    /// plain `create` record it wrote, and how many records were packed against it since.
    private var ownReference: (offset: Int, body: [UInt8], uses: Int)?
    /// Whether appends may write packed records (false: only plain records, as releases before
    /// packed records wrote; tests of older stores use it).
    var writesPackedRecords = true

    init(path: String, rewindsOnly: Bool = false, useCheckpoint: Bool = true) {
        self.path = path
        self.checkpointPath = Catalog.checkpointPath(forLog: path)
        self.rewindsOnly = rewindsOnly
        self.useCheckpoint = useCheckpoint
    }

    static func checkpointPath(forLog path: String) -> String {
        (path.hasSuffix(".log") ? String(path.dropLast(4)) : path) + ".ckpt"
    }

    /// Reads records appended since the last call.
    func refresh() throws(StrataError) {
        if useCheckpoint && !checkpointTried && readOffset == 0 {
            checkpointTried = true
            do {
                if let ck = try CatalogCheckpoint(path: checkpointPath, logPath: path) {
                    base = ck
                    readOffset = ck.logLength
                    deletedIDs = ck.deletedIDs()
                }
            } catch {
                checkpointProblem = error.message
            }
        }
        guard Sys.kind(path) == .file else { return }
        let fd = try Sys.open(path, .readOnly)
        defer { Sys.close(fd) }
        let size = try Sys.fileSize(fd, path)
        guard size > readOffset else { return }
        var buf = [UInt8](repeating: 0, count: size - readOffset)
        let start = readOffset
        let n = try Sys.pread(fd, into: &buf, at: start, path)
        let consumed = try ByteView.with(buf) { (b) throws(StrataError) in try scan(b[0..<n], base: start) }
        readOffset += consumed
        if let failure = failedCheckpointRead { abandonCheckpoint(failure) }
    }

    /// Gives up a checkpoint found damaged while reading it: the state is rebuilt from the whole log.
    private func abandonCheckpoint(_ error: StrataError) {
        checkpointProblem = error.message
        failedCheckpointRead = nil
        base = nil
        overlay = [:]
        overlayNames = [:]
        deletedIDs = []
        purgedIDs = []
        damaged = []
        readOffset = 0
        tailRecords = 0
        try? refresh()
    }

    // MARK: state

    /// A run holding only its id and rewinds (the state a `rewindsOnly` catalog keeps).
    static func skeleton(_ id: RunID, rewinds: [RunInfo.Rewind]) -> RunInfo {
        RunInfo(
            id: id, name: "", project: "", status: .running, createdMs: 0, endedMs: nil,
            params: [:], tags: [], metadata: [:], parent: nil, rewinds: rewinds)
    }

    /// The committed state of a run (checkpoint, then tail), without runs not yet written.
    private func committed(_ id: RunID) throws(StrataError) -> RunInfo? {
        if let info = overlay[id] { return info }
        guard let base, let i = base.index(of: id) else { return nil }
        return try base.info(at: i, rewindsOnly: rewindsOnly)
    }

    /// Runs `body`, and when it fails on a damaged checkpoint, gives the checkpoint up and runs it again.
    private func reading<T>(_ body: () throws(StrataError) -> T) -> T? {
        do { return try body() } catch {
            abandonCheckpoint(error)
            return try? body()
        }
    }

    /// A run's current state (runs this process created but has not written yet included).
    func info(_ id: RunID) -> RunInfo? {
        if let p = pending[id] { return p }
        if purgedIDs.contains(id) { return nil }
        return reading { () throws(StrataError) in try committed(id) } ?? nil
    }

    /// Segment files whose runs all have records (from the checkpoint read; empty without one).
    var checkedSegments: Set<String> { base?.checkedSegments ?? [] }

    /// Whether the catalog has run `id` (without decoding it).
    func contains(_ id: RunID) -> Bool { purgedIDs.contains(id) || pending[id] != nil || overlay[id] != nil || base?.index(of: id) != nil }

    /// A run's rewinds (cheaper than `info` on a checkpointed run).
    func rewinds(of id: RunID) -> [RunInfo.Rewind] {
        if let info = overlay[id] { return info.rewinds }
        guard let base, let i = base.index(of: id) else { return [] }
        return reading { () throws(StrataError) in try base.rewinds(at: i) } ?? []
    }

    /// What a lineage read needs of a run: its parent, fork step and rewinds.
    struct ForkLink {
        var parent: RunID?
        var forkStep: Int64?
        var rewinds: [RunInfo.Rewind]
    }

    /// A run's parent, fork step and rewinds (cheaper than `info` on a checkpointed run); nil for
    /// an unknown run.
    func forkLink(of id: RunID) -> ForkLink? {
        if let p = pending[id] { return ForkLink(parent: p.parent, forkStep: p.forkStep, rewinds: p.rewinds) }
        if purgedIDs.contains(id) { return nil }
        if let info = overlay[id] { return ForkLink(parent: info.parent, forkStep: info.forkStep, rewinds: info.rewinds) }
        guard let base, let i = base.index(of: id) else { return nil }
        if rewindsOnly { return ForkLink(parent: nil, forkStep: nil, rewinds: rewinds(of: id)) }
        return reading { () throws(StrataError) in try base.forkLink(at: i) }
    }

    /// Number of runs (deleted runs not counted).
    var count: Int {
        var n = base?.count ?? 0
        for id in overlay.keys where base?.index(of: id) == nil { n += 1 }
        return n + pending.count - hiddenCount
    }

    /// Every run id, in id order (oldest first); deleted runs only with `includingDeleted`.
    func ids(includingDeleted: Bool = false) -> [RunID] {
        let all = allIDs()
        return includingDeleted ? all.filter { !purgedIDs.contains($0) } : visible(all)
    }

    /// Every run id the state holds, deleted and purged runs included.
    private func allIDs() -> [RunID] {
        var extra = pendingOrder
        for id in overlay.keys where base?.index(of: id) == nil { extra.append(id) }
        extra.sort()
        guard let base else { return extra }
        var out: [RunID] = []
        out.reserveCapacity(base.count + extra.count)
        var j = 0
        for i in 0..<base.count {
            let id = base.id(at: i)
            while j < extra.count && extra[j] < id { out.append(extra[j]); j += 1 }
            out.append(id)
        }
        out += extra[j...]
        return out
    }

    /// Every run whose status is running (without decoding the others).
    func runningRuns() -> [RunInfo] {
        var out = pending.values.filter { $0.status == .running }
        for info in overlay.values where info.status == .running { out.append(info) }
        if let base {
            for i in base.runningIndexes() where overlay[base.id(at: i)] == nil {
                if let info = info(base.id(at: i)), info.status == .running { out.append(info) }
            }
        }
        return out
    }

    /// The latest rewind sequence of any run (0 when none).
    func latestRewindSequence() -> Int64 {
        var latest: Int64 = 0
        for id in ids(includingDeleted: true) { for r in rewinds(of: id) { latest = max(latest, r.sequence) } }
        return latest
    }

    /// Every run by id (decodes every run: for tests and tools, not for queries).
    var runs: [RunID: RunInfo] { Dictionary(uniqueKeysWithValues: allRuns().map { ($0.id, $0) }) }

    /// The first `limit` run ids in id order, reading only those of the checkpoint.
    func firstIDs(_ limit: Int) -> [RunID] {
        var extra = pendingOrder
        for id in overlay.keys where base?.index(of: id) == nil { extra.append(id) }
        extra.sort()
        let hidden = hiddenCount
        var out = Array(extra.prefix(limit + hidden))
        if let base { out += (0..<min(limit + hidden, base.count)).map(base.id(at:)) }
        return Array(visible(out.sorted()).prefix(limit))
    }

    /// Every run, in id order (the checkpoint's runs read by position, without id lookups);
    /// deleted runs only with `includingDeleted`.
    func allRuns(includingDeleted: Bool = false) -> [RunInfo] {
        let all = allRunsUnfiltered()
        if deletedIDs.isEmpty && purgedIDs.isEmpty { return all }
        return all.filter { !purgedIDs.contains($0.id) && (includingDeleted || !deletedIDs.contains($0.id)) }
    }

    private func allRunsUnfiltered() -> [RunInfo] {
        guard let base else { return allIDs().compactMap(info) }
        var extra = pendingOrder
        for id in overlay.keys where base.index(of: id) == nil { extra.append(id) }
        extra.sort()
        var out: [RunInfo] = []
        out.reserveCapacity(base.count + extra.count)
        var j = 0
        for i in 0..<base.count {
            let id = base.id(at: i)
            while j < extra.count && extra[j] < id {
                if let info = info(extra[j]) { out.append(info) }
                j += 1
            }
            if let info = overlay[id] {
                out.append(info)
            } else if let info = reading({ () throws(StrataError) in try base.info(at: i, rewindsOnly: rewindsOnly) }) {
                out.append(info)
            }
            if self.base == nil { return allIDs().compactMap(info) }  // the checkpoint was given up: read again
        }
        for id in extra[j...] { if let info = info(id) { out.append(info) } }
        return out
    }

    /// Every run `allRuns()` lists, in id order, each with only the params named in `only` (runs
    /// read from the checkpoint; others whole), and `full` decoding its whole record: a filter
    /// decodes the params it tests, and the whole record only of the runs it keeps. False (after
    /// calling `body` for some runs or none) when there is no checkpoint or it had to be given up:
    /// the caller then reads `allRuns()`.
    func eachRun(only: Set<String>, _ body: (_ run: RunInfo, _ full: () -> RunInfo?) -> Void) -> Bool {
        guard let base, !rewindsOnly else { return false }
        var extra = pendingOrder
        for id in overlay.keys where base.index(of: id) == nil { extra.append(id) }
        extra.sort()
        let hiding = !deletedIDs.isEmpty || !purgedIDs.isEmpty
        func shown(_ id: RunID) -> Bool { !hiding || (!purgedIDs.contains(id) && !deletedIDs.contains(id)) }
        func whole(_ id: RunID) {
            if shown(id), let info = info(id) { body(info, { info }) }
        }
        var failed = false
        var j = 0
        for i in 0..<base.count {
            let id = base.id(at: i)
            while j < extra.count && extra[j] < id {
                whole(extra[j])
                j += 1
            }
            guard shown(id) else { continue }
            if let info = overlay[id] {
                body(info, { info })
                continue
            }
            do throws(StrataError) {
                let partial = try base.info(at: i, only: only)
                body(partial) { () -> RunInfo? in
                    do throws(StrataError) { return try base.info(at: i) } catch {
                        failed = true
                        return nil
                    }
                }
            } catch {
                abandonCheckpoint(error)
                return false
            }
            if failed {
                abandonCheckpoint(StrataError.corrupt("catalog checkpoint: run \(id.text) does not decode", path: checkpointPath))
                return false
            }
        }
        for id in extra[j...] { whole(id) }
        return true
    }

    /// The ids of the runs `eachRun` walks that a filter keeps, oldest first. The checkpoint's
    /// runs are tested together over param columns: `rows(active, column, ids)` gets which
    /// checkpoint rows are live, the column of each param key in `paramKeys`
    /// (`CatalogCheckpoint.paramColumns`, nil where a run lacks the key) and the rows' run ids, and
    /// answers which rows match. Runs of the overlay and the tail are tested whole with `whole`.
    /// Nil when the checkpoint cannot serve (none, read for rewinds only, a record that does not
    /// decode): the caller walks `eachRun`.
    ///
    /// The filter itself stays with the caller (the query layer); the catalog only lays out rows.
    func matchingIDs(
        paramKeys: Set<String>,
        rows: (_ active: [Bool], _ column: (String) -> [ParamValue?], _ ids: [RunID]) -> [Bool],
        whole: (RunInfo) -> Bool
    ) -> [RunID]? {
        guard let base, !rewindsOnly else { return nil }
        let columns: [String: [ParamValue?]]
        do throws(StrataError) { columns = try base.paramColumns(paramKeys) } catch {
            abandonCheckpoint(error)
            return nil
        }
        var extra = pendingOrder
        for id in overlay.keys where base.index(of: id) == nil { extra.append(id) }
        extra.sort()
        let hiding = !deletedIDs.isEmpty || !purgedIDs.isEmpty
        let ids = base.ids
        var active = [Bool](repeating: true, count: base.count)
        for i in 0..<base.count where !overlay.isEmpty || hiding {
            let id = ids[i]
            if overlay[id] != nil || (hiding && (purgedIDs.contains(id) || deletedIDs.contains(id))) { active[i] = false }
        }
        let none = [ParamValue?](repeating: nil, count: base.count)
        let kept = rows(active, { columns[$0] ?? none }, ids)
        func wholeMatch(_ id: RunID) -> Bool {
            guard !hiding || (!purgedIDs.contains(id) && !deletedIDs.contains(id)), let info = info(id) else { return false }
            return whole(info)
        }
        var out: [RunID] = []
        var j = 0
        for i in 0..<base.count {
            let id = ids[i]
            while j < extra.count && extra[j] < id {
                if wholeMatch(extra[j]) { out.append(extra[j]) }
                j += 1
            }
            if kept[i] || (overlay[id] != nil && wholeMatch(id)) { out.append(id) }
        }
        for id in extra[j...] where wholeMatch(id) { out.append(id) }
        return out
    }

    /// The newest run (largest id) named `name`.
    func newest(named name: String) -> RunInfo? {
        var best: RunInfo?
        func consider(_ info: RunInfo?) {
            guard let info, info.name == name, info.deletedMs == nil else { return }
            if best == nil || best!.id < info.id { best = info }
        }
        for p in pending.values { consider(p) }
        for id in overlayNames[name] ?? [] { consider(overlay[id]) }
        if let base {
            for i in base.candidates(named: name) {
                let id = base.id(at: i)
                if let o = overlay[id] { consider(o); continue }
                guard (reading { () throws(StrataError) in try base.name(at: i) }) == name else { continue }
                consider(info(id))
            }
        }
        return best
    }

    // MARK: runs written later

    /// Keeps a new run's create record to be written with the next append (`flushPending` or any
    /// other record): its state is visible to this process at once, to others once written.
    func deferCreate(_ info: RunInfo) throws(StrataError) {
        let record = Catalog.createRecord(info)
        try Catalog.check(record)
        pendingRecords[info.id] = record
        if pending.updateValue(info, forKey: info.id) == nil { pendingOrder.append(info.id) }
    }

    /// Number of runs created but not written yet.
    var pendingCount: Int { pending.count }

    /// Whether `id` is a run created but not written yet.
    func isPending(_ id: RunID) -> Bool { pending[id] != nil }

    /// Called once the deferred create records are written (the store forgets its logged copies,
    /// `LoggedCreates`).
    var pendingWritten: (() -> Void)?

    /// The plain body of a run's deferred create record (to log before its first point), or nil
    /// when the run is not waiting.
    func pendingBody(_ id: RunID) -> [UInt8]? { pendingRecords[id].map(Catalog.plainBody) }

    /// A plain record's body: u8 kind, string run id, then the kind's fields (docs/FORMAT.md).
    static func plainBody(_ rec: CatalogRecord) -> [UInt8] {
        var body = ByteWriter()
        body.u8(rec.kind.rawValue)
        body.string(rec.run.text)
        body.raw(rec.body)
        return body.bytes
    }

    /// The record of a plain body (`plainBody`), or nil when it does not parse as one.
    static func record(plainBody b: ByteView) -> CatalogRecord? {
        var r = ByteReader(b, path: "")
        guard let code = try? r.u8("record kind"), let kind = CatalogRecord.Kind(rawValue: code),
            let text = try? r.string("run id", max: 64), let run = RunID(text)
        else { return nil }
        return CatalogRecord(kind: kind, run: run, body: b[r.offset..<b.count].array)
    }

    /// Writes the deferred create records (one write); `sync` adds an fsync.
    func flushPending(sync: Bool) throws(StrataError) {
        if pending.isEmpty && !sync { return }
        try append([], sync: sync)
    }

    // MARK: checkpoints

    /// Writes `catalog.ckpt` with the state read so far (tmp file, fsync, rename, directory fsync)
    /// and reads on from it. Returns false when there was nothing to write.
    @discardableResult
    /// `segments`: live segment files and their runs; those whose every run is in the checkpoint
    /// are recorded as checked for stand-ins (docs/FORMAT.md, "Catalog checkpoint").
    func writeCheckpoint(tmpDir: String, segments: [(name: String, runs: [RunID])] = []) throws(StrataError) -> Bool {
        precondition(!rewindsOnly)
        guard readOffset > 0 else { return false }
        // Nothing new to record: no tail, and no live segment to add to the checked ones.
        if tailRecords == 0, let base, segments.allSatisfy({ base.checkedSegments.contains($0.name) || !$0.runs.allSatisfy(contains) }) {
            return false
        }
        var runs: [RunInfo] = []
        runs.reserveCapacity(count)
        let pendingIDs = Set(pendingOrder)
        for id in ids(includingDeleted: true) where !pendingIDs.contains(id) {
            guard let info = reading({ () throws(StrataError) in try committed(id) }) ?? nil else { continue }
            runs.append(info)
        }
        let covered = readOffset
        let written = Set(runs.map(\.id))
        let checked = segments.filter { $0.runs.allSatisfy(written.contains) }.map(\.name)
        guard
            let bytes = CatalogCheckpoint.encode(
                runs, logLength: covered, logProbeHash: try Catalog.probeHash(path, covered), checkedSegments: checked)
        else { return false }
        try Sys.writeAtomically(bytes, to: checkpointPath, tmpDir: tmpDir)
        // Read on from it (unless another process replaced it meanwhile).
        if let ck = try? CatalogCheckpoint(path: checkpointPath, logPath: path), ck.logLength == covered, covered == readOffset {
            base = ck
            overlay = [:]
            overlayNames = [:]
            deletedIDs = ck.deletedIDs()
            purgedIDs = []
            tailRecords = 0
            checkpointProblem = nil
        }
        return true
    }

    /// xxh64 of the (up to 64) bytes of the log before `length`: ties a checkpoint to its log.
    static func probeHash(_ logPath: String, _ length: Int) throws(StrataError) -> UInt64 {
        let fd = try Sys.open(logPath, .readOnly)
        defer { Sys.close(fd) }
        let probe = min(length, CatalogCheckpoint.logProbe)
        var buf = [UInt8](repeating: 0, count: probe)
        guard try Sys.pread(fd, into: &buf, at: length - probe, logPath) == probe else {
            throw StrataError.corrupt("catalog.log is shorter than \(length) bytes", path: logPath, offset: length)
        }
        return Checksum.xxh64(buf)
    }

    /// What `verify` finds wrong with the checkpoint: unreadable bytes, or a state that differs
    /// from replaying the whole log.
    func checkpointProblems() -> [String] {
        guard useCheckpoint, Sys.kind(checkpointPath) == .file else { return [] }
        var problems: [String] = []
        if let checkpointProblem { problems.append(checkpointProblem) }
        guard let ck = try? CatalogCheckpoint(path: checkpointPath, logPath: path) else { return problems }
        do { try ck.checkAll() } catch {
            if !problems.contains(error.message) { problems.append(error.message) }
            return problems
        }
        // The checkpoint plus its tail must equal a replay of the log up to the same offset.
        let fromCheckpoint = Catalog(path: path)
        let fromLog = Catalog(path: path, useCheckpoint: false)
        for _ in 0..<3 {
            guard (try? fromCheckpoint.refresh()) != nil, (try? fromLog.refresh()) != nil else { return problems }
            if fromCheckpoint.readOffset == fromLog.readOffset { break }
        }
        guard fromCheckpoint.readOffset == fromLog.readOffset, fromCheckpoint.base != nil else { return problems }
        let a = fromCheckpoint.allRuns(includingDeleted: true), b = fromLog.allRuns(includingDeleted: true)
        if a != b {
            let diff = zip(a, b).first { $0 != $1 }.map { "run \($0.0.id.text)" } ?? "\(a.count) runs, the log has \(b.count)"
            problems.append(
                "catalog checkpoint disagrees with catalog.log (\(diff)); the log is read instead once the checkpoint is rewritten or removed")
        }
        return problems
    }

    /// Refuses, before anything is written, a record a reader could not take back.
    static func check(_ rec: CatalogRecord) throws(StrataError) {
        let size = 1 + 1 + rec.run.text.utf8.count + rec.body.count
        guard size <= Limits.maxCatalogRecordBytes else {
            throw .invalid(
                "run record of \(size) bytes (params, tags and metadata of one call); the limit is \(Limits.maxCatalogRecordBytes) bytes")
        }
    }

    /// Parses whole records; returns how many bytes were consumed (a torn tail is left for later).
    ///
    /// The rule (docs/FORMAT.md, "Catalog"): a record is *accepted* only when its magic, its length
    /// (at most `maxBodyLength`, inside the bytes read) and its checksum all agree, so a stored length
    /// is used only after the checksum vouches for it and damage cannot steer the reader. Bytes at
    /// `pos` that do not start an accepted record are damage when an accepted record starts somewhere
    /// after them (skipped up to it and reported), and otherwise a write still in progress or cut
    /// short: the scan stops there and the next refresh retries from the same offset.
    private func scan(_ b: ByteView, base: Int) throws(StrataError) -> Int {
        var pos = 0
        while b.count - pos >= Catalog.headerSize {
            if let len = Catalog.acceptedLength(b, at: pos) {
                let body = b[(pos + Catalog.headerSize)..<(pos + Catalog.headerSize + len)]
                do {
                    if len > 0 && body[0] == Catalog.packedKind {
                        try applyPacked(body, at: base + pos, buffer: b, bufferBase: base)
                    } else {
                        try apply(body, offset: base + pos + Catalog.headerSize)
                    }
                } catch {
                    damaged.append((base + pos, error.message))
                }
                pos += Catalog.headerSize + len
                continue
            }
            guard let next = Catalog.nextAccepted(b, after: pos) else { break }  // torn or unfinished tail
            let magicOK = b.load(UInt32.self, at: pos) == Catalog.magic
            damaged.append(
                (
                    base + pos,
                    magicOK
                        ? "catalog record checksum mismatch (\(next - pos) bytes skipped to the next valid record)"
                        : "catalog bytes without a record's magic number (\(next - pos) bytes skipped to the next valid record)"
                ))
            pos = next
        }
        return pos
    }

    /// Largest accepted record body. Appends of larger records are refused, and a stored length
    /// above it is damage.
    static let maxBodyLength = 16 << 20

    /// The body length of the record starting at `pos` when it is accepted (magic, bounded length
    /// inside `b`, checksum), else nil.
    static func acceptedLength(_ b: ByteView, at pos: Int) -> Int? {
        guard b.count - pos >= headerSize, b.load(UInt32.self, at: pos) == magic else { return nil }
        let len = Int(b.load(UInt32.self, at: pos + 4))
        guard len <= maxBodyLength, len <= b.count - pos - headerSize else { return nil }
        let sum = b.load(UInt64.self, at: pos + 8)
        return b[(pos + headerSize)..<(pos + headerSize + len)].xxh64() == sum ? len : nil
    }

    /// The first offset after `pos` where an accepted record starts, if any.
    static func nextAccepted(_ b: ByteView, after pos: Int) -> Int? {
        var q = pos + 1
        while b.count - q >= headerSize {
            if b.load(UInt32.self, at: q) == magic, acceptedLength(b, at: q) != nil { return q }
            q += 1
        }
        return nil
    }

    private func apply(_ body: ByteView, offset: Int) throws(StrataError) {
        var r = ByteReader(body, path: path)
        guard let kind = CatalogRecord.Kind(rawValue: try r.u8("record kind")) else {
            throw StrataError.corrupt("unknown catalog record kind", path: path, offset: offset)
        }
        let idText = try r.string("run id", max: 64)
        guard let id = RunID(idText) else { throw StrataError.corrupt("bad run id \(idText)", path: path, offset: offset) }
        tailRecords += 1
        if purgedIDs.contains(id) { return }  // reclaimed by compaction: its later records are ignored
        if kind == .create {
            let info: RunInfo
            if rewindsOnly {
                // A create replaces the whole run, its rewinds included.
                info = Catalog.skeleton(id, rewinds: [])
            } else {
                let name = try r.string("run name")
                let project = try r.string("project")
                let created = try r.i64()
                let parentText = try r.string("parent", max: 64)
                let owner = try r.string("owner", max: 256)
                let params = try ParamCoding.read(&r)
                let tagCount = try r.count("tag count", max: 1 << 16)
                var tags = Set<String>()
                for _ in 0..<tagCount { tags.insert(try r.string("tag")) }
                let meta = try ParamCoding.read(&r)
                var made = RunInfo(
                    id: id, name: name, project: project, status: .running, createdMs: created, endedMs: nil,
                    params: params, tags: tags, metadata: meta, parent: RunID(parentText), rewinds: [])
                made.owner = owner
                // A create record written again (a new start time) keeps what management recorded.
                if let old = overlay[id] ?? (base?.index(of: id) != nil ? (try? committed(id)) ?? nil : nil) {
                    made.management = old.management
                }
                info = made
            }
            if overlay[id] == nil && base?.index(of: id) == nil {
                overlayNames[info.name, default: []].append(id)
            } else if !(overlayNames[info.name]?.contains(id) ?? false) {
                overlayNames[info.name, default: []].append(id)  // created again (perhaps renamed)
            }
            overlay[id] = info
            return
        }
        if rewindsOnly && kind != .rewind { return }
        let current: RunInfo?
        do { current = try committed(id) } catch {
            failedCheckpointRead = error
            return
        }
        guard var info = current else { return }  // record for a run whose creation was lost: ignore
        switch kind {
        case .create: break
        case .params:
            info.params.merge(try ParamCoding.read(&r)) { _, new in new }
        case .metadata:
            info.metadata.merge(try ParamCoding.read(&r)) { _, new in new }
        case .tags:
            let add = try r.count("tag count", max: 1 << 16)
            for _ in 0..<add { info.tags.insert(try r.string("tag")) }
            let remove = try r.count("tag count", max: 1 << 16)
            for _ in 0..<remove { info.tags.remove(try r.string("tag")) }
        case .status:
            let code = try r.u8()
            guard let status = RunStatus(code: code) else { throw StrataError.corrupt("unknown run status \(code)", path: path, offset: offset) }
            let ended = try r.i64()
            info.status = status
            info.endedMs = status == .running ? nil : ended
            if !r.isAtEnd { info.owner = try r.string("owner", max: 256) }
        case .rewind:
            let step = try r.i64()
            let seq = try r.i64()
            info.rewinds.append(.init(step: step, sequence: seq))
        case .fork:
            try applyFork(&r, to: &info, offset: offset)
        case .state, .rename, .annotate, .tagEdit, .artifact, .deployment:
            if try applyManagement(kind, &r, to: &info, offset: offset) {
                overlay[id] = info  // purged: kept in the state only to be left out of it (see `visible`)
                purgedIDs.insert(id)
                deletedIDs.remove(id)
                return
            }
            if kind == .rename, !(overlayNames[info.name]?.contains(id) ?? false) { overlayNames[info.name, default: []].append(id) }
        }
        if info.deletedMs != nil { deletedIDs.insert(id) } else if !deletedIDs.isEmpty { deletedIDs.remove(id) }
        overlay[id] = info
    }

    /// Appends records durably enough for `kill -9` (the write returns after the kernel has them);
    /// `sync` adds an fsync for power loss.
    /// Runs created with `deferCreate` are written first, in the same write.
    func append(_ newRecords: [CatalogRecord], sync: Bool) throws(StrataError) {
        let records = pendingOrder.compactMap { pendingRecords[$0] } + newRecords
        if records.isEmpty && !sync { return }
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(records.count)
        for rec in newRecords { try Catalog.check(rec) }
        for rec in records {
            let body = Catalog.plainBody(rec)
            guard body.count <= Catalog.maxBodyLength else {
                throw StrataError(
                    .limitExceeded,
                    "catalog record for run \(rec.run.text) is \(body.count) bytes; the limit is \(Catalog.maxBodyLength) (fewer or smaller params, tags or metadata)"
                )
            }
            bodies.append(body)
        }
        let fd = try Sys.open(path, .writeOnly, [.append, .create])
        defer { Sys.close(fd) }
        // Appenders take turns (`flock`), so a failed append (a full disk) can cut its own torn
        // bytes off the end: the next record then follows the last whole one.
        try Sys.lockExclusive(fd, path)
        defer { Sys.unlock(fd) }
        let start = try Sys.fileSize(fd, path)
        // Encoded under the lock: packed records name their reference by its offset in the file.
        let (bytes, reference) = encode(bodies, at: start)
        do throws(StrataError) {
            try Sys.writeAll(fd, bytes, path)
        } catch {
            try? Sys.ftruncate(fd, start, path)
            throw error
        }
        ownReference = reference
        if sync { try Sys.fsync(fd, path) }
        let created = newRecords.isEmpty ? pendingOrder.compactMap { pending[$0] } : []
        pending = [:]
        pendingRecords = [:]
        pendingOrder = []
        pendingWritten?()
        if start == readOffset && (checkpointTried || !useCheckpoint || start == 0) {
            // Nothing was appended since this catalog last read (and nothing can be until the lock is
            // let go): what follows is what it just wrote, read from memory instead of the file.
            if !created.isEmpty && created.count == records.count && !rewindsOnly && failedCheckpointRead == nil {
                // Only this process's new runs: their state is at hand, not decoded again.
                applyWrittenCreates(created)
                readOffset += bytes.count
                return
            }
            let consumed = try ByteView.with(bytes) { (b) throws(StrataError) in try scan(b, base: start) }
            readOffset += consumed
            if let failure = failedCheckpointRead { abandonCheckpoint(failure) }
        } else {
            try refresh()
        }
    }

    /// What scanning the create records just written for `runs` (this process's deferred runs,
    /// in their order) applies, from the runs themselves: a bulk creation of thousands of runs
    /// does not decompress and decode each run's params again. Same effect as `apply` of each
    /// record (`CatalogTests` compare the two).
    private func applyWrittenCreates(_ runs: [RunInfo]) {
        for var info in runs {
            tailRecords += 1
            let id = info.id
            if purgedIDs.contains(id) { continue }
            // A create record written again (a new start time) keeps what management recorded.
            let known = overlay[id] != nil || base?.index(of: id) != nil
            if known, let old = overlay[id] ?? (try? committed(id)) ?? nil { info.management = old.management }
            if !known || !(overlayNames[info.name]?.contains(id) ?? false) { overlayNames[info.name, default: []].append(id) }
            overlay[id] = info
        }
    }

    // MARK: packed records (kind 7)

    /// The kind byte of a packed record: plain record bodies compressed together (docs/FORMAT.md,
    /// "Catalog", "Packed records").
    static let packedKind: UInt8 = 7
    /// Records packed against one reference before a writer writes a new plain reference.
    static let referenceUses = 4096
    /// Plain bytes packed into one packed record at most (its compressed body stays under
    /// `maxBodyLength`).
    static let packedInputLimit = 8 << 20

    /// A whole record (header and body) around `body`.
    static func frame(_ body: [UInt8], into w: inout ByteWriter) {
        w.u32(Catalog.magic)
        w.u32(UInt32(body.count))
        w.u64(Checksum.xxh64(body))
        w.raw(body)
    }

    /// The bytes of one append of plain record `bodies` starting at file offset `start`, and the
    /// writer's reference afterwards. A `create` is written plain when the writer has no reference
    /// (or has used it `referenceUses` times) and becomes the reference; the other records are
    /// packed, against the reference when there is one, whenever that is smaller than writing them
    /// plain.
    private func encode(_ bodies: [[UInt8]], at start: Int) -> ([UInt8], (offset: Int, body: [UInt8], uses: Int)?) {
        var w = ByteWriter()
        guard writesPackedRecords else {
            for b in bodies { Catalog.frame(b, into: &w) }
            return (w.bytes, nil)
        }
        var reference = ownReference
        var group: [[UInt8]] = []
        var groupBytes = 0
        func flushGroup() {
            defer { group = []; groupBytes = 0 }
            guard !group.isEmpty else { return }
            var plain = 0
            var inner = ByteWriter()
            for b in group {
                inner.varint(UInt64(b.count))
                inner.raw(b)
                plain += Catalog.headerSize + b.count
            }
            if inner.count <= Catalog.maxBodyLength, let packed = zstd.compress(inner.bytes, dictionary: reference?.body ?? []) {
                var body = ByteWriter()
                body.u8(Catalog.packedKind)
                body.varint(reference.map { UInt64($0.offset) + 1 } ?? 0)
                body.varint(UInt64(inner.count))
                body.raw(packed)
                if body.count + Catalog.headerSize < plain && body.count <= Catalog.maxBodyLength {
                    Catalog.frame(body.bytes, into: &w)
                    reference?.uses += group.count
                    return
                }
            }
            for b in group { Catalog.frame(b, into: &w) }
        }
        for b in bodies {
            if b.first == CatalogRecord.Kind.create.rawValue && (reference == nil || reference!.uses >= Catalog.referenceUses) {
                flushGroup()
                reference = (start + w.count, b, 0)
                Catalog.frame(b, into: &w)
                continue
            }
            if groupBytes + b.count > Catalog.packedInputLimit { flushGroup() }
            group.append(b)
            groupBytes += b.count + 4
        }
        flushGroup()
        return (w.bytes, reference)
    }

    /// Applies the records of packed record `body` (whose record starts at file offset `record`;
    /// `buffer` holds the file from `bufferBase`). Bytes that do not unpack are damage (nothing of
    /// the record applied); a packed record that unpacks but holds a bad record is damage for that
    /// record only.
    private func applyPacked(_ body: ByteView, at record: Int, buffer: ByteView, bufferBase: Int) throws(StrataError) {
        var r = ByteReader(body, path: path)
        _ = try r.u8("record kind")
        let ref = try r.varint("reference offset")
        let size = try r.length("packed length", max: Catalog.maxBodyLength)
        let frame = body[r.offset..<body.count]
        var dictionary: [UInt8] = []
        if ref > 0 {
            guard ref - 1 < UInt64(record) else {
                throw StrataError.corrupt("packed catalog record refers to offset \(ref - 1), not before it", path: path, offset: record)
            }
            dictionary = try referenceBody(at: Int(ref - 1), from: record, buffer: buffer, bufferBase: bufferBase)
        }
        guard let inner = zstd.decompress(frame, size: size, dictionary: dictionary) else {
            throw StrataError.corrupt("packed catalog record does not decompress to its \(size) bytes", path: path, offset: record)
        }
        // Split first (all or nothing), then apply each record.
        let ranges = try ByteView.with(inner) { (v) throws(StrataError) -> [Range<Int>] in
            var r = ByteReader(v, path: path)
            var out: [Range<Int>] = []
            while !r.isAtEnd {
                let n = try r.length("packed record length", max: Catalog.maxBodyLength)
                let from = r.offset
                _ = try r.bytes(n, "packed record")
                guard n > 0, v[from] != Catalog.packedKind else {
                    throw StrataError.corrupt("packed catalog record holds an empty or packed record", path: path, offset: record)
                }
                out.append(from..<(from + n))
            }
            return out
        }
        ByteView.with(inner) { v in
            for (k, range) in ranges.enumerated() {
                do throws(StrataError) { try apply(v[range], offset: record) } catch {
                    damaged.append((record, "record \(k + 1) of \(ranges.count) packed at this offset: \(error.message)"))
                }
            }
        }
    }

    /// The body of the plain record at file offset `offset` (the reference of a packed record at
    /// `from`): from the bytes being scanned when it is among them, else read from the file and
    /// checked like any record.
    private func referenceBody(at offset: Int, from: Int, buffer: ByteView, bufferBase: Int) throws(StrataError) -> [UInt8] {
        if let c = referenceCache, c.offset == offset { return c.body }
        func bad() -> StrataError {
            StrataError.corrupt("packed catalog record refers to offset \(offset), where no plain record is accepted", path: path, offset: from)
        }
        var body: [UInt8]
        if offset >= bufferBase {
            guard let len = Catalog.acceptedLength(buffer, at: offset - bufferBase) else { throw bad() }
            body = buffer[(offset - bufferBase + Catalog.headerSize)..<(offset - bufferBase + Catalog.headerSize + len)].array
        } else {
            let fd = try Sys.open(path, .readOnly)
            defer { Sys.close(fd) }
            var header = [UInt8](repeating: 0, count: Catalog.headerSize)
            guard try Sys.pread(fd, into: &header, at: offset, path) == Catalog.headerSize else { throw bad() }
            let (magic, len, sum) = ByteView.with(header) { h in
                (h.load(UInt32.self, at: 0), Int(h.load(UInt32.self, at: 4)), h.load(UInt64.self, at: 8))
            }
            guard magic == Catalog.magic, len <= Catalog.maxBodyLength, offset + Catalog.headerSize + len <= from else { throw bad() }
            body = [UInt8](repeating: 0, count: len)
            guard try Sys.pread(fd, into: &body, at: offset + Catalog.headerSize, path) == len, Checksum.xxh64(body) == sum else { throw bad() }
        }
        guard let kind = body.first, kind != Catalog.packedKind else { throw bad() }
        referenceCache = (offset, body)
        return body
    }

    // MARK: record bodies

    static func createRecord(_ info: RunInfo) -> CatalogRecord {
        var w = ByteWriter()
        w.string(info.name)
        w.string(info.project)
        w.i64(info.createdMs)
        w.string(info.parent?.text ?? "")
        w.string(info.owner)
        ParamCoding.write(info.params, into: &w)
        w.varint(UInt64(info.tags.count))
        for t in info.tags.sorted() { w.string(t) }
        ParamCoding.write(info.metadata, into: &w)
        return CatalogRecord(kind: .create, run: info.id, body: w.bytes)
    }

    static func paramsRecord(_ run: RunID, _ params: [String: ParamValue], metadata: Bool = false) -> CatalogRecord {
        var w = ByteWriter()
        ParamCoding.write(params, into: &w)
        return CatalogRecord(kind: metadata ? .metadata : .params, run: run, body: w.bytes)
    }

    static func tagsRecord(_ run: RunID, add: [String], remove: [String]) -> CatalogRecord {
        var w = ByteWriter()
        w.varint(UInt64(add.count)); for t in add { w.string(t) }
        w.varint(UInt64(remove.count)); for t in remove { w.string(t) }
        return CatalogRecord(kind: .tags, run: run, body: w.bytes)
    }

    /// `owner`: the writer that resumes the run (status running).
    static func statusRecord(_ run: RunID, _ status: RunStatus, at ms: Int64, owner: String? = nil) -> CatalogRecord {
        var w = ByteWriter()
        w.u8(status.code)
        w.i64(ms)
        if let owner { w.string(owner) }
        return CatalogRecord(kind: .status, run: run, body: w.bytes)
    }

    static func rewindRecord(_ run: RunID, step: Int64, sequence: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.i64(step)
        w.i64(sequence)
        return CatalogRecord(kind: .rewind, run: run, body: w.bytes)
    }
}

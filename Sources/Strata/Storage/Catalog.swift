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
    }
    var kind: Kind
    var run: RunID
    var body: [UInt8]
}

final class Catalog {
    static let magic: UInt32 = 0x5254_5343  // "CSTR" little-endian
    static let headerSize = 16

    let path: String
    private(set) var runs: [RunID: RunInfo] = [:]
    private(set) var byName: [String: [RunID]] = [:]
    /// Byte ranges that failed their checksum in the middle of the file (not a torn tail).
    private(set) var damaged: [(offset: Int, reason: String)] = []
    private var readOffset = 0
    /// Keeps only what rewinds need (each run's rewinds; other fields empty): the catalog a log
    /// cut reads, without parsing every run's params.
    let rewindsOnly: Bool

    init(path: String, rewindsOnly: Bool = false) {
        self.path = path
        self.rewindsOnly = rewindsOnly
    }

    /// Reads records appended since the last call.
    func refresh() throws(StrataError) {
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
                    try apply(body, offset: base + pos + Catalog.headerSize)
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
        if rewindsOnly && kind != .rewind {
            // A create replaces the whole run, its rewinds included.
            if kind == .create {
                runs[id] = RunInfo(
                    id: id, name: "", project: "", status: .running, createdMs: 0, endedMs: nil,
                    params: [:], tags: [], metadata: [:], parent: nil, rewinds: [])
            }
            return
        }
        if kind == .create {
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
            var info = RunInfo(
                id: id, name: name, project: project, status: .running, createdMs: created, endedMs: nil,
                params: params, tags: tags, metadata: meta, parent: RunID(parentText), rewinds: [])
            info.owner = owner
            if runs[id] == nil { byName[name, default: []].append(id) }
            runs[id] = info
            return
        }
        guard var info = runs[id] else { return }  // record for a run whose creation was lost: ignore
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
        }
        runs[id] = info
    }

    /// Appends records durably enough for `kill -9` (the write returns after the kernel has them);
    /// `sync` adds an fsync for power loss.
    func append(_ records: [CatalogRecord], sync: Bool) throws(StrataError) {
        var w = ByteWriter()
        for rec in records {
            // What a reader cannot take back is refused before anything is written.
            let size = 1 + 1 + rec.run.text.utf8.count + rec.body.count
            guard size <= Limits.maxCatalogRecordBytes else {
                throw .invalid(
                    "run record of \(size) bytes (params, tags and metadata of one call); the limit is \(Limits.maxCatalogRecordBytes) bytes")
            }
        }
        for rec in records {
            var body = ByteWriter()
            body.u8(rec.kind.rawValue)
            body.string(rec.run.text)
            body.raw(rec.body)
            guard body.count <= Catalog.maxBodyLength else {
                throw StrataError(
                    .limitExceeded,
                    "catalog record for run \(rec.run.text) is \(body.count) bytes; the limit is \(Catalog.maxBodyLength) (fewer or smaller params, tags or metadata)"
                )
            }
            w.u32(Catalog.magic)
            w.u32(UInt32(body.count))
            w.u64(Checksum.xxh64(body.bytes))
            w.raw(body.bytes)
        }
        let fd = try Sys.open(path, .writeOnly, [.append, .create])
        defer { Sys.close(fd) }
        // Appenders take turns (`flock`), so a failed append (a full disk) can cut its own torn
        // bytes off the end: the next record then follows the last whole one.
        try Sys.lockExclusive(fd, path)
        defer { Sys.unlock(fd) }
        let start = try Sys.fileSize(fd, path)
        do throws(StrataError) {
            try Sys.writeAll(fd, w.bytes, path)
        } catch {
            try? Sys.ftruncate(fd, start, path)
            throw error
        }
        if sync { try Sys.fsync(fd, path) }
        try refresh()
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

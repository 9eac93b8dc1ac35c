import StrataCodecs

/// `catalog.ckpt`: the state of every run as of a prefix of `catalog.log`, indexed and read in
/// place from a memory map, so opening a store reads only the records appended after that prefix
/// (the tail) instead of the whole history. Byte layout: `docs/FORMAT.md`, "Catalog checkpoint".
///
/// Opening checks the header, the tables (run index, name index, pool offsets) against their
/// checksums and the log prefix the checkpoint covers; a run's bytes are checked and decoded only
/// when that run is read, so listing five runs of 100,000 decodes five. Anything that does not
/// check out throws `.corrupt`: the catalog then reads `catalog.log` from its beginning instead.
final class CatalogCheckpoint {
    static let magic: [UInt8] = Array("STRATCKP".utf8)
    /// Version written (3: per-run fork steps, flag bit 6, and management fields, flag bit 7, then
    /// the deleted-runs table and the checked-segments section after the run data; 2: run records
    /// may take their param keys from the pool, flag bit 5); versions 1 to 3 are read.
    static let version: UInt32 = 3
    static let headerSize = 88
    static let entrySize = 25
    static let nameEntrySize = 8
    /// How many bytes before the covered length are hashed to tie the checkpoint to its log.
    static let logProbe = 64

    let path: String
    let file: MappedFile
    /// Bytes of `catalog.log` whose records are applied here.
    let logLength: Int
    let count: Int
    private let poolCount: Int
    private let runningCount: Int
    private let runTable: Int, nameTable: Int, runningTable: Int, poolTable: Int, poolStart: Int, dataStart: Int, end: Int
    private var poolChecked = false
    private var projectCache: [Int: String] = [:]
    private var tagCache: [Int: Set<String>] = [:]
    private var metaCache: [Int: [String: ParamValue]] = [:]
    private var keysCache: [Int: [String]] = [:]
    /// Version 3: indexes of deleted runs (run management; see `readManagementTable`).
    private var deletedIndexes: [Int] = []

    /// Maps and checks `path` against the log `logPath`; nil when there is no checkpoint.
    init?(path: String, logPath: String) throws(StrataError) {
        guard Sys.kind(path) == .file else { return nil }
        self.path = path
        file = try MappedFile(path: path)
        let v = file.view
        func bad(_ why: String) -> StrataError { StrataError.corrupt("catalog checkpoint: \(why)", path: path, offset: 0) }
        guard v.count >= Self.headerSize, v[0..<8].equals(Self.magic) else { throw bad("no checkpoint magic number") }
        let format = v.load(UInt32.self, at: 8)
        guard (1...Self.version).contains(format), v.load(UInt32.self, at: 12) == UInt32(Self.headerSize) else {
            throw bad("unknown version \(v.load(UInt32.self, at: 8))")
        }
        guard v[0..<80].xxh64() == v.load(UInt64.self, at: 80) else { throw bad("header checksum mismatch") }
        let logLength = v.load(UInt64.self, at: 16)
        let n = Int(v.load(UInt32.self, at: 32)), p = Int(v.load(UInt32.self, at: 36))
        let running = Int(v.load(UInt32.self, at: 40))
        let poolBytes = v.load(UInt64.self, at: 48), dataBytes = v.load(UInt64.self, at: 56)
        guard logLength < 1 << 48, poolBytes < 1 << 40, dataBytes < 1 << 40 else { throw bad("sizes out of range") }
        runTable = Self.headerSize
        nameTable = runTable + n * Self.entrySize
        runningTable = nameTable + n * Self.nameEntrySize
        poolTable = runningTable + running * 4
        poolStart = poolTable + (p + 1) * 4
        dataStart = poolStart + Int(poolBytes)
        end = dataStart + Int(dataBytes)
        // Version 3 continues after the run data: the deleted-runs table, then the checked-segments
        // section, which ends the file.
        var sections = end
        if format >= 3 { sections += try Self.managementTableSize(v, at: end, path: path) }
        guard format >= 3 ? sections <= v.count : end == v.count else { throw bad("file is \(v.count) bytes, its header says \(end)") }
        guard v[runTable..<poolStart].xxh64() == v.load(UInt64.self, at: 64) else { throw bad("index checksum mismatch") }
        let checked = format >= 3 ? try Self.readCheckedSegments(v, from: sections, path: path) : []
        self.logLength = Int(logLength)
        count = n
        if format >= 3 { deletedIndexes = try Self.readManagementTable(v, at: end, runs: n, path: path) }
        poolCount = p
        runningCount = running
        // The log must still hold the prefix this checkpoint was made from.
        let fd = try Sys.open(logPath, .readOnly)
        defer { Sys.close(fd) }
        guard try Sys.fileSize(fd, logPath) >= self.logLength else { throw bad("catalog.log is shorter than the \(logLength) bytes it covers") }
        let probe = min(self.logLength, Self.logProbe)
        var buf = [UInt8](repeating: 0, count: probe)
        guard try Sys.pread(fd, into: &buf, at: self.logLength - probe, logPath) == probe,
            Checksum.xxh64(buf) == v.load(UInt64.self, at: 24)
        else { throw bad("catalog.log does not end its covered prefix as recorded (a different log)") }
        checkedSegments = checked
    }

    // MARK: run table

    /// The id of run `i` (in id order).
    func id(at i: Int) -> RunID {
        // From the table, not from a decoded run: copying a decoded record out of `decodedRuns`
        // retains and releases each of its fields.
        let v = file.view, o = runTable + i * Self.entrySize
        return Self.unpack(top: v[o], hi: v.load(UInt64.self, at: o + 1), lo: v.load(UInt64.self, at: o + 9))
    }

    /// Every run's id, by position (made on first use).
    private(set) lazy var ids: [RunID] = (0..<count).map { id(at: $0) }

    /// Index of run `id`, by binary search over the run table.
    func index(of id: RunID) -> Int? {
        guard let key = Self.pack(id) else { return nil }
        let v = file.view
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2, o = runTable + mid * Self.entrySize
            let k = (v[o], v.load(UInt64.self, at: o + 1), v.load(UInt64.self, at: o + 9))
            if k == key { return mid }
            if k < key { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// Indexes of runs whose name hashes like `name` (candidates: compare the decoded name).
    func candidates(named name: String) -> [Int] {
        let h = Self.nameHash(name), v = file.view
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if v.load(UInt32.self, at: nameTable + mid * Self.nameEntrySize) < h { lo = mid + 1 } else { hi = mid }
        }
        var out: [Int] = []
        var i = lo
        while i < count, v.load(UInt32.self, at: nameTable + i * Self.nameEntrySize) == h {
            let run = Int(v.load(UInt32.self, at: nameTable + i * Self.nameEntrySize + 4))
            if run < count { out.append(run) }
            i += 1
        }
        return out
    }

    /// Indexes of the runs whose status is running (what opening and closing a store look at).
    func runningIndexes() -> [Int] {
        let v = file.view
        return (0..<runningCount).compactMap { k in
            let i = Int(v.load(UInt32.self, at: runningTable + k * 4))
            return i < count ? i : nil
        }
    }

    /// The checked bytes of run `i`.
    private func blob(_ i: Int) throws(StrataError) -> ByteView {
        let v = file.view, o = runTable + i * Self.entrySize
        let start = Int(v.load(UInt32.self, at: o + 17))
        let stop = i + 1 < count ? Int(v.load(UInt32.self, at: o + Self.entrySize + 17)) : end - dataStart
        guard start <= stop, dataStart + stop <= end else {
            throw StrataError.corrupt("catalog checkpoint: run \(i) has bytes \(start)..<\(stop) outside the data", path: path, offset: o)
        }
        let b = v[(dataStart + start)..<(dataStart + stop)]
        guard UInt32(truncatingIfNeeded: b.xxh64()) == v.load(UInt32.self, at: o + 21) else {
            throw StrataError.corrupt(
                "catalog checkpoint: checksum mismatch in the record of run \(id(at: i).text)", path: path, offset: dataStart + start)
        }
        return b
    }

    /// Run `i`'s rewinds only (what log cuts and queries need per series).
    func rewinds(at i: Int) throws(StrataError) -> [RunInfo.Rewind] {
        if i < decodedRuns.count, let hit = decodedRuns[i] { return hit.rewinds }
        var r = ByteReader(try blob(i), path: path)
        let flags = try r.u8("run flags")
        guard flags & Self.hasRewinds != 0 else { return [] }
        return try Self.readRewinds(&r)
    }

    /// Run `i`, decoded; with `rewindsOnly`, a skeleton holding only its id and rewinds.
    /// Run `i` with only the params named in `only` (all when nil): a filter that tests a few
    /// params decodes those and moves past the others (`ParamCoding.skipValue`).
    func info(at i: Int, rewindsOnly: Bool = false, only: Set<String>? = nil) throws(StrataError) -> RunInfo {
        if !rewindsOnly, i < decodedRuns.count, let hit = decodedRuns[i] { return hit }
        if rewindsOnly || (only != nil && decodedCount >= Self.maxDecodedRuns) {
            return try decodeInfo(at: i, rewindsOnly: rewindsOnly, only: only)
        }
        // A whole record answers a request for some params too (it holds them all).
        let info = try decodeInfo(at: i)
        if decodedCount < Self.maxDecodedRuns {
            if decodedRuns.isEmpty { decodedRuns = Array(repeating: nil, count: count) }
            decodedRuns[i] = info
            decodedCount += 1
        }
        return info
    }

    /// The values of params `keys` of every run, by position (nil: the run lacks the param): what
    /// a filter over many runs tests (`Filter.matchingRows`). Columns are kept (the checkpoint
    /// never changes; a new one is a new object), at most `maxParamColumns` of them; the missing
    /// ones are built in one walk, from decoded runs or by decoding only those params.
    func paramColumns(_ keys: Set<String>) throws(StrataError) -> [String: [ParamValue?]] {
        var out = [String: [ParamValue?]]()
        var missing = Set<String>()
        for k in keys {
            if let hit = paramColumnCache[k] { out[k] = hit } else { missing.insert(k) }
        }
        if missing.isEmpty { return out }
        let wanted = Array(missing)
        var slot = [String: Int]()
        for (c, k) in wanted.enumerated() { slot[k] = c }
        var columns = [[ParamValue?]](repeating: [ParamValue?](repeating: nil, count: count), count: wanted.count)
        var plans: [Int: [Int]] = [:]
        for i in 0..<count {
            if i < decodedRuns.count, let hit = decodedRuns[i] {
                for (c, k) in wanted.enumerated() { columns[c][i] = hit.params[k] }
            } else {
                try readParamValues(at: i, slot: slot, plans: &plans, into: &columns)
            }
        }
        var made = [String: [ParamValue?]]()
        for (c, k) in wanted.enumerated() { made[k] = columns[c] }
        if paramColumnCache.count + made.count > Self.maxParamColumns { paramColumnCache = [:] }
        for (k, c) in made {
            out[k] = c
            paramColumnCache[k] = c
        }
        return out
    }

    /// Run `i`'s values of the params in `slot` (key → column), written at row `i` of their
    /// columns. The record is checked against its checksum as for any read, but only its params
    /// are decoded: the fields before them are skipped, and for pooled keys (flag bit 5) which
    /// key positions to read is worked out once per key list (`plans`: pool entry → the column of
    /// each key position, −1 for one skipped).
    private func readParamValues(
        at i: Int, slot: [String: Int], plans: inout [Int: [Int]], into columns: inout [[ParamValue?]]
    ) throws(StrataError) {
        var (r, flags, _) = try readerAtParams(i)
        guard flags & Self.pooledKeys != 0 else {
            for (k, v) in try ParamCoding.read(&r) { if let c = slot[k] { columns[c][i] = v } }
            return
        }
        let entry = try poolRef(&r, "param keys")
        let keys = try poolKeys(entry)
        let plan: [Int]
        if let hit = plans[entry] {
            plan = hit
        } else {
            plan = keys.map { slot[$0] ?? -1 }
            plans[entry] = plan
        }
        var left = plan.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        for (p, c) in plan.enumerated() {
            if left == 0 { break }  // the rest of the record is not read: its checksum was checked
            if c < 0 {
                try ParamCoding.skipValue(&r, key: keys[p], depth: 0)
            } else {
                columns[c][i] = try ParamCoding.readValue(&r, key: keys[p], depth: 0)
                left -= 1
            }
        }
    }

    /// A reader of run `i`'s record (checked against its checksum) at its params field, past the
    /// fields before it; with the record's flags and the pool entry of its tags.
    private func readerAtParams(_ i: Int) throws(StrataError) -> (reader: ByteReader, flags: UInt8, tags: Int) {
        var r = ByteReader(try blob(i), path: path)
        let flags = try r.u8("run flags")
        if flags & Self.hasRewinds != 0 { _ = try Self.readRewinds(&r) }
        _ = try r.varint("created")
        if flags & Self.hasEnded != 0 { _ = try r.varint("ended") }
        _ = try r.bytes(try r.length("run name length", max: 1 << 20), "run name")
        _ = try poolRef(&r, "project")
        _ = try poolRef(&r, "owner")
        let tags = try poolRef(&r, "tags")
        _ = try poolRef(&r, "metadata")
        if flags & Self.hasParent != 0 { _ = try r.bytes(17, "parent") }
        _ = try Self.readForkFields(&r, flags: flags)
        return (r, flags, tags)
    }

    private var paramColumnCache: [String: [ParamValue?]] = [:]
    /// The most param columns kept (each holds a value per run of the checkpoint).
    static let maxParamColumns = 8

    /// Whole runs decoded so far, by position, while at most `maxDecodedRuns` are held: the
    /// checkpoint never changes, so repeated listings, summaries and filters (a server's) decode
    /// each run once.
    private var decodedRuns: [RunInfo?] = []
    private var decodedCount = 0
    /// The most decoded runs a checkpoint keeps (about 1–2 KiB each with a few dozen params);
    /// past it, runs are decoded on every use and filters decode only the params they test.
    static let maxDecodedRuns = 100_000

    private func decodeInfo(at i: Int, rewindsOnly: Bool = false, only: Set<String>? = nil) throws(StrataError) -> RunInfo {
        let id = id(at: i)
        let b = try blob(i)
        var r = ByteReader(b, path: path)
        let flags = try r.u8("run flags")
        let rewinds = flags & Self.hasRewinds != 0 ? try Self.readRewinds(&r) : []
        if rewindsOnly { return Catalog.skeleton(id, rewinds: rewinds) }
        guard let status = RunStatus(code: flags & 3) else { throw StrataError.corrupt("bad run status", path: path, offset: 0) }
        let created = Self.unzigzag(try r.varint("created"))
        let ended: Int64? = flags & Self.hasEnded != 0 ? created &+ Self.unzigzag(try r.varint("ended")) : nil
        let name = try r.string("run name")
        let project = try poolString(try poolRef(&r, "project"))
        let owner = try poolString(try poolRef(&r, "owner"))
        let tags = try poolTags(try poolRef(&r, "tags"))
        let meta = try poolMeta(try poolRef(&r, "metadata"))
        var parent: RunID?
        if flags & Self.hasParent != 0 {
            let top = try r.u8("parent"), hi = try r.u64("parent"), lo = try r.u64("parent")
            parent = Self.unpack(top: top, hi: hi, lo: lo)
        }
        let forkStep = try Self.readForkFields(&r, flags: flags)
        let params = try readParams(&r, flags: flags, only: only)
        let management = flags & Self.hasManagement != 0 ? try ManagementCoding.readCheckpointFields(&r, run: id) : RunManagement()
        guard r.isAtEnd else { throw StrataError.corrupt("catalog checkpoint: bytes after run \(id.text)'s params", path: path, offset: r.offset) }
        var info = RunInfo(
            id: id, name: name, project: project, status: status, createdMs: created, endedMs: ended,
            params: params, tags: tags, metadata: meta, parent: parent, rewinds: rewinds)
        info.owner = owner
        info.forkStep = forkStep
        info.management = management
        return info
    }

    /// The name of run `i` (for name lookups) without decoding the rest.
    func name(at i: Int) throws(StrataError) -> String {
        var r = ByteReader(try blob(i), path: path)
        let flags = try r.u8("run flags")
        if flags & Self.hasRewinds != 0 { _ = try Self.readRewinds(&r) }
        _ = try r.varint("created")
        if flags & Self.hasEnded != 0 { _ = try r.varint("ended") }
        return try r.string("run name")
    }

    // MARK: pool

    private func poolRef(_ r: inout ByteReader, _ what: String) throws(StrataError) -> Int {
        let k = try r.varint(what)
        guard k < UInt64(poolCount) else {
            throw StrataError.corrupt("catalog checkpoint: \(what) refers to pool entry \(k) of \(poolCount)", path: path, offset: r.offset)
        }
        return Int(k)
    }

    private func pool(_ k: Int) throws(StrataError) -> ByteView {
        let v = file.view
        if !poolChecked {
            guard v[poolStart..<dataStart].xxh64() == v.load(UInt64.self, at: 72) else {
                throw StrataError.corrupt("catalog checkpoint: shared value pool checksum mismatch", path: path, offset: poolStart)
            }
            poolChecked = true
        }
        let a = Int(v.load(UInt32.self, at: poolTable + k * 4)), b = Int(v.load(UInt32.self, at: poolTable + k * 4 + 4))
        guard a <= b, poolStart + b <= dataStart else {
            throw StrataError.corrupt("catalog checkpoint: pool entry \(k) out of range", path: path, offset: poolTable + k * 4)
        }
        return v[(poolStart + a)..<(poolStart + b)]
    }

    private func poolString(_ k: Int) throws(StrataError) -> String {
        if let s = projectCache[k] { return s }
        let s = try pool(k).string
        projectCache[k] = s
        return s
    }

    private func poolTags(_ k: Int) throws(StrataError) -> Set<String> {
        if let s = tagCache[k] { return s }
        var r = ByteReader(try pool(k), path: path)
        let n = try r.count("tag count", max: 1 << 16)
        var tags = Set<String>()
        for _ in 0..<n { tags.insert(try r.string("tag")) }
        tagCache[k] = tags
        return tags
    }

    /// A run's params: keys from the pool (flag `pooledKeys`) or inline (params encoding).
    private func readParams(_ r: inout ByteReader, flags: UInt8, only: Set<String>?) throws(StrataError) -> [String: ParamValue] {
        guard flags & Self.pooledKeys != 0 else {
            guard let only else { return try ParamCoding.read(&r) }
            return try ParamCoding.read(&r).filter { only.contains($0.key) }
        }
        let keys = try poolKeys(try poolRef(&r, "param keys"))
        var out: [String: ParamValue] = [:]
        out.reserveCapacity(only.map { Swift.min($0.count, keys.count) } ?? keys.count)
        for key in keys {
            if let only, !only.contains(key) {
                try ParamCoding.skipValue(&r, key: key, depth: 0)
            } else {
                out[key] = try ParamCoding.readValue(&r, key: key, depth: 0)
            }
        }
        return out
    }

    private func poolKeys(_ k: Int) throws(StrataError) -> [String] {
        if let keys = keysCache[k] { return keys }
        var r = ByteReader(try pool(k), path: path)
        let n = try r.count("param key count", max: 1 << 20)
        var keys: [String] = []
        keys.reserveCapacity(n)
        for _ in 0..<n { keys.append(try r.string("param key")) }
        keysCache[k] = keys
        return keys
    }

    private func poolMeta(_ k: Int) throws(StrataError) -> [String: ParamValue] {
        if let m = metaCache[k] { return m }
        var r = ByteReader(try pool(k), path: path)
        let m = try ParamCoding.read(&r)
        metaCache[k] = m
        return m
    }

    /// Every check `verify` makes: the pool and every run's bytes.
    func checkAll() throws(StrataError) {
        for i in 0..<count { _ = try info(at: i) }
        if poolCount > 0 { _ = try pool(0) }
    }

    // MARK: version 3: forks (fork step, flag bit 6)

    /// Version 3: the run is a fork; its fork step follows the parent (zigzag varint).
    static let hasForkStep: UInt8 = 1 << 6

    /// Writes a forked run's fork step after its parent and sets flag bit 6 (version 3 only; a
    /// fork whose parent cannot be packed keeps no fork step, like its parent).
    static func writeForkFields(_ info: RunInfo, into w: inout ByteWriter, format: UInt32) {
        guard format >= 3, let step = info.forkStep, info.parent.flatMap(pack) != nil else { return }
        w.bytes[0] |= hasForkStep
        w.varint(zigzag(step))
    }

    /// Run `i`'s parent, fork step and rewinds, skipping its strings, pools and params (what every
    /// full-lineage read needs per ancestor).
    func forkLink(at i: Int) throws(StrataError) -> Catalog.ForkLink {
        if i < decodedRuns.count, let hit = decodedRuns[i] {
            return Catalog.ForkLink(parent: hit.parent, forkStep: hit.forkStep, rewinds: hit.rewinds)
        }
        var r = ByteReader(try blob(i), path: path)
        let flags = try r.u8("run flags")
        let rewinds = flags & Self.hasRewinds != 0 ? try Self.readRewinds(&r) : []
        guard flags & Self.hasParent != 0 else { return Catalog.ForkLink(parent: nil, forkStep: nil, rewinds: rewinds) }
        _ = try r.varint("created")
        if flags & Self.hasEnded != 0 { _ = try r.varint("ended") }
        _ = try r.bytes(try r.length("run name length", max: 1 << 20), "run name")
        for what in ["project", "owner", "tags", "metadata"] { _ = try poolRef(&r, what) }
        let top = try r.u8("parent"), hi = try r.u64("parent"), lo = try r.u64("parent")
        let parent = Self.unpack(top: top, hi: hi, lo: lo)
        return Catalog.ForkLink(parent: parent, forkStep: try Self.readForkFields(&r, flags: flags), rewinds: rewinds)
    }

    /// The fork step written by `writeForkFields` (nil without flag bit 6).
    static func readForkFields(_ r: inout ByteReader, flags: UInt8) throws(StrataError) -> Int64? {
        guard flags & hasForkStep != 0 else { return nil }
        return unzigzag(try r.varint("fork step"))
    }

    // MARK: encoding

    static let hasParent: UInt8 = 1 << 2, hasRewinds: UInt8 = 1 << 3, hasEnded: UInt8 = 1 << 4
    /// Version 2: the params' sorted keys are a pool entry (varint count + strings), followed in
    /// the record by the values alone (u8 type and value each, in key order).
    static let pooledKeys: UInt8 = 1 << 5
    /// Version 3: the run's management fields follow its params (`ManagementCoding.writeCheckpointFields`).
    static let hasManagement: UInt8 = 1 << 7

    /// The bytes of a checkpoint of `runs` (any order) covering the first `logLength` bytes of a
    /// log whose last (up to 64) covered bytes hash to `logProbeHash`. Nil when a table offset
    /// would not fit its 32 bits (over 4 GiB of run records): the store then keeps reading its log.
    /// `format`: the version to write (1 is what releases before version 2 wrote, for tests).
    /// `checkedSegments` (version 3): see `writeCheckedSegments`.
    static func encode(
        _ runs: [RunInfo], logLength: Int, logProbeHash: UInt64, checkedSegments: [String] = [], format: UInt32 = version
    ) -> [UInt8]? {
        var sorted: [(key: (UInt8, UInt64, UInt64), info: RunInfo)] = []
        sorted.reserveCapacity(runs.count)
        for info in runs { if let k = pack(info.id) { sorted.append((k, info)) } }
        sorted.sort { $0.key < $1.key }
        var poolIndex: [[UInt8]: Int] = [:]
        var pool = ByteWriter(), poolOffsets: [UInt32] = [0]
        func intern(_ bytes: [UInt8]) -> Int {
            if let k = poolIndex[bytes] { return k }
            pool.raw(bytes)
            poolOffsets.append(UInt32(truncatingIfNeeded: pool.count))
            poolIndex[bytes] = poolOffsets.count - 2
            return poolOffsets.count - 2
        }
        var data = ByteWriter()
        var table = ByteWriter(), names: [(UInt32, UInt32)] = [], running: [UInt32] = [], deleted: [UInt32] = []
        for (i, (key, info)) in sorted.enumerated() {
            let start = data.count
            var w = ByteWriter()
            var flags = info.status.code
            if info.parent.flatMap(pack) != nil { flags |= hasParent }
            if !info.rewinds.isEmpty { flags |= hasRewinds }
            if info.endedMs != nil { flags |= hasEnded }
            w.u8(flags)
            if !info.rewinds.isEmpty {
                w.varint(UInt64(info.rewinds.count))
                for rw in info.rewinds { w.varint(zigzag(rw.step)); w.varint(zigzag(rw.sequence)) }
            }
            w.varint(zigzag(info.createdMs))
            if let e = info.endedMs { w.varint(zigzag(e &- info.createdMs)) }
            w.string(info.name)
            w.varint(UInt64(intern(Array(info.project.utf8))))
            w.varint(UInt64(intern(Array(info.owner.utf8))))
            var t = ByteWriter()
            t.varint(UInt64(info.tags.count))
            for tag in info.tags.sorted() { t.string(tag) }
            w.varint(UInt64(intern(t.bytes)))
            var m = ByteWriter()
            ParamCoding.write(info.metadata, into: &m)
            w.varint(UInt64(intern(m.bytes)))
            if let p = info.parent.flatMap(pack) { w.u8(p.0); w.u64(p.1); w.u64(p.2) }
            writeForkFields(info, into: &w, format: format)
            if info.params.isEmpty || format < 2 {
                ParamCoding.write(info.params, into: &w)
            } else {
                w.bytes[0] |= pooledKeys
                let keys = info.params.keys.sorted()
                var k = ByteWriter()
                k.varint(UInt64(keys.count))
                for key in keys { k.string(key) }
                w.varint(UInt64(intern(k.bytes)))
                for key in keys { ParamCoding.writeValue(info.params[key]!, into: &w) }
            }
            if format >= 3 && !info.management.isEmpty {
                w.bytes[0] |= hasManagement
                ManagementCoding.writeCheckpointFields(info.management, into: &w)
            }
            if info.deletedMs != nil { deleted.append(UInt32(i)) }
            data.raw(w.bytes)
            guard data.count <= Int(UInt32.max), pool.count <= Int(UInt32.max) else { return nil }
            table.u8(key.0); table.u64(key.1); table.u64(key.2)
            table.u32(UInt32(start))
            table.u32(UInt32(truncatingIfNeeded: Checksum.xxh64(w.bytes)))
            names.append((nameHash(info.name), UInt32(i)))
            if info.status == .running { running.append(UInt32(i)) }
        }
        names.sort { $0 < $1 }
        for (h, i) in names { table.u32(h); table.u32(i) }
        for i in running { table.u32(i) }
        for o in poolOffsets { table.u32(o) }
        var out = ByteWriter()
        out.raw(magic)
        out.u32(format)
        out.u32(UInt32(headerSize))
        out.u64(UInt64(logLength))
        out.u64(logProbeHash)
        out.u32(UInt32(sorted.count))
        out.u32(UInt32(poolOffsets.count - 1))
        out.u32(UInt32(running.count))
        out.u32(0)
        out.u64(UInt64(pool.count))
        out.u64(UInt64(data.count))
        out.u64(Checksum.xxh64(table.bytes))
        out.u64(Checksum.xxh64(pool.bytes))
        out.u64(Checksum.xxh64(out.bytes))
        out.raw(table.bytes)
        out.raw(pool.bytes)
        out.raw(data.bytes)
        if format >= 3 {
            writeManagementTable(deleted, into: &out)
            writeCheckedSegments(checkedSegments, into: &out)
        }
        return out.bytes
    }

    // MARK: checked segments (version 3; issue 10, stand-in runs)

    /// The segment files every run of which has a record in this checkpoint (so none of their runs
    /// is a stand-in: opening skips their run tables when looking for runs missing from the catalog).
    private(set) var checkedSegments: Set<String> = []

    /// Writes the checked-segments section: varint count, the file names (strings, sorted), then
    /// u64 xxh64 of the section's bytes before it.
    static func writeCheckedSegments(_ names: [String], into out: inout ByteWriter) {
        var w = ByteWriter()
        w.varint(UInt64(names.count))
        for name in names.sorted() { w.string(name) }
        let sum = Checksum.xxh64(w.bytes)
        out.raw(w.bytes)
        out.u64(sum)
    }

    /// Reads the checked-segments section at `from`, which must end the file.
    static func readCheckedSegments(_ v: ByteView, from: Int, path: String) throws(StrataError) -> Set<String> {
        var r = ByteReader(v, from: from, path: path)
        var names = Set<String>()
        let at: Int, sum: UInt64
        do throws(StrataError) {
            let n = try r.count("checked segment count", max: SegmentFormat.maxTableEntries)
            for _ in 0..<n { names.insert(try r.string("checked segment", max: 512)) }
            at = r.offset
            sum = try r.u64("checked segments checksum")
        } catch {
            throw StrataError.corrupt("catalog checkpoint: checked segments section: \(error.message)", path: path, offset: from)
        }
        guard v[from..<at].xxh64() == sum, r.isAtEnd else {
            throw StrataError.corrupt("catalog checkpoint: checked segments section is damaged", path: path, offset: from)
        }
        return names
    }

    // MARK: run management (version 3): the deleted-runs table after the data

    /// The deleted runs, without decoding any run.
    func deletedIDs() -> Set<RunID> { Set(deletedIndexes.map(id(at:))) }

    /// u32 count, that many u32 run indexes (ascending), u64 xxh64 of the count and indexes.
    static func writeManagementTable(_ deleted: [UInt32], into out: inout ByteWriter) {
        var t = ByteWriter()
        t.u32(UInt32(deleted.count))
        for i in deleted { t.u32(i) }
        out.raw(t.bytes)
        out.u64(Checksum.xxh64(t.bytes))
    }

    static func managementTableSize(_ v: ByteView, at start: Int, path: String) throws(StrataError) -> Int {
        guard v.count - start >= 12 else { throw StrataError.corrupt("catalog checkpoint: deleted-runs table cut short", path: path, offset: start) }
        let n = Int(v.load(UInt32.self, at: start))
        guard n <= (v.count - start - 12) / 4 else {
            throw StrataError.corrupt("catalog checkpoint: deleted-runs table cut short", path: path, offset: start)
        }
        return 12 + 4 * n
    }

    static func readManagementTable(_ v: ByteView, at start: Int, runs: Int, path: String) throws(StrataError) -> [Int] {
        let n = Int(v.load(UInt32.self, at: start))
        guard v[start..<(start + 4 + 4 * n)].xxh64() == v.load(UInt64.self, at: start + 4 + 4 * n) else {
            throw StrataError.corrupt("catalog checkpoint: deleted-runs table checksum mismatch", path: path, offset: start)
        }
        var out: [Int] = []
        for k in 0..<n {
            let i = Int(v.load(UInt32.self, at: start + 4 + 4 * k))
            guard i < runs else { throw StrataError.corrupt("catalog checkpoint: deleted run \(i) of \(runs)", path: path, offset: start) }
            out.append(i)
        }
        return out
    }

    // MARK: helpers

    private static func readRewinds(_ r: inout ByteReader) throws(StrataError) -> [RunInfo.Rewind] {
        let n = try r.count("rewind count", max: 1 << 24)
        var out: [RunInfo.Rewind] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let step = unzigzag(try r.varint("rewind step"))
            out.append(.init(step: step, sequence: unzigzag(try r.varint("rewind sequence"))))
        }
        return out
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

    static func nameHash(_ name: String) -> UInt32 { UInt32(truncatingIfNeeded: Checksum.xxh64(Array(name.utf8))) }

    private static let digit: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, b) in RunID.alphabet.enumerated() { t[Int(b)] = UInt8(i) }
        return t
    }()

    /// The 130-bit number a run id's 26 base-32 digits spell: top 2 bits, then 64 and 64 bits.
    /// Ordered as the id text is.
    static func pack(_ id: RunID) -> (UInt8, UInt64, UInt64)? {
        var top: UInt64 = 0, hi: UInt64 = 0, lo: UInt64 = 0
        for b in id.text.utf8 {
            let d = digit[Int(b)]
            if d == 0xFF { return nil }
            top = (top << 5) | (hi >> 59)
            hi = (hi << 5) | (lo >> 59)
            lo = (lo << 5) | UInt64(d)
        }
        return (UInt8(truncatingIfNeeded: top), hi, lo)
    }

    static func unpack(top: UInt8, hi: UInt64, lo: UInt64) -> RunID {
        var chars = [UInt8](repeating: 0, count: 26)
        var t = UInt64(top), h = hi, l = lo
        for i in stride(from: 25, through: 0, by: -1) {
            chars[i] = RunID.alphabet[Int(l & 31)]
            l = (l >> 5) | (h << 59)
            h = (h >> 5) | (t << 59)
            t >>= 5
        }
        return RunID(validated: String(decoding: chars, as: UTF8.self))
    }
}

// MARK: - Bytes by what they hold (`Store.storageStats`)

/// The bytes of a checkpoint file by what they hold (`docs/FORMAT.md`, "Catalog checkpoint"); the
/// parts add up to the file's size.
struct CheckpointBytes {
    /// Runs in the checkpoint.
    var runs = 0
    /// The 88-byte header, and (version 3) the deleted-runs table and the checked-segments section.
    var header = 0
    /// The run table (25 bytes a run), the name table (8) and the running table (4 a running run).
    var runTables = 0
    /// The pool's offsets (4 bytes an entry, plus one).
    var poolOffsets = 0
    /// The runs' params: the params field of every run record (its pooled keys' reference and its
    /// values, or the inline params encoding) and the pooled key lists.
    var params = 0
    /// The pooled tag sets.
    var tags = 0
    /// The rest of the pool: projects, owner writer ids, metadata.
    var pooledValues = 0
    /// The rest of the run records: flags, rewinds, times, names, pool references, parents, fork
    /// steps, management fields.
    var records = 0
}

extension CatalogCheckpoint {
    /// The file's bytes by what they hold; reads (and checks) every run record and the pool.
    func structureBytes() throws(StrataError) -> CheckpointBytes {
        var out = CheckpointBytes()
        out.runs = count
        out.header = Self.headerSize + file.view.count - end
        out.runTables = poolTable - runTable
        out.poolOffsets = poolStart - poolTable
        // What each pool entry serves: 0 projects, owners, metadata; 1 tag sets; 2 param key lists.
        var role = [UInt8](repeating: 0, count: poolCount)
        for i in 0..<count {
            var (r, flags, tags) = try readerAtParams(i)
            role[tags] = max(role[tags], 1)
            let paramsAt = r.offset
            if flags & Self.pooledKeys != 0 {
                let k = try poolRef(&r, "param keys")
                role[k] = 2
                for key in try poolKeys(k) { try ParamCoding.skipValue(&r, key: key, depth: 0) }
            } else {
                _ = try ParamCoding.read(&r)
            }
            out.params += r.offset - paramsAt
            out.records += r.end - (r.offset - paramsAt)
        }
        var pooled = (params: 0, tags: 0)
        for k in 0..<poolCount where role[k] != 0 {
            let n = try pool(k).count
            if role[k] == 2 { pooled.params += n } else { pooled.tags += n }
        }
        out.params += pooled.params
        out.tags = pooled.tags
        out.pooledValues = dataStart - poolStart - pooled.params - pooled.tags
        return out
    }
}

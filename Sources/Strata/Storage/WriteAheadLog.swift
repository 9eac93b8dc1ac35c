import StrataCodecs

/// Record kinds of the write-ahead log. Byte layout: `docs/FORMAT.md`, "Write-ahead log".
enum LogRecordKind: UInt8 {
    /// Binds a log-local series number to a run and series name.
    case series = 1
    /// One step of several series: step, time, then (series, value) pairs.
    case row = 2
    /// An encoded chunk of one series (bulk append).
    case chunk = 3
    /// The wall clock (ns) when the records after it were logged (orders them against rewinds).
    case mark = 4
    /// Opens an atomic batch: the records up to its commit count only if the commit is there.
    case begin = 5
    /// Closes an atomic batch, with its idempotency key and the answer given for it.
    case commit = 6
    /// A run's create record, logged before its first point while its creation batch is not yet
    /// in the catalog (`LoggedCreates`).
    case run = 7
}

enum LogFormat {
    static let magic: [UInt8] = Array("STRATWAL".utf8)
    static let version: UInt32 = 1
    static let headerSize = 64
    static let recordHeaderSize = 16
    /// Default size of one log file; a full log is cut into a segment and a new log begins.
    static let defaultCapacity = 64 << 20
    /// Smallest log accepted: room for the largest chunk record (a chunk of raw 64-bit columns).
    static let minimumCapacity = 256 << 10
    static let maxWriterIdBytes = 40
    /// A `mark` record is written before a record when the last mark is this old (1 ms): every
    /// record's sequence (its preceding mark) is at most this much earlier than when it was logged.
    static let markInterval: Int64 = 1_000_000
    /// Bytes of a `mark` record (header and an i64).
    static let markRecordSize = 24
    /// Longest idempotency key of a batch (UTF-8 bytes).
    static let maxBatchKeyBytes = 200
}

/// The write-ahead log of one writer process: a preallocated, memory-mapped file that records are
/// appended to. Held under an exclusive `flock` for the writer's life, so other processes can tell
/// a live writer's log (locked) from a dead writer's (unlocked, to recover).
final class WriteAheadLog {
    let path: String
    let generation: UInt64
    /// Where the last `sync` reached.
    private var syncedUpTo: Int
    let writerId: String
    /// The end of what is appended (the next record's offset); advanced by `append`.
    var end: Int
    let createdNs: Int64
    /// The mapped file, written by `append` (Storage/Unsafe/LogAppend.swift).
    let map: LogMapping

    var capacity: Int { map.capacity }

    /// Creates and locks a new log: built under a temporary name, locked, then renamed into place,
    /// so no other process can see it unlocked.
    init(directory: String, tmpDir: String, writerId: String, generation: UInt64, capacity: Int) throws(StrataError) {
        let name = WriteAheadLog.fileName(writer: writerId, generation: generation)
        path = directory + "/" + name
        let tmp = tmpDir + "/" + Sys.uniqueName(suffix: ".wal.tmp")
        let fd = try Sys.open(tmp, .readWrite, [.create, .exclusiveCreate])
        do throws(StrataError) {
            guard try Sys.tryLockExclusive(fd, tmp) else { throw StrataError(.io, "could not lock a new log", path: tmp) }
            let size = try WriteAheadLog.reserve(fd, capacity, tmp)
            map = try LogMapping(path: path, fd: fd, capacity: size)
        } catch {
            Sys.close(fd)
            try? Sys.unlink(tmp)
            throw error
        }
        self.generation = generation
        self.writerId = writerId
        self.createdNs = Clock.nanoseconds()
        var h = ByteWriter()
        h.raw(LogFormat.magic)
        h.u32(LogFormat.version)
        h.u32(UInt32(LogFormat.headerSize))
        h.u64(generation)
        h.i64(createdNs)
        h.string(writerId)
        while h.count < LogFormat.headerSize { h.u8(0) }
        end = LogFormat.headerSize
        syncedUpTo = 0
        writeHeader(h.bytes)
        do throws(StrataError) {
            try map.sync(0..<LogFormat.headerSize)
            try Sys.rename(tmp, path)
        } catch {
            Sys.close(fd)
            try? Sys.unlink(tmp)
            throw error
        }
        do throws(StrataError) {
            try Sys.fsyncDirectory(directory)
        } catch {
            try? Sys.unlink(path)
            Sys.close(fd)
            throw error
        }
    }

    /// Gives the new log real blocks before it is mapped: a store through the mapping into a
    /// page without blocks would raise SIGBUS on a full disk. When the disk has no room for
    /// `capacity` bytes, a smaller log (down to `LogFormat.minimumCapacity`) is tried; when it
    /// has no room even for that, this throws `.noSpace` (the caller retries on its next write).
    /// Returns the size reserved.
    private static func reserve(_ fd: Int32, _ capacity: Int, _ path: String) throws(StrataError) -> Int {
        var size = capacity
        while true {
            do throws(StrataError) {
                try Sys.ftruncate(fd, size, path)
                try Sys.allocate(fd, 0, size, path)
                return size
            } catch  where error.code == .noSpace && size / 2 >= LogFormat.minimumCapacity {
                try Sys.ftruncate(fd, 0, path)  // give back what a partial allocation took
                size /= 2
            }
        }
    }

    static func fileName(writer: String, generation: UInt64) -> String {
        "\(writer)-\(String(generation, radix: 10)).wal"
    }

    var remaining: Int { map.capacity - end }

    /// Space a record with `payload` bytes takes (header and padding to 8 bytes).
    @inline(__always)
    static func recordSize(payload: Int) -> Int { (LogFormat.recordHeaderSize + payload + 7) & ~7 }

    /// msync + fsync of what was appended since the last sync: survives power loss.
    func sync() throws(StrataError) {
        if end > syncedUpTo {
            try map.sync(syncedUpTo..<end)
            syncedUpTo = end
        }
    }

    /// Releases the lock and deletes the file (after its contents are in a durable segment).
    func remove() throws(StrataError) {
        try Sys.unlink(path)
        Sys.unlock(map.fd)
        Sys.close(map.fd)
    }

    /// Closes without deleting (the log will be recovered by the next process).
    func abandon() {
        Sys.unlock(map.fd)
        Sys.close(map.fd)
    }
}

/// Reads the records of a log file (a live writer's, a dead writer's or a damaged one).
struct LogScanner {
    struct Header {
        var generation: UInt64
        var createdNs: Int64
        var writerId: String
    }

    enum Record {
        case series(id: UInt32, key: SeriesKey)
        case row(step: Int64, time: Int64, pairs: ByteView)
        case chunk(id: UInt32, count: Int, steps: ByteView, values: ByteView, times: ByteView)
        case mark(ns: Int64)
        case commit(BatchCommit)
        /// A catalog create record's plain body (`LoggedCreates`).
        case run(ByteView)
    }

    let bytes: ByteView
    let path: String
    private(set) var offset: Int
    private(set) var header: Header

    init(bytes: ByteView, path: String) throws(StrataError) {
        self.bytes = bytes
        self.path = path
        guard bytes.count >= LogFormat.headerSize else { throw StrataError.corrupt("log is truncated: \(bytes.count) bytes", path: path) }
        guard bytes[0..<8].equals(LogFormat.magic) else {
            throw StrataError.corrupt("not a Strata log (bad magic number)", path: path, offset: 0)
        }
        var r = ByteReader(bytes, from: 8, to: LogFormat.headerSize, path: path)
        let version = try r.u32()
        if version > LogFormat.version {
            throw StrataError(
                .unsupportedVersion, "log format version \(version) is newer than this Strata (reads up to \(LogFormat.version)); upgrade Strata",
                path: path, offset: 8)
        }
        _ = try r.u32()
        let gen = try r.u64()
        let created = try r.i64()
        let writer = try r.string("writer id", max: LogFormat.maxWriterIdBytes)
        // It names the segment cut from this log (recovery writes segments/<writer>-<generation>.seg):
        // a writer id (a ULID), never a path.
        guard RunID(writer) != nil else { throw StrataError.corrupt("bad writer id in log header", path: path, offset: 32) }
        header = Header(generation: gen, createdNs: created, writerId: writer)
        offset = LogFormat.headerSize
        sequence = created
    }

    /// Why scanning stopped, when it stopped before a clean end (zero length word).
    private(set) var stopReason: String?
    /// True when scanning stopped at a batch whose commit is not (yet) written: a live writer
    /// is writing it, or a dead writer died in it (then it and everything after it is dropped).
    private(set) var pendingBatch = false
    /// The sequence of the records returned last: the latest `mark`, else the log's creation.
    private(set) var sequence: Int64

    /// The length, kind and payload of a checksum-valid record at `at`, or nil.
    private func record(at: Int) -> (kind: UInt32, body: ByteView)? {
        guard at >= 0, bytes.count - at >= LogFormat.recordHeaderSize else { return nil }
        let len = Int(bytes.load(UInt32.self, at: at))
        let kindWord = bytes.load(UInt32.self, at: at + 4)
        let sum = bytes.load(UInt64.self, at: at + 8)
        guard len > 0 || kindWord > 0, len <= bytes.count - at - LogFormat.recordHeaderSize, kindWord <= 255 else { return nil }
        let body = bytes[(at + LogFormat.recordHeaderSize)..<(at + LogFormat.recordHeaderSize + len)]
        guard body.xxh64(seed: UInt64(len) << 8 | UInt64(kindWord)) == sum else { return nil }
        return (kindWord, body)
    }

    /// The next complete, checksum-valid record, or nil at the end of what is written.
    mutating func next() throws(StrataError) -> Record? {
        pendingBatch = false
        while true {
            guard bytes.count - offset >= LogFormat.recordHeaderSize else { return nil }
            let len = Int(bytes.load(UInt32.self, at: offset))
            let kindWord = bytes.load(UInt32.self, at: offset + 4)
            let sum = bytes.load(UInt64.self, at: offset + 8)
            if len == 0 && kindWord == 0 { return nil }
            let size = WriteAheadLog.recordSize(payload: len)
            guard len <= bytes.count - offset - LogFormat.recordHeaderSize else {
                stopReason = "record length \(len) runs past the end of the log"
                return nil
            }
            let body = bytes[(offset + LogFormat.recordHeaderSize)..<(offset + LogFormat.recordHeaderSize + len)]
            guard kindWord <= 255, body.xxh64(seed: UInt64(len) << 8 | UInt64(kindWord)) == sum else {
                stopReason = "record checksum mismatch (a write cut short by a crash, or damage)"
                return nil
            }
            let at = offset
            offset += size
            guard let kind = LogRecordKind(rawValue: UInt8(kindWord)) else { continue }  // unknown kind from a newer minor format: skip
            var r = ByteReader(body, path: path)
            switch kind {
            case .series:
                let id = try r.u32()
                let runText = try r.string("run id", max: 64)
                let canonical = try r.string("series name", max: 4096)
                guard let run = RunID(runText) else { throw StrataError.corrupt("bad run id in log", path: path, offset: at) }
                return .series(id: id, key: SeriesKey(run: run, canonical: canonical))
            case .row:
                let step = try r.i64(), time = try r.i64()
                let n = Int(try r.u32())
                let pairs = try r.bytes(n * 12, "row values")
                return .row(step: step, time: time, pairs: pairs)
            case .chunk:
                let id = try r.u32()
                let count = Int(try r.u32())
                let sl = Int(try r.u32()), vl = Int(try r.u32()), tl = Int(try r.u32())
                guard count > 0, count <= ChunkLayout.chunkCapacity else {
                    throw StrataError.corrupt("chunk record with \(count) points", path: path, offset: at)
                }
                let s = try r.bytes(sl, "chunk steps"), v = try r.bytes(vl, "chunk values"), t = try r.bytes(tl, "chunk times")
                return .chunk(id: id, count: count, steps: s, values: v, times: t)
            case .mark:
                let ns = try r.i64()
                sequence = ns
                return .mark(ns: ns)
            case .begin:
                // Count the batch only when its commit is where the begin says it is.
                let length = try r.u64()
                guard length <= UInt64(bytes.count), let c = record(at: offset + Int(length)),
                    c.kind == UInt32(LogRecordKind.commit.rawValue)
                else {
                    offset = at
                    pendingBatch = true
                    return nil
                }
                continue
            case .commit:
                return .commit(try BatchCommit.read(&r))
            case .run:
                return .run(body)
            }
        }
    }
}

/// The commit record of an atomic batch: its idempotency key, a digest of the request body, when
/// it was committed and the answer the server gave (returned again to a retry of the key).
public struct BatchCommit: Sendable, Hashable {
    /// The idempotency key (at most `LogFormat.maxBatchKeyBytes` bytes).
    public var key: String
    /// SHA-256 of the request body (32 bytes).
    public var digest: [UInt8]
    /// When the batch was committed, milliseconds since 1970.
    public var committedMs: Int64
    /// The bytes of the answer given to the batch, returned again to a retry of its key.
    public var response: [UInt8]

    /// A commit record.
    ///
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - digest: SHA-256 of the request body (32 bytes).
    ///   - committedMs: When the batch was committed, milliseconds since 1970.
    ///   - response: The answer given to the batch.
    public init(key: String, digest: [UInt8], committedMs: Int64, response: [UInt8]) {
        self.key = key
        self.digest = digest
        self.committedMs = committedMs
        self.response = response
    }

    static func read(_ r: inout ByteReader) throws(StrataError) -> BatchCommit {
        let key = try r.string("batch key", max: LogFormat.maxBatchKeyBytes)
        let digest = try r.bytes(32, "batch digest").array
        let ms = try r.i64()
        let n = try r.count("batch response length", max: 1 << 26)
        let response = try r.bytes(n, "batch response").array
        return BatchCommit(key: key, digest: digest, committedMs: ms, response: response)
    }

    func write(into w: inout ByteWriter) {
        w.string(key)
        w.raw(digest)
        w.i64(committedMs)
        w.varint(UInt64(response.count))
        w.raw(response)
    }
}

import StrataCodecs

#if canImport(Glibc)
import Glibc
#endif

// The alert files of a store directory (docs/FORMAT.md, "Alerts"): `alerts/rules`, rewritten
// atomically, and `alerts/events`, an append-only log of checksummed records whose torn tail is
// ignored. Both are changed under `alerts/lock`.

/// Paths and encodings of the alert files.
enum AlertFiles {
    static let rulesMagic: [UInt8] = Array("STRALRT\0".utf8)
    static let eventsMagic: [UInt8] = Array("STREVNT\0".utf8)
    static let version: UInt32 = 1
    /// Largest event record payload accepted when reading (a damaged length stops the reader).
    static let maxRecord = 1 << 16

    static func dir(_ root: String) -> String { root + "/alerts" }
    static func rules(_ root: String) -> String { root + "/alerts/rules" }
    static func events(_ root: String) -> String { root + "/alerts/events" }
    static func lock(_ root: String) -> String { root + "/alerts/lock" }

    /// Runs `body` holding `alerts/lock` exclusively (creating the directory when needed).
    static func withLock<T>(_ root: String, _ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        try Sys.mkdirs(dir(root))
        let fd = try Sys.open(lock(root), O_RDWR | O_CREAT)
        defer { Sys.close(fd) }
        try Sys.lockExclusive(fd, lock(root))
        defer { Sys.unlock(fd) }
        return try body()
    }

    // MARK: rules

    static func encode(_ rules: [AlertRule]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(rulesMagic)
        w.u32(version)
        w.u32(UInt32(rules.count))
        for r in rules {
            w.string(r.id)
            switch r.scope {
            case .project(let p): w.u8(0); w.string(p)
            case .run(let id): w.u8(1); w.string(id.text)
            }
            w.string(r.metric)
            switch r.condition {
            case .nonFinite: w.u8(0)
            case .above(let t): w.u8(1); w.f64(t)
            case .below(let t): w.u8(2); w.f64(t)
            case .noImprovement(let n, let m): w.u8(3); w.i64(n); w.u8(m == .min ? 0 : 1)
            case .stalled(let ms): w.u8(4); w.i64(ms)
            case .baseline(let run, let p): w.u8(5); w.string(run.text); w.f64(p)
            }
            w.string(r.webhook ?? "")
            w.i64(r.createdMs)
        }
        w.u64(Checksum.xxh64(w.bytes))
        return w.bytes
    }

    static func decodeRules(_ bytes: [UInt8], path: String) throws(StrataError) -> [AlertRule] {
        guard bytes.count >= 24, Array(bytes[0..<8]) == rulesMagic else {
            throw StrataError.corrupt("not an alert rules file (bad magic or too short)", path: path)
        }
        let body = Array(bytes[0..<bytes.count - 8])
        let sum = bytes[(bytes.count - 8)...].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard Checksum.xxh64(body) == sum else { throw StrataError.corrupt("alert rules file checksum mismatch", path: path) }
        return try ByteView.with(body) { (v: ByteView) throws(StrataError) -> [AlertRule] in
            var r = ByteReader(v, from: 8, path: path)
            let ver = try r.u32("version")
            guard ver <= version else {
                throw StrataError(.unsupportedVersion, "alert rules file version \(ver) is newer than this Strata reads (\(version))", path: path)
            }
            let n = try r.u32("rule count")
            var out: [AlertRule] = []
            for _ in 0..<n {
                let id = try r.string("rule id")
                let scope: AlertScope
                switch try r.u8("scope kind") {
                case 0: scope = .project(try r.string("project"))
                case 1: scope = .run(try runID(&r))
                case let k: throw StrataError.corrupt("unknown alert scope kind \(k)", path: path, offset: r.offset)
                }
                let metric = try r.string("metric")
                let condition: AlertCondition
                switch try r.u8("condition kind") {
                case 0: condition = .nonFinite
                case 1: condition = .above(try r.f64("threshold"))
                case 2: condition = .below(try r.f64("threshold"))
                case 3:
                    let n = try r.i64("steps")
                    condition = .noImprovement(steps: n, mode: try r.u8("mode") == 0 ? .min : .max)
                case 4: condition = .stalled(milliseconds: try r.i64("milliseconds"))
                case 5:
                    let run = try runID(&r)
                    condition = .baseline(run: run, percent: try r.f64("percent"))
                case let k: throw StrataError.corrupt("unknown alert condition kind \(k)", path: path, offset: r.offset)
                }
                let hook = try r.string("webhook")
                let created = try r.i64("created")
                out.append(
                    AlertRule(id: id, scope: scope, metric: metric, condition: condition, webhook: hook.isEmpty ? nil : hook, createdMs: created))
            }
            return out
        }
    }

    private static func runID(_ r: inout ByteReader) throws(StrataError) -> RunID {
        let text = try r.string("run id")
        guard let id = RunID(text) else { throw StrataError.corrupt("bad run id \"\(text)\"", path: r.path, offset: r.offset) }
        return id
    }

    /// The stored rules (none when there is no rules file).
    static func readRules(_ root: String) throws(StrataError) -> [AlertRule] {
        let p = rules(root)
        guard try Sys.status(p) != nil else { return [] }
        return try decodeRules(try Sys.readFile(p), path: p)
    }

    static func writeRules(_ root: String, _ list: [AlertRule], tmpDir: String) throws(StrataError) {
        try Sys.writeAtomically(encode(list), to: rules(root), tmpDir: tmpDir)
    }

    // MARK: events log

    /// One record of `alerts/events`.
    enum Record: Equatable {
        case fired(AlertEvent)
        /// The condition of `rule` on the series became false again at `step`.
        case rearmed(rule: String, run: RunID, series: String, step: Int64)
        case delivered(event: String, timeMs: Int64)
    }

    static func encode(_ rec: Record) -> [UInt8] {
        var p = ByteWriter()
        switch rec {
        case .fired(let e):
            p.u8(1)
            p.string(e.id); p.string(e.rule); p.string(e.run.text); p.string(e.series)
            p.i64(e.step); p.f64(e.value); p.i64(e.timeMs)
        case .rearmed(let rule, let run, let series, let step):
            p.u8(2)
            p.string(rule); p.string(run.text); p.string(series); p.i64(step)
        case .delivered(let id, let t):
            p.u8(3)
            p.string(id); p.i64(t)
        }
        var w = ByteWriter(capacity: p.count + 12)
        w.u32(UInt32(p.count))
        w.u64(Checksum.xxh64(p.bytes))
        w.raw(p.bytes)
        return w.bytes
    }

    /// The valid records of an events file and the length of its valid prefix. Reading stops at
    /// the first record that is short, too long or fails its checksum (a torn tail).
    static func decodeEvents(_ bytes: [UInt8], path: String) throws(StrataError) -> (records: [Record], valid: Int) {
        if bytes.isEmpty { return ([], 0) }
        guard bytes.count >= 16, Array(bytes[0..<8]) == eventsMagic else {
            // A header torn by a crash while the file was created holds no record.
            if bytes.count < 16, Array(eventsMagic.prefix(bytes.count)) == Array(bytes.prefix(8)) { return ([], 0) }
            throw StrataError.corrupt("not an alert events file (bad magic)", path: path)
        }
        return try ByteView.with(bytes) { (v: ByteView) throws(StrataError) -> ([Record], Int) in
            var head = ByteReader(v, from: 8, path: path)
            let ver = try head.u32("version")
            guard ver <= version else {
                throw StrataError(.unsupportedVersion, "alert events file version \(ver) is newer than this Strata reads (\(version))", path: path)
            }
            var out: [Record] = []
            var at = 16
            while at + 12 <= v.count {
                let n = Int(v.load(UInt32.self, at: at))
                let sum = v.load(UInt64.self, at: at + 4)
                guard n >= 1, n <= maxRecord, at + 12 + n <= v.count else { break }
                let payload = v[(at + 12)..<(at + 12 + n)]
                guard Checksum.xxh64(payload.array) == sum, let rec = try? decodeRecord(payload, path: path, at: at + 12) else { break }
                out.append(rec)
                at += 12 + n
            }
            return (out, at)
        }
    }

    private static func decodeRecord(_ v: ByteView, path: String, at: Int) throws(StrataError) -> Record {
        var r = ByteReader(v, path: path)
        switch try r.u8("record kind") {
        case 1:
            let id = try r.string("event id"), rule = try r.string("rule id")
            let run = try runID(&r)
            let series = try r.string("series")
            return .fired(
                AlertEvent(
                    id: id, rule: rule, run: run, series: series, step: try r.i64("step"), value: try r.f64("value"),
                    timeMs: try r.i64("time"), deliveredMs: nil))
        case 2:
            let rule = try r.string("rule id")
            let run = try runID(&r)
            return .rearmed(rule: rule, run: run, series: try r.string("series"), step: try r.i64("step"))
        case 3:
            let id = try r.string("event id")
            return .delivered(event: id, timeMs: try r.i64("time"))
        case let k: throw StrataError.corrupt("unknown alert event record kind \(k)", path: path, offset: at)
        }
    }

    /// The valid records of `alerts/events` (none when it does not exist).
    static func readEvents(_ root: String) throws(StrataError) -> [Record] {
        let p = events(root)
        guard try Sys.status(p) != nil else { return [] }
        return try decodeEvents(try Sys.readFile(p), path: p).records
    }

    /// Appends records to `alerts/events` under `alerts/lock`, first cutting off a torn or damaged
    /// tail (whose bytes are kept in `damaged/alerts-events-<ns>`), fsynced when `sync`.
    /// `knownEnd` is the file's length after this process's last append: when the file still has
    /// that length, its records are not read and checked again.
    static func append(_ root: String, _ records: [Record], sync: Bool, damagedDir: String, knownEnd: inout Int?) throws(StrataError) {
        if records.isEmpty { return }
        knownEnd = try withLock(root) { () throws(StrataError) -> Int in
            let p = events(root)
            let fd = try Sys.open(p, O_RDWR | O_CREAT)
            defer { Sys.close(fd) }
            var bytes: [UInt8] = []
            for r in records { bytes += encode(r) }
            if let k = knownEnd, k >= 16, try Sys.fileSize(fd, p) == k {
                try Sys.pwriteAll(fd, bytes, at: k, p)
                if sync { try Sys.fsync(fd, p) }
                return k + bytes.count
            }
            let existing = try Sys.readAll(fd, p)
            var end = existing.count
            if existing.count < 16 {
                var h = ByteWriter()
                h.raw(eventsMagic)
                h.u32(version)
                h.u32(0)
                try Sys.ftruncate(fd, 0, p)
                try Sys.pwriteAll(fd, h.bytes, at: 0, p)
                end = 16
            } else {
                let valid = try decodeEvents(existing, path: p).valid
                if valid < existing.count {
                    try? Sys.mkdirs(damagedDir)
                    try? Sys.writeAtomically(Array(existing[valid...]), to: damagedDir + "/alerts-events-\(Clock.nanoseconds())", tmpDir: damagedDir)
                    try Sys.ftruncate(fd, valid, p)
                }
                end = valid
            }
            try Sys.pwriteAll(fd, bytes, at: end, p)
            if sync { try Sys.fsync(fd, p) }
            return end + bytes.count
        }
    }
}

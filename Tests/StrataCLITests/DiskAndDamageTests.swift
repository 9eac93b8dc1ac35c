import Foundation
import Testing

// A full disk (a real one on a small tmpfs when run as root, an injected one otherwise), damaged
// segments, killed compactions and mistyped store paths, against the built `strata` binary.

/// Runs `strata` with extra environment variables; stdout and stderr go through files.
func strataEnv(_ args: [String], env extra: [String: String], input: String = "") throws -> (code: Int32, signaled: Bool, out: String, err: String) {
    let tmp = TempDir("strata-env")
    defer { withExtendedLifetime(tmp) {} }
    let dir = tmp.path
    _ = FileManager.default.createFile(atPath: dir + "/in", contents: Data(input.utf8))
    _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    let p = strataProcess(args, environment: extra)
    p.standardInput = FileHandle(forReadingAtPath: dir + "/in")
    p.standardOutput = FileHandle(forWritingAtPath: dir + "/out")
    p.standardError = FileHandle(forWritingAtPath: dir + "/err")
    try p.run()
    p.waitUntilExit()
    let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    return (p.terminationStatus, p.terminationReason == .uncaughtSignal, out, err)
}

/// JSON lines of `steps` random-valued points of metrics m and n (random values do not compress:
/// about 8 bytes a point on disk).
func randomLines(run: String, steps: Range<Int>) -> String {
    var rng = SystemRandomNumberGenerator()
    var s = ""
    s.reserveCapacity(steps.count * 90)
    for i in steps {
        let a = Double(rng.next() % 1_000_000_007) / 7.0, b = Double(rng.next() % 1_000_000_009) / 3.0
        s += "{\"run\": \"\(run)\", \"step\": \(i * 3 + i % 2), \"metrics\": {\"m\": \(a), \"n\": \(b)}}\n"
    }
    return s
}

/// A running `strata serve` on a free port.
final class ServeProcess {
    let process = Process()
    let port: Int
    let errFile: String

    init(store: String, env extra: [String: String] = [:]) throws {
        errFile = NSTemporaryDirectory() + "strata-serve-\(UUID().uuidString.prefix(8)).err"
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: strataBinary())
        process.arguments = ["serve", "--store", store, "--port", "0"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "STRATA_STORE")
        env.merge(extra) { _, new in new }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errFile)
        try process.run()
        var found: Int?
        while found == nil && process.isRunning {
            let text = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
            if let r = text.range(of: "http://127.0.0.1:") {
                found = Int(text[r.upperBound...].prefix { $0.isNumber })
            } else {
                usleep(10_000)
            }
        }
        guard let found else { throw CLIFailure("serve did not start: \((try? String(contentsOfFile: errFile, encoding: .utf8)) ?? "")") }
        port = found
    }

    /// One HTTP/1.1 request over a fresh connection: status and body.
    func request(_ method: String, _ path: String, body: String = "") throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIFailure("socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { throw CLIFailure("connect to port \(port) failed") }
        let bytes = Array(body.utf8)
        let head =
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
        for chunk in [Array(head.utf8), bytes] where !chunk.isEmpty {
            var off = 0
            while off < chunk.count {
                let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress! + off, chunk.count - off, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                off += n
            }
        }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            response += buf[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let bodyText = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, bodyText)
    }

    /// Stops the server (SIGTERM); true when it exited by itself, not killed by a signal.
    func stop() -> Bool {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: errFile)
        return process.terminationReason == .exit
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Lines of an export, as a set (each exported point is one distinct line: steps are unique).
func exportLines(_ r: (code: Int32, signaled: Bool, out: String, err: String)) -> Set<String> {
    Set(r.out.split(separator: "\n").map(String.init))
}

@Suite(.serialized) struct DiskFullTests {
    /// Every write fails as on a full disk (injected): ingest exits 1 naming the store, reads work,
    /// and the server answers 507 to ingest while it keeps answering queries.
    @Test func injectedFullDiskIsAClearErrorAndReadsGoOn() throws {
        let s = Scratch()
        #expect(try strata(["ingest"], input: randomLines(run: "before", steps: 0..<2000), store: s.store).code == 0)
        let full = [
            "STRATA_TEST_FAULTS": ["write", "pwrite", "fsync", "fallocate", "ftruncate"].map { "\($0):1:ENOSPC:0:\(s.store)" }.joined(separator: ";")
        ]
        let r = try strataEnv(["ingest", "--store", s.store], env: full, input: randomLines(run: "during", steps: 0..<100))
        #expect(r.code == 1 && !r.signaled)
        #expect(r.err.contains("no space left on device") && r.err.contains("store \(s.store)"), "\(r.err)")
        for args in [["runs"], ["verify"], ["export"], ["show", "before"], ["curve", "before", "m"], ["stats"]] {
            let x = try strataEnv(args + ["--store", s.store], env: full)
            #expect(x.code == 0, "\(args) while the disk is full: \(x.err)")
            if args == ["export"] { #expect(exportLines(x).count == 4000) }
        }
        let server = try ServeProcess(store: s.store, env: full)
        #expect(try server.request("GET", "/api/runs").status == 200)
        let refused = try server.request("POST", "/api/ingest", body: randomLines(run: "served", steps: 0..<100))
        #expect(refused.status == 507, "\(refused.body)")
        #expect(refused.body.contains("\"error\"") && refused.body.contains("no space left on device"), "\(refused.body)")
        #expect(try server.request("GET", "/api/runs").status == 200)
        #expect(server.stop())
        // The fault cleared (space freed): writing works again.
        #expect(try strata(["ingest"], input: randomLines(run: "after", steps: 0..<100), store: s.store).code == 0)
        #expect(exportLines(try strataEnv(["export", "--store", s.store], env: [:])).count == 4200)
    }

    /// A real full disk: a 16 MiB tmpfs filled by `strata ingest` (root only).
    @Test func realFullDiskOnASmallTmpfs() throws {
        guard getuid() == 0 else { print("skipped realFullDiskOnASmallTmpfs: needs root to mount a tmpfs"); return }
        let base = NSTemporaryDirectory() + "strata-tmpfs-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        guard mount("tmpfs", base, "tmpfs", 0, "size=16m") == 0 else {
            print("skipped realFullDiskOnASmallTmpfs: mount -t tmpfs failed: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(base, Int32(MNT_DETACH)) }
        let store = base + "/store"
        func freeBytes() -> Int { var v = statvfs(); statvfs(base, &v); return Int(v.f_bavail) * Int(v.f_frsize) }
        func fill(_ name: String, leaving: Int) {
            _ = FileManager.default.createFile(atPath: base + "/" + name, contents: Data(count: max(0, freeBytes() - leaving)))
        }

        // Fill the disk with ingests until one fails.
        var acknowledged = 0, batches = 0
        var failure: (code: Int32, signaled: Bool, out: String, err: String)?
        fill("filler", leaving: 6 << 20)
        for i in 0..<40 {
            let r = try strataEnv(["ingest", "--store", store], env: [:], input: randomLines(run: "r\(i)", steps: 0..<40_000))
            #expect(!r.signaled, "ingest was killed by a signal: \(r.err)")
            if r.code != 0 { failure = r; break }
            acknowledged += 80_000
            batches += 1
        }
        let f = try #require(failure, "the disk never filled")
        #expect(f.code == 1 && f.err.contains("no space left on device") && f.err.contains("store \(store)"), "\(f.err)")
        #expect(batches > 0)
        // Read-only commands read the full store.
        #expect(try strataEnv(["runs", "--store", store], env: [:]).code == 0)
        let v = try strataEnv(["verify", "--store", store], env: [:])
        #expect(v.code == 0, "\(v.out) \(v.err)")
        let e = try strataEnv(["export", "--store", store], env: [:])
        #expect(e.code == 0, "\(e.err)")
        let lines = exportLines(e)
        for i in 0..<batches { #expect(lines.filter { $0.contains("\"run\": \"r\(i)\"") }.count == 80_000, "run r\(i)") }
        #expect(lines.count >= acknowledged)
        // Space freed: ingest works again.
        try FileManager.default.removeItem(atPath: base + "/filler")
        let again = try strataEnv(["ingest", "--store", store], env: [:], input: randomLines(run: "again", steps: 0..<1000))
        #expect(again.code == 0, "\(again.err)")

        // The server on a full disk: queries answered, ingest refused with 507, then resumed.
        let server = try ServeProcess(store: store)
        #expect(try server.request("GET", "/api/runs").status == 200)
        fill("filler2", leaving: 64 << 10)
        var statuses: [Int] = []
        for i in 0..<30 {
            let r = try server.request("POST", "/api/ingest", body: randomLines(run: "s\(i)", steps: 0..<20_000))
            statuses.append(r.status)
            if r.status == 507 {
                #expect(r.body.contains("no space left on device"), "\(r.body)")
                break
            }
        }
        #expect(statuses.last == 507, "\(statuses)")
        #expect(server.process.isRunning, "the server survived the full disk")
        #expect(try server.request("GET", "/api/runs").status == 200)
        #expect(try server.request("GET", "/api/runs?limit=1").status == 200)
        try FileManager.default.removeItem(atPath: base + "/filler2")
        #expect(try server.request("POST", "/api/ingest", body: randomLines(run: "resumed", steps: 0..<1000)).status == 200)
        #expect(server.stop(), "the server exited cleanly (no SIGBUS)")
    }
}

@Suite struct StoreMaintenanceCLITests {
    @Test func maintenanceAndReadingCommandsNeverCreateAStore() throws {
        let s = Scratch()
        let typo = s.sub("typo")
        for args in [
            ["compact"], ["verify"], ["runs"], ["show", "x"], ["export"], ["rewind", "x", "--to", "1"], ["stats"],
            ["curve", "x", "m"], ["log", "x", "--step", "1", "m=1"], ["token", "list"], ["token", "revoke", "x"]
        ] {
            let r = try strata(args, store: typo)
            #expect(r.code == 1, "\(args): \(r.err)")
            #expect(r.err.contains("no store at \(typo)"), "\(args): \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: typo), "\(args) created a store")
        }
    }

    /// `token create` sets up a server's store, so it may create one, but says so on stderr.
    @Test func tokenCreateSaysWhenItCreatesAStore() throws {
        let s = Scratch()
        let fresh = try strata(["token", "create", "--scope", "read", "--name", "a"], store: s.store)
        #expect(fresh.code == 0, "\(fresh.err)")
        #expect(fresh.err.contains("created a new store at"), "\(fresh.err)")
        let again = try strata(["token", "create", "--scope", "read", "--name", "b"], store: s.store)
        #expect(again.code == 0, "\(again.err)")
        #expect(!again.err.contains("created a new store"), "\(again.err)")
    }

    /// One flipped byte in a segment: export writes every readable point, names the damaged range
    /// on stderr and exits 1; `export --run` of the damaged run does the same; `curve` still works.
    @Test func exportSavesWhatIsReadableAroundADamagedChunk() throws {
        let s = Scratch()
        #expect(
            try strata(["ingest"], input: randomLines(run: "a", steps: 0..<10_000) + randomLines(run: "b", steps: 0..<10_000), store: s.store).code
                == 0)
        let before = try strata(["export"], store: s.store)
        #expect(before.code == 0)
        let all = Set(before.out.split(separator: "\n").map(String.init))
        #expect(all.count == 40_000)
        let segs = try FileManager.default.contentsOfDirectory(atPath: s.store + "/segments").filter { $0.hasSuffix(".seg") }
        #expect(segs.count == 1)
        let seg = s.store + "/segments/" + segs[0]
        // The first bytes after the header are the steps of the first chunk of the first series (run a, m).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: seg))
        bytes[20] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: seg))
        #expect(try strata(["verify"], store: s.store).code == 1)

        var reportedByExport = 0
        for args in [["export"], ["export", "--run", "a"]] {
            let r = try strata(args, store: s.store)
            #expect(r.code == 1, "\(args)")
            #expect(r.err.contains("incomplete"), "\(r.err)")
            // Metrics logged together share their steps column: the flipped byte damages the first
            // chunk of both series of run a, and each is reported.
            let damage = r.err.split(separator: "\n").map(String.init).filter { $0.contains("damaged, not exported") }
            #expect(damage.count == 2, "\(args): \(r.err)")
            var reported = 0
            for (line, metric) in zip(damage.sorted(), ["m", "n"]) {
                #expect(line.contains(segs[0]) && line.contains("series \(metric) of run") && line.contains("steps 0..."), "\(line)")
                reported += line.range(of: "(").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
            }
            let got = Set(r.out.split(separator: "\n").map(String.init))
            #expect(got.isSubset(of: all))
            // Only points of run a are missing, as many as reported; everything else is exported.
            let missing = all.subtracting(got).filter { args.count == 1 || $0.contains("\"run\": \"a\"") }
            #expect(missing.allSatisfy { $0.contains("\"run\": \"a\"") })
            #expect(reported > 0 && missing.count == reported, "\(missing.count) missing, \(reported) reported")
            #expect(got.count == (args.count == 1 ? 40_000 : 20_000) - reported)
            if args.count == 1 { reportedByExport = reported }
        }
        // The Parquet export does the same: every readable point written, the same damage reported.
        let pq = try strata(["export", "--format", "parquet", "--out", s.store + "-parquet"], store: s.store)
        #expect(pq.code == 1 && pq.err.contains("incomplete"), "\(pq.err)")
        #expect(pq.err.split(separator: "\n").filter { $0.contains("damaged, not exported") }.count == 2, "\(pq.err)")
        let written = 40_000 - reportedByExport
        #expect(pq.err.contains("and \(written / 1000),\(String(written % 1000 + 1000).dropFirst()) points to"), "\(pq.err)")
        // Queries away from the damaged chunk still work.
        #expect(try strata(["curve", "a", "m", "--from", "15000"], store: s.store).code == 0)
    }

    /// `strata compact` killed with SIGKILL while it writes its output leaves `tmp/*.seg.tmp`;
    /// the next opening of the store removes it, and every point is still there.
    @Test func killedCompactionLeavesNoTemporaryFileBehind() throws {
        let s = Scratch()
        var total = 0
        var killedWithTempFile = false
        for attempt in 0..<6 where !killedWithTempFile {
            for i in 0..<3 {
                #expect(try strata(["ingest"], input: randomLines(run: "r\(attempt)-\(i)", steps: 0..<60_000), store: s.store).code == 0)
                total += 120_000
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: strataBinary())
            p.arguments = ["compact", "--store", s.store]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            while p.isRunning {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: s.store + "/tmp")) ?? []
                if names.contains(where: { $0.hasSuffix(".seg.tmp") }) {
                    kill(p.processIdentifier, SIGKILL)
                    break
                }
                usleep(500)
            }
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal {
                let left = try FileManager.default.contentsOfDirectory(atPath: s.store + "/tmp")
                killedWithTempFile = left.contains { $0.hasSuffix(".seg.tmp") }
            }
        }
        try #require(killedWithTempFile, "never caught compaction writing its output")
        let runs = try strata(["runs"], store: s.store)
        #expect(runs.code == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.store + "/tmp").isEmpty, "the stale temporary file is removed")
        let e = try strata(["export"], store: s.store)
        #expect(e.code == 0)
        #expect(Set(e.out.split(separator: "\n")).count == total)
        #expect(try strata(["verify"], store: s.store).code == 0)
    }
}

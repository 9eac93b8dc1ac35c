import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Alerts through the real `strata serve` (issue 15): ingest fires a rule, the event is posted to
/// a loopback webhook receiver started by the test; a restart does not fire again for the same
/// crossing; a server SIGKILLed while delivering posts the event again after a restart (same id).
@Suite("Alerts through strata serve (real process, loopback webhook)", .serialized)
struct AlertServeTests {
    /// A loopback HTTP receiver: records each request body; answers 200 unless `hold` is set, in
    /// which case it keeps the connection open without answering.
    final class Receiver: @unchecked Sendable {
        private let lock = NSLock()
        private var _bodies: [[String: Any]] = []
        private var _hold = false
        private var held: [Int32] = []
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else { throw TestFailure("receiver bind/listen failed: errno \(errno)") }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
            let t = Thread { [self] in serve() }
            t.start()
        }

        var hold: Bool {
            get { lock.withLock { _hold } }
            set { lock.withLock { _hold = newValue } }
        }
        var bodies: [[String: Any]] { lock.withLock { _bodies } }

        /// Waits (up to a generous deadline) until `n` requests arrived.
        func wait(for n: Int) throws -> [[String: Any]] {
            for _ in 0..<1200 {
                let b = bodies
                if b.count >= n { return b }
                usleep(50_000)
            }
            throw TestFailure("the webhook received \(bodies.count) posts, expected \(n)")
        }

        private func serve() {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue }; return }
                var data: [UInt8] = []
                var buf = [UInt8](repeating: 0, count: 65536)
                var body: [UInt8]?
                while body == nil {
                    let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    data += buf[0..<n]
                    let text = String(decoding: data, as: UTF8.self)
                    if let r = text.range(of: "\r\n\r\n") {
                        let head = text[..<r.lowerBound].lowercased()
                        let len =
                            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                            .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                        let start = text.utf8.distance(from: text.utf8.startIndex, to: r.upperBound)
                        if data.count - start >= len { body = Array(data[start..<(start + len)]) }
                    }
                }
                let parsed = body.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
                let holding = lock.withLock { () -> Bool in
                    if let parsed { _bodies.append(parsed) }
                    return _hold
                }
                if holding {
                    lock.withLock { held.append(c) }
                } else {
                    let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                    _ = reply.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    close(c)
                }
            }
        }
    }

    static func ingest(_ port: Int, _ lines: [(Int, Double)]) throws {
        let text = lines.map { "{\"run\": \"r\", \"step\": \($0.0), \"metrics\": {\"train/loss\": \($0.1)}}\n" }.joined()
        let r = try RawHTTP.request(port: port, method: "POST", path: "/api/ingest", body: Array(text.utf8))
        #expect(r.status == 200, "\(r.text)")
    }

    static func cli(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ServeCrashTests.binary())
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func firesOnceDeliversAndSurvivesRestartAndKill() throws {
        let dir = TempDir()
        let store = dir.sub("s")
        let receiver = try Receiver()
        #expect(try Self.cli(["log", "r", "--store", store, "--step", "0", "train/loss=1", "--create"]).status == 0)
        let add = try Self.cli([
            "alert", "add", "--store", store, "--run", "r", "--metric", "train/loss", "--above", "5",
            "--webhook", "http://127.0.0.1:\(receiver.port)/hook"
        ])
        #expect(add.status == 0, "\(add.err)")
        let ruleId = add.out.trimmingCharacters(in: .whitespacesAndNewlines)

        // 1. A crossing through ingest is posted once.
        var server = try ServeCrashTests.Server(store: store)
        try Self.ingest(server.port, [(1, 10), (2, 11)])
        let first = try receiver.wait(for: 1)
        #expect(first[0]["rule"] as? String == ruleId && first[0]["step"] as? Int == 1 && first[0]["value"] as? Double == 10)
        #expect(first[0]["series"] as? String == "train/loss")
        server.stop()

        // 2. Restarted: still above (no new event), then re-armed and crossed again (one event).
        server = try ServeCrashTests.Server(store: store)
        try Self.ingest(server.port, [(3, 12), (4, 1), (5, 13)])
        let second = try receiver.wait(for: 2)
        #expect(second.map { $0["step"] as? Int } == [1, 5])
        #expect(Set(second.compactMap { $0["id"] as? String }).count == 2)

        // 3. SIGKILLed while the receiver holds the post: after a restart the same event is posted again.
        receiver.hold = true
        try Self.ingest(server.port, [(6, 1), (7, 14)])
        let third = try receiver.wait(for: 3)
        #expect(third[2]["step"] as? Int == 7)
        server.kill()
        receiver.hold = false
        server = try ServeCrashTests.Server(store: store)
        let fourth = try receiver.wait(for: 4)
        #expect(fourth[3]["id"] as? String == third[2]["id"] as? String)
        // Delivery is recorded; the events list shows all three firings, once each.
        var events = ""
        for _ in 0..<200 {
            let r = try RawHTTP.request(port: server.port, method: "GET", path: "/api/alerts/events?run=r")
            events = r.text
            if !events.contains("\"delivered_ms\":null") { break }
            usleep(50_000)
        }
        server.stop()
        let listed = try Self.cli(["alerts", "--store", store, "r"])
        #expect(listed.status == 0)
        let lines = listed.out.split(separator: "\n")
        #expect(lines.count == 3, "\(listed.out)")
        #expect(lines.allSatisfy { $0.contains("delivered ") && $0.contains("above 5.0") }, "\(listed.out)")
        #expect(!events.contains("\"delivered_ms\":null"), "\(events)")
    }

    @Test func apiAddsListsAndRemovesRulesAndRefusesBadInput() throws {
        let dir = TempDir()
        let store = dir.sub("s")
        #expect(try Self.cli(["log", "r", "--store", store, "--step", "0", "train/loss=1", "--create"]).status == 0)
        let server = try ServeCrashTests.Server(store: store)
        defer { server.stop() }
        func post(_ body: String) throws -> RawHTTP.Reply {
            try RawHTTP.request(
                port: server.port, method: "POST", path: "/api/alerts/rules", headers: ["Content-Type": "application/json"],
                body: Array(body.utf8))
        }
        let ok = try post(#"{"run": "r", "metric": "train/loss", "no_improvement": 100, "mode": "min"}"#)
        #expect(ok.status == 200, "\(ok.text)")
        let id = try #require(try ok.json()["id"] as? String)
        let unknown = try post(#"{"run": "r", "metric": "train/los", "nonfinite": true}"#)
        #expect(unknown.status == 400 && unknown.text.contains("unknown metric") && unknown.text.contains("train/loss"))
        let url = try post(#"{"run": "r", "metric": "train/loss", "above": 1, "webhook": "https://x"}"#)
        #expect(url.status == 400 && url.text.contains("http://"))
        let two = try post(#"{"run": "r", "metric": "train/loss", "above": 1, "below": 0}"#)
        #expect(two.status == 400 && two.text.contains("one condition"))
        let list = try RawHTTP.request(port: server.port, method: "GET", path: "/api/alerts/rules")
        #expect((try list.json()["rules"] as? [Any])?.count == 1)
        let del = try RawHTTP.request(
            port: server.port, method: "DELETE", path: "/api/alerts/rules/\(id)", headers: ["Content-Type": "application/json"])
        #expect(del.status == 200, "\(del.text)")
        let empty = try RawHTTP.request(port: server.port, method: "GET", path: "/api/alerts/rules")
        #expect((try empty.json()["rules"] as? [Any])?.count == 0)
    }
}

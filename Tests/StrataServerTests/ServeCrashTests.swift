import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `strata serve` SIGKILLed while clients post keyed batches (issue #8, item 11): after a restart,
/// every batch that was not acknowledged is retried with its key, and every point is stored
/// exactly once — none lost from an acknowledged batch, none doubled by a retry of a batch that
/// was (partly or wholly) stored before the kill.
@Suite("Server SIGKILL and keyed retries (real process)", .serialized)
struct ServeCrashTests {
    /// The built `strata` binary.
    static func binary() -> String { builtProduct("strata") }

    /// A `strata serve --port 0` child; `port` is read from its start line.
    final class Server {
        let process = Process()
        var port = 0

        /// Starts `strata serve --store STORE --port 0 EXTRA...`.
        init(store: String, extra: [String] = []) throws {
            process.executableURL = URL(fileURLWithPath: ServeCrashTests.binary())
            process.arguments = ["serve", "--store", store, "--port", "0"] + extra
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            var text = ""
            while port == 0 {
                let d = err.fileHandleForReading.availableData
                if d.isEmpty { throw TestFailure("strata serve exited: \(text)") }
                text += String(decoding: d, as: UTF8.self)
                if let r = text.range(of: "http://127.0.0.1:"), let end = text[r.upperBound...].firstIndex(of: "/") {
                    port = Int(text[r.upperBound..<end]) ?? 0
                }
            }
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGTERM (a graceful stop), then waits; does nothing once the server has exited.
        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    struct Batch {
        var key: String
        var run: String
        var steps: Range<Int>
        var body: [UInt8]
    }

    /// One client: its batches in order; those not acknowledged are retried (same key) first.
    final class Client: @unchecked Sendable {
        // @unchecked Sendable: used by one thread at a time (the test joins before reading).
        let name: String
        let rows: Int
        var next = 0
        var unacked: [Batch] = []
        var acked: [Batch] = []

        init(name: String, rows: Int) { self.name = name; self.rows = rows }

        func batch(_ i: Int) -> Batch {
            let steps = (i * rows)..<((i + 1) * rows)
            var text = ""
            if i % 2 == 0 {
                for s in steps { text += #"{"run": "\#(name)", "step": \#(s), "metrics": {"loss": \#(Double(s) * 0.5)}}"# + "\n" }
            } else {
                // Columnar form, in two slices.
                let mid = steps.lowerBound + rows / 2
                for part in [steps.lowerBound..<mid, mid..<steps.upperBound] {
                    text +=
                        #"{"run": "\#(name)", "metric": "loss", "steps": [\#(part.map(String.init).joined(separator: ","))], "values": [\#(part.map { String(Double($0) * 0.5) }.joined(separator: ","))]}"#
                        + "\n"
                }
            }
            return Batch(key: "\(name)-batch-\(i)", run: name, steps: steps, body: Array(text.utf8))
        }

        static func post(_ b: Batch, port: Int) throws -> RawHTTP.Reply {
            try RawHTTP.request(port: port, method: "POST", path: "/api/ingest", headers: ["Idempotency-Key": b.key], body: b.body)
        }

        /// Posts until the server goes away (or `limit` batches are new).
        func run(port: Int, limit: Int) {
            while let b = unacked.first {
                guard let r = try? Client.post(b, port: port), r.status == 200 else { return }
                acked.append(unacked.removeFirst())
            }
            while next < limit {
                let b = batch(next)
                next += 1
                guard let r = try? Client.post(b, port: port), r.status == 200 else {
                    unacked.append(b)
                    return
                }
                acked.append(b)
            }
        }
    }

    @Test func retriedBatchesAreStoredExactlyOnce() throws {
        signal(SIGPIPE, SIG_IGN)
        let dir = TempDir("strata-serve-crash")
        defer { withExtendedLifetime(dir) {} }
        let store = dir.store
        let clients = (0..<4).map { Client(name: "c\($0)", rows: 1500) }
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<4 {
            let server = try Server(store: store)
            let group = DispatchGroup()
            for c in clients {
                group.enter()
                let port = server.port
                DispatchQueue.global().async {
                    c.run(port: port, limit: .max); group.leave()
                }
            }
            usleep(UInt32.random(in: 300_000...900_000, using: &rng))
            server.kill()
            kills += 1
            group.wait()
        }
        // Restart; every unacknowledged batch is retried with its key and must succeed now.
        let server = try Server(store: store)
        defer { server.stop() }
        for c in clients {
            c.run(port: server.port, limit: c.next)
            #expect(c.unacked.isEmpty, "\(c.name): \(c.unacked.count) batches still refused")
        }
        // An acknowledged batch sent again is answered from its key, not applied again.
        for c in clients {
            guard let b = c.acked.first else { continue }
            let r = try Client.post(b, port: server.port)
            #expect(r.status == 200 && r.headers["idempotent-replayed"] == "true", "\(c.name): replay answered \(r.status) \(r.text)")
            var other = b
            other.body = Array(#"{"run": "\#(c.name)", "step": -1, "metrics": {"loss": 0}}"#.utf8)
            #expect(try Client.post(other, port: server.port).status == 422)
        }
        var total = 0
        for c in clients {
            let reply = try RawHTTP.request(port: server.port, method: "GET", path: "/api/points?run=\(c.name)&metric=loss")
            #expect(reply.status == 200)
            let points = (try reply.json()["points"] as? [[Any]]) ?? []
            var count: [Int: Int] = [:]
            for p in points { if let s = p[0] as? Int { count[s, default: 0] += 1 } }
            let expected = 0..<(c.next * c.rows)
            let missing = expected.filter { count[$0] == nil }.count
            let doubled = count.values.filter { $0 > 1 }.count
            #expect(
                missing == 0 && doubled == 0 && count.count == expected.count,
                "\(c.name): \(c.next) batches, \(missing) steps missing, \(doubled) stored more than once, \(count.count - expected.count) extra")
            total += c.next
        }
        #expect(kills == 4 && total > 8)
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataInterop
import Testing

@testable import StrataServer

/// `strata ingest` (StrataInterop's JSONLineIngester, which the CLI command drives line by line)
/// and the server's `/api/ingest` decode records with one decoder: the same records store the
/// same runs, and the same bad record gets the same sentence (the server adds "record N: ",
/// the CLI "line N: ").
@Suite struct SharedDecoderTests {
    static let records = [
        #"{"run": "a", "project": "p", "params": {"lr": 0.001, "opt": {"name": "adam", "betas": [0.9, 0.999]}, "n": null}, "tags": ["x", "y"], "meta": {"git": "abc"}}"#,
        #"{"run": "a", "step": 1, "time": 1760000000000, "metrics": {"loss": 0.5, "acc": "NaN", "skip": null}}"#,
        #"{"run": "a", "step": 2, "time": 1760000000001.4, "metric": "loss", "value": "-Infinity"}"#,
        #"{"run": "a", "step": 2, "time": 1760000000002, "labels": {"rank": 3, "split": "val"}, "metrics": {"loss": 0.25}}"#,
        #"{"run": "b", "step": -5, "time": 1760000000003, "metrics": {"m": 1e308, "k": -0.0}}"#,
        #"{"run": "b", "metadata": {"user": "me"}, "status": "failed"}"#,
        #"{"run_id": "FROM-ANOTHER-STORE", "run": "c", "step": 0, "time": 1760000000004, "metrics": {"m": 9007199254740993}}"#,
        #"{"run_id": "FROM-ANOTHER-STORE", "step": 1, "time": 1760000000005, "metrics": {"m": 2}}"#
    ]

    /// Runs as comparable text: name, project, status, params, tags, metadata, every series' points (bits).
    static func snapshot(_ store: Store) throws -> [String] {
        try store.runs().sorted { $0.name < $1.name }.map { r in
            var s = "\(r.name) \(r.project) \(r.status) \(r.params.sorted { $0.key < $1.key }) \(r.tags.sorted())"
            s += " \(r.metadata.filter { !["host", "pid", "command"].contains($0.key) }.sorted { $0.key < $1.key })"
            for series in try store.series(of: r.id).sorted(by: { "\($0.key.metric)\($0.key.labels)" < "\($1.key.metric)\($1.key.labels)" }) {
                let labels = Dictionary(uniqueKeysWithValues: series.key.labels.map { ($0.key, $0.value) })
                let points = try store.points(r.id, series.key.metric, labels: labels)
                s +=
                    " | \(series.key.metric)\(labels.sorted { $0.key < $1.key }): "
                    + points.map { "\($0.step)=\($0.value.bitPattern)@\($0.time)" }.joined(separator: ",")
            }
            return s
        }
    }

    /// Feeds lines to the CLI's ingester; the first error's message (without "line N: ").
    static func cliIngest(_ lines: [String], into store: Store) -> String? {
        let ingester = JSONLineIngester(book: RunBook(store: store, newRuns: false), defaultRun: nil)
        for line in lines {
            do { try ingester.handle(Array(line.utf8)[...]) } catch let e as InteropError { return e.message } catch { return "\(error)" }
        }
        return nil
    }

    @Test func theSameRecordsStoreTheSameRuns() async throws {
        let cli = try TempStore()
        #expect(Self.cliIngest(Self.records, into: cli.store) == nil)
        let server = try TempStore()
        let app = StrataServer.buildApplication(store: server.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(Self.records.joined(separator: "\n"))) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
        }
        let a = try Self.snapshot(cli.store), b = try Self.snapshot(server.store)
        #expect(a.count == 3)
        #expect(a == b)
    }

    /// Records the two used to treat differently (the CLI accepted the first four and created the
    /// fifth's run before refusing its metric name), and a few more.
    @Test(arguments: [
        #"{"run": "r", "step": 1, "time": 5, "metrics": {"m": 1}, "metrics": {"m": 2}}"#,
        #"{"run": "r", "value": 1, "params": {"a": 1}}"#,
        #"{"run": "r", "step": 1, "params": {"a": 1}}"#,
        #"{"run": "r", "meta": {"a": 1}, "metadata": {"a": 2}, "labels": {"k": "v"}}"#,
        #"{"run": "r", "step": 1, "time": 5, "metrics": {"a{b": 1}, "run": "s"}"#,
        #"{"run": "r", "step": 1.5, "metrics": {"m": 1}}"#,
        #"{"run": "", "step": 1, "metrics": {"m": 1}}"#,
        #"{"run": "r\u0001", "step": 1, "metrics": {"m": 1}}"#,
        #"{"run": "r", "step": 1, "metrics": {"m": "high"}}"#,
        #"{"run": "r", "step": 1, "labels": {"bad key": "v"}, "metrics": {"m": 1}}"#,
        #"{"run": "r", "status": "done"}"#,
        #"{"run": "r", "tags": ["a", 1]}"#,
        #"{"run": "r", "params": {"": 1}}"#,
        #"{"step": 1, "metrics": {"m": 1}}"#
    ])
    func theSameBadRecordGetsTheSameSentence(record: String) async throws {
        let cli = try TempStore()
        let cliMessage = try #require(Self.cliIngest([record], into: cli.store), "the CLI accepted \(record)")
        let server = try TempStore()
        let app = StrataServer.buildApplication(store: server.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(record)) { r in
                #expect(r.status == .badRequest)
                let e = try json(r.body)["error"] as! [String: Any]
                let serverMessage = e["message"] as! String
                // The dialects name a record differently ("a record …" / "a line …"), say how to name a
                // run, and word params/metadata limits as each always has ("params"/"param").
                let normalised = cliMessage.replacingOccurrences(of: "a line", with: "a record")
                    .replacingOccurrences(of: "name the run in the line or pass --run NAME", with: "every record names its run")
                    .replacingOccurrences(of: "param key", with: "params key")
                #expect(serverMessage == "record 0: " + normalised, "server: \(serverMessage) / CLI: \(cliMessage)")
            }
        }
        #expect(try cli.store.runs().isEmpty && server.store.runs().isEmpty, "a refused record writes nothing")
    }

    @Test func malformedTextIsMalformedInBoth() async throws {
        let record = #"{"run": "r", "step": 1, "metrics": {"m": nan}}"#
        let cli = try TempStore()
        #expect(Self.cliIngest([record], into: cli.store) == "malformed JSON at column 42: unexpected 'n', expected a value")
        let server = try TempStore()
        let app = StrataServer.buildApplication(store: server.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(record)) { r in
                #expect(r.status == .badRequest)
                let e = try json(r.body)["error"] as! [String: Any]
                #expect(e["message"] as? String == "record 0: malformed JSON at byte 41 in \"metrics\": unexpected 'n', expected a value")
            }
        }
    }
}

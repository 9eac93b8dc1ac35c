import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// The MLflow API's access rules and search language (docs/MLFLOW.md); the API itself is tested
/// with the real MLflow client in Tests/python/test_mlflow_api.py.
@Suite struct MLflowTests {
    func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String?
    ) async throws -> (Int, [String: Any]) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.execute(uri: uri, method: method, headers: headers, body: method == .post ? buffer("{}") : ByteBuffer()) {
            (Int($0.status.code), (try? json($0.body)) ?? [:])
        }
    }

    /// With tokens: no MLflow endpoint answers without one (401 in MLflow's form); a read token
    /// reaches exactly the endpoints that read, POST searches included, and gets 403 on the
    /// others; a write token reaches every one. Nothing is written by a refused request.
    @Test func tokenScopesOfEveryEndpoint() async throws {
        let t = try TempStore()
        let (read, _) = try Tokens.create(store: t.path, scope: .read, name: "viewer")
        let (write, _) = try Tokens.create(store: t.path, scope: .write, name: "ci")
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            for prefix in MLflowAPI.prefixes {
                for e in MLflowAPI.endpoints {
                    let uri = prefix + e.path
                    let (s0, b0) = try await call(client, e.method, uri, token: nil)
                    #expect(s0 == 401 && b0["error_code"] as? String == "UNAUTHENTICATED", "\(e.method) \(uri)")
                    let (s1, b1) = try await call(client, e.method, uri, token: read)
                    if e.read {
                        #expect(s1 != 401 && s1 != 403, "\(e.method) \(uri): \(s1) \(b1)")
                    } else {
                        #expect(s1 == 403 && b1["error_code"] as? String == "PERMISSION_DENIED", "\(e.method) \(uri): \(s1)")
                    }
                    let (s2, b2) = try await call(client, e.method, uri, token: write)
                    #expect(s2 != 401 && s2 != 403 && s2 < 500, "\(e.method) \(uri): \(s2) \(b2)")
                }
                // Only the exact read paths are reads: a neighbour is a write, and not canonical is 400.
                #expect(try await call(client, .post, prefix + "runs/search-x", token: read).0 == 403)
                #expect(try await call(client, .post, prefix + "runs/searchs", token: read).0 == 403)
                #expect(try await call(client, .post, prefix + "runs/search/", token: read).0 == 400)
                #expect(try await call(client, .post, prefix + "runs//search", token: read).0 == 400)
                #expect(try await call(client, .post, prefix + "runs/search", token: write).0 == 200)
                let (s, b) = try await call(client, .post, prefix + "runs/nope", token: write)
                #expect(s == 404 && b["error_code"] as? String == "ENDPOINT_NOT_FOUND")
            }
        }
        // Only the write token's runs/create calls (empty bodies: experiment 0) made runs.
        #expect(try t.store.runs().count == 2)
    }

    /// A finished run created at 5 ms, ended at 9 ms, as the MLflow API sees it.
    func view(
        _ t: TempStore, params: [String: ParamValue] = [:], metrics: [String: Double] = [:], tags: [String: String] = [:]
    ) throws -> MLflowRunView {
        var meta: [String: ParamValue] = [:]
        for (k, v) in tags { meta[MLflowKeys.tagPrefix + k] = .string(v) }
        let run = try t.store.createRun(name: "r", project: "p", params: params, metadata: meta, createdMs: 5)
        try run.finish(.finished, endedMs: 9)
        return MLflowRunView(info: try t.store.run(run.id.text), experimentId: "1", metrics: metrics.mapValues { ($0, 0, 0) })
    }

    @Test func filterLanguage() throws {
        let t = try TempStore()
        let r = try view(
            t,
            params: ["lr": .text("0.001"), "model": .text("resnet-50")], metrics: ["val_loss": 0.25, "nan": .nan],
            tags: ["mlflow.source.name": "train.py"])
        let cases: [(String, Bool)] = [
            ("metrics.val_loss < 0.5 and params.lr = '0.001'", true),
            ("metrics.val_loss < 0.5 AND params.lr = '0.0010'", false),  // params compare as text
            ("metrics.val_loss >= 0.25", true), ("metrics.val_loss > 0.25", false), ("metric.val_loss != 1", true),
            ("metrics.missing != 1", false), ("metrics.nan != 1", false),
            ("params.model LIKE 'res%'", true), ("params.model LIKE 'RES%'", false), ("params.model ILIKE 'RES%50'", true),
            ("params.model LIKE 'resnet-5_'", true), ("params.model LIKE 'resnet-5'", false),
            ("params.model IN ('vit', 'resnet-50')", true), ("params.model NOT IN ('vit', 'resnet-50')", false),
            ("tags.`mlflow.source.name` = 'train.py'", true), ("tags.\"mlflow.source.name\" = \"train.py\"", true),
            ("tags.mlflow.source.name = 'train.py'", true), ("tags.missing IS NULL", true), ("tags.missing IS NOT NULL", false),
            ("attributes.status = 'FINISHED'", true), ("attributes.run_name = 'r'", true), ("attributes.start_time > 4", true),
            ("attributes.end_time <= 8", false), ("params.lr = 'it''s'", false)
        ]
        for (text, want) in cases {
            #expect(try MLflowFilter(text).matches(r) == want, "\(text)")
        }
        for bad in [
            "metrics.val_loss <<< 3", "metrics.a < 1 or metrics.b < 2", "params.lr < 0.1", "foo.x = 'a'", "attributes.color = 'red'",
            "params.lr = 'unterminated", "metrics.a LIKE 'x'", "params.a IN 'x'", "metrics.a < 1 and"
        ] {
            #expect(throws: MLflowError.self, "\(bad)") { try MLflowFilter(bad) }
        }
    }

    @Test func orderByPutsMissingLast() throws {
        let t = try TempStore()
        let a = try view(t, params: ["lr": .text("0.1")], metrics: ["m": 2])
        let b = try view(t, params: ["lr": .text("0.01")], metrics: ["m": 1])
        let c = try view(t, params: [:], metrics: [:])
        let n = try view(t, params: [:], metrics: ["m": .nan])
        for dir in ["ASC", "DESC"] {
            let order = try MLflowFilter.Order("metrics.m \(dir)")
            let got = MLflowFilter.sorted([c, n, a, b], by: [order]).map(\.id)
            #expect(got == (dir == "ASC" ? [b.id, a.id, n.id, c.id] : [a.id, b.id, n.id, c.id]))
        }
        #expect(MLflowFilter.sorted([a, b, c], by: [try MLflowFilter.Order("params.lr")]).map(\.id) == [b.id, a.id, c.id])
        #expect(throws: MLflowError.self) { try MLflowFilter.Order("metrics.m sideways") }
    }

    /// get-history-bulk-interval's sampling against the raw points: at most `max` steps, the
    /// first and last of the window always, every point at a chosen step as stored, all points
    /// when there are few; steps logged with gaps and several values at one step.
    @Test func bulkIntervalSampling() throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "sampled")
        var points: [Point] = []
        var step: Int64 = 3
        for i in 0..<5_000 {
            points.append(Point(step: step, value: Double(i) * 0.5, time: 1_000 + Int64(i)))
            if i % 97 == 0 { points.append(Point(step: step, value: -Double(i), time: 1_000 + Int64(i))) }
            step += i % 10 == 0 ? 40 : 1
        }
        try run.append("loss", steps: points.map(\.step), values: points.map(\.value), times: points.map(\.time))
        try t.store.flush()
        for (window, max) in [(Int64.min...Int64.max, 320), (100...900, 50), (0...Int64.max, 1), (10...12, 5), (500...4_000, 2)] {
            let got = try MLflowAPI.sampledPoints(t.store, run.id, "loss", steps: window, max: max)
            let inWindow = points.filter { window.contains($0.step) }
            let steps = Array(Set(got.map(\.step))).sorted()
            #expect(steps.count <= max, "\(window) \(max)")
            if inWindow.count <= max {
                #expect(got == inWindow)
                continue
            }
            #expect(steps.last == inWindow.last?.step)
            if max > 1 { #expect(steps.first == inWindow.first?.step) }
            #expect(steps.count >= Swift.min(max, 2))
            #expect(got == inWindow.filter { steps.contains($0.step) }, "every point at a chosen step, as stored")
        }
    }

    /// runs/delete is Strata's tombstone: the run leaves `store.runs()`, yet runs/get still
    /// answers it with lifecycle_stage "deleted" and its metrics, metrics/get-history returns its
    /// points, and runs/search shows it only for DELETED_ONLY / ALL. runs/restore lifts the
    /// tombstone; deleting twice or restoring an active run changes nothing; an unknown run is 404.
    @Test func runsDeleteUsesTheTombstoneAndStillReadsById() async throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "gone", project: "p")
        try run.append("loss", steps: [0, 1], values: [2, 1])
        try run.finish(.finished)
        let keep = try t.store.createRun(name: "kept", project: "p")
        try keep.finish(.finished)
        try t.store.flush()
        let id = run.id.text
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            let prefix = MLflowAPI.prefixes[0]
            func post(_ path: String, _ body: String) async throws -> (Int, [String: Any]) {
                try await client.execute(
                    uri: prefix + path, method: .post, headers: [.contentType: "application/json"], body: buffer(body)
                ) { (Int($0.status.code), (try? json($0.body)) ?? [:]) }
            }
            func get(_ path: String) async throws -> [String: Any] {
                let (s, b) = try await client.execute(uri: prefix + path, method: .get) { (Int($0.status.code), (try? json($0.body)) ?? [:]) }
                #expect(s == 200, "\(path): \(b)")
                return b
            }
            func stage() async throws -> (String?, Int) {
                let r = try await get("runs/get?run_id=" + id)["run"] as? [String: Any]
                let info = r?["info"] as? [String: Any]
                let metrics = (r?["data"] as? [String: Any])?["metrics"] as? [Any]
                return (info?["lifecycle_stage"] as? String, metrics?.count ?? 0)
            }
            func history() async throws -> [Int] {
                (try await get("metrics/get-history?metric_key=loss&run_id=" + id)["metrics"] as? [[String: Any]] ?? []).compactMap {
                    Int($0["step"] as? String ?? "") ?? $0["step"] as? Int
                }
            }
            func search(_ view: String?) async throws -> Set<String> {
                let body = view.map { #"{"run_view_type":"\#($0)"}"# } ?? "{}"
                let (s, b) = try await post("runs/search", body)
                #expect(s == 200, "\(b)")
                let runs = b["runs"] as? [[String: Any]] ?? []
                return Set(runs.compactMap { ($0["info"] as? [String: Any])?["run_id"] as? String })
            }
            #expect(try await stage() == ("active", 1))
            for _ in 0..<2 { #expect(try await post("runs/delete", #"{"run_id":"\#(id)"}"#).0 == 200) }
            #expect(try t.store.runs().map(\.id) == [keep.id], "tombstoned: hidden from Strata's listing")
            #expect(try t.store.deletedRuns().map(\.id) == [run.id])
            #expect(throws: StrataError.self) { try t.store.points(run.id, "loss") }
            #expect(try await stage() == ("deleted", 1))
            #expect(try await history() == [0, 1])
            #expect(try await search(nil) == [keep.id.text])
            #expect(try await search("ACTIVE_ONLY") == [keep.id.text])
            #expect(try await search("DELETED_ONLY") == [id])
            #expect(try await search("ALL") == [id, keep.id.text])
            #expect(try await post("runs/set-tag", #"{"run_id":"\#(id)","key":"k","value":"v"}"#).0 == 400, "a deleted run is read-only")
            for _ in 0..<2 { #expect(try await post("runs/restore", #"{"run_id":"\#(id)"}"#).0 == 200) }
            #expect(Set(try t.store.runs().map(\.id)) == [run.id, keep.id])
            #expect(try await stage() == ("active", 1))
            #expect(try await history() == [0, 1])
            #expect(try await search(nil) == [id, keep.id.text])
            #expect(try await search("DELETED_ONLY") == [])
            #expect(try await post("runs/delete", #"{"run_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}"#).0 == 404)
        }
    }
}

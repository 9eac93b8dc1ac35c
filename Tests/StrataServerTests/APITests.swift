import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataInterop
import Testing

@testable import StrataServer

@Suite struct JSONScannerTests {
    func number(_ s: String) throws -> (Double, Int64?) {
        var sc = JSONScanner(Array(s.utf8))
        return try sc.number()
    }

    @Test func numbersRoundTripBitExactly() throws {
        for d in [
            0.009900990099009901, 0.0033333333333333335, 0.1, 0.2, 1.0 / 3, 2.5e-300, 1.7976931348623157e308, Double.leastNonzeroMagnitude,
            123456.789, 0.6931471805599453, 1e22, 1e23, -0.0, 3.0e-5
        ] {
            let (v, _) = try number(d.description)
            #expect(v.bitPattern == d.bitPattern, "\(d.description)")
        }
        #expect(try number("12").1 == 12)
        #expect(try number("-9223372036854775808").1 == Int64.min)
        #expect(try number("12.0").1 == nil)
        #expect(try number("NaN").0.isNaN)
        #expect(try number("-Infinity").0 == -.infinity)
        #expect(try number("123456789012345678901234567890").0 == 1.2345678901234568e29)
        #expect(try number("0.1234567890123456789012").0 == 0.12345678901234568)
    }
}

@Suite struct RouterTests {
    @Test func ingestThenQuery() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = sampleBatch(runs: ["a", "b", "c"], steps: 0..<1000)
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["points"] as? Int == 6000)
                #expect(o["records"] as? Int == 3003)
                #expect(o["durable"] as? String == "fsync")
            }
            // NaN and Infinity travel in and come back as strings.
            let special = #"[{"run": "a", "step": 1000, "time": 1760000100000, "metrics": {"train/loss": NaN, "acc": "Infinity"}}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(special)) { r in #expect(r.status == .ok) }

            // runs with filter and sort
            try await client.execute(
                uri: "/api/runs?where=" + "params.lr < 0.005".addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&sort=-name",
                method: .get
            ) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                let runs = o["runs"] as! [[String: Any]]
                #expect(runs.map { $0["name"] as! String } == ["c", "a"])
                let params = runs[0]["params"] as! [String: Any]
                #expect(params["lr"] as? Double == 0.001)
                let metrics = runs[1]["metrics"] as! [String: Any]
                let loss = metrics["train/loss"] as! [String: Any]
                #expect(loss["count"] as? Int == 1001)
                #expect(loss["nan"] as? Int == 1)
                #expect(loss["last"] as? String == "NaN")
            }
            try await client.execute(uri: "/api/runs?sort=train/loss.min&limit=1", method: .get) { r in
                let o = try json(r.body)
                #expect((o["runs"] as! [[String: Any]]).map { $0["name"] as! String } == ["a"])
                #expect(o["total"] as? Int == 3)
            }

            // one run, its series
            try await client.execute(uri: "/api/runs/b", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["name"] as? String == "b")
                #expect((o["tags"] as? [String]) == ["sweep"])
                let series = o["series"] as! [[String: Any]]
                #expect(Set(series.map { $0["metric"] as! String }) == ["train/loss", "acc"])
            }
            try await client.execute(uri: "/api/runs/nope/series", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("nope"))
            }

            // step curve: the same numbers as the library's exact curve
            let aID = try t.store.run("a").id
            let lib = try t.store.curve(aID, "train/loss", steps: 0..<1000, buckets: 10)
            try await client.execute(uri: "/api/curve?run=a&metric=train/loss&from=0&to=1000&buckets=10", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                let rows = o["rows"] as! [[String: Any]]
                #expect(rows.count == 10)
                for (row, b) in zip(rows, lib) {
                    #expect(row["count"] as? Int == b.stats.count)
                    #expect(row["min"] as? Double == b.stats.min)
                    #expect(row["max"] as? Double == b.stats.max)
                    #expect(row["first"] as? Double == b.stats.first)
                    #expect(row["last"] as? Double == b.stats.last)
                }
            }
            // time and relative curves: exact per bucket
            try await client.execute(uri: "/api/curve?run=a&metric=train/loss&x=relative&from=0&to=100000&buckets=10", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["t0"] as? Int == 1_760_000_000_000)
                let rows = o["rows"] as! [[String: Any]]
                #expect(rows.count == 10)
                // bucket 0 = relative ms [0, 10000) = steps 0..<100
                #expect(rows[0]["count"] as? Int == 100)
                #expect(rows[0]["first"] as? Double == 1.0)
                #expect(rows[0]["max"] as? Double == 1.0)
                #expect(rows[0]["min"] as? Double == 1.0 / 100)
                #expect(rows[9]["last_step"] as? Int == 999)
            }
            try await client.execute(uri: "/api/curve?run=a&metric=train/loss&x=time&buckets=1", method: .get) { r in
                let o = try json(r.body)
                let rows = o["rows"] as! [[String: Any]]
                #expect(rows[0]["count"] as? Int == 1001)
                #expect(rows[0]["nan"] as? Int == 1)
                #expect(rows[0]["last"] as? String == "NaN")
            }

            // raw points, streamed
            try await client.execute(uri: "/api/points?run=a&metric=acc&from=998", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                let pts = o["points"] as! [[Any]]
                #expect(pts.count == 3)
                #expect(pts[0][0] as? Int == 998)
                #expect(pts[2][1] as? String == "Infinity")
                #expect(pts[2][2] as? Int == 1_760_000_100_000)
            }

            // rank, band, summary
            try await client.execute(uri: "/api/rank?metric=train/loss&by=min&limit=2", method: .get) { r in
                let o = try json(r.body)
                let rows = o["rows"] as! [[String: Any]]
                #expect(rows.map { ($0["run"] as! [String: Any])["name"] as! String } == ["a", "b"])
                #expect(rows[0]["value"] as? Double == 1.0 / 1000)
                #expect(rows[0]["step"] as? Int == 999)
            }
            try await client.execute(uri: "/api/band?metric=acc&group=params.lr&width=500", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                let rows = o["rows"] as! [[String: Any]]
                // groups 0.001 (a, c) and 0.01 (b); buckets 0, 1 (and 2 for a's step 1000)
                let g = Dictionary(grouping: rows, by: { $0["group"] as! String })
                #expect(Set(g.keys) == ["0.001", "0.01"])
                let b0 = g["0.01"]!.first { $0["bucket"] as? Int == 0 }!
                #expect(b0["count"] as? Int == 500)
                #expect(b0["min"] as? Double == 0)
            }
            try await client.execute(uri: "/api/band?metric=acc&group=params.lr", method: .get) { r in
                let o = try json(r.body)
                #expect((o["width"] as? Int ?? 0) >= 1)
            }
            try await client.execute(uri: "/api/summary?where=name%20%3D%3D%20%22b%22", method: .get) { r in
                let o = try json(r.body)
                let runs = o["runs"] as! [[String: Any]]
                #expect(runs.count == 1)
                #expect(((runs[0]["metrics"] as! [String: Any])["acc"] as! [String: Any])["count"] as? Int == 1000)
            }
            // the page
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("<html"))
            }
        }
    }

    @Test func columnarRecordsAndJSONArray() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body =
                #"[{"run": "col", "params": {"model": {"depth": 12}}}, {"run": "col", "metric": "loss", "labels": {"rank": "3"}, "steps": [3, 1, 2], "values": [0.3, 0.1, "NaN"], "times": [30, 10, 20]}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["points"] as? Int == 3)
            }
            let id = try t.store.run("col").id
            let pts = try t.store.points(id, "loss", labels: ["rank": "3"])
            #expect(pts.map(\.step) == [1, 2, 3])
            #expect(pts[1].value.isNaN)
            #expect(try t.store.run("col").params["model.depth"] == .int(12))
            // A record larger than one append slice (8,192 points) arrives whole and in order.
            let n = 20_000
            let stepText: String = (0..<n).map { String($0) }.joined(separator: ",")
            let valueText: String = (0..<n).map { String(Double($0) * 0.5) }.joined(separator: ",")
            let big = "{\"run\": \"col\", \"metric\": \"big\", \"steps\": [" + stepText + "], \"values\": [" + valueText + "]}"
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(big)) { r in #expect(r.status == .ok) }
            let bigPts = try t.store.read(id, "big")
            #expect(bigPts.steps == (0..<Int64(n)).map { $0 })
            #expect(bigPts.values.last == Double(n - 1) * 0.5)
            try await client.execute(uri: "/api/curve?run=col&metric=loss&labels=rank=3&buckets=3", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect((o["rows"] as! [Any]).count == 3)
            }
        }
    }

    @Test func badBatchIsRejectedWhole() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let cases: [(String, Int?, String?, String)] = [
                (
                    #"[{"run": "x", "step": 1, "metrics": {"l": 1}}, {"run": "x", "step": 2, "metrics": {"l": 2}}, {"run": "x", "step": "abc", "metrics": {"l": 3}}]"#,
                    2, "step", #""step" must be an integer, got "abc""#
                ),
                (
                    #"{"run": "x", "step": 1, "metrics": {"l": 1}}"# + "\n" + #"{"run": "x", "step": 2, "metrics": {"loss": "high"}}"#, 1,
                    "metrics.loss", #"metric "loss" must be a number, got "high""#
                ),
                (#"[{"run": "x", "step": 1, "metrix": {"l": 1}}]"#, 0, "metrix", #"unknown key "metrix""#),
                (#"[{"run": "x", "step": 1, "metrics": {"l": 1}}, {"run": "x", "step": 2, "metrics": {"l": 1}"#, 1, nil, "malformed JSON"),
                (#"[{"step": 1, "metrics": {"l": 1}}]"#, 0, "run", #""run" is missing"#),
                (#"[{"run": "", "step": 1, "metrics": {"l": 1}}]"#, 0, "run", "run name is empty"),
                (#"[{"run": "x", "metrics": {"l": 1}}]"#, 0, "step", #""step" is missing"#),
                (#"[{"run": "x", "step": 1, "metrics": {"a{b": 1}}]"#, 0, "metrics.a{b", "forbidden"),
                (#"[{"run": "x", "metric": "l", "steps": [1, 2], "values": [1]}]"#, 0, "values", #""values" has 1 entries but "steps" has 2"#),
                (#"[{"run": "x", "status": "done"}]"#, 0, "status", #""status" must be "finished" or "failed""#),
                (#"[{"run": "x", "step": 1, "labels": {"bad key": "v"}, "metrics": {"l": 1}}]"#, 0, "labels", "label key"),
                (#"[1]"#, 0, nil, "expected a JSON object"),
                ("", nil, nil, "body is empty")
            ]
            for (body, index, field, message) in cases {
                try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in
                    #expect(r.status == .badRequest, "\(body)")
                    let e = try json(r.body)["error"] as! [String: Any]
                    #expect(e["index"] as? Int == index, "\(body)")
                    #expect(e["field"] as? String == field, "\(body)")
                    #expect((e["message"] as! String).contains(message), "\(e["message"]!) should contain \(message)")
                }
            }
            // Nothing was stored by any of them.
            #expect(try t.store.runs().isEmpty)
        }
    }

    @Test func badQueriesName400Field() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(sampleBatch(runs: ["a"], steps: 0..<10))) {
                r in #expect(r.status == .ok)
            }
            let cases: [(String, Int, String?, String)] = [
                ("/api/curve?run=a&metric=train/loss&buckets=abc", 400, "buckets", "must be an integer"),
                ("/api/curve?run=a&metric=train/loss&buckets=0", 400, "buckets", "must be 1 to 100000"),
                ("/api/curve?run=a", 400, "metric", "\"metric\" is missing"),
                ("/api/curve?run=a&metric=train/loss&x=epoch", 400, "x", "x must be step, time or relative"),
                ("/api/curve?run=a&metric=train/loss&from=5&to=5", 400, "to", "from (5) must be less than to (5)"),
                ("/api/curve?run=a&metric=nope", 404, "metric", "has no series nope"),
                ("/api/curve?run=zz&metric=acc", 404, nil, "no run with id or name \"zz\""),
                ("/api/curve?run=0000000000&metric=acc", 404, nil, "no run with id or name \"0000000000\""),
                ("/api/runs?where=params.lr%20%3C", 400, "where", "where:"),
                ("/api/runs?sort=bogus", 400, "sort", "sort must be"),
                ("/api/rank?metric=acc&by=median", 400, "by", "by must be one of"),
                ("/api/band?metric=acc", 400, "group", "\"group\" is missing"),
                ("/api/band?metric=acc&group=params.lr&width=-1", 400, "width", "width must be a positive integer"),
                ("/api/band?metric=acc&group=nosuch", 400, "group", "no run has param \"nosuch\""),
                ("/api/band?metric=acc&group=params.lrr", 400, "group", "no run has param \"lrr\" (did you mean params.lr?)"),
                ("/api/band?metric=train/los&group=lr", 400, "metric", "no run has metric \"train/los\" (did you mean train/loss?)"),
                ("/api/points?run=a&metric=acc&labels=rank", 400, "labels", "labels must be k=v")
            ]
            for (uri, status, field, message) in cases {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status.code == status, "\(uri): \(String(buffer: r.body))")
                    let e = try json(r.body)["error"] as! [String: Any]
                    #expect(e["field"] as? String == field, "\(uri)")
                    #expect((e["message"] as! String).contains(message), "\(uri): \(e["message"]!)")
                }
            }
        }
    }

    @Test func tokensAndLimits() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store, maxBodyBytes: 4096)
        try await app.test(.router) { client in
            // No tokens yet: open.
            try await client.execute(uri: "/api/runs", method: .get) { r in #expect(r.status == .ok) }
            let (write, _) = try Tokens.create(store: t.path, scope: .write, name: "ci")
            let (read, _) = try Tokens.create(store: t.path, scope: .read, name: "viewer")
            #expect(try Tokens.list(store: t.path).map(\.name) == ["ci", "viewer"])
            #expect(!(try String(contentsOfFile: Tokens.path(store: t.path), encoding: .utf8)).contains(write))
            try await Task.sleep(for: .milliseconds(300))  // the token file is re-checked every 250 ms
            let batch = buffer(#"[{"run": "x", "step": 1, "metrics": {"l": 1}}]"#)
            try await client.execute(uri: "/api/runs", method: .get) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] != nil)
                let e = try json(r.body)["error"] as! [String: Any]
                #expect(
                    e["message"] as! String
                        == "this store requires a token: send \"Authorization: Bearer TOKEN\" (create one with `strata token create --scope read`)")
            }
            try await client.execute(uri: "/api/runs", method: .get, headers: [.authorization: "Bearer strata_0000"]) { r in
                #expect(r.status == .unauthorized)
                #expect(String(buffer: r.body).contains("unknown or revoked token"))
            }
            try await client.execute(uri: "/api/runs", method: .get, headers: [.authorization: "Bearer " + read]) { r in #expect(r.status == .ok) }
            try await client.execute(
                uri: "/api/ingest", method: .post, headers: [.authorization: "Bearer " + read, .contentType: "application/json"], body: batch
            ) { r in
                #expect(r.status == .forbidden)
                #expect(String(buffer: r.body).contains("token \\\"viewer\\\" has read scope; POST /api/ingest needs a write token"))
            }
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: batch) { r in #expect(r.status == .unauthorized) }
            try await client.execute(
                uri: "/api/ingest", method: .post, headers: [.authorization: "Bearer " + write, .contentType: "application/json"], body: batch
            ) { r in #expect(r.status == .ok) }
            // The page and the health check need no token (they hold no data).
            try await client.execute(uri: "/", method: .get) { r in #expect(r.status == .ok) }
            // Too large: 413, nothing stored, earlier data intact.
            let big = buffer("[" + Array(repeating: #"{"run": "y", "step": 1, "metrics": {"l": 1}}"#, count: 200).joined(separator: ",") + "]")
            try await client.execute(
                uri: "/api/ingest", method: .post, headers: [.authorization: "Bearer " + write, .contentType: "application/json"], body: big
            ) { r in
                #expect(r.status == .contentTooLarge)
                #expect(String(buffer: r.body).contains("larger than the limit of 4096 bytes"))
            }
            #expect(try t.store.runs().map(\.name) == ["x"])
            #expect(try t.store.points(t.store.run("x").id, "l").count == 1)
            // Revoking takes effect without a restart.
            #expect(try Tokens.revoke(store: t.path, name: "viewer").name == "viewer")
            try await Task.sleep(for: .milliseconds(300))
            try await client.execute(uri: "/api/runs", method: .get, headers: [.authorization: "Bearer " + read]) { r in
                #expect(r.status == .unauthorized)
            }
        }
    }
}

@Suite struct LiveTests {
    /// 16 clients post batches while 4 others query curves, on a real socket: nothing lost, no error.
    @Test func concurrentClients() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store, port: 0)
        try await withServerThreads {
            try await app.test(.live) { client in
                let port = client.port!
                let writers = 16, batches = 20, stepsPerBatch = 250
                let failures = LockedList()
                let stop = LockedFlag()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<writers {
                        group.addTask {
                            try await onThread {
                                for b in 0..<batches {
                                    var lines: [String] = []
                                    for s in (b * stepsPerBatch)..<((b + 1) * stepsPerBatch) {
                                        lines.append(#"{"run": "w\#(w)", "step": \#(s), "metrics": {"loss": \#(Double(s) * 0.5), "acc": \#(s)}}"#)
                                    }
                                    let r = try RawHTTP.request(
                                        port: port, method: "POST", path: "/api/ingest", body: Array(lines.joined(separator: "\n").utf8))
                                    if r.status != 200 { failures.add("ingest \(w)/\(b): \(r.status) \(r.text)") }
                                }
                            }
                        }
                    }
                    for q in 0..<4 {
                        group.addTask {
                            try await onThread {
                                var n = 0
                                while !stop.value || n < 5 {
                                    let r = try RawHTTP.request(port: port, method: "GET", path: "/api/curve?run=w\(q)&metric=loss&buckets=100")
                                    // 404 until the first batch of that run lands.
                                    if r.status != 200 && r.status != 404 { failures.add("curve: \(r.status) \(r.text)") }
                                    n += 1
                                }
                            }
                        }
                    }
                    // Writers finish first; then tell the readers to stop.
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .milliseconds(50))
                            let runs = (try? t.store.runs()) ?? []
                            var done = runs.count == writers
                            if done {
                                for r in runs
                                where ((try? t.store.series(of: r.id)) ?? []).first(where: { $0.key.metric == "loss" })?.count != batches
                                    * stepsPerBatch
                                {
                                    done = false
                                }
                            }
                            if done { stop.set(); return }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(failures.items.isEmpty, "\(failures.items.prefix(5))")
                for w in 0..<writers {
                    let id = try t.store.run("w\(w)").id
                    let pts = try t.store.points(id, "loss")
                    #expect(pts.count == batches * stepsPerBatch)
                    #expect(pts.map(\.step) == (0..<Int64(batches * stepsPerBatch)).map { $0 })
                }
                let r = try RawHTTP.request(port: port, method: "GET", path: "/api/points?run=w3&metric=acc")
                #expect(r.status == 200)
                #expect(r.headers["transfer-encoding"] == "chunked")
                let pts = try r.json()["points"] as! [[Any]]
                #expect(pts.count == batches * stepsPerBatch)
            }
        }
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

/// Runs blocking work (socket clients) on its own thread: the cooperative pool has as many threads
/// as cores, and blocking them would starve the server running in the same process.
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (k: CheckedContinuation<Void, Error>) in
        let t = Thread {
            do { try body(); k.resume() } catch { k.resume(throwing: error) }
        }
        t.start()
    }
}

/// The web page in a real browser: headless Chromium (Debian package `chromium`) loads the page from
/// a live server holding real data, runs its scripts, and the DOM must show the runs table and
/// drawn panels. Skipped, with a message, when Chromium is not installed. (The page's behaviour —
/// hover values, markers, URL state, live updates — is tested through the DevTools protocol by
/// Tests/web/test_page.py.)
@Suite struct BrowserTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: chromium != nil, "Chromium is not installed (apt-get install -y chromium); browser test skipped"))
    func pageDrawsTableAndChart() async throws {
        let t = try TempStore()
        // Real data: 4 runs of a small sweep with a loss spike.
        var ids: [String] = []
        for (i, lr) in [0.001, 0.003, 0.01, 0.03].enumerated() {
            let run = try t.store.createRun(name: "sweep-\(i)", params: ["lr": .double(lr), "seed": .int(Int64(i % 2))], tags: ["browser"])
            for s in 0..<2000 {
                let loss = 2.0 * exp(-Double(s) * lr * 0.5) + 0.1 + (s == 700 ? 3 : 0)
                try run.log(["train/loss": loss, "acc": 1 - loss / 3], step: Int64(s), time: 1_760_000_000_000 + Int64(s) * 50)
            }
            try run.finish()
            ids.append(run.id.description)
        }
        let app = StrataServer.buildApplication(store: t.store, port: 0)
        let runIDs = ids
        try await withServerThreads {
            try await app.test(.live) { client in
                let ids = runIDs
                let port = client.port!
                func dom(_ query: String) async throws -> String {
                    let out = LockedList()
                    try await onThread {
                        let p = Process()
                        p.executableURL = URL(fileURLWithPath: BrowserTests.chromium!)
                        p.arguments = [
                            "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900", "--virtual-time-budget=10000",
                            "--user-data-dir=" + t.path + "-chromium", "--dump-dom", "http://127.0.0.1:\(port)/\(query)"
                        ]
                        let pipe = Pipe()
                        p.standardOutput = pipe
                        p.standardError = FileHandle.nullDevice
                        try p.run()
                        let data = pipe.fileHandleForReading.readDataToEndOfFile()
                        p.waitUntilExit()
                        out.add(String(decoding: data, as: UTF8.self))
                    }
                    return out.items.joined()
                }
                defer { try? FileManager.default.removeItem(atPath: t.path + "-chromium") }
                // One panel per metric, each drawn from /api/curve: two selected runs and the baseline.
                let page = try await dom("?sel=\(ids[0]),\(ids[2])&base=\(ids[1])")
                #expect(page.components(separatedBy: "<tr class=\"run").count - 1 == 4, "runs table rows")
                for i in 0..<4 { #expect(page.contains(">sweep-\(i)<")) }
                #expect(page.components(separatedBy: "data-drawn=\"3\"").count - 1 == 2, "two panels (train/loss, acc) with three runs each")
                #expect(page.contains("class=\"line raw baseline\""))
                #expect(page.components(separatedBy: "class=\"envelope\"").count - 1 == 6)
                let d = page.range(of: "data-buckets=\"")!
                let buckets = Int(page[d.upperBound...].prefix { $0.isNumber })!
                #expect(buckets > 300, "the panels plot at about screen resolution (\(buckets) buckets)")
                // Grouped by a param: /api/band per group.
                let band = try await dom("?group=seed")
                #expect(band.contains("data-drawn=\"2\""), "two seed groups")
                #expect(band.contains("class=\"std\""))
                let rel = try await dom("?sel=\(ids[3])&x=relative")
                #expect(rel.contains("data-drawn=\"1\""))
                #expect(rel.contains("time since the run"))
            }
        }
    }
}

@Suite struct AllNaNSeriesAPI {
    /// An all-NaN series has no min or max: `"NaN"` (as in the Stats of /api/runs), never ±Infinity.
    @Test func seriesSummaryOfAnAllNaNSeries() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = (0..<4).map { #"{"run": "r", "step": \#($0), "metrics": {"x": NaN, "y": \#($0)}}"# }.joined(separator: "\n") + "\n"
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/runs/r/series", method: .get) { r in
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                #expect(!text.contains("Infinity"), "\(text)")
                let o = try json(r.body)
                let series = (o["series"] as? [[String: Any]]) ?? []
                let x = series.first { $0["metric"] as? String == "x" }
                #expect(x?["min"] as? String == "NaN" && x?["max"] as? String == "NaN", "\(text)")
                #expect(x?["nan"] as? Int == 4 && x?["count"] as? Int == 4, "\(text)")
                let y = series.first { $0["metric"] as? String == "y" }
                #expect(y?["min"] as? Double == 0 && y?["max"] as? Double == 3, "\(text)")
            }
        }
    }
}

@Suite struct CurveEngineTests {
    /// `/api/curve` answers with the library's curve on every axis: the same buckets, statistics
    /// and bucket bounds (x0 = first x, x1 = one past the last), the same default range and, on
    /// the relative axis, the same origin (the run's first point, here earlier than the metric's).
    @Test func serverCurvesAreTheLibrarysCurves() async throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "engine")
        let start: Int64 = 1_760_000_000_000
        try run.append("early", steps: [0, 1], values: [1, 2], times: [start, start + 500])
        let n = 3_000
        var rng = SystemRandomNumberGenerator()
        var times: [Int64] = []
        var tm = start + 90_000
        for _ in 0..<n { tm += Int64.random(in: 0...700, using: &rng); times.append(tm) }
        try run.append("late", steps: (0..<Int64(n)).map { $0 }, values: (0..<n).map { _ in Double.random(in: 0...1, using: &rng) }, times: times)
        let id = run.id
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            for (axis, x) in [("time", Store.XAxis.time), ("relative", .relative), ("step", .step)] {
                for buckets in [1, 7, 333] {
                    let whole = try #require(try t.store.curveRange(id, "late", x: x))
                    let mid = whole.lowerBound + (whole.upperBound - whole.lowerBound) / 3
                    for (query, range) in [("", whole), ("&from=\(mid)&to=\(whole.upperBound)", mid...(whole.upperBound - 1))] {
                        let lib = try t.store.curve(id, "late", x: x, range: range, buckets: buckets)
                        try await client.execute(uri: "/api/curve?run=engine&metric=late&x=\(axis)&buckets=\(buckets)" + query, method: .get) { r in
                            #expect(r.status == .ok)
                            let o = try json(r.body)
                            let ctx = "\(axis) \(buckets) \(query)"
                            #expect((o["from"] as? Int).map(Int64.init) == range.lowerBound, "\(ctx) from")
                            if x == .relative { #expect((o["t0"] as? Int).map(Int64.init) == start, "\(ctx) t0") }
                            let rows = o["rows"] as! [[String: Any]]
                            #expect(rows.count == lib.count, "\(ctx)")
                            for (row, b) in zip(rows, lib) {
                                #expect(row["bucket"] as? Int == b.bucket, "\(ctx)")
                                #expect((row["x0"] as? Int).map(Int64.init) == b.range.lowerBound, "\(ctx) x0")
                                #expect((row["x1"] as? Int).map(Int64.init) == b.range.upperBound + 1, "\(ctx) x1")
                                #expect(row["count"] as? Int == b.stats.count, "\(ctx)")
                                #expect(row["min"] as? Double == b.stats.min, "\(ctx)")
                                #expect(row["max"] as? Double == b.stats.max, "\(ctx)")
                                #expect(row["first"] as? Double == b.stats.first, "\(ctx)")
                                #expect(row["last"] as? Double == b.stats.last, "\(ctx)")
                                #expect((row["first_step"] as? Int).map(Int64.init) == b.stats.firstStep, "\(ctx)")
                                #expect((row["last_step"] as? Int).map(Int64.init) == b.stats.lastStep, "\(ctx)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// `/api/curve` counts finite, NaN, +Inf and −Inf values per bucket (the library's counts) and
    /// with `since` answers only the buckets from the one holding it on, with the same numbers.
    @Test func curveKindsOfValuesAndSince() async throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "div")
        func value(_ i: Int) -> Double {
            if i % 997 == 0 { return .infinity }
            if i % 1_301 == 0 { return -.infinity }
            if i % 89 == 0 { return .nan }
            return Double(i % 50)
        }
        let values = (0..<9_000).map(value)
        try run.append("loss", steps: (0..<Int64(9_000)).map { $0 }, values: values)
        try t.store.checkpoint()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let lib = try t.store.curve(run.id, "loss", steps: 0..<9_000, buckets: 37)
            var whole: [[String: Any]] = []
            try await client.execute(uri: "/api/curve?run=div&metric=loss&from=0&to=9000&buckets=37", method: .get) { r in
                #expect(r.status == .ok)
                whole = try json(r.body)["rows"] as! [[String: Any]]
            }
            #expect(whole.count == lib.count)
            for (row, b) in zip(whole, lib) {
                let lo = Int(b.range.lowerBound), hi = Int(b.range.upperBound)
                let vs = values[lo...hi]
                #expect(row["pinf"] as? Int == vs.filter { $0 == .infinity }.count && row["pinf"] as? Int == b.positiveInfinityCount)
                #expect(row["ninf"] as? Int == vs.filter { $0 == -.infinity }.count && row["ninf"] as? Int == b.negativeInfinityCount)
                #expect(row["finite"] as? Int == vs.filter(\.isFinite).count && row["nan"] as? Int == vs.filter(\.isNaN).count)
                if b.positiveInfinityCount + b.negativeInfinityCount > 0 {
                    #expect(
                        row["finite_min"] as? Double == vs.filter(\.isFinite).min() && row["finite_max"] as? Double == vs.filter(\.isFinite).max())
                } else {
                    #expect(row["finite_min"] == nil && row["finite_max"] == nil)
                }
            }
            #expect(whole.contains { ($0["pinf"] as? Int ?? 0) > 0 } && whole.contains { ($0["ninf"] as? Int ?? 0) > 0 })
            try await client.execute(uri: "/api/curve?run=div&metric=loss&from=0&to=9000&buckets=37&since=5000", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["since"] as? Int == 5000)
                let tail = o["rows"] as! [[String: Any]]
                let want = whole.filter { ($0["x1"] as! Int) > 5000 }
                #expect(!tail.isEmpty && tail.count == want.count)
                for (a, b) in zip(tail, want) {
                    #expect(Set(a.keys) == Set(b.keys))
                    for (k, v) in a { #expect("\(v)" == "\(b[k] ?? "missing")", "bucket \(a["bucket"] ?? "?") \(k)") }
                }
            }
            try await client.execute(uri: "/api/curve?run=div&metric=loss&since=soon", method: .get) { r in
                #expect(r.status == .badRequest)
                let e = try json(r.body)["error"] as? [String: Any]
                #expect(e?["field"] as? String == "since")
            }
        }
    }

    /// `/api/runs` carries a change cursor: sent back, the answer is `unchanged` (no list) until a
    /// run or a summary changes, then the whole list with a new cursor.
    @Test func runsListChangeCursor() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = sampleBatch(runs: ["a", "b"], steps: 0..<100)
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(body)) { r in #expect(r.status == .ok)
            }
            var cursor = ""
            try await client.execute(uri: "/api/runs", method: .get) { r in
                let o = try json(r.body)
                cursor = try #require(o["cursor"] as? String)
                #expect(cursor.count == 32 && (o["runs"] as? [Any])?.count == 2 && o["unchanged"] == nil)
            }
            try await client.execute(uri: "/api/runs?cursor=\(cursor)", method: .get) { r in
                let o = try json(r.body)
                #expect(o["unchanged"] as? Bool == true && o["runs"] == nil && o["cursor"] as? String == cursor && o["total"] as? Int == 2)
            }
            // another filter has another list: its own cursor
            try await client.execute(uri: "/api/runs?where=name%20%3D%3D%20%22a%22&cursor=\(cursor)", method: .get) { r in
                let o = try json(r.body)
                #expect(o["unchanged"] == nil && (o["runs"] as? [Any])?.count == 1 && o["cursor"] as? String != cursor)
            }
            // one new point moves a summary: the list comes back with a new cursor
            let point = #"{"run": "b", "step": 100, "metrics": {"train/loss": 0.5}}"#
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(point)) { r in #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/runs?cursor=\(cursor)", method: .get) { r in
                let o = try json(r.body)
                #expect(o["unchanged"] == nil && (o["runs"] as? [Any])?.count == 2)
                #expect(o["cursor"] as? String != cursor)
            }
        }
    }

    /// `/api/curves` answers, for each run named, exactly the `/api/curve` answer (same grid), and
    /// an error object for a run without the series, while the others are answered.
    @Test func curvesOfSeveralRunsInOneAnswer() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = sampleBatch(runs: ["a", "b", "c"], steps: 0..<500)
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(body)) { r in #expect(r.status == .ok)
            }
            _ = try t.store.createRun(name: "empty")
            let grid = "metric=train/loss&from=0&to=600&buckets=13"
            var batch: [[String: Any]] = []
            try await client.execute(uri: "/api/curves?runs=c,empty,a&" + grid, method: .get) { r in
                #expect(r.status == .ok)
                batch = try json(r.body)["curves"] as! [[String: Any]]
            }
            #expect(batch.count == 3)
            for (i, name) in ["c", "empty", "a"].enumerated() where name != "empty" {
                try await client.execute(uri: "/api/curve?run=\(name)&" + grid, method: .get) { r in
                    let one = try json(r.body)
                    let canonical = { (o: [String: Any]) in try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]) }
                    #expect(try canonical(one) == canonical(batch[i]), "\(name)")
                }
            }
            let e = batch[1]["error"] as? [String: Any]
            #expect(batch[1]["run"] as? String == "empty" && e?["status"] as? Int == 404)
            for (uri, field) in [
                ("/api/curves?metric=train/loss", "runs"), ("/api/curves?runs=a,,b&metric=train/loss", "runs"), ("/api/curves?runs=a", "metric")
            ] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .badRequest, "\(uri)")
                    let e = try json(r.body)["error"] as? [String: Any]
                    #expect(e?["field"] as? String == field, "\(uri)")
                }
            }
        }
    }
}

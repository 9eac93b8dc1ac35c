import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// `GET /api/compare` and `GET /api/hist`: the library's answers as JSON, and 400/404 errors naming the field.
@Suite struct CompareAPITests {
    static func number(_ v: Any?) -> Double? { (v as? Double) ?? (v as? Int).map(Double.init) }

    /// Three seeds of `base` and `slow` (step time +10 %), and the raw points by run name.
    static func fill(_ store: Store) throws -> [String: [Double]] {
        var state: UInt64 = 7
        var raw: [String: [Double]] = [:]
        for (config, ms) in [("base", 100.0), ("slow", 110.0)] {
            for seed in 0..<3 {
                let run = try store.createRun(name: "\(config)-\(seed)", params: ["variant": .string(config), "seed": .int(Int64(seed))])
                let values = (0..<300).map { s -> Double in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let v = ms + Double(state >> 11) / Double(1 << 53) * 4
                    return s == 3 ? .nan : v
                }
                try run.append("train/step_ms", steps: Array(0..<300), values: values)
                raw[run.name] = values
            }
        }
        return raw
    }

    @Test func compareAnswersTheLibrarysComparison() async throws {
        let t = try TempStore()
        _ = try Self.fill(t.store)
        let base = try t.store.replicates(of: try t.store.run("base-0"))
        let slow = try t.store.replicates(of: try t.store.run("slow-0"))
        var o = CompareOptions()
        o.statistic = .quantile(0.99)
        o.steps = 10..<300
        o.tolerance = try Tolerance(parsing: "2%")
        let want = try t.store.compare(baseline: base, candidate: slow, metric: "train/step_ms", options: o)
        #expect(want.verdict == .regression)
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let uri =
                "/api/compare?baseline=base-0&candidate=slow-0&seeds=1&metric=train/step_ms&stat=p99&from=10&to=300&tolerance=train/step_ms=2%25"
            try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let body = try json(r.body)
                #expect(body["stat"] as? String == "p99" && body["regression"] as? Bool == true)
                #expect((body["baseline"] as? [[String: Any]])?.map { $0["name"] as? String } == ["base-0", "base-1", "base-2"])
                let m = (body["metrics"] as! [[String: Any]])[0]
                #expect(Self.number(m["baseline"]) == want.baseline && Self.number(m["candidate"]) == want.candidate)
                #expect(Self.number(m["difference"]) == want.difference)
                let interval = (m["interval"] as! [Any]).map { Self.number($0)! }
                #expect(interval == [want.interval.lowerBound, want.interval.upperBound])
                #expect(m["method"] as? String == "welch_t" && m["verdict"] as? String == "regression")
                #expect(m["tolerance"] as? String == "2%" && m["tolerance_source"] as? String == "option")
                #expect(m["direction"] as? String == "lower" && m["direction_source"] as? String == "guessed")
                let runs = m["baseline_runs"] as! [[String: Any]]
                #expect(runs.map { Self.number($0["value"])! } == want.baselineRuns.map(\.value))
                #expect(runs.allSatisfy { $0["nan"] as? Int == 0 && $0["finite"] as? Int == 290 })
            }
            // A direction given in the query turns the regression into an improvement.
            try await client.execute(
                uri: "/api/compare?baseline=base-0&candidate=slow-0&seeds=1&metric=train/step_ms&higher_is_better=train/step_ms", method: .get
            ) { r in
                let m = (try json(r.body)["metrics"] as! [[String: Any]])[0]
                #expect(m["verdict"] as? String == "improvement" && m["direction_source"] as? String == "option", "\(String(buffer: r.body))")
            }
            // One run a side: within-run block bootstrap.
            try await client.execute(uri: "/api/compare?baseline=base-0&candidate=slow-0&metric=train/step_ms&stat=p50", method: .get) { r in
                let m = (try json(r.body)["metrics"] as! [[String: Any]])[0]
                #expect(m["method"] as? String == "block_bootstrap" && (m["block_lengths"] as? [Any])?.count == 2, "\(String(buffer: r.body))")
            }
        }
    }

    @Test func histCountsMatchBruteForce() async throws {
        let t = try TempStore()
        let raw = try Self.fill(t.store)
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/hist?run=slow-1&metric=train/step_ms&bins=7&from=2&to=250", method: .get) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let body = try json(r.body)
                let window = Array(raw["slow-1"]![2..<250])
                let finite = window.filter(\.isFinite)
                #expect(body["count"] as? Int == window.count && body["nan"] as? Int == 1 && body["finite"] as? Int == finite.count)
                let bins = body["bins"] as! [[String: Any]]
                #expect(bins.count == 7)
                var cumulative = 0
                for (i, b) in bins.enumerated() {
                    let lo = Self.number(b["lower"])!
                    let hi = Self.number(b["upper"])!
                    let brute = finite.filter { $0 >= lo && (i == 6 ? $0 <= hi : $0 < hi) }.count
                    cumulative += brute
                    #expect(b["count"] as? Int == brute && b["cumulative"] as? Int == cumulative)
                    #expect(Self.number(b["ecdf"]) == Double(cumulative) / Double(finite.count))
                }
                let q = (body["quantiles"] as! [[String: Any]]).first { Self.number($0["q"]) == 0.5 }
                #expect(Self.number(q?["value"]) == Quantile.of(sorted: finite.sorted(), 0.5))
            }
        }
    }

    @Test func badRequestsName400Or404Field() async throws {
        let t = try TempStore()
        _ = try Self.fill(t.store)
        let nanRun = try t.store.createRun(name: "nan")
        try nanRun.append("train/step_ms", steps: [0, 1], values: [.nan, .nan])
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let c = "/api/compare?baseline=base-0&candidate=slow-0"
            let cases: [(String, Int, String?, String)] = [
                ("/api/compare?candidate=slow-0&metric=train/step_ms", 400, "baseline", "\"baseline\" is missing"),
                ("\(c)", 400, "metric", "\"metric\" is missing"),
                ("\(c)&metric=train/step_ms&stat=p100", 400, "stat", "outside (0, 1)"),
                ("\(c)&metric=train/step_ms&stat=p0", 400, "stat", "outside (0, 1)"),
                ("\(c)&metric=train/step_ms&mode=replicates", 400, nil, "replicates are required"),
                ("\(c)&metric=train/step_ms&mode=sometimes", 400, "mode", "mode must be"),
                ("\(c)&metric=train/step_ms&stat=last", 400, nil, "needs replicates"),
                ("\(c)&metric=train/step_ms&from=1000", 400, nil, "no point"),
                ("\(c)&metric=train/step_ms&tolerance=train/step_ms=much", 400, "tolerance", "tolerance must be"),
                ("\(c)&metric=train/step_ms&tolerance=other=1", 400, "tolerance", "not a compared metric"),
                ("\(c)&metric=train/step_ms&confidence=2", 400, nil, "confidence must be"),
                ("\(c)&metric=nope", 404, nil, "has no metric \"nope\""),
                ("/api/compare?baseline=base-0&candidate=nan&metric=train/step_ms", 400, nil, "no finite point"),
                ("/api/compare?baseline=zz&candidate=slow-0&metric=train/step_ms", 404, nil, "no run with id or name \"zz\""),
                ("/api/compare?baseline=base-0&candidate=base-1&seeds=1&metric=train/step_ms", 400, "candidate", "on both sides"),
                ("/api/hist?run=base-0&metric=train/step_ms&bins=0", 400, "bins", "must be 1 to 1000"),
                ("/api/hist?run=nan&metric=train/step_ms", 400, nil, "no finite point"),
                ("/api/hist?run=base-0&metric=train/step_ms&from=5&to=5", 400, "to", "must be less than"),
                ("/api/hist?run=base-0&metric=nope", 404, nil, "has no metric")
            ]
            for (uri, status, field, message) in cases {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status.code == status, "\(uri): \(String(buffer: r.body))")
                    let e = try json(r.body)["error"] as? [String: Any]
                    #expect(e?["field"] as? String == field, "\(uri)")
                    let text = (e?["message"] as? String) ?? ""
                    #expect(text.contains(message), "\(uri): \(String(buffer: r.body))")
                }
            }
        }
    }
}

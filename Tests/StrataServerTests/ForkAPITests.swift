import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// `POST /api/runs/{run}/fork`, `lineage=full|own` on curves, and the lineage tree of a run.
@Suite struct ForkAPITests {
    @Test func forkThenCurveThroughLineage() async throws {
        let t = try TempStore()
        let base = try t.store.createRun(name: "base")
        for s in 0..<100 { try base.log("loss", Double(s), step: Int64(s)) }
        try t.store.writeCreatedRuns()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/runs/base/fork", method: .post, headers: jsonType, body: buffer(#"{"at": 100}"#)) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains("beyond its last step 99"))
            }
            try await client.execute(uri: "/api/runs/base/fork", method: .post, headers: jsonType, body: buffer(#"{"at": 1.5}"#)) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/runs/nope/fork", method: .post, headers: jsonType, body: buffer(#"{"at": 1}"#)) { r in
                #expect(r.status == .notFound)
            }
            var child = ""
            try await client.execute(
                uri: "/api/runs/base/fork", method: .post, headers: jsonType, body: buffer(#"{"at": 49, "name": "child", "params": {"lr": 0.001}}"#)
            ) { r in
                #expect(r.status == .created)
                let o = try json(r.body)
                #expect(o["fork_step"] as? Int == 49 && o["name"] as? String == "child")
                child = o["id"] as! String
            }
            let run = try #require(RunID(child))
            let c = try t.store.resumeRun(run.text)
            for s in 50..<60 { try c.log("loss", -Double(s), step: Int64(s)) }
            func count(_ lineage: String) async throws -> Int {
                var n = 0
                try await client.execute(uri: "/api/curve?run=child&metric=loss&buckets=7\(lineage)", method: .get) { r in
                    #expect(r.status == .ok)
                    n = (try json(r.body)["rows"] as! [[String: Any]]).map { $0["count"] as! Int }.reduce(0, +)
                }
                return n
            }
            #expect(try await count("") == 60)
            #expect(try await count("&lineage=full") == 60)
            #expect(try await count("&lineage=own") == 10)
            try await client.execute(uri: "/api/curve?run=child&metric=loss&lineage=mine", method: .get) { r in
                #expect(r.status == .badRequest)
            }
            try await client.execute(uri: "/api/runs/child", method: .get) { r in
                let o = try json(r.body)
                #expect(o["fork_step"] as? Int == 49)
                let lineage = o["lineage"] as! [String: Any]
                let ancestors = lineage["ancestors"] as! [[String: Any]]
                #expect(ancestors.map { $0["name"] as! String } == ["base"] && ancestors.map { $0["step"] as! Int } == [49])
            }
            try await client.execute(uri: "/api/runs/base", method: .get) { r in
                let children = (try json(r.body)["lineage"] as! [String: Any])["children"] as! [[String: Any]]
                #expect(children.map { $0["id"] as! String } == [child])
            }
        }
    }

    /// `lineage=full|own` on points, rank, band, quantiles and summary; 400 on any other value.
    @Test func lineageOptionOnEveryRead() async throws {
        let t = try TempStore()
        let base = try t.store.createRun(name: "base")
        for s in 0..<100 { try base.log("loss", Double(s), step: Int64(s)) }
        try t.store.writeCreatedRuns()
        let child = try t.store.fork(base.id, atStep: 49, name: "child", params: ["lr": 0.001])
        for s in 50..<60 { try child.log("loss", -Double(s), step: Int64(s)) }
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            func get(_ uri: String) async throws -> [String: Any] {
                var o: [String: Any] = [:]
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok, "\(uri): \(String(buffer: r.body))")
                    o = try json(r.body)
                }
                return o
            }
            for (mode, n, maxValue) in [("", 60, 49.0), ("&lineage=full", 60, 49.0), ("&lineage=own", 10, -50.0)] {
                let points = try await get("/api/points?run=child&metric=loss\(mode)")
                #expect((points["points"] as! [[Any]]).count == n, "points\(mode)")
                let quantiles = try await get("/api/quantiles?run=child&metric=loss&q=0.5&exact=1\(mode)")
                #expect(quantiles["count"] as? Int == n, "quantiles\(mode)")
                let summary = try await get("/api/summary?where=name%3D%3D%22child%22\(mode)")
                let runs = summary["runs"] as! [[String: Any]]
                let loss = (runs.first?["metrics"] as? [String: Any])?["loss"] as? [String: Any]
                #expect(runs.count == 1 && loss?["count"] as? Int == n, "summary\(mode)")
                let rank = try await get("/api/rank?metric=loss&by=max&order=desc\(mode)")
                let row = (rank["rows"] as! [[String: Any]]).first { ($0["run"] as! [String: Any])["name"] as? String == "child" }
                #expect(row?["value"] as? Double == maxValue, "rank\(mode)")
                let band = try await get("/api/band?metric=loss&group=lr&width=1000\(mode)")
                let rows = (band["rows"] as! [[String: Any]]).filter { $0["group"] as? String == "0.001" }
                #expect(rows.map { $0["count"] as! Int }.reduce(0, +) == n, "band\(mode): \(rows)")
                for path in ["/api/runs/child?x=1", "/api/runs/child/series?x=1"] {
                    let series = try await get(path + mode)["series"] as! [[String: Any]]
                    #expect(series.count == 1 && series.first?["count"] as? Int == n, "\(path)\(mode): \(series)")
                }
            }
            for path in [
                "/api/points?run=child&metric=loss", "/api/quantiles?run=child&metric=loss&q=0.5", "/api/summary?x=1",
                "/api/rank?metric=loss", "/api/band?metric=loss&group=lr", "/api/runs/child?x=1", "/api/runs/child/series?x=1"
            ] {
                try await client.execute(uri: path + "&lineage=mine", method: .get) { r in
                    #expect(r.status == .badRequest, "\(path)")
                    #expect(String(buffer: r.body).contains("lineage must be full or own"), "\(path)")
                }
            }
        }
    }
}

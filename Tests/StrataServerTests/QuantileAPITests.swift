import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// Quantiles in the HTTP API: `/api/quantiles`, `/api/curve?quantiles=`, `/api/rank?by=p90`,
/// `/api/band?quantiles=`, and their 400s.
@Suite("API quantiles")
struct QuantileAPITests {
    @Test func quantilesCurveRankBand() async throws {
        let t = try TempStore()
        var collected: [String: [Double]] = [:]
        for (i, name) in ["a", "b"].enumerated() {
            let run = try t.store.createRun(name: name, params: ["model": .string("m"), "seed": .int(Int64(i))])
            let vals = (0..<5000).map { s in Double((s * 7919 + i * 13) % 1000) + (i == 1 ? 100 : 0) }
            try run.append("step_ms", steps: (0..<5000).map { Int64($0) }, values: vals)
            collected[name] = vals
        }
        let values = collected
        try t.store.checkpoint()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/quantiles?run=a&metric=step_ms&q=0.5,p99&exact=1", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                let q = o["quantiles"] as! [String: Any]
                let exact = Quantile.exact(values["a"]!, [0.5, 0.99]).map { $0! }
                #expect(q["p50"] as? Double == exact[0])
                #expect(q["p99"] as? Double == exact[1])
                #expect(o["exact"] as? Bool == true)
            }
            try await client.execute(uri: "/api/quantiles?run=a&metric=step_ms&q=0.99", method: .get) { r in
                let o = try json(r.body)
                let got = (o["quantiles"] as! [String: Any])["p99"] as! Double
                let exact = Quantile.exact(values["a"]!, [0.99])[0]!
                #expect(abs(got - exact) <= QuantileSummary.sketchRelativeError * exact)
                #expect(o["exact"] as? Bool == false)
            }
            let lib = try t.store.curve(try t.store.run("a").id, "step_ms", steps: 0...4999, buckets: 3, quantiles: [0.9])
            try await client.execute(uri: "/api/curve?run=a&metric=step_ms&buckets=3&quantiles=0.9", method: .get) { r in
                #expect(r.status == .ok)
                let rows = try json(r.body)["rows"] as! [[String: Any]]
                #expect(rows.count == lib.count)
                for (row, b) in zip(rows, lib) {
                    #expect((row["quantiles"] as! [String: Any])["p90"] as? Double == b.quantiles[0])
                    #expect(row["quantiles_exact"] as? Bool == b.quantilesExact)
                }
            }
            try await client.execute(uri: "/api/rank?metric=step_ms&by=p90", method: .get) { r in
                #expect(r.status == .ok)
                let o = try json(r.body)
                #expect(o["by"] as? String == "p90")
                let rows = o["rows"] as! [[String: Any]]
                #expect(rows.map { ($0["run"] as! [String: Any])["name"] as! String } == ["a", "b"])
            }
            try await client.execute(uri: "/api/band?metric=step_ms&group=model&width=1&quantiles=0.1,0.9", method: .get) { r in
                #expect(r.status == .ok)
                let rows = try json(r.body)["rows"] as! [[String: Any]]
                let first = rows.first { $0["bucket"] as? Int == 0 }!
                let q = first["quantiles"] as! [String: Any]
                let exact = Quantile.exact([values["a"]![0], values["b"]![0]], [0.1, 0.9]).map { $0! }
                #expect(q["p10"] as? Double == exact[0])
                #expect(q["p90"] as? Double == exact[1])
            }
            for (uri, field) in [
                ("/api/quantiles?run=a&metric=step_ms&q=1.5", "q"),
                ("/api/quantiles?run=a&metric=step_ms", "q"),
                ("/api/curve?run=a&metric=step_ms&quantiles=0", "quantiles"),
                ("/api/curve?run=a&metric=step_ms&x=time&quantiles=0.5", "quantiles"),
                ("/api/curve?run=a&metric=step_ms&exact=1", "exact"),
                ("/api/band?metric=step_ms&group=model&quantiles=abc", "quantiles"),
                ("/api/rank?metric=step_ms&by=p100", "by")
            ] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .badRequest, "\(uri)")
                    #expect(String(buffer: r.body).contains(field), "\(uri)")
                }
            }
            try await client.execute(uri: "/api/quantiles?run=a&metric=step_ms&q=0.5&from=100000", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("no finite value"))
            }
        }
    }
}

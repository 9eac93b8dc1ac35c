import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataTestSupport
import Testing

@testable import StrataServer

/// Every query endpoint over series with steps and times at the Int64 extremes, through the
/// router, against the brute-force Int128 reference: no request may trap the server.
@Suite struct ServerOverflowTests {
    /// A JSON number or the strings "NaN"/"Infinity"/"-Infinity" as a Double.
    static func num(_ v: Any?) -> Double {
        switch v {
        case let i as Int: return Double(i)
        case let d as Double: return d
        case let s as String: return s == "NaN" ? .nan : s == "Infinity" ? .infinity : s == "-Infinity" ? -.infinity : .nan
        default: return .nan
        }
    }

    static func stats(_ o: [String: Any]) -> XStats {
        XStats(
            count: o["count"] as? Int ?? -1, nan: o["nan"] as? Int ?? -1, min: num(o["min"]), max: num(o["max"]), mean: num(o["mean"]),
            first: num(o["first"]), last: num(o["last"]), firstStep: Int64(o["first_step"] as? Int ?? 0), lastStep: Int64(o["last_step"] as? Int ?? 0)
        )
    }

    static func value(_ v: Double) -> String { v.isNaN ? "NaN" : "\(v)" }

    static func lines(_ run: String, group: Int, _ pts: [XPoint]) -> String {
        var out = #"{"run": "\#(run)", "params": {"g": \#(group)}}"# + "\n"
        for p in pts { out += #"{"run": "\#(run)", "step": \#(p.step), "time": \#(p.time), "metrics": {"m": \#(value(p.value))}}"# + "\n" }
        return out
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: .get) { r in
            guard r.status == .ok else { throw TestFailure("\(uri): \(r.status) \(String(buffer: r.body))") }
            return try json(r.body)
        }
    }

    static func curveRows(_ o: [String: Any]) -> [Int: XStats] {
        var out: [Int: XStats] = [:]
        for r in o["rows"] as? [[String: Any]] ?? [] { out[r["bucket"] as? Int ?? -1] = stats(r) }
        return out
    }

    @Test(arguments: 0..<20 as Range<UInt64>)
    func everyEndpointAtTheExtremes(seed: UInt64) async throws {
        guard #available(macOS 15.0, *) else { return }
        let t = try TempStore()
        var made: [String: [XPoint]] = [:]
        var text = ""
        for k in 0..<3 {
            made["r\(k)"] = Extremes.series(seed: k == 0 ? seed : seed * 3 + UInt64(k) + 100)
            text += Self.lines("r\(k)", group: k % 2, made["r\(k)"]!)
        }
        let series = made, body = text
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            var rng = Extremes.Random(seed: seed &+ 77)
            let pts = series["r0"]!
            let ctx = "seed \(seed): \(pts.map { "(\($0.step),\($0.time))" }.joined())"
            let steps = pts.map(\.step), times = pts.map(\.time)
            let t0 = times.min()!
            let relLast = Int64(min(Int128(Int64.max), Int128(times.max()!) - Int128(t0)))
            let axes: [(String, (XPoint) -> Int128, ClosedRange<Int64>)] = [
                ("step", { Int128($0.step) }, steps.min()!...steps.max()!),
                ("time", { Int128($0.time) }, t0...times.max()!),
                ("relative", { Int128($0.time) - Int128(t0) }, 0...relLast)
            ]
            for (axis, xOf, whole) in axes {
                for b in [1, 3, 1000] {
                    // Default range: the whole series, Int64.max included.
                    let o = try await Self.get(client, "/api/curve?run=r0&metric=m&x=\(axis)&buckets=\(b)")
                    let want = Extremes.curve(pts, x: xOf, lo: Int128(whole.lowerBound), last: Int128(whole.upperBound), buckets: b)
                    #expect(Self.curveRows(o) == want, "\(ctx) \(axis) default × \(b)")
                    #expect(o["from"] as? Int == Int(whole.lowerBound), "\(ctx) \(axis) from")
                    // Random [from, to), `to` up to 9223372036854775808.
                    let (lo, last) = Extremes.range(&rng)
                    let r = try await Self.get(
                        client, "/api/curve?run=r0&metric=m&x=\(axis)&buckets=\(b)&from=\(lo)&to=\(Buckets.exclusiveText(last))")
                    let want2 = Extremes.curve(pts, x: xOf, lo: Int128(lo), last: Int128(last), buckets: b)
                    #expect(Self.curveRows(r) == want2, "\(ctx) \(axis) \(lo)...\(last) × \(b)")
                }
            }
            // Raw points: all, and random ranges.
            let ordered = Extremes.ordered(pts)
            func pointSteps(_ o: [String: Any]) -> [Int64] { (o["points"] as? [[Any]] ?? []).map { Int64($0[0] as? Int ?? 0) } }
            func pointTimes(_ o: [String: Any]) -> [Int64] { (o["points"] as? [[Any]] ?? []).map { Int64($0[2] as? Int ?? 0) } }
            let all = try await Self.get(client, "/api/points?run=r0&metric=m")
            #expect(pointSteps(all) == ordered.map(\.step) && pointTimes(all) == ordered.map(\.time), "\(ctx) points")
            for _ in 0..<4 {
                let (lo, last) = Extremes.range(&rng)
                let o = try await Self.get(client, "/api/points?run=r0&metric=m&from=\(lo)&to=\(Buckets.exclusiveText(last))")
                #expect(pointSteps(o) == ordered.filter { $0.step >= lo && $0.step <= last }.map(\.step), "\(ctx) points \(lo)...\(last)")
            }
            // summary, rank, band over the three runs.
            let summary = try await Self.get(client, "/api/summary")
            for r in summary["runs"] as? [[String: Any]] ?? [] {
                let name = r["name"] as? String ?? ""
                let m = (r["metrics"] as? [String: Any])?["m"] as? [String: Any] ?? [:]
                #expect(Self.stats(m) == Extremes.stats(series[name]!), "\(ctx) summary \(name)")
            }
            for by in ["min", "max", "first", "last", "count"] {
                let o = try await Self.get(client, "/api/rank?metric=m&by=\(by)")
                for row in o["rows"] as? [[String: Any]] ?? [] {
                    let name = (row["run"] as? [String: Any])?["name"] as? String ?? ""
                    let ref = Extremes.stats(series[name]!)!
                    let want = ["min": ref.min, "max": ref.max, "first": ref.first, "last": ref.last, "count": Double(ref.count)][by]!
                    let got = Self.num(row["value"])
                    #expect(got == want || (got.isNaN && want.isNaN), "\(ctx) rank \(by) \(name)")
                }
            }
            // Automatic widths too, with one bucket over a span of up to 2^64 - 1 (a trap once).
            for (width, buckets) in [("1", nil), ("3", nil), ("9223372036854775807", nil), (nil, nil), (nil, "1"), (nil, "2")] as [(String?, String?)]
            {
                let o = try await Self.get(
                    client,
                    "/api/band?metric=m&group=g" + (width.map { "&width=\($0)" } ?? "")
                        + (buckets.map { "&buckets=\($0)" } ?? ""))
                let w = Int64(o["width"] as? Int ?? 0)
                #expect(w > 0, "\(ctx) band width")
                if let width { #expect(String(w) == width, "\(ctx) band width echo") }
                var want: [String: [Int64: [XPoint]]] = [:]
                for (name, ps) in series {
                    for p in ps {
                        let b = Extremes.band([p], width: w).keys.first!
                        want[name == "r1" ? "1" : "0", default: [:]][b, default: []].append(p)
                    }
                }
                let rows = o["rows"] as? [[String: Any]] ?? []
                #expect(rows.count == want.values.map(\.count).reduce(0, +), "\(ctx) band \(w) rows")
                for row in rows {
                    let g = row["group"] as? String ?? "", b = Int64(row["bucket"] as? Int ?? 0)
                    guard let ref = want[g]?[b].flatMap(Extremes.stats) else { Issue.record("\(ctx) band \(w): unexpected row \(g)/\(b)"); continue }
                    var got = Self.stats(row)
                    (got.first, got.last, got.firstStep, got.lastStep) = (ref.first, ref.last, ref.firstStep, ref.lastStep)
                    #expect(got == ref, "\(ctx) band \(w) row \(g)/\(b)")
                    let step = Int128(row["step"] as? Int ?? 0)
                    #expect(step == max(Int128(Int64.min), Int128(b) * Int128(w)), "\(ctx) band \(w) step of \(b)")
                }
            }
            // `to` beyond 2^63 or at Int64.min is a 400, not a trap.
            for bad in ["9223372036854775809", "-9223372036854775808"] {
                try await client.execute(uri: "/api/curve?run=r0&metric=m&to=\(bad)", method: .get) { r in
                    #expect(r.status == .badRequest, "to=\(bad)")
                }
            }
        }
    }
}

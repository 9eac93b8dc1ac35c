import Foundation
import Testing

@testable import Strata

/// rank, band, summary and runs(where:) against brute force over the raw points.
@Suite("Cross-run queries")
struct CrossRunTests {
    struct RunData { var name: String; var params: [String: ParamValue]; var loss: [(Int64, Double)] }

    static func makeStore(_ path: String, seed: UInt64) throws -> [RunData] {
        var rng = SeededRandom(seed: seed)
        var runs: [RunData] = []
        let store = try Store.open(at: path)
        for i in 0..<30 {
            let params: [String: ParamValue] = [
                "lr": .double(pow(10, Double.random(in: -5 ... -2, using: &rng))),
                "model": .string(["small", "base", "large"][i % 3]),
                "layers": .int(Int64([2, 4, 8][Int.random(in: 0..<3, using: &rng)]))
            ]
            let run = try store.createRun(name: String(format: "r%02d", i), params: params, tags: i % 5 == 0 ? ["broken"] : [])
            var pts: [(Int64, Double)] = []
            let n = Int.random(in: 50...900, using: &rng)
            for s in 0..<n {
                var v = 2.0 * exp(-Double(s) / 300) + Double.random(in: 0...0.1, using: &rng)
                if Int.random(in: 0..<200, using: &rng) == 0 { v = .nan }
                pts.append((Int64(s) * 3 - 100, v))
            }
            if i % 2 == 0 {
                for (s, v) in pts { try run.log("loss", v, step: s) }
            } else {
                try run.append("loss", steps: pts.map(\.0), values: pts.map(\.1))
            }
            try run.log("acc", Double(i), step: 0)
            runs.append(RunData(name: run.name, params: params, loss: pts))
        }
        if seed % 2 == 0 { try store.close() } else { try store.checkpoint(); try store.close() }
        return runs
    }

    @Test(arguments: [21 as UInt64, 22])
    func rankBandSummaryMatchBruteForce(seed: UInt64) throws {
        let dir = TempDir()
        let runs = try Self.makeStore(dir.sub("s"), seed: seed)
        let store = try Store.open(at: dir.sub("s"))

        // runs(where:) with typed numeric comparison and tags.
        let f = try Filter("params.lr < 1e-3 and params.layers >= 4 and not tags has \"broken\"")
        let expectedNames = runs.enumerated().filter { i, r in
            (r.params["lr"]!.number! < 1e-3) && (r.params["layers"]!.number! >= 4) && i % 5 != 0
        }.map(\.element.name)
        #expect(try store.runs(where: f).map(\.name).sorted() == expectedNames.sorted())

        // rank by min with the first step of the min; ties by name.
        let ranked = try store.rank("loss", by: .min, where: f, limit: 5)
        let brute = runs.filter { expectedNames.contains($0.name) }.map { r -> (Double, String, Int64) in
            let sorted = r.loss.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            let numeric = sorted.filter { !$0.1.isNaN }
            let m = numeric.map(\.1).min()!
            return (m, r.name, numeric.first { $0.1 == m }!.0)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(5)
        #expect(ranked.map(\.run.name) == brute.map(\.1))
        #expect(ranked.map(\.value) == brute.map(\.0))
        #expect(ranked.map(\.step) == brute.map(\.2))
        let byLast = try store.rank("loss", by: .last, ascending: false, limit: 3)
        #expect(byLast.count == 3)

        // band by model, bucket width 50.
        let band = try store.band("loss", groupBy: "model", bucketWidth: 50)
        var groups: [String: [Int64: [Double]]] = [:]
        for r in runs {
            for (s, v) in r.loss { groups[r.params["model"]!.description, default: [:]][floorDiv(s, 50), default: []].append(v) }
        }
        let expectedRows = groups.keys.sorted().flatMap { g in groups[g]!.keys.sorted().map { (g, $0) } }
        #expect(band.map { "\($0.group)/\($0.bucket)" } == expectedRows.map { "\($0.0)/\($0.1)" })
        for row in band {
            let vs = groups[row.group]![row.bucket]!
            let num = vs.filter { !$0.isNaN }
            let mean = num.reduce(0, +) / Double(num.count)
            let std = (num.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(num.count)).squareRoot()
            #expect(row.count == vs.count && row.nanCount == vs.count - num.count)
            #expect(row.min == num.min()! && row.max == num.max()!)
            #expect(abs(row.mean - mean) <= 1e-9 * abs(mean))
            #expect(abs(row.std - std) <= 1e-9 * max(std, 1e-300) || abs(row.std - std) < 1e-15)
        }

        // summary: last value (at the largest step) of every metric of every run.
        let summary = try store.summary()
        #expect(summary.count == runs.count)
        for (s, r) in zip(summary, runs) {
            #expect(s.run.name == r.name)
            let last = r.loss.enumerated().max { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }!.element
            #expect(sameBits(s.metrics["loss"]!.last, last.1))
            #expect(s.metrics["loss"]!.count == r.loss.count)
            #expect(s.metrics["acc"]!.last == Double(Int(r.name.dropFirst())!))
        }
    }

    @Test func badArgumentsAreRejected() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        #expect(throws: StrataError.self) { try store.rank("", by: .min) }
        #expect(throws: StrataError.self) { try store.rank("loss", by: .min, limit: 0) }
        #expect(throws: StrataError.self) { try store.band("loss", groupBy: "model", bucketWidth: 0) }
        let e = #expect(throws: StrataError.self) { try Filter("params.lr <") }
        #expect(e?.code == .parse)
    }
}

import Foundation
import Testing

@testable import Strata

/// The dictionary `log` finds names it met lately without hashing them (`Run.hotLimit`): every
/// point must land in the series its name says, whatever the dictionary's order, when keys come
/// and go, with labelled series beside, and for two runs of one store.
@Suite("Run: the dictionary log's name cache")
struct LogNameCacheTests {
    /// Expected points per metric of one run, kept by the test as it logs.
    typealias Expected = [String: [(Int64, Double)]]

    func check(_ store: Store, _ run: RunID, _ expected: Expected) throws {
        for (metric, pts) in expected {
            let got = try store.points(run, metric)
            #expect(got.count == pts.count, "\(metric): \(got.count) points, expected \(pts.count)")
            for (p, e) in zip(got, pts) {
                #expect(p.step == e.0 && sameBits(p.value, e.1), "\(metric) at step \(e.0): got \(p.step) \(p.value), expected \(e.1)")
            }
        }
        let names = Set(try store.series(of: run).map(\.key.metric))
        #expect(names == Set(expected.keys), "series \(names.sorted()) vs \(expected.keys.sorted())")
    }

    @Test func keysChangeOrderComeAndGoAcrossTwoRuns() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let a = try store.createRun(name: "a")
        let b = try store.createRun(name: "b")
        var rng = SplitMix64(seed: 2024)
        let pool = (0..<24).map { "m/\($0)" }  // more names than the cache holds
        var ea: Expected = [:], eb: Expected = [:]
        for step in Int64(0)..<3_000 {
            // Phases: the same five keys (rebuilt every step, so the order changes), then a new key
            // joins mid-run, then a key leaves, then random subsets of the pool (the cache starts
            // over), and labels and single-metric calls in between.
            var keys: [String]
            switch step {
            case 0..<500: keys = Array(pool[0..<5])
            case 500..<1_000: keys = Array(pool[0..<6])
            case 1_000..<1_500: keys = Array(pool[1..<6])
            default:
                let n = Int.random(in: 1...17, using: &rng)
                keys = Array(pool.shuffled(using: &rng).prefix(n))
            }
            var d: [String: Double] = [:]
            for (k, name) in keys.enumerated() { d[name] = Double(step) * 100 + Double(k) + Double(name.count) / 1000 }
            let run = step % 3 == 0 ? b : a
            try run.log(d, step: step, time: 1_000 + step)
            for (name, v) in d {
                if run === a { ea[name, default: []].append((step, v)) } else { eb[name, default: []].append((step, v)) }
            }
            if step % 97 == 0 {
                // A labelled series of the same name is another series, never served from the cache.
                try a.log(keys[0], -Double(step), step: step, labels: ["rank": "1"])
            }
        }
        try check(store, a.id, ea)
        try check(store, b.id, eb)
        let labelled = try store.points(a.id, "m/0", labels: ["rank": "1"])
        #expect(labelled.allSatisfy { $0.value == -Double($0.step) } && !labelled.isEmpty)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        try check(again, a.id, ea)
        try check(again, b.id, eb)
    }

    /// A bad name is refused with nothing written, also after the other names were cached.
    @Test func badNameAfterCachedNames() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        try run.log(["x": 1, "y": 2], step: 0)
        #expect(throws: StrataError.self) { try run.log(["x": 3, "": 4], step: 1) }
        try run.log(["y": 5, "x": 6], step: 2)
        try check(store, run.id, ["x": [(0, 1), (2, 6)], "y": [(0, 2), (2, 5)]])
    }
}

import Foundation
import Testing

@testable import Strata

/// Where a series reaches its extremes (`Stats.minStep` / `maxStep`) against brute force, for
/// whole-series answers (`aggregate`, `summary`) of packed and chunked series, before and after
/// compaction and reopen: whole-series statistics come from stored statistics, which keep where
/// each extreme is reached, so these are never unknown.
@Suite struct ExtremeStepTests {
    @Test func wholeSeriesExtremeStepsMatchBruteForce() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var rng = SeededRandom(seed: 0x5EED_0017)
        // metric -> (step, value) in arrival order
        var model: [String: [(Int64, Double)]] = [:]
        var store = try Store.open(at: path, options: .init(logCapacity: 1 << 16))
        let run = try store.createRun(name: "r")
        let id = run.id
        for round in 0..<4 {
            for (metric, n) in [("tiny", 7), ("small", 300), ("big", 9_000)] {
                let base = Int64(round) * 10_000
                var steps: [Int64] = [], values: [Double] = []
                for i in 0..<n {
                    steps.append(base + Int64(i))
                    // Repeated extremes: the smallest step where one is reached must win.
                    values.append(Double(Int.random(in: -50...50, using: &rng)))
                }
                try run.append(metric, steps: steps, values: values)
                model[metric, default: []] += zip(steps, values).map { ($0, $1) }
            }
            try store.flush()
        }
        func expected(_ pts: [(Int64, Double)]) -> (Int64, Int64) {
            let lo = pts.map(\.1).min()!, hi = pts.map(\.1).max()!
            return (pts.filter { $0.1 == lo }.map(\.0).min()!, pts.filter { $0.1 == hi }.map(\.0).min()!)
        }
        func check(_ when: String) throws {
            let summary = try store.summary().first { $0.run.id == id }
            for (metric, pts) in model {
                let (minStep, maxStep) = expected(pts)
                let a = try store.aggregate(id, metric)
                #expect(a?.minStep == minStep && a?.maxStep == maxStep, "\(metric) aggregate \(when): \(String(describing: a))")
                let s = summary?.metrics[metric]
                #expect(s?.minStep == minStep && s?.maxStep == maxStep, "\(metric) summary \(when): \(String(describing: s))")
            }
        }
        try check("before compaction")
        _ = try store.compact(graceSeconds: 0)
        try check("after compaction")
        try store.close()
        store = try Store.open(at: path)
        try check("after reopen")
        try store.close()
    }
}

import Foundation
import Strata

/// `strata-bench --compare LONG_STORE SWEEP_STORE [--repeat N]`: the cost of issue 16's exact
/// distribution queries (a scan of every point, no sketch), warm, median of N (default 5):
///
/// - `hist_long`: `Store.histogram` of `train/grad_norm` over the whole `long` run (2 M points,
///   100 bins and the exact p1…p99): one scan and one sort.
/// - `p99_long`: the exact p99 of the same series (`WindowStatistic.quantile(0.99)`: a scan and a
///   selection), the figure to set beside DuckDB's `quantile_cont(value, 0.99)` on the same file.
/// - `compare_within`: `Store.compare` of two `sweep` runs on `train/grad_norm` p99 (one run a
///   side: a moving-block bootstrap, 2,000 resamples).
/// - `compare_replicates`: `Store.compare` of the first two configurations of `sweep` that have
///   at least two seeds each, mean of `train/loss` (Welch).
///
/// Prints one JSON object of seconds.
enum CompareBench {
    static func time(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var xs: [Double] = []
        for _ in 0..<repeats {
            let t = Date()
            try body()
            xs.append(Date().timeIntervalSince(t))
        }
        return median(xs)
    }

    static func run(long: String, sweep: String, repeats: Int) throws -> [String: Double] {
        let l = try Store.open(at: long, options: .init(create: false))
        let s = try Store.open(at: sweep, options: .init(create: false))
        let run = try l.run("run-0000")
        var out: [String: Double] = [:]
        out["hist_long"] = try time(repeats) { _ = try l.histogram(run, "train/grad_norm", bins: 100) }
        out["p99_long"] = try time(repeats) {
            let w = try l.windowValues(run, "train/grad_norm")
            _ = WindowStatistic.quantile(0.99).of(w.finite)
        }
        let runs = try s.runs()
        var o = CompareOptions()
        o.statistic = .quantile(0.99)
        out["compare_within"] = try time(repeats) {
            _ = try s.compare(baseline: [runs[0]], candidate: [runs[1]], metric: "train/grad_norm", options: o)
        }
        var groups: [[String: ParamValue]: [RunInfo]] = [:]
        for r in runs { groups[Store.configuration(of: r), default: []].append(r) }
        let replicated = groups.values.filter { $0.count >= 2 }.sorted { $0[0].id < $1[0].id }
        if replicated.count >= 2 {
            out["compare_replicates"] = try time(repeats) {
                _ = try s.compare(baseline: replicated[0], candidate: replicated[1], metric: "train/loss")
            }
            out["replicates_per_side"] = Double(min(replicated[0].count, replicated[1].count))
        }
        return out
    }
}

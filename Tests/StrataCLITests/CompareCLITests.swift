import Foundation
import Testing

/// `strata compare --stat`, `strata hist` and `strata tolerance` through the built binary: verdict
/// lines, exit codes (0, 2 usage, 3 regression with --fail-on-regression), histogram counts.
@Suite("compare --stat and hist (CLI)")
struct CompareCLITests {
    /// Two configurations of three seeds each; `slow` is 10 % slower on step time, equal on accuracy.
    static func makeStore(_ store: String) throws {
        var lines: [String] = []
        var state: UInt64 = 42
        func noise() -> Double {
            // A small LCG: deterministic noise in [-1, 1).
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        for (config, ms) in [("base", 100.0), ("slow", 110.0)] {
            for seed in 0..<3 {
                let name = "\(config)-\(seed)"
                lines.append(#"{"run": "\#(name)", "params": {"variant": "\#(config)", "seed": \#(seed)}}"#)
                for s in 0..<200 {
                    let warm = s < 10 ? 500.0 : 0
                    lines.append(
                        #"{"run": "\#(name)", "step": \#(s), "metrics": {"train/step_ms": \#(ms + warm + 3 * noise()), "eval/acc": \#(0.8 + 0.01 * noise())}}"#
                    )
                }
            }
        }
        lines.append(#"{"run": "nan-run", "step": 0, "metrics": {"train/step_ms": NaN}}"#)
        let r = try strata(["ingest"], input: lines.joined(separator: "\n") + "\n", store: store)
        #expect(r.code == 0, "\(r.err)")
    }

    @Test func verdictLinesAndExitCodes() throws {
        let dir = Scratch()
        try Self.makeStore(dir.store)
        let common = ["compare", "base-0", "slow-0", "--seeds", "--metric", "train/step_ms", "--metric", "eval/acc", "--from", "10"]

        // Regression on step time (10 % slower, seeds agree), accuracy within noise.
        var r = try strata(common + ["--tolerance", "train/step_ms=2%"], store: dir.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("verdict train/step_ms: REGRESSION"))
        #expect(r.out.contains("verdict eval/acc: within noise"))
        #expect(r.out.contains("replicates 3 vs 3 runs, Welch t-interval"))
        #expect(r.out.contains("higher is better (guessed from the name)"))
        r = try strata(common + ["--fail-on-regression"], store: dir.store)
        #expect(r.code == 3, "\(r.out) \(r.err)")
        // A tolerance wider than the change: within noise, exit 0 even with --fail-on-regression.
        r = try strata(common + ["--fail-on-regression", "--tolerance", "train/step_ms=15%"], store: dir.store)
        #expect(r.code == 0 && r.out.contains("verdict train/step_ms: within noise"), "\(r.out) \(r.err)")
        // The other way round it is an improvement.
        r = try strata(
            ["compare", "slow-0", "base-0", "--seeds", "--metric", "train/step_ms", "--from", "10", "--fail-on-regression"], store: dir.store)
        #expect(r.code == 0 && r.out.contains("verdict train/step_ms: improvement"), "\(r.out) \(r.err)")
        // A stored tolerance and direction are used (and said to be stored).
        #expect(try strata(["tolerance", "set", "train/step_ms", "15%"], store: dir.store).code == 0)
        r = try strata(common + ["--fail-on-regression"], store: dir.store)
        #expect(r.code == 0 && r.out.contains("tolerance 15% (stored)"), "\(r.out) \(r.err)")
        #expect(try strata(["tolerance", "list"], store: dir.store).out.contains("train/step_ms"))
        #expect(try strata(["tolerance", "unset", "train/step_ms"], store: dir.store).code == 0)
        #expect(try strata(["tolerance", "unset", "train/step_ms"], store: dir.store).code == 2)
        // One run a side (two runs given, no --seeds): the within-run bootstrap.
        r = try strata(["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "p50", "--from", "10"], store: dir.store)
        #expect(r.code == 0 && r.out.contains("block bootstrap") && r.out.contains("REGRESSION"), "\(r.out) \(r.err)")
        // Grouping with --by.
        r = try strata(
            ["compare", "base-0", "base-1", "slow-0", "slow-2", "--by", "variant", "--metric", "train/step_ms", "--from", "10"], store: dir.store)
        #expect(r.code == 0 && r.out.contains("replicates 2 vs 2 runs"), "\(r.out) \(r.err)")
    }

    @Test func badInputIsAUsageError() throws {
        let dir = Scratch()
        try Self.makeStore(dir.store)
        let cases: [([String], String)] = [
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "p100"], "outside (0, 1)"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "p0"], "outside (0, 1)"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "median"], "statistic must be"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--replicates"], "replicates are required"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "last"], "needs replicates"),
            (["compare", "base-0", "base-1", "slow-0", "--metric", "train/step_ms", "--stat", "mean"], "replicates are required"),
            (["compare", "base-0", "base-1", "base-2", "--metric", "train/step_ms", "--stat", "mean"], "one configuration"),
            (["compare", "base-0", "slow-0", "--metric", "train/nope", "--stat", "mean"], "has no metric"),
            (["compare", "base-0", "nan-run", "--metric", "train/step_ms", "--stat", "mean"], "no finite point"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "mean", "--from", "5000"], "no point"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--tolerance", "train/step_ms=lots"], "tolerance must be"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--tolerance", "other=2%"], "not a --metric"),
            (["compare", "base-0", "slow-0", "--metric", "train/step_ms", "--stat", "mean", "--confidence", "1.5"], "confidence"),
            (["hist", "base-0", "train/step_ms", "--bins", "0"], "--bins"),
            (["hist", "base-0", "train/nope"], "has no metric"),
            (["hist", "nan-run", "train/step_ms"], "no finite point"),
            (["hist", "base-0", "train/step_ms", "--from", "10", "--to", "10"], "--from")
        ]
        for (args, message) in cases {
            let r = try strata(args, store: dir.store)
            #expect(r.code == 2, "\(args): \(r.code) \(r.err)")
            #expect(r.err.contains(message), "\(args): \(r.err)")
            #expect(r.out.isEmpty, "\(args): \(r.out)")
        }
    }

    /// `strata hist` prints counts equal to brute force over the points it was given.
    @Test func histCountsMatchBruteForce() throws {
        let dir = Scratch()
        var lines: [String] = []
        var values: [Double] = []
        for s in 0..<1000 {
            let v = Double((s * 7919) % 1000) / 10  // 0.0 ... 99.9, each once
            values.append(v)
            lines.append(#"{"run": "h", "step": \#(s), "metrics": {"x": \#(v)}}"#)
        }
        lines.append(#"{"run": "h", "step": 1000, "metrics": {"x": Infinity}}"#)
        #expect(try strata(["ingest"], input: lines.joined(separator: "\n") + "\n", store: dir.store).code == 0)
        let r = try strata(["hist", "h", "x", "--bins", "4", "--to", "2000"], store: dir.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("1001 points (1000 finite; left out: 1 +Inf)"), "\(r.out)")
        let rows = r.out.split(separator: "\n").dropFirst(3).map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == 4)
        let edges = [0.0, 24.975, 49.95, 74.925, 99.9]
        for (i, row) in rows.enumerated() {
            let brute = values.filter { $0 >= edges[i] && (i == 3 ? $0 <= edges[4] : $0 < edges[i + 1]) }.count
            #expect(row.count >= 4 && Int(row[2]) == brute, "\(row) vs \(brute)")
        }
    }
}

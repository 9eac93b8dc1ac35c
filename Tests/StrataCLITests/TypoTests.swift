import Foundation
import Testing

// A mistyped run, key, statistic, metric or command is an error that suggests the right name,
// never an exit 0 with an empty or wrong answer.

/// A store with two runs (params lr, seed; metrics train/loss, val/loss).
func typoStore() throws -> Scratch {
    let s = Scratch()
    var lines: [String] = []
    for (i, name) in ["base", "wide"].enumerated() {
        lines.append(#"{"run": "\#(name)", "params": {"lr": 0.00\#(i + 1), "seed": \#(i)}}"#)
        for step in 0..<5 {
            lines.append(
                #"{"run": "\#(name)", "step": \#(step), "metrics": {"train/loss": \#(Double(5 - step) + Double(i)), "val/loss": \#(Double(i) - Double(step))}}"#
            )
        }
    }
    let r = try strata(["ingest"], input: lines.joined(separator: "\n") + "\n", store: s.store)
    #expect(r.code == 0, "\(r.err)")
    return s
}

@Suite struct TypoTests {
    @Test func unknownSortAndColumnKeysAreUsageErrors() throws {
        let s = try typoStore()
        let cases: [([String], String)] = [
            (["runs", "--sort", "train/los.min"], #"strata: --sort "train/los.min": no run has metric "train/los" (did you mean train/loss.min?)"#),
            (
                ["runs", "--columns", "foo.bar"],
                #"strata: --columns "foo.bar": unknown statistic "bar" (statistics are count, nans, min, max, mean, std, first, last, first_step, last_step, min_step, max_step, step, and quantiles p50, p90, p99, p999)"#
            ),
            (
                ["runs", "--columns", "name,train/loss.maen"],
                #"strata: --columns "train/loss.maen": unknown statistic "maen" (did you mean train/loss.mean? statistics are"#
            ),
            (["runs", "--columns", "nmae"], #"strata: --columns "nmae": unknown key (did you mean name?)"#),
            (["runs", "--columns", "params.lrr"], #"strata: --columns "params.lrr": no run has param "lrr" (did you mean params.lr?)"#),
            (["runs", "--columns", "meta.nosuch"], #"strata: --columns "meta.nosuch": no run has metadata key "nosuch""#),
            (["runs", "--limit", "0"], "strata: --limit must be a positive integer, got 0"),
            (["runs", "--limit", "-1"], "strata: --limit must be a positive integer, got -1"),
            (["runs", "--sort", "-train/los.min"], #"strata: --sort "train/los.min": no run has metric "train/los" (did you mean train/loss.min?)"#),
            (["export", "--metric", "train/los"], #"strata: --metric "train/los": no run has this metric (did you mean train/loss?)"#),
            (["export", "--metric", "nosuch", "--run", "base"], #"strata: --metric "nosuch": no selected run has this metric"#)
        ]
        for (args, message) in cases {
            let r = try strata(args, store: s.store)
            #expect(r.code == 2, "\(args): \(r.err)")
            #expect(r.err.hasPrefix(message), "\(args): \(r.err)")
            #expect(r.out.isEmpty, "\(args): \(r.out)")
        }
        // A descending sort key starts with "-" (not an option).
        let desc = try strata(["runs", "--sort", "-val/loss.min", "--columns", "name", "--limit", "1"], store: s.store)
        #expect(desc.code == 0, "\(desc.err)")
        #expect(desc.out == "name\nwide\n", "\(desc.out)")
        // A key that only runs outside --where have is not a typo: the column is empty.
        let filtered = try strata(["runs", "--where", "params.seed == 0", "--columns", "name,params.lr"], store: s.store)
        #expect(filtered.code == 0, "\(filtered.err)")
    }

    @Test func everyStatisticIsAColumn() throws {
        let s = try typoStore()
        let r = try strata(
            ["runs", "--columns", "name,train/loss.mean,train/loss.std,train/loss.first,train/loss.nans,train/loss.min_step", "--sort", "params.lr"],
            store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let rows = r.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        try #require(rows.count == 3, "\(r.out)")
        // base: 5,4,3,2,1 → mean 3, std √2, first 5, min at step 4; wide: 6..2 → mean 4.
        #expect(rows[1] == ["base", "3", "1.41421", "5", "0", "4"], "\(r.out)")
        #expect(rows[2] == ["wide", "4", "1.41421", "6", "0", "4"], "\(r.out)")
    }

    @Test func unknownRunAndCommandSuggest() throws {
        let s = try typoStore()
        let show = try strata(["show", "bsae"], store: s.store)
        #expect(show.code == 1)
        #expect(show.err == "strata: no run named \"bsae\" in store \(s.store) (did you mean base? see `strata runs`)\n")
        let cmd = try strata(["rnus"], store: s.store)
        #expect(cmd.code == 2)
        #expect(cmd.err.hasPrefix(#"strata: unknown command "strata rnus" (did you mean runs? commands: demo, ingest"#), "\(cmd.err)")
        let nested = try strata(["token", "lst"], store: s.store)
        #expect(nested.code == 2)
        #expect(nested.err.hasPrefix(#"strata: unknown command "strata token lst" (did you mean list?"#), "\(nested.err)")
    }
}

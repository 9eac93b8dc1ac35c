import Foundation
import Testing

// Answers that must not mislead (issue 14, "Wrong or misleading answers"): what a summary says when
// a series holds no number, non-finite values shown rather than dropped, times taken from the data.

/// JSON lines of run `run`: `count` steps of metric `m`, every value `value` (JSON text), one
/// second apart from `t0` when `t0` is given (else without times).
func linesOf(_ run: String, _ m: String, _ values: [String], t0: Int64? = 1_760_000_000_000, step: Int64 = 1000) -> String {
    values.enumerated().map { i, v in
        let time = t0.map { #", "time": \#($0 + Int64(i) * step)"# } ?? ""
        return #"{"run": "\#(run)", "step": \#(i)\#(time), "metrics": {"\#(m)": \#(v)}}"#
    }.joined(separator: "\n") + "\n"
}

@Suite struct AllNaNSummaries {
    @Test func showRunsAndJSONSayThereIsNoNumber() throws {
        let s = Scratch()
        let input = linesOf("r", "x", Array(repeating: "NaN", count: 5)) + linesOf("r", "y", ["1.5", "NaN", "-2"])
        let ing = try strata(["ingest"], input: input, store: s.store)
        #expect(ing.code == 0, "\(ing.err)")

        let show = try strata(["show", "r"], store: s.store)
        #expect(show.code == 0, "\(show.err)")
        let xLine = show.out.split(separator: "\n").first { $0.contains(" x ") || $0.hasPrefix("  x") } ?? ""
        #expect(xLine.contains("all NaN"), "show: \(show.out)")
        #expect(!show.out.contains("Inf"), "show: \(show.out)")
        let yLine = show.out.split(separator: "\n").first { $0.hasPrefix("  y") } ?? ""
        #expect(yLine.contains("-2") && yLine.contains("1.5") && !yLine.contains("all NaN"), "show: \(show.out)")

        let runs = try strata(["runs", "--columns", "name,x.min,x.max,y.min"], store: s.store)
        #expect(runs.code == 0, "\(runs.err)")
        #expect(runs.out.components(separatedBy: "all NaN").count == 3, "runs: \(runs.out)")
        #expect(!runs.out.contains("Inf"), "runs: \(runs.out)")

        let js = try strata(["runs", "--json"], store: s.store)
        #expect(js.code == 0, "\(js.err)")
        #expect(js.out.contains(#""x": {"count": 5"#), "\(js.out)")
        #expect(js.out.contains(#""min": NaN, "max": NaN, "nan_count": 5"#), "\(js.out)")
        #expect(!js.out.contains("Infinity"), "\(js.out)")
    }
}

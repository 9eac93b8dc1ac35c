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
        #expect(js.out.contains(#""min": NaN, "max": NaN, "nan": 5"#), "\(js.out)")
        #expect(!js.out.contains("Infinity"), "\(js.out)")
    }
}

@Suite struct CurveText {
    /// 25 points, 24 of them NaN: the NaN count is shown, and the header counts the rows printed.
    @Test func nanColumnAndHonestHeader() throws {
        let s = Scratch()
        let values = Array(repeating: "NaN", count: 24) + ["289614"]
        #expect(try strata(["ingest"], input: linesOf("r", "x", values), store: s.store).code == 0)
        let c = try strata(["curve", "r", "x", "--buckets", "20", "--from", "0", "--to", "1000"], store: s.store)
        #expect(c.code == 0, "\(c.err)")
        let lines = c.out.split(separator: "\n")
        #expect(lines.first?.contains("1 of 20 buckets hold points") == true, "\(c.out)")
        #expect(lines.count == 3, "\(c.out)")
        let header = lines.dropFirst().first?.split(separator: " ").map(String.init) ?? []
        #expect(header == ["steps", "count", "NaN", "min", "mean", "max", "last"], "\(c.out)")
        let row = lines.last?.split(separator: " ").map(String.init) ?? []
        #expect(row.prefix(3) == ["0..24", "25", "24"], "\(c.out)")
        // Every bucket holding points: the header says so plainly.
        let all = try strata(["curve", "r", "x", "--buckets", "5"], store: s.store)
        #expect(all.out.split(separator: "\n").first?.hasSuffix("in 5 buckets") == true, "\(all.out)")
    }
}

@Suite struct ExportCSVRunID {
    /// Two runs with one name: the CSV export names each by id, and ingesting it keeps them two.
    @Test func twoRunsWithOneNameStayTwo() throws {
        let s = Scratch()
        #expect(try strata(["ingest", "--new-runs"], input: linesOf("dup", "x", ["1", "2"]), store: s.store).code == 0)
        #expect(try strata(["ingest", "--new-runs"], input: linesOf("dup", "x", ["3"]), store: s.store).code == 0)
        let ids = try strata(["runs", "--json"], store: s.store).out.split(separator: "\n")
            .compactMap { l -> String? in l.contains("\"id\"") ? lineField(l, "id") : nil }
        #expect(ids.count == 2)
        let csv = try strata(["export", "--format", "csv"], store: s.store)
        #expect(csv.code == 0, "\(csv.err)")
        let rows = csv.out.split(separator: "\n")
        #expect(rows.first == "run,metric,step,value,time,labels,run_id")
        for id in ids { #expect(rows.contains { $0.hasPrefix("dup,") && $0.hasSuffix("," + id) }, "\(id): \(csv.out)") }
        let s2 = Scratch()
        let back = try strata(["ingest", "--format", "csv"], input: csv.out, store: s2.store)
        #expect(back.code == 0, "\(back.err)")
        let counts = try strata(["runs", "--columns", "name,x.count"], store: s2.store).out
        #expect(counts.split(separator: "\n").filter { $0.hasPrefix("dup") }.count == 2, "\(counts)")
        #expect(try strata(["export"], store: s2.store).out.split(separator: "\n").count == 3)
    }
}

@Suite struct RewindStatus {
    /// rewind leaves status and ended as they are (docs/CLI.md) and says so; logging again resumes.
    @Test func rewindKeepsAndStatesTheStatus() throws {
        let s = Scratch()
        let input = linesOf("r", "x", ["1", "2", "3", "4"]) + #"{"run": "r", "status": "failed"}"# + "\n"
        #expect(try strata(["ingest"], input: input, store: s.store).code == 0)
        let before = try strata(["runs", "--columns", "name,status,ended"], store: s.store).out
        let rw = try strata(["rewind", "r", "--to", "1"], store: s.store)
        #expect(rw.code == 0, "\(rw.err)")
        #expect(rw.out.contains("rewound r to step 1; status failed, ended "), "\(rw.out)")
        #expect(rw.out.contains("unchanged"), "\(rw.out)")
        #expect(try strata(["runs", "--columns", "name,status,ended"], store: s.store).out == before)
        #expect(try strata(["export"], store: s.store).out.split(separator: "\n").count == 2)
        let show = try strata(["show", "r"], store: s.store).out
        #expect(show.contains("rewound   to step 1") && show.contains("status    failed"), "\(show)")
        #expect(try strata(["ingest"], input: #"{"run": "r", "step": 2, "metrics": {"x": 5}}"# + "\n", store: s.store).code == 0)
        // ingest resumes the run and, at the end of its input, finishes it (docs/CLI.md).
        #expect(try strata(["show", "r"], store: s.store).out.contains("status    finished"))
    }
}

@Suite struct CompareNonFinite {
    /// A run whose last value is NaN gets "NaN" as last vs base (not a blank), and a bucket holding
    /// +Inf is drawn to the chart's top edge and counted, not dropped.
    @Test func nanLastAndInfinityBuckets() throws {
        let s = Scratch()
        let base = (0..<100).map { "\(Double($0 % 7) + 1.5)" }
        var other = (0..<100).map { "\(Double($0 % 5) + 2.25)" }
        other[40] = #""Infinity""#
        other[99] = "NaN"
        #expect(try strata(["ingest"], input: linesOf("base", "g", base) + linesOf("other", "g", other), store: s.store).code == 0)
        for log in [false, true] {
            let c = try strata(["compare", "base", "other", "--metric", "g", "--height", "6"] + (log ? ["--log"] : []), store: s.store)
            #expect(c.code == 0, "\(c.err)")
            let row = c.out.split(separator: "\n").first { $0.hasPrefix("other") } ?? ""
            #expect(row.hasSuffix("NaN") && row.contains("Inf"), "\(c.out)")
            #expect(c.out.contains("▲ +Inf in 1 bucket, drawn to the top edge"), "\(c.out)")
        }
        #expect(
            lastVsBaseCells(try strata(["compare", "other", "base", "--metric", "g", "--no-chart"], store: s.store).out) == ["baseline", "base NaN"])
    }
}

/// The "last vs base" column of a compare table: the last cell of each run row.
func lastVsBaseCells(_ out: String) -> [String] {
    out.split(separator: "\n").dropFirst(2).compactMap { line in
        let parts = line.split(separator: "  ", omittingEmptySubsequences: true)
        return parts.last.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

@Suite struct TimesFromData {
    /// A run ingested from lines that all carry `time` begins at its first point and ends at its
    /// last (not at the moment of the ingest); params logged before the points are kept.
    @Test func createdAndEndedFromTheLinesTimes() throws {
        let s = Scratch()
        let t0: Int64 = 1_760_000_000_000
        let input =
            #"{"run": "r", "params": {"lr": 0.1}}"# + "\n" + linesOf("r", "x", ["1", "2", "3", "4"], t0: t0, step: 660_000)
            + linesOf("f", "x", ["1", "2"], t0: t0, step: 90_000) + #"{"run": "f", "status": "failed"}"# + "\n"
        let ing = try strata(["ingest"], input: input, store: s.store)
        #expect(ing.code == 0, "\(ing.err)")
        let show = try strata(["show", "r"], store: s.store).out
        #expect(show.contains("created 2025-10-09 08:53:20Z   ended 2025-10-09 09:26:20Z (33m0s)"), "\(show)")
        #expect(show.contains("lr"), "\(show)")
        let js = try strata(["runs", "--json"], store: s.store).out.split(separator: "\n").filter { $0.contains("\"id\"") }
        #expect(js.count == 2)
        for l in js {
            let name = lineField(l, "name")
            #expect(lineField(l, "created") == String(t0), "\(l)")
            #expect(lineField(l, "ended") == String(t0 + (name == "r" ? 3 * 660_000 : 90_000)), "\(l)")
            #expect(lineField(l, "status") == (name == "r" ? "finished" : "failed"), "\(l)")
        }
        // Without times, the clock of the ingest is all there is.
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        #expect(try strata(["ingest"], input: linesOf("u", "x", ["1"], t0: nil), store: s.store).code == 0)
        let u =
            try strata(["runs", "--json", "--where", "name = \"u\""], store: s.store).out.split(separator: "\n").first { $0.contains("\"id\"") } ?? ""
        #expect((Int64(lineField(u, "created")) ?? 0) >= before, "\(u)")
    }
}

@Suite struct PlotNonFinite {
    /// A bucket holding +Inf is marked at the SVG's top edge and counted, not dropped.
    @Test func infinityBucketsAreMarked() throws {
        let s = Scratch()
        var values = (0..<100).map { "\(Double($0 % 5) + 2.25)" }
        values[40] = #""Infinity""#
        values[70] = #""-Infinity""#
        #expect(try strata(["ingest"], input: linesOf("r", "g", values), store: s.store).code == 0)
        let p = try strata(["plot", "r", "--metric", "g", "--out", s.sub("g.svg")], store: s.store)
        #expect(p.code == 0, "\(p.err)")
        let svg = (try? String(contentsOfFile: s.sub("g.svg"), encoding: .utf8)) ?? ""
        #expect(svg.components(separatedBy: "class=\"inf\"").count == 3, "\(svg)")
        #expect(svg.contains("▲ +Inf in 1 bucket (at the edge)"), "\(svg)")
        #expect(svg.contains("▼ -Inf in 1 bucket (at the edge)"), "\(svg)")
    }
}

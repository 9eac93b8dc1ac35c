import ArgumentParser
import Strata
import StrataInterop

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs on one metric: a side-by-side table and a terminal chart (min/max envelope).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Runs (names or ids).", valueName: "run")) var runNames: [String]
    @Option(help: "Metric to compare.") var metric: String
    @Option(help: "Run the others are compared with (default: the first).") var baseline: String?
    @Option(help: "First step (inclusive).") var from: Int64?
    @Option(help: "Last step (exclusive).") var to: Int64?
    @Option(help: "Chart height in lines.") var height: Int = 14
    @Option(help: "Chart x axis: step, time (wall clock) or relative (time since each run's first point).") var x: Store.XAxis = .step
    @Flag(help: "Logarithmic value axis.") var log = false
    @Flag(help: "Table only, no chart.") var noChart = false

    func run() throws {
        if runNames.isEmpty { throw CLIError("give at least one run", exitCode: 2) }
        let store = try global.openForReading()
        defer { try? store.close() }
        var runs = try runNames.map { try lookupRun(store, $0) }
        if let b = baseline {
            let base = try lookupRun(store, b)
            runs.removeAll { $0.id == base.id }
            runs.insert(base, at: 0)
        }
        let out = Output()
        try renderComparison(
            store: store, runs: runs, metric: metric, from: from, to: to, height: height, logScale: log, chart: !noChart, x: x, out: out)
    }
}

/// The "last vs base" cell of `compare`: the change in percent, or in words when there is no
/// percentage (a NaN or infinite last value, or a base of 0) — never blank.
func lastVsBase(_ last: Double, _ base: Double) -> String {
    if last.isNaN { return "NaN" }
    if base.isNaN { return "base NaN" }
    if last.isInfinite || base.isInfinite { return last == base ? "same" : short(last) + " vs " + short(base) }
    if base == 0 { return last == 0 ? "same" : "base 0" }
    let pct = (last - base) / abs(base) * 100
    return (pct >= 0 ? "+" : "") + cformat("%.1f", pct) + "%"
}

func renderComparison(
    store: Store, runs: [RunInfo], metric: String, from: Int64?, to: Int64?, height: Int, logScale: Bool, chart: Bool,
    x: Store.XAxis = .step, out: Output
) throws {
    if x != .step, from != nil || to != nil { throw CLIError("--from/--to select steps: use them with --x step", exitCode: 2) }
    let (m, labels) = parseSeriesSpec(metric)
    // [from, to): without --to the range ends at Int64.max, included.
    let last = lastStep(to: to, default: .max)
    let range: ClosedRange<Int64>? = (from != nil || to != nil) ? (from ?? .min)...Swift.max(from ?? .min, last ?? .min) : nil
    let empty = last == nil || (from ?? .min) > (last ?? .min)
    var table: [[String]] = []
    var base: Stats?
    // Params that differ between the runs are shown as columns.
    let keys = Set(runs.flatMap { $0.params.keys }).sorted().filter { k in Set(runs.map { $0.params[k].map(paramText) ?? "-" }).count > 1 }
    for (i, r) in runs.enumerated() {
        _ = try seriesInfo(store, r, metric)
        guard !empty, let st = try (range.map { try store.aggregate(r.id, m, labels: labels, steps: $0) } ?? store.aggregate(r.id, m, labels: labels))
        else {
            table.append([r.name] + keys.map { r.params[$0].map(paramText) ?? "-" } + ["0", "-", "-", "-", "-", "-", ""]); continue
        }
        if i == 0 { base = st }
        let delta = i == 0 ? "baseline" : base.map { lastVsBase(st.last, $0.last) } ?? "no base"
        table.append(
            [r.name] + keys.map { r.params[$0].map(paramText) ?? "-" }
                + [String(st.count), String(st.lastStep), short(st.last), short(st.min), short(st.max), short(st.mean), delta])
    }
    out.line("\(metric)" + (range.map { " over steps \($0.lowerBound)..<\(empty ? String(to ?? 0) : Buckets.exclusiveText($0.upperBound))" } ?? ""))
    for l in renderTable(
        header: ["run"] + keys + ["points", "last step", "last", "min", "max", "mean", "last vs base"], rows: table, fit: terminalWidth())
    { out.line(l) }
    guard chart else { return }
    let width = max(20, min(160, terminalWidth() - 12))
    let curves = try loadCurves(store, runs: runs, metric: metric, buckets: width * 2, from: from, to: to, x: x)
    out.line("")
    for l in TerminalChart.render(curves, width: width, height: max(4, height), color: useColor, logScale: logScale) { out.line(l) }
}

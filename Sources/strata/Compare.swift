import ArgumentParser
import Strata
import StrataInterop

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Compare runs on one metric: a side-by-side table and a terminal chart (min/max envelope); with --stat, the difference with a confidence interval and a verdict."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Runs (names or ids).", valueName: "run")) var runNames: [String]
    @Option(help: "Metric to compare (repeat for several).") var metric: [String] = []
    @Option(help: "Run the others are compared with (default: the first).") var baseline: String?
    @Option(help: "First step (inclusive).") var from: Int64?
    @Option(help: "Last step (exclusive).") var to: Int64?
    @Option(help: "Chart height in lines.") var height: Int = 14
    @Option(help: "Chart x axis: step, time (wall clock) or relative (time since each run's first point).") var x: Store.XAxis = .step
    @Flag(help: "Logarithmic value axis.") var log = false
    @Flag(help: "Table only, no chart.") var noChart = false
    @Option(help: "Noise-aware comparison of this statistic over the window: mean, min, last or pNN (p50, p99).") var stat: String?
    @Option(help: "Group runs into baseline and candidate by this param (default: params but the seed).") var by: String?
    @Flag(help: "Add to each run the store's other seeds of its configuration (same project and params but the seed).") var seeds = false
    @Option(help: ArgumentHelp("Tolerance of a metric: M=2% (of the baseline) or M=0.5 (absolute); repeatable.", valueName: "metric=amount"))
    var tolerance: [String] = []
    @Option(help: ArgumentHelp("A metric for which higher is better (repeatable).", valueName: "metric")) var higherIsBetter: [String] = []
    @Option(help: ArgumentHelp("A metric for which lower is better (repeatable).", valueName: "metric")) var lowerIsBetter: [String] = []
    @Option(help: "Confidence level of the interval (0.5 to 0.999).") var confidence: Double = 0.95
    @Flag(help: "Require replicates (at least two seeds a side): Welch's t-interval.") var replicates = false
    @Flag(help: "Require one run a side: a block bootstrap of its points over the window.") var withinRun = false
    @Flag(help: "Exit 3 when a metric regresses.") var failOnRegression = false

    /// Whether an option of the noise-aware comparison was given.
    var noiseAware: Bool {
        stat != nil || by != nil || seeds || !tolerance.isEmpty || !higherIsBetter.isEmpty || !lowerIsBetter.isEmpty || replicates || withinRun
            || failOnRegression
    }

    func run() throws {
        if runNames.isEmpty { throw CLIError("give at least one run", exitCode: 2) }
        if metric.isEmpty { throw CLIError("missing --metric (the metric to compare)", exitCode: 2) }
        let store = try global.openForReading()
        defer { try? store.close() }
        var runs = try runNames.map { try lookupRun(store, $0) }
        if let b = baseline {
            let base = try lookupRun(store, b)
            runs.removeAll { $0.id == base.id }
            runs.insert(base, at: 0)
        }
        let out = Output()
        if noiseAware {
            try compareWithNoise(store, runs: runs, out: out)
            return
        }
        for (i, m) in metric.enumerated() {
            if i > 0 { out.line("") }
            try renderComparison(
                store: store, runs: runs, metric: m, from: from, to: to, height: height, logScale: log, chart: !noChart, x: x, out: out)
        }
    }

    /// `--stat` and friends: per metric the baseline and candidate values, the difference with its
    /// interval, and a verdict line; exit 3 on a regression with `--fail-on-regression`.
    func compareWithNoise(_ store: Store, runs: [RunInfo], out: Output) throws {
        if x != .step { throw CLIError("--x goes with the chart; a comparison with --stat covers steps", exitCode: 2) }
        if replicates && withinRun { throw CLIError("--replicates and --within-run exclude each other", exitCode: 2) }
        var options = CompareOptions()
        options.confidence = confidence
        options.mode = replicates ? .replicates : withinRun ? .withinRun : .auto
        options.statistic = try usage { () throws(StrataError) in try WindowStatistic(parsing: stat ?? "mean") }
        options.steps = try stepWindow(from: from, to: to)
        var tolerances: [String: Tolerance] = [:]
        for t in tolerance {
            guard let eq = t.lastIndex(of: "="), eq != t.startIndex else {
                throw CLIError("--tolerance must be METRIC=AMOUNT (train/step_ms=2% or loss=0.01), got \(jsonString(t))", exitCode: 2)
            }
            let m = String(t[..<eq])
            guard metric.contains(m) else { throw CLIError("--tolerance names metric \(jsonString(m)), which is not a --metric", exitCode: 2) }
            tolerances[m] = try usage { () throws(StrataError) in try Tolerance(parsing: String(t[t.index(after: eq)...])) }
        }
        var directions: [String: MetricDirection] = [:]
        for (list, d) in [(higherIsBetter, MetricDirection.higherIsBetter), (lowerIsBetter, .lowerIsBetter)] {
            for m in list {
                guard metric.contains(m) else {
                    throw CLIError(
                        "--\(d == .higherIsBetter ? "higher" : "lower")-is-better names metric \(jsonString(m)), which is not a --metric", exitCode: 2
                    )
                }
                if directions[m] != nil, directions[m] != d {
                    throw CLIError("metric \(jsonString(m)) is both higher- and lower-is-better", exitCode: 2)
                }
                directions[m] = d
            }
        }
        var all = runs
        if seeds {
            let having = metric.map { parseSeriesSpec($0) }.map { (metric: $0.0, labels: $0.1) }
            all = try runs.flatMap { try store.replicates(of: $0, having: having) }
        }
        let sides = try usage { () throws(StrataError) in try Store.sides(of: all, baseline: runs[0], by: by) }
        var regressed = false
        for (i, m) in metric.enumerated() {
            let (name, labels) = parseSeriesSpec(m)
            var o = options
            o.labels = labels
            o.tolerance = tolerances[m]
            o.direction = directions[m]
            let c = try usage { () throws(StrataError) in
                try store.compare(baseline: sides.baseline, candidate: sides.candidate, metric: name, options: o)
            }
            if i > 0 { out.line("") }
            for l in renderNoiseComparison(c, steps: options.steps) { out.line(l) }
            if c.verdict == .regression { regressed = true }
        }
        out.flush()
        if regressed && failOnRegression { throw ExitCode(3) }
    }
}

/// Runs a library call whose `.invalidArgument` and `.notFound` errors are usage errors (exit 2):
/// a statistic, tolerance or window that names nothing, replicates required but absent.
func usage<T>(_ body: () throws(StrataError) -> T) throws -> T {
    switch Result(catching: body) {
    case .success(let v): return v
    case .failure(let e) where e.code == .invalidArgument || e.code == .notFound: throw CLIError(e.message, exitCode: 2)
    case .failure(let e): throw e
    }
}

/// The text of a noise-aware comparison: a header naming the method, one line a side with each
/// run's value, the difference with its interval, and the verdict line.
func renderNoiseComparison(_ c: MetricComparison, steps: Range<Int64>?) -> [String] {
    let window = steps.map { windowText($0) } ?? ""
    let level = cformat("%g", c.confidence * 100) + "%"
    let how: String
    switch c.method {
    case .welch:
        how =
            "replicates \(c.baselineRuns.count) vs \(c.candidateRuns.count) runs, Welch t-interval"
            + (c.degreesOfFreedom.map { ", df " + cformat("%.1f", $0) } ?? "")
    case .blockBootstrap:
        let l = c.blockLengths ?? []
        how =
            "one run a side, \(c.baselineRuns[0].finiteCount) vs \(c.candidateRuns[0].finiteCount) points, block bootstrap (blocks of \(l.map(String.init).joined(separator: "/")), \(c.resamples ?? 0) resamples)"
    }
    var lines = ["\(c.metric) \(c.statistic)\(window): \(how)"]
    func side(_ label: String, _ value: Double, _ runs: [RunStatistic]) -> String {
        let each = runs.count == 1 ? runs[0].run.name : runs.map { "\($0.run.name) \(short($0.value))" }.joined(separator: ", ")
        let skipped = runs.reduce(0) { $0 + $1.nanCount + $1.infiniteCount }
        return "  \(label) \(short(value))  (\(each))" + (skipped > 0 ? "  [\(skipped) non-finite points left out]" : "")
    }
    lines.append(side("baseline ", c.baseline, c.baselineRuns))
    lines.append(side("candidate", c.candidate, c.candidateRuns))
    func signed(_ v: Double) -> String { (v > 0 ? "+" : "") + short(v) }
    func pct(_ v: Double) -> String { (v > 0 ? "+" : "") + cformat("%.2f", v * 100) + "%" }
    var diff = "  difference \(signed(c.difference))"
    if let r = c.relativeDifference { diff += " (\(pct(r)))" }
    diff += ", \(level) interval [\(signed(c.interval.lowerBound)), \(signed(c.interval.upperBound))]"
    if c.relativeDifference != nil, c.baseline != 0 {
        diff += " ([\(pct(c.interval.lowerBound / abs(c.baseline))), \(pct(c.interval.upperBound / abs(c.baseline)))])"
    }
    lines.append(diff)
    let dir = c.direction == .lowerIsBetter ? "lower is better" : "higher is better"
    let dirNote = c.directionSource == "guessed" ? " (guessed from the name)" : c.directionSource == "stored" ? " (stored)" : ""
    let tol =
        c.tolerance.map {
            "tolerance \($0)" + (c.toleranceSource == "stored" ? " (stored)" : "") + ($0.relative ? " = \(short(c.toleranceAbsolute))" : "")
        } ?? "no tolerance"
    let word: String
    switch c.verdict {
    case .regression: word = "REGRESSION"
    case .improvement: word = "improvement"
    case .withinNoise: word = "within noise"
    }
    lines.append("verdict \(c.metric): \(word): \(c.reason); \(tol); \(dir)\(dirNote)")
    return lines
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

/// ` over steps 100..<1000`, ` from step 100`, ` before step 1000`.
func windowText(_ r: Range<Int64>) -> String {
    if r.upperBound == .max { return " from step \(r.lowerBound)" }
    if r.lowerBound == .min { return " before step \(r.upperBound)" }
    return " over steps \(r.lowerBound)..<\(r.upperBound)"
}

/// `--from/--to` as a half-open window (nil when neither is given); an empty window is a usage error.
func stepWindow(from: Int64?, to: Int64?) throws -> Range<Int64>? {
    guard from != nil || to != nil else { return nil }
    let lo = from ?? .min
    let hi = to ?? .max
    if lo >= hi { throw CLIError("--from (\(lo)) must be less than --to (\(hi)): the window is [from, to)", exitCode: 2) }
    return lo..<hi
}

struct Hist: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Histogram and cumulative distribution (ECDF) of one series over a window, with exact quantiles.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run (name or id).", valueName: "run")) var runName: String
    @Argument(help: "Metric (labels as metric{k=v}).") var metric: String
    @Option(help: "First step (inclusive).") var from: Int64?
    @Option(help: "Last step (exclusive).") var to: Int64?
    @Option(help: "Number of equal-width bins (1 to 1000).") var bins: Int = 20
    @Option(help: "Bar width in characters.") var width: Int = 40

    func run() throws {
        guard (1...Histogram.maxBins).contains(bins) else { throw CLIError("--bins must be 1 to \(Histogram.maxBins), got \(bins)", exitCode: 2) }
        guard (1...1000).contains(width) else { throw CLIError("--width must be 1 to 1000, got \(width)", exitCode: 2) }
        let steps = try stepWindow(from: from, to: to)
        let store = try global.openForReading()
        defer { try? store.close() }
        let r = try lookupRun(store, runName)
        let (name, labels) = parseSeriesSpec(metric)
        let h = try usage { () throws(StrataError) in try store.histogram(r, name, labels: labels, steps: steps, bins: bins) }
        let out = Output()
        var counts = "\(h.count) points"
        let left = [(h.nanCount, "NaN"), (h.positiveInfinityCount, "+Inf"), (h.negativeInfinityCount, "-Inf")].filter { $0.0 > 0 }
        if !left.isEmpty { counts += " (\(h.finiteCount) finite; left out: " + left.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")" }
        out.line("\(metric) of \(r.name)\(steps.map(windowText) ?? ""): \(counts)")
        out.line(
            "min \(short(h.min))  max \(short(h.max))  "
                + h.quantiles.map { "p\(cformat("%g", $0.level * 100)) \(short($0.value))" }.joined(separator: "  "))
        let peak = h.bins.map(\.count).max() ?? 1
        let rows = h.bins.enumerated().map { i, b -> [String] in
            let bar = String(repeating: "█", count: peak == 0 ? 0 : Int((Double(b.count) / Double(peak) * Double(width)).rounded(.up)))
            return [
                short(b.lower), short(b.upper) + (i == h.bins.count - 1 ? "]" : ")"), String(b.count),
                cformat("%.1f", b.cumulativeFraction * 100) + "%", bar
            ]
        }
        for l in renderTable(header: ["from", "to", "count", "ecdf", ""], rows: rows, maxWidth: max(48, width)) { out.line(l) }
    }
}

struct ToleranceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tolerance", abstract: "Declare per project the tolerance and direction `compare` uses for a metric.",
        subcommands: [SetCommand.self, Unset.self, List.self])

    struct SetCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Declare a metric's tolerance (2% of the baseline or an absolute amount) and/or direction.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Metric.") var metric: String
        @Argument(help: "Tolerance: 2% (of the baseline's value) or 0.5 (absolute); omit to declare only a direction.") var tolerance: String?
        @Option(help: "Project.") var project: String = "default"
        @Flag(help: "Higher values are better.") var higherIsBetter = false
        @Flag(help: "Lower values are better.") var lowerIsBetter = false

        func run() throws {
            if higherIsBetter && lowerIsBetter { throw CLIError("--higher-is-better and --lower-is-better exclude each other", exitCode: 2) }
            let direction: MetricDirection? = higherIsBetter ? .higherIsBetter : lowerIsBetter ? .lowerIsBetter : nil
            let t = try tolerance.map { text in try usage { () throws(StrataError) in try Tolerance(parsing: text) } }
            if t == nil && direction == nil {
                throw CLIError("give a tolerance (2% or 0.5) or a direction (--higher-is-better, --lower-is-better)", exitCode: 2)
            }
            let store = try global.openForReading()
            defer { try? store.close() }
            try usage { () throws(StrataError) in try store.setTolerance(project: project, metric: metric, tolerance: t, direction: direction) }
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a metric's declaration.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Metric.") var metric: String
        @Option(help: "Project.") var project: String = "default"

        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            guard try store.tolerances().contains(where: { $0.project == project && $0.metric == metric }) else {
                throw CLIError(
                    "project \(jsonString(project)) declares nothing for metric \(jsonString(metric)) (see `strata tolerance list`)", exitCode: 2)
            }
            try usage { () throws(StrataError) in try store.setTolerance(project: project, metric: metric, tolerance: nil, direction: nil) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the declarations.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            let rows = try store.tolerances().map {
                [
                    $0.project, $0.metric, $0.tolerance?.description ?? "-",
                    $0.direction.map { $0 == .higherIsBetter ? "higher is better" : "lower is better" } ?? "-"
                ]
            }
            let out = Output()
            for l in renderTable(header: ["project", "metric", "tolerance", "direction"], rows: rows) { out.line(l) }
        }
    }
}

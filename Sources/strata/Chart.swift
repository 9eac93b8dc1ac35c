import ArgumentParser
import Strata

/// One run's curve, for charts: per bucket the exact min, max and mean.
struct ChartSeries {
    var label: String
    var lo: Int64
    /// Last step of the range (inclusive, so Int64.max can be charted).
    var last: Int64
    var buckets: Int
    var rows: [CurveBucket]
}

func loadCurves(_ store: Store, runs: [RunInfo], metric: String, buckets: Int, from: Int64?, to: Int64?) throws -> [ChartSeries] {
    let (m, labels) = parseSeriesSpec(metric)
    var infos: [(RunInfo, Store.SeriesInfo)] = []
    for r in runs { infos.append((r, try seriesInfo(store, r, metric))) }
    let lo = from ?? infos.map(\.1.firstStep).min() ?? 0
    guard let last = lastStep(to: to, default: infos.map(\.1.lastStep).max() ?? 0), lo <= last else {
        throw CLIError("empty step range \(lo)..<\(to.map(String.init) ?? "end")", exitCode: 2)
    }
    var names = Set<String>()
    var dup = Set<String>()
    for (r, _) in infos { if !names.insert(r.name).inserted { dup.insert(r.name) } }
    return try infos.map { r, _ in
        ChartSeries(label: dup.contains(r.name) ? "\(r.name) (\(r.id.text.suffix(6)))" : r.name, lo: lo, last: last, buckets: buckets,
                    rows: try store.curve(r.id, m, labels: labels, steps: lo...last, buckets: buckets))
    }
}

/// The last step of a range `[from, to)`: `to - 1`, or `fallback` without `--to`; nil when `to`
/// is Int64.min (no step lies below it).
func lastStep(to: Int64?, default fallback: Int64) -> Int64? {
    guard let to else { return fallback }
    return to > .min ? to - 1 : nil
}

/// A terminal line chart in Unicode braille (2×4 dots a cell), min/max envelope per column.
enum TerminalChart {
    static let colors = [36, 33, 35, 32, 31, 34]

    static func render(_ series: [ChartSeries], width: Int, height: Int, color: Bool, logScale: Bool) -> [String] {
        let cols = width, rows = height
        let dx = cols * 2, dy = rows * 4
        func tr(_ v: Double) -> Double { logScale ? (v > 0 ? log10(v) : .nan) : v }
        var ymin = Double.infinity, ymax = -Double.infinity
        for s in series { for b in s.rows { for v in [tr(b.stats.min), tr(b.stats.max)] where v.isFinite { ymin = min(ymin, v); ymax = max(ymax, v) } } }
        if !ymin.isFinite { return ["(no finite values to chart)"] }
        if ymin == ymax { ymin -= 0.5; ymax += 0.5 }
        var dots = [[UInt8]](repeating: [UInt8](repeating: 0, count: cols), count: rows)
        var owner = [[Int]](repeating: [Int](repeating: -1, count: cols), count: rows)
        let bits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
        func yDot(_ v: Double) -> Int { Int(((ymax - v) / (ymax - ymin) * Double(dy - 1)).rounded()) }
        // Non-finite values are data: a bucket reaching +Inf (-Inf) is drawn up to the top (bottom)
        // edge and counted in a note under the chart. The first series (the baseline of `compare`)
        // is drawn last, so that where curves overlap its colour is the one seen.
        var infBuckets = 0, negInfBuckets = 0
        for (si, s) in series.enumerated().reversed() {
            var prev: Int?
            for b in s.rows {
                let x = min(dx - 1, b.bucket * dx / max(1, s.buckets))
                let lo = tr(b.stats.min), hi = tr(b.stats.max)
                if b.stats.max == .infinity { infBuckets += 1 }
                if b.stats.min == -.infinity { negInfBuckets += 1 }
                guard !lo.isNaN || b.stats.min == -.infinity, !hi.isNaN else { prev = nil; continue }
                func edgeDot(_ v: Double) -> Int { v == .infinity ? 0 : v == -.infinity || v.isNaN ? dy - 1 : yDot(v) }
                var top = edgeDot(hi), bottom = edgeDot(lo)
                if let p = prev { top = min(top, p); bottom = max(bottom, p) }
                for y in top...bottom {
                    let cy = y / 4, cx = x / 2
                    dots[cy][cx] |= bits[y % 4][x % 2]
                    owner[cy][cx] = si
                }
                let m = tr(b.stats.last)
                prev = m.isFinite ? yDot(m) : nil
            }
        }
        let labelW = 10
        var out: [String] = []
        for r in 0..<rows {
            var label = ""
            if r == 0 { label = short(logScale ? pow(10, ymax) : ymax) }
            else if r == rows - 1 { label = short(logScale ? pow(10, ymin) : ymin) }
            else if r == rows / 2 { label = short(logScale ? pow(10, (ymax + ymin) / 2) : (ymax + ymin) / 2) }
            var line = pad(label, labelW - 1, right: true) + "┤"
            for c in 0..<cols {
                let d = dots[r][c]
                if d == 0 { line += " "; continue }
                let ch = String(Character(Unicode.Scalar(0x2800 + UInt32(d))!))
                if color, owner[r][c] >= 0 { line += "\u{1B}[\(colors[owner[r][c] % colors.count])m" + ch + "\u{1B}[0m" } else { line += ch }
            }
            out.append(line)
        }
        out.append(String(repeating: " ", count: labelW - 1) + "└" + String(repeating: "─", count: cols))
        if let s = series.first {
            let left = String(s.lo), right = String(s.last)
            out.append(String(repeating: " ", count: labelW) + left + String(repeating: " ", count: max(1, cols - left.count - right.count)) + right)
        }
        var legend = String(repeating: " ", count: labelW)
        for (i, s) in series.enumerated() {
            let mark = color ? "\u{1B}[\(colors[i % colors.count])m━━\u{1B}[0m" : (series.count > 1 ? "[\(i + 1)]" : "──")
            legend += mark + " " + s.label + "   "
        }
        out.append(legend.trimmingTrailing())
        func buckets(_ n: Int) -> String { n == 1 ? "1 bucket" : "\(n) buckets" }
        if infBuckets > 0 { out.append(String(repeating: " ", count: labelW) + "▲ +Inf in \(buckets(infBuckets)), drawn to the top edge") }
        if negInfBuckets > 0 {
            out.append(String(repeating: " ", count: labelW) + "▼ -Inf in \(buckets(negInfBuckets)), drawn to the bottom edge")
        }
        return out
    }
}

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
        try renderComparison(store: store, runs: runs, metric: metric, from: from, to: to, height: height, logScale: log, chart: !noChart, out: out)
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

func renderComparison(store: Store, runs: [RunInfo], metric: String, from: Int64?, to: Int64?, height: Int, logScale: Bool, chart: Bool, out: Output) throws {
    let (m, labels) = parseSeriesSpec(metric)
    // [from, to): without --to the range ends at Int64.max, included.
    let last = lastStep(to: to, default: .max)
    let range: ClosedRange<Int64>? = (from != nil || to != nil) ? (from ?? .min)...Swift.max(from ?? .min, last ?? .min) : nil
    let empty = last == nil || (from ?? .min) > (last ?? .min)
    var table: [[String]] = []
    var base: Stats?
    // Params that differ between the runs are shown as columns.
    let keys = Set(runs.flatMap { $0.params.keys }).sorted().filter { k in Set(runs.map { $0.params[k]?.description ?? "-" }).count > 1 }
    for (i, r) in runs.enumerated() {
        _ = try seriesInfo(store, r, metric)
        guard !empty, let st = try (range.map { try store.aggregate(r.id, m, labels: labels, steps: $0) } ?? store.aggregate(r.id, m, labels: labels)) else {
            table.append([r.name] + keys.map { r.params[$0]?.description ?? "-" } + ["0", "-", "-", "-", "-", "-", ""]); continue
        }
        if i == 0 { base = st }
        let delta = i == 0 ? "baseline" : base.map { lastVsBase(st.last, $0.last) } ?? "no base"
        table.append([r.name] + keys.map { r.params[$0]?.description ?? "-" }
                     + [String(st.count), String(st.lastStep), short(st.last), short(st.min), short(st.max), short(st.mean), delta])
    }
    out.line("\(metric)" + (range.map { " over steps \($0.lowerBound)..<\(empty ? String(to ?? 0) : Buckets.exclusiveText($0.upperBound))" } ?? ""))
    for l in renderTable(header: ["run"] + keys + ["points", "last step", "last", "min", "max", "mean", "last vs base"], rows: table) { out.line(l) }
    guard chart else { return }
    let width = max(20, min(160, terminalWidth() - 12))
    let curves = try loadCurves(store, runs: runs, metric: metric, buckets: width * 2, from: from, to: to)
    out.line("")
    for l in TerminalChart.render(curves, width: width, height: max(4, height), color: useColor, logScale: logScale) { out.line(l) }
}

// MARK: SVG

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write an SVG chart (axes, legend, min/max band) of a metric over runs.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Runs (names or ids).", valueName: "run")) var runNames: [String]
    @Option(help: "Metric to plot.") var metric: String
    @Option(help: "Output file (.svg).") var out: String
    @Option(help: "First step (inclusive).") var from: Int64?
    @Option(help: "Last step (exclusive).") var to: Int64?
    @Option(help: "Buckets (horizontal resolution).") var buckets: Int = 400
    @Flag(help: "Logarithmic value axis.") var log = false

    func run() throws {
        if runNames.isEmpty { throw CLIError("give at least one run", exitCode: 2) }
        let store = try global.openForReading()
        defer { try? store.close() }
        let runs = try runNames.map { try lookupRun(store, $0) }
        let curves = try loadCurves(store, runs: runs, metric: metric, buckets: buckets, from: from, to: to)
        let svg = SVGChart.render(curves, title: metric, logScale: log)
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw CLIError("cannot write \(out): \(String(cString: strerror(errno)))") }
        let o = Output(fd: fd)
        o.write(svg)
        o.flush()
        close(fd)
        warn("wrote \(out) (\(runs.count) runs, \(metric))")
    }
}

enum SVGChart {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// 1, 2 or 5 times a power of ten, about `count` ticks over [a, b].
    static func ticks(_ a: Double, _ b: Double, count: Int = 6) -> [Double] {
        let span = b - a
        guard span > 0, span.isFinite else { return [a] }
        let raw = span / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = ceil(a / step) * step
        var out: [Double] = []
        while t <= b + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func render(_ series: [ChartSeries], title: String, logScale: Bool) -> String {
        let W = 900.0, H = 500.0, left = 80.0, right = 30.0, top = 40.0, bottom = 60.0
        let pw = W - left - right, ph = H - top - bottom
        func tr(_ v: Double) -> Double { logScale ? (v > 0 ? log10(v) : .nan) : v }
        var ymin = Double.infinity, ymax = -Double.infinity
        for s in series { for b in s.rows { for v in [tr(b.stats.min), tr(b.stats.max)] where v.isFinite { ymin = min(ymin, v); ymax = max(ymax, v) } } }
        if !ymin.isFinite { ymin = 0; ymax = 1 }
        if ymin == ymax { ymin -= 0.5; ymax += 0.5 }
        let pad = (ymax - ymin) * 0.04
        ymin -= pad; ymax += pad
        let lo = Double(series.first?.lo ?? 0), hi = Double(series.first?.last ?? 0) + 1
        func X(_ step: Double) -> Double { left + (step - lo) / max(1, hi - lo) * pw }
        func Y(_ v: Double) -> Double { top + (ymax - v) / (ymax - ymin) * ph }
        func n(_ d: Double) -> String { cformat("%.1f", d) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" viewBox=\"0 0 \(Int(W)) \(Int(H))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(n(W / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(xml(title))</text>\n"
        // grid and axes
        for t in ticks(ymin, ymax) {
            let y = Y(t)
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + pw))\" y2=\"\(n(y))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(xml(short(logScale ? pow(10, t) : t)))</text>\n"
        }
        for t in ticks(lo, hi - 1) {
            let x = X(t)
            s += "<line x1=\"\(n(x))\" y1=\"\(n(top + ph))\" x2=\"\(n(x))\" y2=\"\(n(top + ph + 5))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(n(x))\" y=\"\(n(top + ph + 20))\" text-anchor=\"middle\">\(xml(short(t)))</text>\n"
        }
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(top + ph))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top + ph))\" x2=\"\(n(left + pw))\" y2=\"\(n(top + ph))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(H - 15))\" text-anchor=\"middle\">step</text>\n"
        var infCount = (up: 0, down: 0)
        for (i, c) in series.enumerated() {
            let color = palette[i % palette.count]
            let width = (hi - lo) / Double(max(1, c.buckets))
            var upper: [String] = [], lower: [String] = [], line: [String] = []
            func flush() {
                if upper.count > 0 {
                    s += "<polygon points=\"\((upper + lower.reversed()).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
                }
                if line.count > 1 { s += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n" }
                upper = []; lower = []; line = []
            }
            // Non-finite values are data: a bucket holding +Inf (-Inf) reaches the top (bottom)
            // edge of the plot, marked there with ▲ (▼); a note under the legend counts them.
            var markers = ""
            for b in c.rows {
                let x = X(lo + (Double(b.bucket) + 0.5) * width)
                let mn = tr(b.stats.min), mx = tr(b.stats.max), me = tr(b.stats.mean)
                if b.stats.max == .infinity {
                    infCount.up += 1
                    markers += "<text class=\"inf\" x=\"\(n(x))\" y=\"\(n(top + 9))\" text-anchor=\"middle\" fill=\"\(color)\">▲</text>\n"
                }
                if b.stats.min == -.infinity {
                    infCount.down += 1
                    markers += "<text class=\"inf\" x=\"\(n(x))\" y=\"\(n(top + ph - 2))\" text-anchor=\"middle\" fill=\"\(color)\">▼</text>\n"
                }
                let yHi = b.stats.max == .infinity ? top : mx.isFinite ? Y(mx) : Double.nan
                let yLo = b.stats.min == -.infinity ? top + ph : mn.isFinite ? Y(mn) : Double.nan
                guard yHi.isFinite, yLo.isFinite else { flush(); continue }
                upper.append("\(n(x)),\(n(yHi))")
                lower.append("\(n(x)),\(n(yLo))")
                if me.isFinite { line.append("\(n(x)),\(n(Y(me)))") }
            }
            flush()
            s += markers
            let ly = top + 10 + Double(i) * 18
            s += "<rect x=\"\(n(left + pw - 190))\" y=\"\(n(ly - 9))\" width=\"14\" height=\"10\" fill=\"\(color)\"/>\n"
            s += "<text x=\"\(n(left + pw - 170))\" y=\"\(n(ly))\">\(xml(c.label))</text>\n"
        }
        s += "<text x=\"\(n(left + pw - 190))\" y=\"\(n(top + 14 + Double(series.count) * 18))\" fill=\"#666\">line: mean per bucket; band: min–max</text>\n"
        var note = [String]()
        if infCount.up > 0 { note.append("▲ +Inf in \(infCount.up) bucket\(infCount.up == 1 ? "" : "s")") }
        if infCount.down > 0 { note.append("▼ -Inf in \(infCount.down) bucket\(infCount.down == 1 ? "" : "s")") }
        if !note.isEmpty {
            s += "<text x=\"\(n(left + pw - 190))\" y=\"\(n(top + 32 + Double(series.count) * 18))\" fill=\"#666\">\(note.joined(separator: "; ")) (at the edge)</text>\n"
        }
        return s + "</svg>\n"
    }

    static func xml(_ t: String) -> String {
        var o = ""
        for c in t {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }
}

// MARK: demo

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log a small simulated sweep (6 runs, lr × model, 3,000 steps) and show a comparison chart.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Steps per run.") var steps: Int = 3000
    @Flag(help: "Table only, no chart.") var noChart = false

    func run() throws {
        let store = try global.openForWriting()
        var rng = SplitMix(seed: 42)
        var created: [RunInfo] = []
        let t0 = nowMs() - Int64(steps) * 100
        let sweep = UInt64(nowMs())
        for model in ["small", "base"] {
            for lr in [3e-4, 1e-3, 3e-3] {
                let name = "demo-\(model)-lr\(short(lr))"
                let run = try store.createRun(name: name, project: "demo", params: ["lr": .double(lr), "model": .string(model), "batch_size": 64, "seed": 42],
                                              tags: ["demo"], metadata: ["purpose": "strata demo sweep", "seed.numpy": 42, "dataset.train": "synthetic-v1",
                                                                         "sweep": .string(String(sweep, radix: 36))])
                let hot = try run.metrics(["train/loss", "lr"])
                let floor = model == "base" ? 0.35 : 0.55
                let speed = lr * (model == "base" ? 2.2 : 3.0)
                let unstable = lr >= 3e-3
                for step in 0..<steps {
                    let warm = min(1, Double(step) / 200)
                    let lrNow = lr * warm * (0.5 + 0.5 * cos(Double.pi * Double(step) / Double(steps)))
                    var loss = floor + 2.0 * exp(-speed * Double(step) * 0.9)
                    loss *= 1 + 0.025 * rng.gauss()
                    if unstable && step % 700 == 350 { loss *= 2.5 }   // loss spikes: the envelope keeps them
                    try run.log(hot, step: Int64(step), values: [loss, lrNow], time: t0 + Int64(step) * 100)
                    if step % 100 == 99 {
                        let acc = min(0.99, (1 - floor / 2) * (1 - exp(-speed * Double(step) * 0.7)) + 0.01 * rng.gauss())
                        try run.log("val/accuracy", acc, step: Int64(step), time: t0 + Int64(step) * 100)
                    }
                }
                try run.finish()
                if let info = run.info { created.append(info) }
            }
        }
        try store.flush()
        let out = Output()
        out.line("logged \(created.count) runs × \(withCommas(steps)) steps into \(store.path) (project \"demo\")")
        out.line("")
        // The chart compares the "base" runs across learning rates (all six crowd a terminal).
        let charted = created.filter { $0.params["model"] == .string("base") }
        try renderComparison(store: store, runs: charted, metric: "train/loss", from: nil, to: nil, height: 14, logScale: true, chart: !noChart, out: out)
        out.line("")
        out.line("next: strata runs --where 'tags has \"demo\"' --sort 'train/loss.min'")
        out.line("      strata show \(created.first?.name ?? "demo-small-lr0.0003")")
        out.line("      strata plot \(created.map(\.name).prefix(3).joined(separator: " ")) --metric train/loss --out demo.svg")
        out.flush()
        try store.close()
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gauss() -> Double {
        let u = max(1e-300, uniform()), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

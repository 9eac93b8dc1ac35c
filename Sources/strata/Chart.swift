import ArgumentParser
import Strata
import StrataInterop

/// One run's curve, for charts: per bucket the exact min, max and mean.
struct ChartSeries {
    var label: String
    /// What x is: steps, wall time or time since the series' first point (ms).
    var axis: Store.XAxis = .step
    var lo: Int64
    /// Last x of the range (inclusive, so Int64.max can be charted).
    var last: Int64
    var buckets: Int
    var rows: [CurveBucket]
}

func loadCurves(_ store: Store, runs: [RunInfo], metric: String, buckets: Int, from: Int64?, to: Int64?, x: Store.XAxis = .step) throws -> [ChartSeries] {
    let (m, labels) = parseSeriesSpec(metric)
    var infos: [(RunInfo, Store.SeriesInfo)] = []
    for r in runs { infos.append((r, try seriesInfo(store, r, metric))) }
    var names = Set<String>()
    var dup = Set<String>()
    for (r, _) in infos { if !names.insert(r.name).inserted { dup.insert(r.name) } }
    func label(_ r: RunInfo) -> String { dup.contains(r.name) ? "\(r.name) (\(r.id.text.suffix(6)))" : r.name }
    if x != .step {
        // One curve engine: the library's time curves, over the whole series of every run.
        if from != nil || to != nil { throw CLIError("--from/--to select steps: use them with --x step", exitCode: 2) }
        let lo = x == .time ? infos.map(\.1.minTime).min() ?? 0 : 0
        let last = x == .time ? infos.map(\.1.maxTime).max() ?? 0
            : infos.map { $0.1.maxTime.subtractingReportingOverflow($0.1.minTime) }.map { $0.overflow ? Int64.max : $0.partialValue }.max() ?? 0
        return try infos.map { r, _ in
            ChartSeries(label: label(r), axis: x, lo: lo, last: last, buckets: buckets,
                        rows: try store.curve(r.id, m, labels: labels, x: x, range: lo...last, buckets: buckets))
        }
    }
    let lo = from ?? infos.map(\.1.firstStep).min() ?? 0
    guard let last = lastStep(to: to, default: infos.map(\.1.lastStep).max() ?? 0), lo <= last else {
        throw CLIError("empty step range \(lo)..<\(to.map(String.init) ?? "end")", exitCode: 2)
    }
    return try infos.map { r, _ in
        ChartSeries(label: label(r), lo: lo, last: last, buckets: buckets,
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
        // Value ticks: round numbers, each on the row nearest to it.
        var rowLabels: [Int: String] = [:]
        for (t, text) in Axis.valueTicks(ymin, ymax, log: logScale, count: max(2, rows / 3)) {
            let r = yDot(t) / 4
            if r >= 0, r < rows, rowLabels[r] == nil, rowLabels[r - 1] == nil, rowLabels[r + 1] == nil { rowLabels[r] = text }
        }
        let labelW = max(6, (rowLabels.values.map(\.count).max() ?? 0) + 2)
        var out: [String] = []
        for r in 0..<rows {
            var line = pad(rowLabels[r] ?? "", labelW - 1, right: true) + (rowLabels[r] != nil ? "┤" : "│")
            for c in 0..<cols {
                let d = dots[r][c]
                if d == 0 { line += " "; continue }
                let ch = String(Character(Unicode.Scalar(0x2800 + UInt32(d))!))
                if color, owner[r][c] >= 0 { line += "\u{1B}[\(colors[owner[r][c] % colors.count])m" + ch + "\u{1B}[0m" } else { line += ch }
            }
            out.append(line)
        }
        if let s = series.first {
            // x ticks: round steps, durations or times, centred under their column where they fit.
            let lo = Double(s.lo), hi = Double(s.last)
            var axisLine = Array(String(repeating: "─", count: cols))
            var labels = Array(repeating: Character(" "), count: cols + labelW + 12)
            var freeFrom = 0
            for (t, text) in Axis.xTicks(lo, hi, axis: s.axis, count: max(2, cols / 14)) {
                let c = hi > lo ? Int(((t - lo) / (hi - lo) * Double(cols - 1)).rounded()) : 0
                guard c >= 0, c < cols else { continue }
                let start = max(0, labelW + c - text.count / 2)
                guard start >= freeFrom, start + text.count <= labels.count else { continue }
                axisLine[c] = "┬"
                for (k, ch) in text.enumerated() { labels[start + k] = ch }
                freeFrom = start + text.count + 2
            }
            out.append(String(repeating: " ", count: labelW - 1) + "└" + String(axisLine))
            out.append(String(labels).trimmingTrailing())
            if s.axis != .step { out.append(String(repeating: " ", count: labelW) + Axis.title(s.axis, lo: lo, hi: hi)) }
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
        try renderComparison(store: store, runs: runs, metric: metric, from: from, to: to, height: height, logScale: log, chart: !noChart, x: x, out: out)
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

func renderComparison(store: Store, runs: [RunInfo], metric: String, from: Int64?, to: Int64?, height: Int, logScale: Bool, chart: Bool,
                      x: Store.XAxis = .step, out: Output) throws {
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
        guard !empty, let st = try (range.map { try store.aggregate(r.id, m, labels: labels, steps: $0) } ?? store.aggregate(r.id, m, labels: labels)) else {
            table.append([r.name] + keys.map { r.params[$0].map(paramText) ?? "-" } + ["0", "-", "-", "-", "-", "-", ""]); continue
        }
        if i == 0 { base = st }
        let delta = i == 0 ? "baseline" : base.map { lastVsBase(st.last, $0.last) } ?? "no base"
        table.append([r.name] + keys.map { r.params[$0].map(paramText) ?? "-" }
                     + [String(st.count), String(st.lastStep), short(st.last), short(st.min), short(st.max), short(st.mean), delta])
    }
    out.line("\(metric)" + (range.map { " over steps \($0.lowerBound)..<\(empty ? String(to ?? 0) : Buckets.exclusiveText($0.upperBound))" } ?? ""))
    for l in renderTable(header: ["run"] + keys + ["points", "last step", "last", "min", "max", "mean", "last vs base"], rows: table, fit: terminalWidth()) { out.line(l) }
    guard chart else { return }
    let width = max(20, min(160, terminalWidth() - 12))
    let curves = try loadCurves(store, runs: runs, metric: metric, buckets: width * 2, from: from, to: to, x: x)
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
    @Option(help: "x axis: step, time (wall clock) or relative (time since each run's first point).") var x: Store.XAxis = .step
    @Flag(help: "Logarithmic value axis.") var log = false

    func run() throws {
        if runNames.isEmpty { throw CLIError("give at least one run", exitCode: 2) }
        try SVGChart.checkOutputName(out)
        let store = try global.openForReading()
        defer { try? store.close() }
        let runs = try runNames.map { try lookupRun(store, $0) }
        let curves = try loadCurves(store, runs: runs, metric: metric, buckets: buckets, from: from, to: to, x: x)
        let svg = SVGChart.render(curves, title: metric, logScale: log)
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw CLIError("cannot write \(out): \(String(cString: strerror(errno)))") }
        let o = Output(fd: fd)
        o.write(svg)
        o.flush()
        close(fd)
        warn("wrote \(out) (\(runs.count) \(runs.count == 1 ? "run" : "runs"), \(metric))")
    }
}

enum SVGChart {
    /// Twenty colours chosen to be told apart; later runs get generated ones (`color(_:)`), so no
    /// two runs share one.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                          "#1a1a6e", "#9a9a00", "#006d5b", "#c000c0", "#e6b800", "#5a5a5a", "#7fd13b", "#800000",
                          "#74b9e8", "#f59a7a", "#4b0082", "#c8a165"]

    /// Run `i`'s colour: the palette, then hues spaced by the golden angle at alternating
    /// lightness (distinct for any number of runs that fits a chart).
    static func color(_ i: Int) -> String {
        if i < palette.count { return palette[i] }
        let k = i - palette.count
        let hue = (Double(k) * 137.507764 + 50).truncatingRemainder(dividingBy: 360)
        let light = [0.32, 0.5, 0.42][k % 3]
        return hex(hue: hue, saturation: 0.7, lightness: light)
    }

    /// An HSL colour as `#rrggbb`.
    static func hex(hue: Double, saturation: Double, lightness: Double) -> String {
        let c = (1 - abs(2 * lightness - 1)) * saturation
        let h = hue / 60
        let x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
        let (r, g, b): (Double, Double, Double) = switch Int(h) {
        case 0: (c, x, 0)
        case 1: (x, c, 0)
        case 2: (0, c, x)
        case 3: (0, x, c)
        case 4: (x, 0, c)
        default: (c, 0, x)
        }
        let m = lightness - c / 2
        func byte(_ v: Double) -> Int32 { Int32(((v + m) * 255).rounded()) }
        return cformat("#%02x%02x%02x", byte(r), byte(g), byte(b))
    }

    /// `plot` writes SVG only: an output name with another extension (x.png) is refused before
    /// anything is written, rather than filled with SVG text.
    static func checkOutputName(_ path: String) throws {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return }
        let ext = base[base.index(after: dot)...].lowercased()
        if ext != "svg" {
            throw CLIError("--out \(path): plot writes SVG only, not .\(ext) (name the file .svg; convert it with e.g. `rsvg-convert -o x.\(ext) x.svg`)", exitCode: 2)
        }
    }

    /// Approximate width in pixels of `text` at `size` (sans-serif averages about 0.6 em a character).
    static func textWidth(_ text: String, size: Double = 12) -> Double { Double(text.count) * size * 0.6 }

    /// Longest legend label in characters (longer labels are cut with "…").
    static let legendChars = 32

    /// The chart: title on top, plot area on the left, legend and caption in a column right of the
    /// plot area (never over the data), x axis below. Every text lies inside the canvas.
    static func render(_ series: [ChartSeries], title: String, logScale: Bool) -> String {
        func tr(_ v: Double) -> Double { logScale ? (v > 0 ? log10(v) : .nan) : v }
        var ymin = Double.infinity, ymax = -Double.infinity
        for s in series { for b in s.rows { for v in [tr(b.stats.min), tr(b.stats.max)] where v.isFinite { ymin = min(ymin, v); ymax = max(ymax, v) } } }
        if !ymin.isFinite { ymin = 0; ymax = 1 }
        if ymin == ymax { ymin -= 0.5; ymax += 0.5 }
        let pad = (ymax - ymin) * 0.04
        ymin -= pad; ymax += pad
        let lo = Double(series.first?.lo ?? 0), hi = Double(series.first?.last ?? 0) + 1
        let axis = series.first?.axis ?? .step
        let yTicks = Axis.valueTicks(ymin, ymax, log: logScale)
        let xTicks = Axis.xTicks(lo, hi - 1, axis: axis)
        let labels = series.map { $0.label.count > legendChars ? String($0.label.prefix(legendChars - 1)) + "…" : $0.label }
        let caption = ["line: mean per bucket", "band: min–max per bucket"]
        let rowH = 18.0, top = 40.0, bottom = 60.0, gap = 24.0, margin = 12.0
        let left = max(50, 16 + (yTicks.map { textWidth($0.1) }.max() ?? 0))
        let legendW = max((labels + caption).map { textWidth($0) }.max() ?? 0, textWidth("▲ +Inf in 0000 buckets (at the edge)")) + 22
        // The last x tick label is centred on the plot's right edge: keep half of it on the canvas.
        let rightOfPlot = max(gap + legendW + margin, (xTicks.last.map { textWidth($0.1) / 2 } ?? 0) + margin)
        let W = max(900, left + 400 + rightOfPlot)
        let ph = max(400, Double(series.count + caption.count + 3) * rowH + 10)
        let H = top + ph + bottom
        let pw = W - left - rightOfPlot
        func X(_ step: Double) -> Double { left + (step - lo) / max(1, hi - lo) * pw }
        func Y(_ v: Double) -> Double { top + (ymax - v) / (ymax - ymin) * ph }
        func n(_ d: Double) -> String { cformat("%.1f", d) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" viewBox=\"0 0 \(Int(W)) \(Int(H))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        let maxTitle = Int((W - 2 * margin) / (15 * 0.6))
        let shownTitle = title.count > maxTitle ? String(title.prefix(maxTitle - 1)) + "…" : title
        s += "<text x=\"\(n(W / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(xml(shownTitle))</text>\n"
        s += "<rect class=\"plot-area\" x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"none\"/>\n"
        // grid and axes
        for (t, label) in yTicks {
            let y = Y(t)
            s += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + pw))\" y2=\"\(n(y))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text class=\"y-tick\" x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(xml(label))</text>\n"
        }
        for (t, label) in xTicks {
            let x = X(t)
            s += "<line x1=\"\(n(x))\" y1=\"\(n(top + ph))\" x2=\"\(n(x))\" y2=\"\(n(top + ph + 5))\" stroke=\"black\"/>\n"
            s += "<text class=\"x-tick\" x=\"\(n(x))\" y=\"\(n(top + ph + 20))\" text-anchor=\"middle\">\(xml(label))</text>\n"
        }
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(top + ph))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(n(left))\" y1=\"\(n(top + ph))\" x2=\"\(n(left + pw))\" y2=\"\(n(top + ph))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(H - 15))\" text-anchor=\"middle\">\(xml(Axis.title(axis, lo: lo, hi: hi - 1)))</text>\n"
        var infCount = (up: 0, down: 0)
        for (i, c) in series.enumerated() {
            let color = color(i)
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
        }
        // Legend: a column right of the plot area.
        let lx = left + pw + gap
        s += "<g class=\"legend\">\n"
        for (i, label) in labels.enumerated() {
            let ly = top + 10 + Double(i) * rowH
            s += "<rect class=\"legend-swatch\" x=\"\(n(lx))\" y=\"\(n(ly - 9))\" width=\"14\" height=\"10\" fill=\"\(color(i))\"/>\n"
            s += "<text x=\"\(n(lx + 20))\" y=\"\(n(ly))\">\(xml(label))</text>\n"
        }
        var notes = caption
        if infCount.up > 0 { notes.append("▲ +Inf in \(infCount.up) bucket\(infCount.up == 1 ? "" : "s") (at the edge)") }
        if infCount.down > 0 { notes.append("▼ -Inf in \(infCount.down) bucket\(infCount.down == 1 ? "" : "s") (at the edge)") }
        for (j, text) in notes.enumerated() {
            let ly = top + 14 + Double(labels.count + j) * rowH
            s += "<text class=\"caption\" x=\"\(n(lx))\" y=\"\(n(ly))\" fill=\"#666\">\(xml(text))</text>\n"
        }
        s += "</g>\n"
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

import ArgumentParser
import Strata
import StrataInterop

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
        try checkBucketOption(buckets)
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
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
        "#1a1a6e", "#9a9a00", "#006d5b", "#c000c0", "#e6b800", "#5a5a5a", "#7fd13b", "#800000",
        "#74b9e8", "#f59a7a", "#4b0082", "#c8a165"
    ]

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
        let (r, g, b): (Double, Double, Double) =
            switch Int(h) {
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
            throw CLIError(
                "--out \(path): plot writes SVG only, not .\(ext) (name the file .svg; convert it with e.g. `rsvg-convert -o x.\(ext) x.svg`)",
                exitCode: 2)
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
        for s in series {
            for b in s.rows { for v in [tr(b.stats.min), tr(b.stats.max)] where v.isFinite { ymin = min(ymin, v); ymax = max(ymax, v) } }
        }
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
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" viewBox=\"0 0 \(Int(W)) \(Int(H))\" font-family=\"sans-serif\" font-size=\"12\">\n"
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
                    s +=
                        "<polygon points=\"\((upper + lower.reversed()).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
                }
                if line.count > 1 {
                    s += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
                }
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

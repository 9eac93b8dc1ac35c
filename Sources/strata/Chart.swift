import ArgumentParser
import Strata
import StrataInterop

/// One run's curve, for charts: per bucket the exact min, max and mean.
struct ChartSeries {
    var label: String
    /// What x is: steps, wall time or time since the run's first point (ms).
    var axis: Store.XAxis = .step
    var lo: Int64
    /// Last x of the range (inclusive, so Int64.max can be charted).
    var last: Int64
    var buckets: Int
    var rows: [CurveBucket]
}

func loadCurves(_ store: Store, runs: [RunInfo], metric: String, buckets: Int, from: Int64?, to: Int64?, x: Store.XAxis = .step) throws
    -> [ChartSeries]
{
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
        let last =
            x == .time
            ? infos.map(\.1.maxTime).max() ?? 0
            : try infos.map { r, _ in try store.curveRange(r.id, m, labels: labels, x: .relative)?.upperBound ?? 0 }.max() ?? 0
        return try infos.map { r, _ in
            ChartSeries(
                label: label(r), axis: x, lo: lo, last: last, buckets: buckets,
                rows: try store.curve(r.id, m, labels: labels, x: x, range: lo...last, buckets: buckets))
        }
    }
    let lo = from ?? infos.map(\.1.firstStep).min() ?? 0
    guard let last = lastStep(to: to, default: infos.map(\.1.lastStep).max() ?? 0), lo <= last else {
        throw CLIError("empty step range \(lo)..<\(to.map(String.init) ?? "end")", exitCode: 2)
    }
    return try infos.map { r, _ in
        ChartSeries(
            label: label(r), lo: lo, last: last, buckets: buckets,
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
        for s in series {
            for b in s.rows { for v in [tr(b.stats.min), tr(b.stats.max)] where v.isFinite { ymin = min(ymin, v); ymax = max(ymax, v) } }
        }
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import ArgumentParser
import Strata
import StrataInterop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Axis ticks for the terminal chart and the SVG chart: values a person would pick (1, 2 or 5
/// times a power of ten; on a log axis whole decades or 1-2-5 within them), durations in whole
/// seconds, minutes, hours or days, and wall times as dates or clock times.
enum Axis {
    /// 1, 2 or 5 times a power of ten, about `count` ticks over [a, b].
    static func ticks(_ a: Double, _ b: Double, count: Int = 6) -> [Double] {
        let span = b - a
        guard span > 0, span.isFinite else { return [a] }
        let raw = span / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = ceil(a / step) * step
        var out: [Double] = []
        while t <= b + step * 1e-9 {
            // Snap to the step's own decimals, so 0.30000000000000004 reads 0.3.
            let snapped = (t / step).rounded() * step
            out.append(abs(snapped) < step * 1e-9 ? 0 : snapped)
            t += step
        }
        return out
    }

    /// Value-axis ticks as (position, label). On a log axis the positions are log10 of the value
    /// and the ticks are powers of ten, or 1-2-5 (then 1-3) within decades when few decades show;
    /// with fewer than three of those, round values spread linearly over the range.
    static func valueTicks(_ lo: Double, _ hi: Double, log: Bool, count: Int = 6) -> [(Double, String)] {
        guard log else { return ticks(lo, hi, count: count).map { ($0, short($0)) } }
        let decades = Int(floor(lo))...Int(ceil(hi))
        for mantissas in [[1.0], [1, 2, 5], [1, 1.5, 2, 3, 5, 7]] {
            var out: [(Double, String)] = []
            for d in decades {
                for m in mantissas {
                    let v = m * pow(10, Double(d))
                    let p = log10(v)
                    if p >= lo - 1e-12 && p <= hi + 1e-12 { out.append((p, short(v))) }
                }
            }
            if out.count >= 3 {
                if out.count > count * 2 { return out.enumerated().filter { $0.offset % ((out.count + count - 1) / count) == 0 }.map(\.element) }
                return out
            }
        }
        return ticks(pow(10, lo), pow(10, hi), count: count).filter { $0 > 0 }.map { (log10($0), short($0)) }
    }

    /// Horizontal ticks for an x axis over [lo, hi] in the axis' units (steps or milliseconds).
    static func xTicks(_ lo: Double, _ hi: Double, axis: Store.XAxis, count: Int = 6) -> [(Double, String)] {
        switch axis {
        case .step: return ticks(lo, hi, count: count).map { ($0, short($0)) }
        case .relative: return durationTicks(lo, hi, count: count).map { ($0, durationLabel($0)) }
        case .time:
            let span = hi - lo
            return durationTicks(lo, hi, count: count).map { ($0, timeLabel($0, span: span)) }
        }
    }

    /// Round durations in ms (1, 2, 5, 10, 15, 30 s; 1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h;
    /// days as round numbers), about `count` ticks over [a, b]. Multiples of the step from 0 (for
    /// wall times, from 1970 in UTC).
    static func durationTicks(_ a: Double, _ b: Double, count: Int) -> [Double] {
        let span = b - a
        guard span > 0, span.isFinite else { return [a] }
        let raw = span / Double(count)
        let s = 1000.0, m = 60 * s, h = 60 * m, d = 24 * h
        let steps = [s, 2 * s, 5 * s, 10 * s, 15 * s, 30 * s, m, 2 * m, 5 * m, 10 * m, 15 * m, 30 * m, h, 2 * h, 3 * h, 6 * h, 12 * h, d]
        guard raw >= s / 2 else { return ticks(a, b, count: count) }
        guard let step = steps.first(where: { $0 >= raw }) else {
            return ticks(a / d, b / d, count: count).map { $0 * d }
        }
        var t = ceil(a / step) * step
        var out: [Double] = []
        while t <= b { out.append(t); t += step }
        return out
    }

    /// A duration in ms as `8m`, `1h30m`, `2d`, `45s` (`250ms` below a second).
    static func durationLabel(_ ms: Double) -> String {
        if ms == 0 { return "0" }
        let sign = ms < 0 ? "-" : ""
        let a = abs(ms)
        if a < 1000 { return sign + short(a) + "ms" }
        let total = Int64(min(a / 1000, 9e15).rounded())
        let d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60, s = total % 60
        var parts: [String] = []
        if d > 0 { parts.append("\(d)d") }
        if h > 0 { parts.append("\(h)h") }
        if m > 0 { parts.append("\(m)m") }
        if s > 0 { parts.append("\(s)s") }
        return sign + parts.prefix(2).joined()
    }

    /// A wall time in ms as a label fit for an axis spanning `span` ms (UTC): `14:05` within a
    /// day, `12-02 14:00` within a few weeks, `2026-12-02` beyond.
    static func timeLabel(_ ms: Double, span: Double) -> String {
        guard ms.isFinite, abs(ms) < 9e18 else { return short(ms) }
        let full = formatTime(Int64(ms))  // 2026-12-02 14:05:09Z
        let date = String(full.prefix(10)), clock = String(full.dropFirst(11).prefix(8))
        if span <= 60_000 { return clock }
        if span <= 86_400_000 { return String(clock.prefix(5)) }
        if span <= 30 * 86_400_000 { return String(date.dropFirst(5)) + " " + String(clock.prefix(5)) }
        return date
    }

    /// The axis title: `step`, `time since first point`, or `time (UTC)` with the date when the
    /// labels show only clock times.
    static func title(_ axis: Store.XAxis, lo: Double, hi: Double) -> String {
        switch axis {
        case .step: return "step"
        case .relative: return "time since first point"
        case .time:
            if hi - lo <= 86_400_000, abs(lo) < 9e18 { return "time (UTC), " + String(formatTime(Int64(lo)).prefix(10)) }
            return "time (UTC)"
        }
    }
}

extension Store.XAxis: ExpressibleByArgument {}

import Foundation
import Strata

// Small text helpers shared by the readers here and by the CLI's output.

/// Wall-clock time now, in milliseconds since 1970 (the library's `Clock`, the one clock of Strata).
package func nowMs() -> Int64 { Clock.milliseconds() }

/// A monotonic clock in milliseconds (for intervals only: flush timing, progress redraws).
package func monotonicMs() -> Int64 { Int64(Clock.monotonicNanoseconds() / 1_000_000) }

/// Shortest text that reads back as the same double; non-finite values as JSON-ish bare tokens.
package func fmt(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == .infinity { return "Infinity" }
    if v == -.infinity { return "-Infinity" }
    return "\(v)"
}

/// An integer with thousands separated by commas (`1,234,567`).
package func withCommas(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return n < 0 ? "-" + out : out
}

/// A JSON string literal, as error messages and text output quote names and values (written by
/// `JSONOut`, the one JSON writer).
package func jsonString(_ s: String) -> String {
    var o = JSONOut(capacity: s.utf8.count + 2)
    o.string(s)
    return String(decoding: o.bytes, as: UTF8.self)
}

/// Parses `key=value` into a typed param (int, double, bool, else string).
package func inferParam(_ text: String) -> ParamValue {
    if let i = Int64(text) { return .int(i) }
    if text == "true" || text == "True" { return .bool(true) }
    if text == "false" || text == "False" { return .bool(false) }
    if let d = parseNumberText(text), text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" || $0.isLetter }) { return .double(d) }
    return .string(text)
}

/// A number as text: decimal, exponent, or nan/inf/infinity spellings (any case, with sign).
package func parseNumberText<S: StringProtocol>(_ s: S) -> Double? {
    let t = s.trimmingCharactersSpaces()
    if t.isEmpty { return nil }
    switch t.lowercased() {
    case "nan", "+nan", "-nan": return .nan
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    default: break
    }
    guard let f = t.utf8.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") || f == UInt8(ascii: ".") || (f >= 48 && f <= 57) else { return nil }
    // Reject hex floats and other forms Swift accepts but data formats do not.
    for b in t.utf8 where !((b >= 48 && b <= 57) || b == 43 || b == 45 || b == 46 || b == 101 || b == 69) { return nil }
    return Double(t)
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    package func trimmingCharactersSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

import Strata

/// A syntax error at a byte offset of the body.
package struct JSONSyntaxError: Error {
    package var message: String
    package var offset: Int
}

/// A cursor over JSON text: the pieces the batch decoder is built from.
///
/// Accepts, beyond strict JSON, the bare tokens `NaN`, `Infinity` and `-Infinity` as numbers
/// (what Python's `json.dumps` writes).
package struct JSONScanner {
    package let p: [UInt8]
    package var i = 0
    package static let maxDepth = 64
    /// When set, an integer literal outside the Int64 range is read as `.bigInteger` with its
    /// exact digits instead of a rounded `.number` (for params, which keep such integers exactly).
    package var exactIntegers = false
    /// How errors name the end of the text ("end of input" for a request body, "end of line" for a line).
    package let end: String

    package init(_ p: [UInt8], end: String = "end of input") {
        self.p = p
        self.end = end
    }

    /// Runs `body` with a scanner over `bytes` (offsets from the slice's start).
    package static func scanning<T, E: Error>(
        _ bytes: ArraySlice<UInt8>, end: String = "end of input",
        _ body: (inout JSONScanner) throws(E) -> T
    ) throws(E) -> T {
        var s = JSONScanner(Array(bytes), end: end)
        return try body(&s)
    }

    package var atEnd: Bool { i >= p.count }

    package func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: i) }

    package func describeHere() -> String { JSONText.describe(p, at: i, end: end) }

    @inline(__always) package mutating func skipSpace() {
        while i < p.count {
            let c = p[i]
            if c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { i += 1 } else { break }
        }
    }

    @inline(__always) package var peek: UInt8? { i < p.count ? p[i] : nil }

    package mutating func expect(_ c: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipSpace()
        guard i < p.count, p[i] == c else { throw fail("unexpected \(describeHere()), expected \(what)") }
        i += 1
    }

    /// After a member or element: true for ',' (more follow), false for the closing bracket.
    package mutating func commaOr(_ close: UInt8) throws(JSONSyntaxError) -> Bool {
        skipSpace()
        guard i < p.count else { throw fail("unexpected \(end), expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        if p[i] == UInt8(ascii: ",") { i += 1; return true }
        if p[i] == close { i += 1; return false }
        throw fail("unexpected \(describeHere()), expected ',' or '\(Character(Unicode.Scalar(close)))'")
    }

    /// Opens an object; false when it is empty (already closed).
    package mutating func beginObject() throws(JSONSyntaxError) -> Bool {
        try expect(UInt8(ascii: "{"), "'{'")
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "}") { i += 1; return false }
        return true
    }

    package mutating func beginArray() throws(JSONSyntaxError) -> Bool {
        try expect(UInt8(ascii: "["), "'['")
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "]") { i += 1; return false }
        return true
    }

    package mutating func key() throws(JSONSyntaxError) -> String {
        skipSpace()
        guard i < p.count, p[i] == UInt8(ascii: "\"") else { throw fail("unexpected \(describeHere()), expected a key in double quotes") }
        let k = try string()
        try expect(UInt8(ascii: ":"), "':' after key \"\(k)\"")
        skipSpace()
        return k
    }

    // MARK: values

    package mutating func value(depth: Int = 0) throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        guard i < p.count else { throw fail("unexpected \(end), expected a value") }
        switch p[i] {
        case UInt8(ascii: "{"):
            if depth >= Self.maxDepth { throw fail("nested deeper than \(Self.maxDepth) levels") }
            var out: [(String, JSONValue)] = []
            if try beginObject() {
                repeat {
                    let k = try key()
                    out.append((k, try value(depth: depth + 1)))
                } while try commaOr(UInt8(ascii: "}"))
            }
            return .object(out)
        case UInt8(ascii: "["):
            if depth >= Self.maxDepth { throw fail("nested deeper than \(Self.maxDepth) levels") }
            var out: [JSONValue] = []
            if try beginArray() {
                repeat { out.append(try value(depth: depth + 1)) } while try commaOr(UInt8(ascii: "]"))
            }
            return .array(out)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            let start = i
            let (d, iv) = try number()
            if exactIntegers, iv == nil, d.isFinite, let big = ParamValue.bigInteger(String(decoding: p[start..<i], as: UTF8.self)) {
                guard case .bigInt(let digits) = big else { return .number(d, iv) }
                return .bigInteger(digits)
            }
            return .number(d, iv)
        }
    }

    package mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        let s = word.utf8Start
        guard i + n <= p.count else { throw fail("unexpected \(describeHere()), expected a value") }
        for k in 0..<n where p[i + k] != s[k] { throw fail("unexpected \(describeHere()), expected a value") }
        i += n
    }

    /// True (and consumed) when the next token is `null`.
    package mutating func skipNull() -> Bool {
        skipSpace()
        if i + 4 <= p.count, p[i] == UInt8(ascii: "n"), p[i + 1] == UInt8(ascii: "u"), p[i + 2] == UInt8(ascii: "l"), p[i + 3] == UInt8(ascii: "l") {
            i += 4
            return true
        }
        return false
    }

    package mutating func string() throws(JSONSyntaxError) -> String {
        skipSpace()
        guard i < p.count, p[i] == UInt8(ascii: "\"") else { throw fail("unexpected \(describeHere()), expected a string") }
        i += 1
        do { return try JSONText.string(p, &i, end: end) } catch {
            throw JSONSyntaxError(message: error.message, offset: error.offset)
        }
    }

    private static let pow10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
    ]

    /// A number (or NaN / Infinity / -Infinity): its correctly rounded double, and its Int64 value
    /// when written as an integer that fits.
    @inline(__always)
    package mutating func number() throws(JSONSyntaxError) -> (Double, Int64?) {
        skipSpace()
        guard i < p.count else { throw fail("unexpected \(end), expected a value") }
        let start = i
        var negative = false
        if p[i] == UInt8(ascii: "N") { try literal("NaN"); return (.nan, nil) }
        if p[i] == UInt8(ascii: "I") { try literal("Infinity"); return (.infinity, nil) }
        if p[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
            if i < p.count, p[i] == UInt8(ascii: "I") { try literal("Infinity"); return (-.infinity, nil) }
        }
        guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("unexpected \(describeHere()), expected a value") }
        if p[i] == 48, i + 1 < p.count, p[i + 1] >= 48, p[i + 1] <= 57 { throw fail("invalid number: leading zero") }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits accumulated in mantissa
        var dropped = 0  // integer digits beyond 19 (scale up)
        var exp10 = 0
        var isInteger = true
        while i < p.count, p[i] >= 48, p[i] <= 57 {
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(p[i] - 48)
                if mantissa != 0 { digits += 1 }
            } else {
                dropped += 1
            }
            i += 1
        }
        if i < p.count, p[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("invalid number: expected a digit after '.'") }
            while i < p.count, p[i] >= 48, p[i] <= 57 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] - 48)
                    if mantissa != 0 { digits += 1 }
                    exp10 -= 1
                } else {
                    dropped += 1
                }
                i += 1
            }
        }
        if i < p.count, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            var eneg = false
            if i < p.count, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { eneg = p[i] == UInt8(ascii: "-"); i += 1 }
            guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("invalid number: expected a digit in the exponent") }
            var e = 0
            while i < p.count, p[i] >= 48, p[i] <= 57 {
                if e < 100_000 { e = e * 10 + Int(p[i] - 48) }
                i += 1
            }
            exp10 += eneg ? -e : e
        }
        if i < p.count {
            let c = p[i]
            if !(c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a || c == 0x2c || c == 0x7d || c == 0x5d) {
                throw fail("invalid number: unexpected \(describeHere())")
            }
        }
        if isInteger && dropped == 0 {
            if negative {
                if mantissa <= UInt64(Int64.max) + 1 {
                    let iv = mantissa == UInt64(Int64.max) + 1 ? Int64.min : -Int64(mantissa)
                    if mantissa <= 1 << 53 { return (mantissa == 0 ? -0.0 : -Double(mantissa), iv) }
                    return (slowDouble(start), iv)
                }
            } else if mantissa <= UInt64(Int64.max) {
                if mantissa <= 1 << 53 { return (Double(mantissa), Int64(mantissa)) }
                return (slowDouble(start), Int64(mantissa))
            }
        }
        // Clinger's fast path: exact when the mantissa and the power of ten are exact doubles.
        if dropped == 0 && mantissa <= 1 << 53 && exp10 >= -22 && exp10 <= 22 {
            var d = Double(mantissa)
            d = exp10 < 0 ? d / Self.pow10[-exp10] : d * Self.pow10[exp10]
            return (negative ? -d : d, nil)
        }
        return (slowDouble(start), nil)
    }

    private func slowDouble(_ start: Int) -> Double {
        let s = String(decoding: p[start..<i], as: UTF8.self)
        return Double(s) ?? .nan
    }
}

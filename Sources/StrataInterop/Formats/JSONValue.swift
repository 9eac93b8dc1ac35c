import Strata

/// A small, fast JSON parser for one line of input.
///
/// Differences from strict JSON, all on purpose: the bare tokens `NaN`, `Infinity` and
/// `-Infinity` (what Python's `json.dumps` writes) are numbers. Objects keep key order.
package enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// A number: its double value, and its integer value when written as an integer that fits Int64.
    case number(Double, Int64?)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x, i), .number(y, j)): return x.bitPattern == y.bitPattern && i == j
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Short description of the value for error messages: `"abc"`, `12.5`, `an object`.
    package var shown: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d, let i): return i.map { String($0) } ?? fmt(d)
        case .string(let s): return jsonString(s.count > 40 ? String(s.prefix(40)) + "…" : s)
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    package subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { for (k, v) in kv where k == key { return v } }
        return nil
    }
}

package struct JSONError: Error {
    package var message: String
    /// 1-based column (byte) where the problem is.
    package var column: Int
}

package struct JSONParser {
    private let p: UnsafeBufferPointer<UInt8>
    private var i = 0
    private let maxDepth = 64

    /// Parses exactly one JSON value filling the whole buffer (surrounding whitespace allowed).
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var parser = JSONParser(p: bytes)
        parser.skipSpace()
        let v = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.i < bytes.count { throw parser.fail("unexpected \(parser.describeHere()) after the value") }
        return v
    }

    package static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8)[...])
    }

    /// Parses exactly one JSON value filling the whole slice (surrounding whitespace allowed).
    package static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONError) -> JSONValue {
        var result: Result<JSONValue, JSONError> = .failure(JSONError(message: "", column: 0))
        bytes.withUnsafeBufferPointer { b in result = Result { () throws(JSONError) in try parse(b) } }
        return try result.get()
    }

    private init(p: UnsafeBufferPointer<UInt8>) { self.p = p }

    private func fail(_ message: String) -> JSONError { JSONError(message: message, column: i + 1) }

    private func describeHere() -> String { JSONText.describe(p, at: i, end: "end of line") }

    @inline(__always) private mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0d || p[i] == 0x0a { i += 1 }
    }

    private mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard i < p.count else { throw fail("unexpected end of line, expected a value") }
        switch p[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"): try literal("NaN"); return .number(.nan, nil)
        case UInt8(ascii: "I"): try literal("Infinity"); return .number(.infinity, nil)
        case UInt8(ascii: "-"):
            if i + 1 < p.count, p[i + 1] == UInt8(ascii: "I") { i += 1; try literal("Infinity"); return .number(-.infinity, nil) }
            return try number()
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected \(describeHere()), expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let start = word.utf8Start
        guard i + n <= p.count else { throw fail("unexpected \(describeHere()), expected a value") }
        for k in 0..<n where p[i + k] != start[k] { throw fail("unexpected \(describeHere()), expected a value") }
        i += n
    }

    private mutating func object(depth: Int) throws(JSONError) -> JSONValue {
        if depth > maxDepth { throw fail("nested deeper than \(maxDepth) levels") }
        i += 1
        var out: [(String, JSONValue)] = []
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
        while true {
            skipSpace()
            guard i < p.count, p[i] == UInt8(ascii: "\"") else { throw fail("unexpected \(describeHere()), expected a key in double quotes") }
            let key = try string()
            skipSpace()
            guard i < p.count, p[i] == UInt8(ascii: ":") else { throw fail("unexpected \(describeHere()), expected ':' after key \(jsonString(key))") }
            i += 1
            skipSpace()
            let v = try value(depth: depth)
            out.append((key, v))
            skipSpace()
            guard i < p.count else { throw fail("unexpected end of line, expected ',' or '}'") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            throw fail("unexpected \(describeHere()), expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws(JSONError) -> JSONValue {
        if depth > maxDepth { throw fail("nested deeper than \(maxDepth) levels") }
        i += 1
        var out: [JSONValue] = []
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
        while true {
            skipSpace()
            out.append(try value(depth: depth))
            skipSpace()
            guard i < p.count else { throw fail("unexpected end of line, expected ',' or ']'") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            throw fail("unexpected \(describeHere()), expected ',' or ']'")
        }
    }

    private mutating func string() throws(JSONError) -> String {
        i += 1
        do { return try JSONText.string(p, &i, end: "end of line") } catch {
            throw JSONError(message: error.message, column: error.offset + 1)
        }
    }

    private mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        var negative = false
        if p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let intStart = i
        guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("invalid number: expected a digit") }
        if p[i] == 48 && i + 1 < p.count && p[i + 1] >= 48 && p[i + 1] <= 57 { throw fail("invalid number: leading zero") }
        var mag: UInt64 = 0
        var overflow = false
        while i < p.count, p[i] >= 48, p[i] <= 57 {
            let (m1, o1) = mag.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(p[i] - 48))
            if o1 || o2 { overflow = true }
            mag = m2
            i += 1
        }
        let intDigits = i - intStart
        var isInteger = true
        if i < p.count, p[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("invalid number: expected a digit after '.'") }
            while i < p.count, p[i] >= 48, p[i] <= 57 { i += 1 }
        }
        if i < p.count, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < p.count, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < p.count, p[i] >= 48, p[i] <= 57 else { throw fail("invalid number: expected a digit in the exponent") }
            while i < p.count, p[i] >= 48, p[i] <= 57 { i += 1 }
        }
        if i < p.count, !(p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0d || p[i] == 0x0a || p[i] == 0x2c || p[i] == 0x7d || p[i] == 0x5d) {
            throw fail("invalid number: unexpected \(describeHere())")
        }
        if isInteger && !overflow && intDigits <= 19 {
            if negative {
                if mag <= UInt64(Int64.max) + 1 {
                    let iv = mag == UInt64(Int64.max) + 1 ? Int64.min : -Int64(mag)
                    let d = mag == 0 ? -0.0 : (mag <= 1 << 53 ? -Double(mag) : Double(text(start)) ?? -Double(mag))
                    return .number(d, iv)
                }
            } else if mag <= UInt64(Int64.max) {
                let d = mag <= 1 << 53 ? Double(mag) : Double(text(start)) ?? Double(mag)
                return .number(d, Int64(mag))
            }
        }
        guard let d = Double(text(start)) else { throw fail("invalid number") }
        return .number(d, nil)
    }

    private func text(_ start: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
    }
}

extension JSONValue {
    /// Compact JSON text (bare NaN/Infinity for non-finite numbers).
    package var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d, let i): return i.map { String($0) } ?? fmt(d)
        case .string(let s): return jsonString(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let kv): return "{" + kv.map { jsonString($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }
    }
}

import Strata

/// A JSON value, as the readers here build it for the less hot parts of a record (params, meta,
/// labels, tags) and for whole lines of other trackers' exports.
///
/// Differences from strict JSON, all on purpose: the bare tokens `NaN`, `Infinity` and
/// `-Infinity` (what Python's `json.dumps` writes) are numbers. Objects keep key order.
package enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// A number: its double value, and its integer value when written as an integer that fits Int64.
    case number(Double, Int64?)
    /// An integer outside the Int64 range, by its exact digits; only read when the scanner's
    /// `exactIntegers` is set (params), otherwise such an integer is a rounded `number`.
    case bigInteger(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x, i), .number(y, j)): return x.bitPattern == y.bitPattern && i == j
        case let (.string(x), .string(y)): return x == y
        case let (.bigInteger(x), .bigInteger(y)): return x == y
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
        case .bigInteger(let t): return t.count > 40 ? String(t.prefix(40)) + "…" : t
        case .string(let s): return jsonString(s.count > 40 ? String(s.prefix(40)) + "…" : s)
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact JSON text (bare NaN/Infinity for non-finite numbers): how an array kept as a param
    /// is stored.
    package var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d, let i): return i.map { String($0) } ?? fmt(d)
        case .bigInteger(let t): return t
        case .string(let s): return jsonString(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let kv): return "{" + kv.map { jsonString($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }
    }

    package subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { for (k, v) in kv where k == key { return v } }
        return nil
    }

    /// Parses exactly one JSON value filling the whole line (surrounding whitespace allowed).
    /// Error offsets are from the start of the line.
    package static func parse(line: ArraySlice<UInt8>, exactIntegers: Bool = false) throws(JSONSyntaxError) -> JSONValue {
        try JSONScanner.scanning(line, end: "end of line") { (s: inout JSONScanner) throws(JSONSyntaxError) -> JSONValue in
            s.exactIntegers = exactIntegers
            let v = try s.value()
            s.skipSpace()
            if !s.atEnd { throw s.fail("unexpected \(s.describeHere()) after the value") }
            return v
        }
    }
}

extension JSONValue {
    /// As params or metadata: an object's members under `prefix`, nested objects flattened with
    /// dots (an empty object adds nothing), every other value kept with its shape
    /// (``paramValue``). A value that is not an object adds nothing.
    package func flattenParams(prefix: String, into out: inout [String: ParamValue]) {
        guard case .object(let kv) = self else { return }
        for (k, x) in kv {
            let key = prefix.isEmpty ? k : prefix + "." + k
            if case .object = x { x.flattenParams(prefix: key, into: &out) } else { out[key] = x.paramValue }
        }
    }

    /// A value as a param value: strings stay strings (`"0.10"` is the string `0.10`), an
    /// integer written as one is an int (a big integer keeps its digits), other numbers are
    /// doubles, `null` is null, arrays are lists and objects inside them are objects (a later
    /// duplicate key wins).
    package var paramValue: ParamValue {
        switch self {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .number(_, let i?): return .int(i)
        case .number(let d, nil): return .double(d)
        case .bigInteger(let t): return .bigInt(t)
        case .null: return .null
        case .array(let a): return .list(a.map(\.paramValue))
        case .object(let kv): return .object(Dictionary(kv.map { ($0.0, $0.1.paramValue) }) { _, later in later })
        }
    }
}

/// A typed parameter, tag-free metadata value or param of a run.
///
/// Params keep their type: `params.lr < 1e-3` compares numbers, not strings.
/// Nested dictionaries are flattened with dots: `["optim": ["lr": 0.1]]` becomes `optim.lr`.
///
/// ```swift
/// let params: [String: ParamValue] = ["lr": 3e-4, "layers": 12, "model": "base", "amp": true]
/// ```
public enum ParamValue: Sendable, Hashable, CustomStringConvertible {
    /// A text value.
    case string(String)
    /// An integer.
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// A boolean (not a number in comparisons).
    case bool(Bool)
    /// Text exactly as another tool recorded it, with a typed value derived from it (see
    /// ``typed``). MLflow keeps every param as text: `"0.10"` is shown and exported as `0.10`,
    /// yet compares as the number 0.1; `"007"` compares as 7; `"True"` as a boolean.
    /// A string literal in a filter (`params.lr == '0.10'`) compares with the text itself.
    case text(String)

    /// The typed value: the value itself, or for ``text(_:)`` the value its text spells —
    /// an ``int(_:)`` for a decimal integer that fits in 64 bits, a ``double(_:)`` for any other
    /// number Swift's `Double` reads (`1e-3`, `NaN`, `inf`), a ``bool(_:)`` for `true`/`false` in
    /// any case, and otherwise a ``string(_:)``.
    public var typed: ParamValue {
        guard case .text(let t) = self else { return self }
        return ParamValue.derive(t)
    }

    static func derive(_ t: String) -> ParamValue {
        if let i = Int64(t) { return .int(i) }
        if let first = t.utf8.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t"), let d = Double(t) {
            return .double(d)
        }
        switch t.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return .string(t)
        }
    }

    /// The value as a number, for comparisons (`int` and `double`; `bool` is not a number).
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .text(let t): return ParamValue.derive(t).number
        default: return nil
        }
    }

    /// The value as text: strings as they are, numbers in the shortest form that reads back
    /// exactly (`NaN`, `Infinity`, `-Infinity`), booleans as `true`/`false`.
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let v): return String(v)
        case .double(let v): return formatDouble(v)
        case .bool(let b): return b ? "true" : "false"
        case .text(let t): return t
        }
    }

    var typeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "double"
        case .bool: return "bool"
        case .text(let t): return ParamValue.derive(t).typeName
        }
    }
}

extension ParamValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    /// A ``string(_:)`` from a string literal.
    ///
    /// - Parameter value: The string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An ``int(_:)`` from an integer literal.
    ///
    /// - Parameter value: The integer literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A ``double(_:)`` from a floating-point literal.
    ///
    /// - Parameter value: The floating-point number literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A ``bool(_:)`` from `true` or `false`.
    ///
    /// - Parameter value: The Boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Shortest text that reads back as the same double (Swift's description does this).
func formatDouble(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == .infinity { return "Infinity" }
    if v == -.infinity { return "-Infinity" }
    return "\(v)"
}

/// Flattens nested parameter dictionaries into dotted keys.
public enum ParamTree: Sendable {
    /// A leaf value.
    case value(ParamValue)
    /// A nested dictionary; its keys are joined to the parent's with a dot.
    case nested([String: ParamTree])

    /// Flattens into `prefix.key` entries.
    ///
    /// - Parameters:
    ///   - tree: The nested parameters.
    ///   - prefix: Put before every key with a dot (none when empty).
    /// - Returns: The leaves under their dotted keys.
    public static func flatten(_ tree: [String: ParamTree], prefix: String = "") -> [String: ParamValue] {
        var out: [String: ParamValue] = [:]
        for (k, v) in tree {
            let key = prefix.isEmpty ? k : prefix + "." + k
            switch v {
            case .value(let p): out[key] = p
            case .nested(let sub): out.merge(flatten(sub, prefix: key)) { _, new in new }
            }
        }
        return out
    }
}

enum ParamCoding {
    static func write(_ params: [String: ParamValue], into w: inout ByteWriter) {
        w.varint(UInt64(params.count))
        for key in params.keys.sorted() {
            w.string(key)
            switch params[key]! {
            case .string(let s): w.u8(1); w.string(s)
            case .int(let v): w.u8(2); w.i64(v)
            case .double(let v): w.u8(3); w.f64(v)
            case .bool(let b): w.u8(4); w.u8(b ? 1 : 0)
            case .text(let t): w.u8(5); w.string(t)
            }
        }
    }

    static func read(_ r: inout ByteReader) throws(StrataError) -> [String: ParamValue] {
        let n = try r.count("param count", max: 1 << 20)
        var out: [String: ParamValue] = [:]
        out.reserveCapacity(n)
        for _ in 0..<n {
            let key = try r.string("param key")
            let tag = try r.u8("param type")
            switch tag {
            case 1: out[key] = .string(try r.string("param value"))
            case 2: out[key] = .int(try r.i64())
            case 3: out[key] = .double(try r.f64())
            case 4: out[key] = .bool(try r.u8() != 0)
            case 5: out[key] = .text(try r.string("param text"))
            default: throw StrataError.corrupt("unknown param type \(tag) for \(key)", path: r.path, offset: r.offset)
            }
        }
        return out
    }

    static func validate(_ params: [String: ParamValue], what: String) throws(StrataError) {
        try Limits.check(params: params, what: what)
    }
}

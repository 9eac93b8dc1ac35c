/// A typed parameter, tag-free metadata value or param of a run.
///
/// Params keep their type: `params.lr < 1e-3` compares numbers, not strings.
/// Nested dictionaries are flattened with dots: `["optim": ["lr": 0.1]]` becomes `optim.lr`.
/// Params of any JSON shape are kept as they were given: lists stay lists (``list(_:)``),
/// `null` stays null (``null``, distinct from an absent key), integers beyond 64 bits keep their
/// exact digits (``bigInt(_:)``) and a string that looks like a number (`"0.10"`) stays a string.
///
/// ```swift
/// let params: [String: ParamValue] = ["lr": 3e-4, "layers": 12, "model": "base", "amp": true,
///                                     "augment": ["flip", "crop"], "scheduler": .null]
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
    /// JSON `null`: the key is present with no value (unlike an absent key).
    case null
    /// A list, kept as a list: its elements are any values, lists and objects included
    /// (`[512, 256]`, `["flip", "crop"]`, `[[1, 2], {"p": 0.5}]`).
    case list([ParamValue])
    /// An object inside a list (`[{"name": "ema", "decay": 0.99}]`). Objects outside lists are
    /// flattened into dotted keys instead (``ParamTree``); an `object` is only kept where
    /// flattening cannot go, as a list element.
    case object([String: ParamValue])
    /// An integer outside the 64-bit range, kept as its exact decimal digits (an optional `-`
    /// then digits without leading zeros, such as `"123456789012345678901234567890"`). It is a
    /// number in comparisons: exact against another big integer and an ``int(_:)``, by its
    /// nearest double against a ``double(_:)``.
    case bigInt(String)

    /// The typed value: the value itself, or for ``text(_:)`` the value its text spells —
    /// an ``int(_:)`` for a decimal integer that fits in 64 bits, a ``bigInt(_:)`` for a longer
    /// decimal integer, a ``double(_:)`` for any other number Swift's `Double` reads (`1e-3`,
    /// `NaN`, `inf`), a ``bool(_:)`` for `true`/`false` in any case, and otherwise a ``string(_:)``.
    public var typed: ParamValue {
        guard case .text(let t) = self else { return self }
        return ParamValue.derive(t)
    }

    static func derive(_ t: String) -> ParamValue {
        if let i = Int64(t) { return .int(i) }
        if let b = ParamValue.bigInteger(t) { return b }
        if let first = t.utf8.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t"), let d = Double(t) {
            return .double(d)
        }
        switch t.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return .string(t)
        }
    }

    /// A ``bigInt(_:)`` for decimal integer text outside the Int64 range (`-`, then digits with no
    /// leading zero); nil for anything else, an integer that fits Int64 included.
    ///
    /// - Parameter digits: The text of an integer.
    /// - Returns: The big integer, or nil.
    public static func bigInteger(_ digits: some StringProtocol) -> ParamValue? {
        let u = Array(digits.utf8)
        let body = u.first == UInt8(ascii: "-") ? u.dropFirst() : u[...]
        guard body.count >= 19, body.allSatisfy({ $0 >= 48 && $0 <= 57 }), body.first != 48 else { return nil }
        if Int64(digits) != nil { return nil }
        return .bigInt(String(digits))
    }

    /// The value as a number, for comparisons (`int`, `double` and `bigInt`; `bool` is not a number).
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bigInt(let t): return Double(t)
        case .text(let t): return ParamValue.derive(t).number
        default: return nil
        }
    }

    /// The value as text: strings as they are, numbers in the shortest form that reads back
    /// exactly (`NaN`, `Infinity`, `-Infinity`), booleans as `true`/`false`, big integers as
    /// their digits, and `null`, lists and objects as compact JSON (``json``).
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let v): return String(v)
        case .double(let v): return formatDouble(v)
        case .bool(let b): return b ? "true" : "false"
        case .text(let t): return t
        case .bigInt(let t): return t
        case .null, .list, .object: return json
        }
    }

    /// The value as compact JSON text, the one JSON spelling of params (the CLI, the server and
    /// the exports write params with it): strings and ``text(_:)`` quoted, ints and big integers
    /// as their digits, doubles with a `.` or an exponent so they read back as doubles (`3.0`;
    /// non-finite ones as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`), `null`, lists as
    /// `[a,b]` and objects as `{"k":v}` with keys sorted.
    public var json: String {
        var out = ""
        appendJSON(to: &out)
        return out
    }

    func appendJSON(to out: inout String) {
        switch self {
        case .string(let s), .text(let s): ParamValue.appendQuoted(s, to: &out)
        case .int(let v): out += String(v)
        case .bigInt(let t): out += t
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .double(let d):
            if !d.isFinite {
                ParamValue.appendQuoted(formatDouble(d), to: &out)
            } else {
                let s = formatDouble(d)
                out += s
                if !s.contains(".") && !s.contains("e") { out += ".0" }
            }
        case .list(let xs):
            out += "["
            for (i, x) in xs.enumerated() {
                if i > 0 { out += "," }
                x.appendJSON(to: &out)
            }
            out += "]"
        case .object(let kv):
            out += "{"
            for (i, k) in kv.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                ParamValue.appendQuoted(k, to: &out)
                out += ":"
                kv[k]!.appendJSON(to: &out)
            }
            out += "}"
        }
    }

    static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    var typeName: String {
        switch self {
        case .string: return "string"
        case .int, .bigInt: return "int"
        case .double: return "double"
        case .bool: return "bool"
        case .null: return "null"
        case .list: return "list"
        case .object: return "object"
        case .text(let t): return ParamValue.derive(t).typeName
        }
    }

    /// How deep the value nests: 0 for a scalar or null, 1 + the deepest element for a list or
    /// an object.
    var depth: Int {
        switch self {
        case .list(let xs):
            var d = 0
            for x in xs { d = Swift.max(d, x.depth) }
            return 1 + d
        case .object(let kv):
            var d = 0
            for x in kv.values { d = Swift.max(d, x.depth) }
            return 1 + d
        default: return 0
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

extension ParamValue: ExpressibleByArrayLiteral {
    /// A ``list(_:)`` from an array literal.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: ParamValue...) { self = .list(elements) }
}

/// Shortest text that reads back as the same double (Swift's description does this).
func formatDouble(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == .infinity { return "Infinity" }
    if v == -.infinity { return "-Infinity" }
    return "\(v)"
}

/// Flattens nested parameter dictionaries into dotted keys. Lists and null are leaves
/// (`.value([512, 256])`, `.value(.null)`); objects inside lists stay ``ParamValue/object(_:)``.
/// The flattened keys and values are checked against the limits (``Limits/maxParamDepth``, no
/// empty path segment, ``Limits/maxListElements``) when they are written.
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

/// The params encoding of catalog records (docs/FORMAT.md, "Catalog"): the one writer and reader
/// of params and metadata bytes, used by the catalog log and its checkpoint alike.
enum ParamCoding {
    /// Deepest list/object nesting a reader accepts inside one value (writers stop at
    /// ``Limits/maxParamDepth``); deeper bytes are damage, not a stack overflow.
    static let maxReadDepth = 64

    static func write(_ params: [String: ParamValue], into w: inout ByteWriter) {
        w.varint(UInt64(params.count))
        for key in params.keys.sorted() {
            w.string(key)
            writeValue(params[key]!, into: &w)
        }
    }

    /// The bytes `write(params)` writes, counted without writing (or sorting) them.
    static func encodedSize(_ params: [String: ParamValue]) -> Int {
        var n = varintSize(params.count)
        for (k, v) in params { n += stringSize(k) + encodedSize(v) }
        return n
    }

    /// The bytes `writeValue(v)` writes.
    static func encodedSize(_ v: ParamValue) -> Int {
        switch v {
        case .string(let s), .text(let s), .bigInt(let s): return 1 + stringSize(s)
        case .int, .double: return 9
        case .bool: return 2
        case .null: return 1
        case .list(let xs):
            var n = 1 + varintSize(xs.count)
            for x in xs { n += encodedSize(x) }
            return n
        case .object(let kv):
            var n = 1 + varintSize(kv.count)
            for (k, x) in kv { n += stringSize(k) + encodedSize(x) }
            return n
        }
    }

    private static func stringSize(_ s: String) -> Int {
        let c = s.utf8.count
        return varintSize(c) + c
    }

    private static func varintSize(_ v: Int) -> Int {
        var v = UInt64(v), n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    /// One value: u8 type, then its payload (lists and objects hold typed values in turn).
    static func writeValue(_ v: ParamValue, into w: inout ByteWriter) {
        switch v {
        case .string(let s): w.u8(1); w.string(s)
        case .int(let v): w.u8(2); w.i64(v)
        case .double(let v): w.u8(3); w.f64(v)
        case .bool(let b): w.u8(4); w.u8(b ? 1 : 0)
        case .text(let t): w.u8(5); w.string(t)
        case .null: w.u8(6)
        case .list(let xs):
            w.u8(7)
            w.varint(UInt64(xs.count))
            for x in xs { writeValue(x, into: &w) }
        case .object(let kv):
            w.u8(8)
            w.varint(UInt64(kv.count))
            for k in kv.keys.sorted() {
                w.string(k)
                writeValue(kv[k]!, into: &w)
            }
        case .bigInt(let t): w.u8(9); w.string(t)
        }
    }

    static func read(_ r: inout ByteReader) throws(StrataError) -> [String: ParamValue] {
        let n = try r.count("param count", max: 1 << 20)
        var out: [String: ParamValue] = [:]
        out.reserveCapacity(n)
        for _ in 0..<n {
            let key = try r.string("param key")
            out[key] = try readValue(&r, key: key, depth: 0)
        }
        return out
    }

    static func readValue(_ r: inout ByteReader, key: String, depth: Int) throws(StrataError) -> ParamValue {
        let tag = try r.u8("param type")
        switch tag {
        case 1: return .string(try r.string("param value"))
        case 2: return .int(try r.i64())
        case 3: return .double(try r.f64())
        case 4: return .bool(try r.u8() != 0)
        case 5: return .text(try r.string("param text"))
        case 6: return .null
        case 7, 8:
            if depth >= maxReadDepth {
                throw StrataError.corrupt("param \(key) nests deeper than \(maxReadDepth) levels", path: r.path, offset: r.offset)
            }
            let n = try r.count("param list length", max: 1 << 20)
            if tag == 7 {
                var xs: [ParamValue] = []
                xs.reserveCapacity(n)
                for _ in 0..<n { xs.append(try readValue(&r, key: key, depth: depth + 1)) }
                return .list(xs)
            }
            var kv: [String: ParamValue] = [:]
            for _ in 0..<n {
                let k = try r.string("param object key")
                kv[k] = try readValue(&r, key: key, depth: depth + 1)
            }
            return .object(kv)
        case 9:
            let t = try r.string("param big integer")
            // Stores written before the write-side check could hold a small integer under this tag.
            if let small = Int64(t), t == String(small) { return .int(small) }
            guard let v = ParamValue.bigInteger(t) else {
                throw StrataError.corrupt("param \(key) holds \"\(t.prefix(40))\", not a big integer", path: r.path, offset: r.offset)
            }
            return v
        default: throw StrataError.corrupt("unknown param type \(tag) for \(key)", path: r.path, offset: r.offset)
        }
    }

    /// Moves past one value written by `writeValue` without building it (strings are not
    /// decoded): what a read that needs only some keys does with the others.
    static func skipValue(_ r: inout ByteReader, key: String, depth: Int) throws(StrataError) {
        let tag = try r.u8("param type")
        switch tag {
        case 1, 5, 9: _ = try r.bytes(try r.length("param value length", max: 1 << 20), "param value")
        case 2, 3: _ = try r.u64()
        case 4: _ = try r.u8()
        case 6: break
        case 7, 8:
            if depth >= maxReadDepth {
                throw StrataError.corrupt("param \(key) nests deeper than \(maxReadDepth) levels", path: r.path, offset: r.offset)
            }
            let n = try r.count("param list length", max: 1 << 20)
            for _ in 0..<n {
                if tag == 8 { _ = try r.bytes(try r.length("param object key length", max: 1 << 20), "param object key") }
                try skipValue(&r, key: key, depth: depth + 1)
            }
        default: throw StrataError.corrupt("unknown param type \(tag) for \(key)", path: r.path, offset: r.offset)
        }
    }

    /// Checks params or metadata before they are written; `run` names the run in the error.
    static func validate(_ params: [String: ParamValue], what: String, run: String? = nil) throws(StrataError) {
        do { try Limits.check(params: params, what: what) } catch {
            guard let run else { throw error }
            var e = error
            e.message = "run \"\(run.prefix(60))\": " + e.message
            throw e
        }
    }
}

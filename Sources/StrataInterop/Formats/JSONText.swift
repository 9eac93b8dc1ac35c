/// Pieces of JSON text decoding shared by the CLI's `strata ingest` parser and the server's batch
/// decoder (each keeps its own value model and error type).
package enum JSONText {
    /// A syntax error at a byte offset of the text.
    package struct Failure: Error, Sendable {
        package var message: String
        package var offset: Int
    }

    /// How the byte at `i` reads in an error message ("'x'", "byte 0x1f", or `end`).
    package static func describe(_ p: [UInt8], at i: Int, end: String) -> String {
        if i >= p.count { return end }
        let c = p[i]
        if c >= 0x20 && c < 0x7f { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    /// Decodes a string's contents: `i` is just past the opening quote; on return it is just past
    /// the closing quote. Escapes (\uXXXX with surrogate pairs) are decoded; a lone surrogate,
    /// bytes that are not UTF-8 and raw control characters are refused.
    package static func string(_ p: [UInt8], _ i: inout Int, end: String) throws(Failure) -> String {
        let start = i
        var ascii = true
        // Fast path: no escapes.
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                let raw = p[start..<i]
                // Never repaired into U+FFFD: text that is not UTF-8 is refused.
                if !ascii, let bad = invalidUTF8(raw) {
                    throw Failure(message: "invalid UTF-8 (byte 0x\(String(p[start + bad], radix: 16))) in a string", offset: start + bad)
                }
                let s = String(decoding: raw, as: UTF8.self)
                i += 1
                return s
            }
            if c >= 0x80 { ascii = false }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw Failure(message: "control character in a string (escape it)", offset: i) }
            i += 1
        }
        var bytes = Array(p[start..<i])
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                if let bad = invalidUTF8(bytes[...]) {
                    throw Failure(message: "invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16))) in a string", offset: start)
                }
                i += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw Failure(message: "control character in a string (escape it)", offset: i) }
            if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
            i += 1
            guard i < p.count else { break }
            let e = p[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5c)
            case UInt8(ascii: "/"): bytes.append(0x2f)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0c)
            case UInt8(ascii: "n"): bytes.append(0x0a)
            case UInt8(ascii: "r"): bytes.append(0x0d)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                let at = i - 2
                var code = try hex4(p, &i)
                func lone(_ v: UInt32) -> Failure {
                    Failure(
                        message:
                            "lone surrogate \\u\(String(v, radix: 16, uppercase: true)) in a string (a \\u escape of U+D800–U+DFFF must be a high surrogate followed by a low one)",
                        offset: at)
                }
                if code >= 0xD800 && code < 0xDC00 {
                    guard i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else { throw lone(code) }
                    i += 2
                    let low = try hex4(p, &i)
                    guard low >= 0xDC00 && low < 0xE000 else { throw lone(code) }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if code >= 0xDC00 && code < 0xE000 {
                    throw lone(code)
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                i -= 1
                throw Failure(message: "invalid escape \\\(describe(p, at: i, end: end)) in a string", offset: i)
            }
        }
        throw Failure(message: "unterminated string", offset: i)
    }

    /// NaN and the infinities as words (bare or in a string): `NaN` `nan` `NAN`, `Infinity`
    /// `inf` `Inf` `+Infinity` `+inf`, `-Infinity` `-inf` `-Inf`.
    package static func special(_ s: String) -> Double? {
        switch s {
        case "NaN", "nan", "NAN": return .nan
        case "Infinity", "inf", "Inf", "+Infinity", "+inf": return .infinity
        case "-Infinity", "-inf", "-Inf": return -.infinity
        default: return nil
        }
    }

    /// A metric value given as a JSON string (the server's batches and `strata ingest` alike):
    /// one of the `special` words, or a number written exactly as a JSON number
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, nothing around it). Hex (`"0x10"`),
    /// underscores, spaces, a leading `+` or `.` are refused (nil).
    package static func numberString(_ s: String) -> Double? {
        if let d = special(s) { return d }
        var u = Array(s.utf8)[...]
        func digits() -> Int { var n = 0; while let c = u.first, c >= 48, c <= 57 { u.removeFirst(); n += 1 }; return n }
        if u.first == UInt8(ascii: "-") { u.removeFirst() }
        guard let f = u.first, f >= 48, f <= 57 else { return nil }
        if f == 48 { u.removeFirst() } else { _ = digits() }
        if u.first == UInt8(ascii: ".") { u.removeFirst(); guard digits() > 0 else { return nil } }
        if u.first == UInt8(ascii: "e") || u.first == UInt8(ascii: "E") {
            u.removeFirst()
            if u.first == UInt8(ascii: "+") || u.first == UInt8(ascii: "-") { u.removeFirst() }
            guard digits() > 0 else { return nil }
        }
        return u.isEmpty ? Double(s) : nil
    }

    /// The offset (from the slice's start) of the first byte of `b` that is not part of well-formed UTF-8 (overlong forms,
    /// surrogates and code points above U+10FFFF included), or nil when all of `b` is.
    package static func invalidUTF8(_ b: ArraySlice<UInt8>) -> Int? {
        var i = 0
        let n = b.count
        let o = b.startIndex
        while i < n {
            let c = b[o + i]
            if c < 0x80 { i += 1; continue }
            let len: Int, least: UInt32
            var cp: UInt32
            if c & 0xE0 == 0xC0 {
                len = 2; cp = UInt32(c & 0x1F); least = 0x80
            } else if c & 0xF0 == 0xE0 {
                len = 3; cp = UInt32(c & 0x0F); least = 0x800
            } else if c & 0xF8 == 0xF0 {
                len = 4; cp = UInt32(c & 0x07); least = 0x10000
            } else {
                return i
            }
            guard i + len <= n else { return i }
            for k in 1..<len {
                let d = b[o + i + k]
                guard d & 0xC0 == 0x80 else { return i }
                cp = cp << 6 | UInt32(d & 0x3F)
            }
            if cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000) { return i }
            i += len
        }
        return nil
    }

    /// `invalidUTF8` of an array.
    package static func invalidUTF8(_ b: [UInt8]) -> Int? { invalidUTF8(b[...]) }

    private static func hex4(_ p: [UInt8], _ i: inout Int) throws(Failure) -> UInt32 {
        guard i + 4 <= p.count else { throw Failure(message: "incomplete \\u escape", offset: i) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = p[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw Failure(message: "invalid hex digit in \\u escape", offset: i)
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}

/// Pieces of JSON text decoding shared by the CLI's `strata ingest` parser and the server's batch
/// decoder (each keeps its own value model and error type).
package enum JSONText {
    /// A syntax error at a byte offset of the text.
    package struct Failure: Error, Sendable {
        package var message: String
        package var offset: Int
    }

    /// How the byte at `i` reads in an error message ("'x'", "byte 0x1f", or `end`).
    package static func describe(_ p: UnsafeBufferPointer<UInt8>, at i: Int, end: String) -> String {
        if i >= p.count { return end }
        let c = p[i]
        if c >= 0x20 && c < 0x7f { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    /// Decodes a string's contents: `i` is just past the opening quote; on return it is just past
    /// the closing quote. Escapes (\uXXXX with surrogate pairs) are decoded; a lone surrogate
    /// becomes U+FFFD; raw control characters are refused.
    package static func string(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int, end: String) throws(Failure) -> String {
        let start = i
        // Fast path: no escapes.
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw Failure(message: "control character in a string (escape it)", offset: i) }
            i += 1
        }
        var bytes = Array(p[start..<i])
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: bytes, as: UTF8.self) }
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
                var code = try hex4(p, &i)
                if code >= 0xD800 && code < 0xDC00 {
                    if i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4(p, &i)
                        guard low >= 0xDC00 && low < 0xE000 else { throw Failure(message: "invalid low surrogate in \\u escape", offset: i) }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else { code = 0xFFFD }
                } else if code >= 0xDC00 && code < 0xE000 { code = 0xFFFD }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                i -= 1
                throw Failure(message: "invalid escape \\\(describe(p, at: i, end: end)) in a string", offset: i)
            }
        }
        throw Failure(message: "unterminated string", offset: i)
    }

    private static func hex4(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Failure) -> UInt32 {
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

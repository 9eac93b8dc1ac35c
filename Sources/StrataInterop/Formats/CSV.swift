/// Splits one CSV record (RFC 4180 quoting; a quoted field cannot span lines). Text that is not
/// UTF-8 is refused, never repaired into U+FFFD.
package func splitCSV(_ line: ArraySlice<UInt8>) throws(InteropError) -> [String] {
    let bytes = Array(line)
    if let bad = JSONText.invalidUTF8(line) {
        throw InteropError("invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16))) at byte \(bad + 1) of the line")
    }
    var fields: [String] = []
    var i = 0
    let n = bytes.count
    while true {
        if i < n, bytes[i] == UInt8(ascii: "\"") {
            i += 1
            var field: [UInt8] = []
            var closed = false
            while i < n {
                if bytes[i] == UInt8(ascii: "\"") {
                    if i + 1 < n, bytes[i + 1] == UInt8(ascii: "\"") { field.append(0x22); i += 2; continue }
                    i += 1
                    closed = true
                    break
                }
                field.append(bytes[i]); i += 1
            }
            if !closed { throw InteropError("unterminated quoted field (fields cannot span lines)") }
            fields.append(String(decoding: field, as: UTF8.self))
            if i < n && bytes[i] != UInt8(ascii: ",") { throw InteropError("unexpected text after a quoted field in column \(fields.count)") }
        } else {
            let start = i
            while i < n, bytes[i] != UInt8(ascii: ",") { i += 1 }
            fields.append(String(decoding: bytes[start..<i], as: UTF8.self))
        }
        if i >= n { break }
        i += 1  // the comma
        if i == n { fields.append(""); break }
    }
    return fields
}

/// The unit of a time column.
package enum TimeUnit { case auto, milliseconds, seconds }

/// Converts a time cell: `auto` reads values of 1e11 and more as milliseconds, smaller ones as seconds.
package func timeMs(_ text: String, unit: TimeUnit) -> Int64? {
    guard let d = parseNumberText(text), d.isFinite else { return nil }
    let ms: Double =
        switch unit {
        case .milliseconds: d.rounded()
        case .seconds: (d * 1000).rounded()
        case .auto: abs(d) >= 1e11 ? d.rounded() : (d * 1000).rounded()
        }
    // Out of the Int64 range is not a time (converting it would trap).
    return Int64(exactly: ms)
}

/// A step cell: an integer, or a number with an integral value (pandas writes `3.0`).
package func stepValue(_ text: String) -> Int64? {
    let t = text.trimmingCharactersSpaces()
    if let i = Int64(t) { return i }
    if let d = parseNumberText(t), d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { return Int64(d) }
    return nil
}

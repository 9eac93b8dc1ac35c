import Strata

/// Builds JSON text into a byte buffer, without Foundation.
///
/// Non-finite doubles are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (strict
/// JSON has no token for them); finite doubles in the shortest form that reads back bit-exactly.
/// Commas are inserted automatically between members and elements.
package struct JSONOut {
    package var bytes: [UInt8] = []
    /// One flag per open container: true once it has a member (a comma is due before the next).
    private var needComma: [Bool] = []
    /// True right after a key (the value follows without a comma).
    private var afterKey = false

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func separator() {
        if afterKey { afterKey = false; return }
        if let last = needComma.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            needComma[needComma.count - 1] = true
        }
    }

    package mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needComma.append(false) }
    package mutating func endObject() { needComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    /// Ends the document (a newline) and returns the bytes of a whole JSON answer, closing the
    /// top-level object first if it is still open (a value written whole, such as one record, is
    /// left as it is).
    package mutating func endDocument() -> [UInt8] {
        if needComma.count == 1 { endObject() }
        precondition(needComma.isEmpty, "JSONOut.endDocument with a nested container still open")
        bytes.append(10)
        return bytes
    }
    package mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needComma.append(false) }
    package mutating func endArray() { needComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    package mutating func key(_ k: String) {
        separator()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    package mutating func string(_ s: String) { separator(); writeString(s) }
    package mutating func null() { separator(); bytes += Array("null".utf8) }
    package mutating func bool(_ b: Bool) { separator(); bytes += b ? Array("true".utf8) : Array("false".utf8) }
    package mutating func int(_ v: Int64) { separator(); appendInt(v) }
    package mutating func int(_ v: Int) { int(Int64(v)) }
    package mutating func double(_ v: Double) { separator(); appendDouble(v) }
    /// Raw, already valid JSON text.
    package mutating func raw(_ s: String) { separator(); bytes += Array(s.utf8) }

    package mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    package mutating func field(_ k: String, _ v: Int64) { key(k); int(v) }
    package mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    package mutating func field(_ k: String, _ v: Double) { key(k); double(v) }
    package mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }
    package mutating func field(_ k: String, _ v: Int64?) { key(k); if let v { int(v) } else { null() } }
    package mutating func field(_ k: String, _ v: String?) { key(k); if let v { string(v) } else { null() } }

    package mutating func appendInt(_ v: Int64) {
        if v >= 0 && v < 10 { bytes.append(UInt8(48 + v)); return }
        var s = String(v)
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    package mutating func appendDouble(_ v: Double) {
        if v.isNaN { bytes += Array("\"NaN\"".utf8); return }
        if v.isInfinite { bytes += v > 0 ? Array("\"Infinity\"".utf8) : Array("\"-Infinity\"".utf8); return }
        var s = v.description
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        let plain = s.withUTF8 { p -> Bool in
            for b in p where b < 0x20 || b == 0x22 || b == 0x5c || b == 0x7f { return false }
            bytes.append(contentsOf: p)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes += [92, 34]
            case UInt8(ascii: "\\"): bytes += [92, 92]
            case 0x0a: bytes += [92, UInt8(ascii: "n")]
            case 0x0d: bytes += [92, UInt8(ascii: "r")]
            case 0x09: bytes += [92, UInt8(ascii: "t")]
            case 0..<0x20, 0x7f:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: library values

    /// A param value, in the library's one JSON spelling of params (``ParamValue/json``): text
    /// keeps its spelling as a string, a double always has a `.` or an exponent, big integers are
    /// numbers with every digit, lists and `null` are JSON lists and null.
    package mutating func param(_ v: ParamValue) {
        switch v {
        case .string(let s), .text(let s): string(s)
        case .int(let i): int(i)
        default:
            separator()
            bytes += Array(v.json.utf8)
        }
    }

    package mutating func params(_ p: [String: ParamValue]) {
        beginObject()
        for k in p.keys.sorted() { key(k); param(p[k]!) }
        endObject()
    }

    /// A run record (without metrics).
    package mutating func runFields(_ r: RunInfo) {
        field("id", r.id.text)
        field("name", r.name)
        field("project", r.project)
        field("status", r.status.rawValue)
        field("created", r.createdMs)
        field("ended", r.endedMs)
        field("parent", r.parent?.text)
        key("params"); params(r.params)
        key("tags"); beginArray(); for t in r.tags.sorted() { string(t) }; endArray()
        key("meta"); params(r.metadata)
    }

    package mutating func stats(_ s: Stats) {
        beginObject()
        statsFields(s)
        endObject()
    }

    package mutating func statsFields(_ s: Stats) {
        field("count", s.count)
        field("nan", s.nanCount)
        field("min", s.min)
        field("max", s.max)
        field("mean", s.mean)
        field("std", s.std)
        field("first", s.first)
        field("last", s.last)
        field("first_step", s.firstStep)
        field("last_step", s.lastStep)
        // Where min and max are reached, when known (omitted otherwise).
        if let m = s.minStep { field("min_step", m) }
        if let m = s.maxStep { field("max_step", m) }
    }
}

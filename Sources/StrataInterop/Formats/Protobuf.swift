/// A protobuf message that does not parse.
package struct ProtoError: Error {
    package var message: String
}

/// A minimal protobuf wire-format reader over a range of a byte array. Ranges it returns
/// (`bytes()`) are indices into the same array, so nested messages are read with `sub(_:)`.
package struct ProtoReader {
    package let buffer: [UInt8]
    private var i: Int
    private let end: Int

    package init(_ b: [UInt8], _ range: Range<Int>? = nil) {
        buffer = b
        i = range?.lowerBound ?? 0
        end = range?.upperBound ?? b.count
    }

    /// A reader of a nested message (a range `bytes()` returned).
    package func sub(_ r: Range<Int>) -> ProtoReader { ProtoReader(buffer, r) }

    package var atEnd: Bool { i >= end }

    package mutating func varint() throws(ProtoError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < end else { throw ProtoError(message: "varint runs past the end") }
            let b = buffer[i]
            i += 1
            if shift == 63 && b > 1 { throw ProtoError(message: "varint longer than 64 bits") }
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw ProtoError(message: "varint longer than 64 bits") }
        }
    }

    /// The next field number and wire type, or nil at the end.
    package mutating func field() throws(ProtoError) -> (Int, Int)? {
        if i >= end { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        if field == 0 { throw ProtoError(message: "field number 0") }
        return (field, Int(key & 7))
    }

    package mutating func fixed32() throws(ProtoError) -> UInt32 {
        guard end - i >= 4 else { throw ProtoError(message: "fixed32 runs past the end") }
        let v = UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
        i += 4
        return v
    }

    package mutating func fixed64() throws(ProtoError) -> UInt64 {
        let lo = UInt64(try fixed32())
        return lo | UInt64(try fixed32()) << 32
    }

    /// A length-delimited field's byte range (indices into `buffer`).
    package mutating func bytes() throws(ProtoError) -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - i) else { throw ProtoError(message: "length \(n) runs past the end") }
        let r = i..<(i + Int(n))
        i += Int(n)
        return r
    }

    package func string(_ r: Range<Int>) -> String { String(decoding: buffer[r], as: UTF8.self) }

    package mutating func skip(_ wire: Int) throws(ProtoError) {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try bytes()
        case 5: _ = try fixed32()
        default: throw ProtoError(message: "unsupported wire type \(wire)")
        }
    }
}

/// The single number of a scalar TensorProto, or nil when the tensor is not one number.
///
/// TensorProto: dtype 1, tensor_shape 2 (dim 2: size 1), tensor_content 4, half_val 13, float_val 5,
/// double_val 6, int_val 7, int64_val 10, bool_val 11, uint32_val 16, uint64_val 17.
package enum TensorScalar {
    // DataType enum values.
    static let float = 1, double = 2, int32 = 3, uint8 = 4, int16 = 5, int8 = 6, string = 7, int64 = 9, bool = 10,
        bfloat16 = 14, uint16 = 17, half = 19, uint32 = 22, uint64 = 23

    /// `range`: the TensorProto's bytes in `b`.
    package static func parse(_ b: [UInt8], _ range: Range<Int>) throws(ProtoError) -> Double? {
        var r = ProtoReader(b, range)
        var dtype = 0
        var elements: UInt64 = 1
        var content: Range<Int>?
        var numbers: [Double] = []  // from the typed repeated fields
        var fieldOfNumbers = 0
        func collect(_ field: Int, _ wire: Int, _ r: inout ProtoReader) throws(ProtoError) {
            // Packed (wire type 2) or one value (wire type 0, 1, 5).
            func one(_ r: inout ProtoReader, _ wire: Int) throws(ProtoError) -> Double {
                switch (field, wire) {
                case (5, 5): return Double(Float(bitPattern: try r.fixed32()))
                case (6, 1): return Double(bitPattern: try r.fixed64())
                case (7, 0): return Double(Int32(truncatingIfNeeded: Int64(bitPattern: try r.varint())))
                case (10, 0): return Double(Int64(bitPattern: try r.varint()))
                case (11, 0): return try r.varint() != 0 ? 1 : 0
                case (13, 0): return halfBits(UInt16(truncatingIfNeeded: try r.varint()), bfloat: dtype == bfloat16)
                case (16, 0), (17, 0): return Double(try r.varint())
                default: throw ProtoError(message: "tensor field \(field) has wire type \(wire)")
                }
            }
            fieldOfNumbers = field
            if wire == 2 {
                let range = try r.bytes()
                var sub = r.sub(range)
                let elementWire = field == 5 ? 5 : field == 6 ? 1 : 0
                while !sub.atEnd { numbers.append(try one(&sub, elementWire)) }
            } else {
                numbers.append(try one(&r, wire))
            }
        }
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 0): dtype = Int(truncatingIfNeeded: try r.varint())
            case (2, 2):
                var shape = r.sub(try r.bytes())
                while let (sf, sw) = try shape.field() {
                    guard sf == 2, sw == 2 else { try shape.skip(sw); continue }
                    var dim = shape.sub(try shape.bytes())
                    var size: Int64 = 0
                    while let (df, dw) = try dim.field() {
                        if df == 1, dw == 0 { size = Int64(bitPattern: try dim.varint()) } else { try dim.skip(dw) }
                    }
                    elements = size < 0 ? 0 : elements.multipliedReportingOverflow(by: UInt64(size)).partialValue
                }
            case (4, 2): content = try r.bytes()
            case (5, _), (6, _), (7, _), (10, _), (11, _), (13, _), (16, _), (17, _): try collect(field, wire, &r)
            default: try r.skip(wire)
            }
        }
        guard elements == 1, dtype != string, dtype != 0 else { return nil }
        if let content, !content.isEmpty {
            let c = b[content]
            func le(_ n: Int) -> UInt64? {
                guard c.count == n else { return nil }
                var v: UInt64 = 0
                for k in 0..<n { v |= UInt64(c[c.startIndex + k]) << (8 * UInt64(k)) }
                return v
            }
            switch dtype {
            case float: return le(4).map { Double(Float(bitPattern: UInt32($0))) }
            case double: return le(8).map { Double(bitPattern: $0) }
            case int32: return le(4).map { Double(Int32(bitPattern: UInt32($0))) }
            case int64: return le(8).map { Double(Int64(bitPattern: $0)) }
            case uint8: return le(1).map { Double($0) }
            case int8: return le(1).map { Double(Int8(bitPattern: UInt8($0))) }
            case int16: return le(2).map { Double(Int16(bitPattern: UInt16($0))) }
            case uint16: return le(2).map { Double($0) }
            case uint32, uint64: return le(dtype == uint32 ? 4 : 8).map { Double($0) }
            case bool: return le(1).map { $0 != 0 ? 1 : 0 }
            case half, bfloat16: return le(2).map { halfBits(UInt16($0), bfloat: dtype == bfloat16) }
            default: return nil
            }
        }
        let expected: Int
        switch dtype {
        case float: expected = 5
        case double: expected = 6
        case int32, int16, int8, uint8, uint16: expected = 7
        case int64: expected = 10
        case bool: expected = 11
        case half, bfloat16: expected = 13
        case uint32: expected = 16
        case uint64: expected = 17
        default: return nil
        }
        guard numbers.count == 1, fieldOfNumbers == expected else { return nil }
        return numbers[0]
    }

    package static func halfBits(_ bits: UInt16, bfloat: Bool) -> Double {
        if bfloat { return Double(Float(bitPattern: UInt32(bits) << 16)) }
        let sign = (bits >> 15) & 1, exp = Int((bits >> 10) & 0x1f), frac = Double(bits & 0x3ff)
        var v: Double
        if exp == 0 {
            v = frac * 0x1p-24
        } else if exp == 31 {
            v = frac == 0 ? .infinity : .nan
        } else {
            v = (1 + frac / 1024) * Double(sign: .plus, exponent: exp - 15, significand: 1)
        }
        if sign == 1 { v = -v }
        return v
    }
}

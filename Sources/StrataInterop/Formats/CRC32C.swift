/// A reflected CRC-32 computed with slicing by 8: the tables for one polynomial.
package struct SlicedCRC32: Sendable {
    let flat: [UInt32]

    /// `polynomial`: the reflected (LSB-first) polynomial.
    init(polynomial: UInt32) {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
        }
        flat = t.flatMap { $0 }
    }

    /// The CRC of `p` (initial value and final xor all ones).
    func checksum(_ p: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let t = flat
        var i = p.startIndex
        let n = p.endIndex
        while n - i >= 8 {
            let lo = crc ^ (UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24)
            crc =
                t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + Int(p[i + 4])] ^ t[2 * 256 + Int(p[i + 5])]
                ^ t[1 * 256 + Int(p[i + 6])] ^ t[Int(p[i + 7])]
            i += 8
        }
        while i < n {
            crc = (crc >> 8) ^ t[Int((crc ^ UInt32(p[i])) & 0xff)]
            i += 1
        }
        return ~crc
    }
}

/// CRC-32C (Castagnoli) and TFRecord's (and LevelDB's) masked form.
///
/// Check value (published for CRC-32C): `checksum("123456789") == 0xE3069283`.
package enum CRC32C {
    static let table = SlicedCRC32(polynomial: 0x82F6_3B78)

    /// The CRC-32C of `p`.
    package static func checksum(_ p: ArraySlice<UInt8>) -> UInt32 { table.checksum(p) }

    /// TFRecord's masked CRC: rotated right by 15 bits plus a constant.
    package static func masked(_ p: ArraySlice<UInt8>) -> UInt32 {
        let c = checksum(p)
        return ((c >> 15) | (c << 17)) &+ 0xa282_ead8
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it): the chunk checksum of W&B transaction logs.
///
/// Check value (published for CRC-32): `checksum("123456789") == 0xCBF43926`.
package enum CRC32 {
    static let table = SlicedCRC32(polynomial: 0xEDB8_8320)

    /// The CRC-32 of `p`.
    package static func checksum(_ p: ArraySlice<UInt8>) -> UInt32 { table.checksum(p) }
}

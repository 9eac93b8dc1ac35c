// XXH64, the 64-bit xxHash by Yann Collet, written from the published specification
// (xxhash.com, doc/xxhash_spec.md: "xxHash fast digest algorithm", XXH64 section).

package enum Checksum {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x &<< r) | (x &>> (64 &- r)) }

    @inline(__always) static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        rotl(acc &+ lane &* p2, 31) &* p1
    }

    @inline(__always) static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        (acc ^ round(0, v)) &* p1 &+ p4
    }

    /// XXH64 of `bytes` with `seed` (0 unless given). XXH64 of no bytes with seed 0 is 0xEF46DB3751D8E999.
    package static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let len = bytes.count
        guard let p = bytes.baseAddress else { return avalanche(seed &+ p5) }
        @inline(__always) func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        @inline(__always) func u32(_ o: Int) -> UInt64 { UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
        var o = 0
        var acc: UInt64
        if len >= 32 {
            var v1 = seed &+ p1 &+ p2
            var v2 = seed &+ p2
            var v3 = seed
            var v4 = seed &- p1
            let limit = len - 32
            while o <= limit {
                v1 = round(v1, u64(o))
                v2 = round(v2, u64(o + 8))
                v3 = round(v3, u64(o + 16))
                v4 = round(v4, u64(o + 24))
                o += 32
            }
            acc = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            acc = merge(acc, v1)
            acc = merge(acc, v2)
            acc = merge(acc, v3)
            acc = merge(acc, v4)
        } else {
            acc = seed &+ p5
        }
        acc = acc &+ UInt64(len)
        while len - o >= 8 {
            acc ^= round(0, u64(o))
            acc = rotl(acc, 27) &* p1 &+ p4
            o += 8
        }
        if len - o >= 4 {
            acc ^= u32(o) &* p1
            acc = rotl(acc, 23) &* p2 &+ p3
            o += 4
        }
        while o < len {
            acc ^= UInt64(p.load(fromByteOffset: o, as: UInt8.self)) &* p5
            acc = rotl(acc, 11) &* p1
            o += 1
        }
        return avalanche(acc)
    }

    /// XXH64 of `bytes` with `seed` (0 unless given).
    package static func xxh64(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { xxh64($0, seed: seed) }
    }

    @inline(__always) static func avalanche(_ h: UInt64) -> UInt64 {
        var x = h
        x ^= x >> 33
        x = x &* p2
        x ^= x >> 29
        x = x &* p3
        x ^= x >> 32
        return x
    }
}

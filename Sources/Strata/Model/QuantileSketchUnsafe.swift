/// The chunk encoder's one-pass sketch builder over raw memory.
///
/// Unsafe memory: `values` must point to at least `count` initialised doubles for the duration of
/// the call (the chunk encoder passes the column it is encoding); the loop reads exactly
/// `values[0..<count]`. Keys go to a scratch array of `count` entries owned by the call (positive
/// keys from the front, negative ones from the back), so no index leaves it. The bytes are those
/// of `QuantileSketch.encode` for the same values (`QuantileTests` checks it).
extension QuantileSketch {
    /// Encodes the sketch of `values[0..<count]` (NaN left out) straight into `w`.
    static func encode(values: UnsafePointer<Double>, count n: Int, into w: inout ByteWriter) {
        var zeros = 0, pinf = 0, ninf = 0
        var np = 0, nn = 0
        var keys = [Int32](repeating: 0, count: n)
        keys.withUnsafeMutableBufferPointer { k in
            for i in 0..<n {
                let bits = values[i].bitPattern
                let mag = bits & 0x7FFF_FFFF_FFFF_FFFF
                if mag >= 0x7FF0_0000_0000_0000 {
                    if mag == 0x7FF0_0000_0000_0000 { if bits >> 63 == 0 { pinf += 1 } else { ninf += 1 } }
                    continue
                }
                if mag < 0x0010_0000_0000_0000 { zeros += 1; continue }
                let key = Int32(truncatingIfNeeded: QuantileSketch.key(magnitudeBits: mag))
                if bits >> 63 == 0 {
                    k[np] = key; np += 1
                } else {
                    nn += 1; k[n - nn] = key
                }
            }
        }
        w.u8(1)
        w.varint(UInt64(zeros)); w.varint(UInt64(pinf)); w.varint(UInt64(ninf))
        keys.withUnsafeBufferPointer { k in
            for side in [0..<np, (n - nn)..<n] {
                if side.isEmpty { w.varint(0); continue }
                var lo = Int32.max, hi = Int32.min
                for i in side { lo = Swift.min(lo, k[i]); hi = Swift.max(hi, k[i]) }
                var counts = [UInt32](repeating: 0, count: Int(hi - lo) + 1)
                counts.withUnsafeMutableBufferPointer { c in
                    for i in side { c[Int(k[i] - lo)] &+= 1 }
                }
                var buckets = 0
                for c in counts where c > 0 { buckets += 1 }
                w.varint(UInt64(buckets))
                var prev = -1
                for (j, c) in counts.enumerated() where c > 0 {
                    let key = Int(lo) + j
                    w.varint(UInt64(key - prev)); w.varint(UInt64(c))
                    prev = key
                }
            }
        }
    }
}

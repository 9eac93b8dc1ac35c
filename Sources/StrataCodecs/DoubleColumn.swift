// Double columns: blocks of 128 values, each with the smallest codec that is bit-exact for it:
//   int-for       integer-valued doubles (−0.0 excluded), frame-of-reference bit-packed
//   decimal       value == Double(n) / 10^e, ALP-style ("ALP: Adaptive Lossless floating-Point
//                 Compression", Afroozeh, Kuffo, Boncz, SIGMOD 2023), n FOR bit-packed
//   float32-for   value == Double(Float(value)), order-preserving UInt32 of the float, FOR bit-packed
//   float64-dod   order-preserving UInt64 of the bits, delta-of-delta, FOR bit-packed
//   float64-delta order-preserving UInt64 of the bits, delta, FOR bit-packed
//   raw64         the bit patterns
//   mean-for      value == (Double(n) · 2^e) / k: a full-precision mean of k values of limited
//                 precision (an epoch's loss averaged over k float32 batch losses), n FOR bit-packed
//   scaled-diff   value == (Double(n) · 2^e) / k as mean-for (k = 1: the value as an integer
//                 multiple of the block's smallest power of two), the integers n coded by their
//                 differences of order 1…4 (a smooth full-precision series: a learning-rate
//                 schedule, epoch means), FOR bit-packed
// The FOR codecs and scaled-diff may carry "patched exceptions": values stored raw, by index, that either
// do not fit the codec (NaN in decimal data) or would widen the frame (a rare spike).
// Format: docs/FORMAT-codecs.md.

package enum DoubleColumn {
    static let codecRaw: UInt8 = 1
    static let codecInt: UInt8 = 2
    static let codecDecimal: UInt8 = 3
    static let codecFloat32: UInt8 = 4
    static let codecDelta: UInt8 = 5
    static let codecDoD: UInt8 = 6
    static let codecMean: UInt8 = 7
    static let codecScaled: UInt8 = 8
    /// Highest difference order of scaled-diff.
    static let maxOrder = 4
    /// Powers of two scaled-diff's exponent may name (the smallest subnormal to the largest normal).
    static let minScaledExponent = -1074
    static let maxScaledExponent = 1023
    /// Largest divisor `k` of mean-for the encoder searches (odd values; the decoder accepts 1...65,535).
    static let encoderMaxDivisor = 4095
    static let maxDivisor = 65_535
    /// Bit 7 of the codec byte: the block ends with an exception list.
    static let exceptionFlag: UInt8 = 0x80
    /// Decimal exponents a decoder accepts (10^e is exact as a Double up to e = 22).
    static let maxDecimalExponent = 18
    /// Exponents the encoder tries.
    static let encoderMaxExponent = 10
    /// At most this many exceptions per block (encoder policy; the format allows up to the block size).
    static let maxExceptions = 32

    static func name(_ codec: UInt8) -> String {
        switch codec {
        case codecRaw: return "raw64"
        case codecInt: return "int-for"
        case codecDecimal: return "decimal"
        case codecFloat32: return "float32-for"
        case codecDelta: return "float64-delta"
        case codecDoD: return "float64-dod"
        case codecMean: return "mean-for"
        case codecScaled: return "scaled-diff"
        default: return "unknown"
        }
    }

    // MARK: Value mappings (shared by encoder and decoder)

    static let signBit: UInt64 = 1 << 63

    /// Order-preserving map of a Double's bit pattern to UInt64 (negative values flipped, positive
    /// values with the sign bit set).
    @inline(__always) static func map64(_ b: UInt64) -> UInt64 {
        b ^ (UInt64(bitPattern: Int64(bitPattern: b) >> 63) | signBit)
    }
    @inline(__always) static func unmap64(_ m: UInt64) -> UInt64 {
        m ^ (UInt64(bitPattern: Int64(bitPattern: ~m) >> 63) | signBit)
    }
    @inline(__always) static func map32(_ b: UInt32) -> UInt32 {
        b ^ (UInt32(bitPattern: Int32(bitPattern: b) >> 31) | 0x8000_0000)
    }
    @inline(__always) static func unmap32(_ m: UInt32) -> UInt32 {
        m ^ (UInt32(bitPattern: Int32(bitPattern: ~m) >> 31) | 0x8000_0000)
    }

    static let pow10: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18
    ]

    // MARK: Encoding

    /// Appends a self-describing encoding of `values` (count ≤ ColumnLimits.maxValues) to `out`.
    package static func encode(_ values: UnsafeBufferPointer<Double>, into out: inout [UInt8]) {
        let count = values.count
        precondition(count <= ColumnLimits.maxValues, "DoubleColumn.encode: \(count) values > \(ColumnLimits.maxValues)")
        guard count > 0, let v = values.baseAddress else {
            appendColumnHeader(kind: ColumnFormat.doubleKind, layout: ColumnFormat.layoutBlocks, count: 0, to: &out)
            return
        }
        let blocks = ColumnFormat.blockCount(count)
        // Every chosen block is at most a raw64 block: 1 + 8 bytes a value.
        let buffer = EncodeBuffer(capacity: blocks + count * 8 + 16)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: ColumnFormat.blockSize)
        defer { scratch.deallocate() }
        let bits = UnsafeRawPointer(v).assumingMemoryBound(to: UInt64.self)
        var w = RawByteWriter(base: buffer.raw, pos: 0)
        var start = 0
        while start < count {
            let n = min(ColumnFormat.blockSize, count - start)
            encodeBlock(bits + start, n, &w, scratch)
            start += n
        }
        emitBlockColumn(kind: ColumnFormat.doubleKind, count: count, blocks: buffer.raw, len: w.pos, into: &out)
    }

    /// The frame chosen by `planFOR`: values in lo...hi are packed as (u − lo) in `width` bits, the
    /// rest (and those the mapping rejects) become exceptions.
    struct FORPlan {
        var size: Int = .max
        var lo: UInt64 = 0
        var hi: UInt64 = 0
        var width: Int = 0
        /// Values the mapping rejected (they become exceptions).
        var fails: Int = 0
    }

    /// Evaluates a FOR codec whose mapping is `map` (nil = the value does not fit the codec). Tracks the
    /// three smallest and largest mapped values to consider dropping up to two outliers at each end
    /// as exceptions. `header` is the codec's header size before the base (codec, width, exponent bytes).
    @inline(__always)
    static func planFOR(
        _ b: UnsafePointer<UInt64>, _ n: Int, header: Int, baseSize: (UInt64) -> Int,
        _ map: (UInt64) -> UInt64?
    ) -> FORPlan {
        var fails = 0
        var l0 = UInt64.max, l1 = UInt64.max, l2 = UInt64.max
        var h0: UInt64 = 0, h1: UInt64 = 0, h2: UInt64 = 0
        var ok = 0
        for i in 0..<n {
            guard let u = map(b[i]) else {
                fails &+= 1
                // Give up at too many exceptions, or when the first 8 values all fail (wrong class).
                if fails > maxExceptions || (fails == 8 && i == 7) { return FORPlan() }
                continue
            }
            ok &+= 1
            // Strict comparisons keep repeated values cheap; the first three values always enter
            // (the sentinels could equal a value).
            if u < l2 || ok <= 3 {
                if u < l0 || ok == 1 { l2 = l1; l1 = l0; l0 = u } else if u < l1 || ok == 2 { l2 = l1; l1 = u } else { l2 = u }
            }
            if u > h2 || ok <= 3 {
                if u > h0 || ok == 1 { h2 = h1; h1 = h0; h0 = u } else if u > h1 || ok == 2 { h2 = h1; h1 = u } else { h2 = u }
            }
        }
        var plan = FORPlan()
        if ok == 0 { return plan }
        let lows = (l0, l1, l2), highs = (h0, h1, h2)
        // Dropping outliers is considered only when enough values remain to make it meaningful.
        let maxDrop = ok >= 8 ? 2 : 0
        for i in 0...maxDrop {
            let lo = i == 0 ? lows.0 : (i == 1 ? lows.1 : lows.2)
            for j in 0...(maxDrop - i) {
                let hi = j == 0 ? highs.0 : (j == 1 ? highs.1 : highs.2)
                if hi < lo { continue }
                let exc = fails + i + j
                if exc > maxExceptions { continue }
                let width = bitWidth(hi &- lo)
                let size = header + baseSize(lo) + packedSize(n, width) + (exc > 0 ? 1 + 9 * exc : 0)
                if size < plan.size { plan = FORPlan(size: size, lo: lo, hi: hi, width: width, fails: fails) }
            }
        }
        return plan
    }

    @inline(__always) static func intMap(_ b: UInt64) -> UInt64? {
        let x = Double(bitPattern: b)
        guard x >= -9_223_372_036_854_775_808.0, x < 9_223_372_036_854_775_808.0 else { return nil }
        let i = Int64(x)
        guard Double(i).bitPattern == b else { return nil }
        return UInt64(bitPattern: i) ^ signBit
    }

    @inline(__always) static func decimalMap(_ b: UInt64, _ p: Double) -> UInt64? {
        let x = Double(bitPattern: b)
        let scaled = x * p
        // Keep n well inside the exactly representable integers (and reject NaN / ±Inf).
        guard scaled.magnitude < 2.0e15 else { return nil }
        // Round to nearest with the 1.5·2^52 trick (no libm call; exact for |scaled| < 2^51).
        let i = Int64((scaled + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0)
        guard (Double(i) / p).bitPattern == b else { return nil }
        return UInt64(bitPattern: i) ^ signBit
    }

    @inline(__always) static func float32Map(_ b: UInt64) -> UInt64? {
        let x = Double(bitPattern: b)
        let f = Float(x)
        // NaN is excluded: Float↔Double NaN conversions are not specified bit-exactly by IEEE 754.
        guard Double(f).bitPattern == b, !x.isNaN else { return nil }
        return UInt64(map32(f.bitPattern))
    }

    /// The smallest exponent e in 1...encoderMaxExponent for which `x` is Double(n) / 10^e, if any.
    @inline(__always) static func decimalExponent(_ b: UInt64) -> Int? {
        for e in 1...encoderMaxExponent where decimalMap(b, pow10[e]) != nil { return e }
        return nil
    }

    static func encodeBlock(_ b: UnsafePointer<UInt64>, _ n: Int, _ w: inout RawByteWriter, _ scratch: UnsafeMutablePointer<UInt64>) {
        var bestSize = 1 + 8 * n
        var best = codecRaw
        var bestPlan = FORPlan()
        var bestExp = 0

        // 1. Integer-valued.
        let zzSize: (UInt64) -> Int = { lo in varintSize(zigzag(Int64(bitPattern: lo ^ signBit))) }
        let pi = planFOR(b, n, header: 2, baseSize: zzSize, intMap)
        if pi.size < bestSize { bestSize = pi.size; best = codecInt; bestPlan = pi }

        // 2. Decimal: the exponent is the largest of the smallest exponents of a few sample values.
        // Not tried when every value is an integer (decimal would only scale them by 10^e).
        if best != codecInt || pi.fails > 0 {
            var e = 0
            var sampled = 0
            var i = 0
            while i < n && sampled < 4 {
                if let s = decimalExponent(b[i]) { e = max(e, s); sampled += 1 }
                i += (i < 2 ? 1 : max(1, n / 4))  // values 0, 1, 2, then spread over the block
            }
            if e > 0 {
                let p = pow10[e]
                let pd = planFOR(b, n, header: 3, baseSize: zzSize) { decimalMap($0, p) }
                if pd.size < bestSize { bestSize = pd.size; best = codecDecimal; bestPlan = pd; bestExp = e }
            }
        }

        // 3. Float32-origin.
        if best == codecRaw || bestPlan.width > 8 {
            let pf = planFOR(b, n, header: 2, baseSize: { _ in 4 }, float32Map)
            if pf.size < bestSize { bestSize = pf.size; best = codecFloat32; bestPlan = pf }
        }

        // 4. Smooth float64: delta and delta-of-delta of the order-preserving map.
        var deltaWidth = 0, dodWidth = 0
        var minDelta: Int64 = 0, firstDelta: Int64 = 0, minDoD: Int64 = 0
        if n >= 2 && (best == codecRaw || (bestPlan.width > 12 && smoothProbe(b, n) + 2 < bestPlan.width)) {
            var minD = Int64.max, maxD = Int64.min
            var minDD = Int64.max, maxDD = Int64.min
            var prev = map64(b[0])
            let d0 = Int64(bitPattern: map64(b[1]) &- prev)
            var prevD = d0
            for i in 1..<n {
                let m = map64(b[i])
                let d = Int64(bitPattern: m &- prev)
                minD = min(minD, d); maxD = max(maxD, d)
                let dd = d &- prevD
                minDD = min(minDD, dd); maxDD = max(maxDD, dd)
                prevD = d
                prev = m
            }
            // The first dd (i == 1) is d0 - d0 = 0 and is not stored; it only widens the range if
            // 0 lies outside the others' range, which costs at most a bit.
            deltaWidth = bitWidth(UInt64(bitPattern: maxD &- minD))
            minDelta = minD
            let deltaSize = 2 + 8 + varintSize(zigzag(minD)) + packedSize(n - 1, deltaWidth)
            if deltaSize < bestSize { bestSize = deltaSize; best = codecDelta }
            if n >= 3 {
                dodWidth = bitWidth(UInt64(bitPattern: maxDD &- minDD))
                firstDelta = d0
                minDoD = minDD
                let dodSize = 2 + 8 + varintSize(zigzag(d0)) + varintSize(zigzag(minDD)) + packedSize(n - 2, dodWidth)
                if dodSize < bestSize { bestSize = dodSize; best = codecDoD }
            }
        }

        // 5. Means of limited-precision values: only where the best so far keeps most of the bits
        // (more than 40 a value: the divisor search costs about 2 µs a block).
        var meanK = 0, meanE = 0
        var meanFound: (Int, Int)? = nil
        if n >= 4 && (best == codecRaw || best == codecDelta || best == codecDoD) && bestSize > 5 * n,
            let (k, e) = meanDivisor(b, n)
        {
            meanFound = (k, e)
            let kd = Double(k), q = Double(sign: .plus, exponent: e, significand: 1)
            let pm = planFOR(b, n, header: 3 + varintSize(UInt64(k)), baseSize: zzSize) { meanMap($0, kd, q) }
            if pm.size < bestSize { bestSize = pm.size; best = codecMean; bestPlan = pm; meanK = k; meanE = e }
        }

        // 6. scaled-diff: only where the best so far is one of the full-precision codecs and keeps
        // more than 8 bits a value. Tried with k = 1, and with mean-for's divisor when one was found.
        if n >= 3 && (best == codecRaw || best == codecDelta || best == codecDoD || best == codecMean) && bestSize > n {
            let done = withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * ColumnFormat.blockSize) { buf -> Bool in
                let nv = buf.baseAddress!, d = nv + ColumnFormat.blockSize
                var plan = ScaledPlan()
                var planE = 0, planK = 1, viaMean = false
                if let e = scaledExponent(b, n) {
                    let q = pow2(e)
                    let p1 = planScaled(b, n, nv, d, exponent: e, divisor: 1) { scaledMap($0, q) }
                    if p1.size < plan.size { plan = p1; planE = e; planK = 1 }
                }
                if let (k, e) = meanFound {
                    let kd = Double(k), q = pow2(e)
                    let p2 = planScaled(b, n, nv, d, exponent: e, divisor: k) { u in meanMap(u, kd, q).map { Int64(bitPattern: $0 ^ signBit) } }
                    if p2.size < plan.size { plan = p2; planE = e; planK = k; viaMean = true }
                }
                guard plan.size < bestSize else { return false }
                let q = pow2(planE), kd = Double(planK)
                // The integers exactly as planned (mean-for's mapping may find k = 1 but rejects other values).
                if !viaMean {
                    writeScaled(b, n, &w, nv, d, plan: plan, exponent: planE, divisor: 1) { scaledMap($0, q) }
                } else {
                    writeScaled(b, n, &w, nv, d, plan: plan, exponent: planE, divisor: planK) { u in
                        meanMap(u, kd, q).map { Int64(bitPattern: $0 ^ signBit) }
                    }
                }
                return true
            }
            if done { return }
        }

        switch best {
        case codecMean:
            let kd = Double(meanK), q = Double(sign: .plus, exponent: meanE, significand: 1)
            writeFOR(b, n, &w, scratch, codec: codecMean, plan: bestPlan, exponentByte: UInt8(bitPattern: Int8(meanE)), base: .zigzag, divisor: meanK)
            {
                meanMap($0, kd, q)
            }
        case codecInt:
            writeFOR(b, n, &w, scratch, codec: codecInt, plan: bestPlan, exponentByte: nil, base: .zigzag, intMap)
        case codecDecimal:
            let p = pow10[bestExp]
            writeFOR(b, n, &w, scratch, codec: codecDecimal, plan: bestPlan, exponentByte: UInt8(bestExp), base: .zigzag) {
                decimalMap($0, p)
            }
        case codecFloat32:
            writeFOR(b, n, &w, scratch, codec: codecFloat32, plan: bestPlan, exponentByte: nil, base: .fixed32, float32Map)
        case codecDelta:
            w.byte(codecDelta)
            w.byte(UInt8(deltaWidth))
            w.u64(b[0])
            w.varint(zigzag(minDelta))
            w.pack(n - 1, width: deltaWidth) { i in
                UInt64(bitPattern: Int64(bitPattern: map64(b[i + 1]) &- map64(b[i])) &- minDelta)
            }
        case codecDoD:
            w.byte(codecDoD)
            w.byte(UInt8(dodWidth))
            w.u64(b[0])
            w.varint(zigzag(firstDelta))
            w.varint(zigzag(minDoD))
            // Packed value j (0 ≤ j < n−2) is dd(j+2) − minDoD, dd(i) = d(i) − d(i−1), d(i) = m(i) − m(i−1).
            w.pack(n - 2, width: dodWidth) { j in
                let m0 = map64(b[j]), m1 = map64(b[j + 1]), m2 = map64(b[j + 2])
                let dd = Int64(bitPattern: (m2 &- m1) &- (m1 &- m0))
                return UInt64(bitPattern: dd &- minDoD)
            }
        default:
            w.byte(codecRaw)
            for i in 0..<n { w.u64(b[i]) }
        }
    }

    /// mean-for's mapping: the integer n with (Double(n) · q) / k bit-identical to the value, among
    /// the five integers nearest to value · k / q (the product rounds), as a FOR input.
    @inline(__always) static func meanMap(_ b: UInt64, _ k: Double, _ q: Double) -> UInt64? {
        let x = Double(bitPattern: b)
        let y = x * k / q
        guard y.magnitude < 4.0e15 else { return nil }  // also rejects NaN and ±Inf
        let n0 = Int64((y + 6_755_399_441_055_744.0) - 6_755_399_441_055_744.0)
        for c: Int64 in [0, -1, 1, -2, 2] {
            let n = n0 &+ c
            if ((Double(n) * q) / k).bitPattern == b { return UInt64(bitPattern: n) ^ signBit }
        }
        return nil
    }

    /// The divisor k (odd, ≤ encoderMaxDivisor) and power of two e for mean-for. k is the first
    /// for which x · k lies within 2 ulps of a number whose low 14 mantissa bits are zero (a sum of
    /// values with fewer significant bits than a double) for each of up to four sample values; e is
    /// the lowest set bit of such round numbers over the whole block (values that are not, skipped,
    /// become exceptions).
    static func meanDivisor(_ b: UnsafePointer<UInt64>, _ n: Int) -> (Int, Int)? {
        var sample: [Double] = []
        var i = 0
        while i < n && sample.count < 4 {
            let x = Double(bitPattern: b[i])
            if x.isNormal { sample.append(x) }
            i += sample.count < 2 ? 1 : max(1, n / 4)
        }
        guard sample.count >= 2 else { return nil }
        let mask: UInt64 = (1 << 14) - 1
        @inline(__always) func lowBit(_ y: Double) -> Int? {
            let bits = y.bitPattern
            guard y.isNormal, (bits &+ 2) & mask <= 4 else { return nil }
            let s = Double(bitPattern: (bits &+ 2) & ~mask)
            let low = s.significandBitPattern == 0 ? 52 : s.significandBitPattern.trailingZeroBitCount
            return Int(s.exponent) - 52 + low
        }
        var k = 1
        search: while k <= encoderMaxDivisor {
            defer { k += 2 }
            for x in sample where lowBit(x * Double(k)) == nil { continue search }
            var e = Int.max
            for j in 0..<n { if let l = lowBit(Double(bitPattern: b[j]) * Double(k)) { e = min(e, l) } }
            guard e >= -128 && e <= 127 else { return nil }
            return (k, e)
        }
        return nil
    }

    /// Width of the delta-of-deltas of the first 16 values: a cheap test of whether a block that
    /// already has a FOR candidate could be smooth enough for float64-dod to win.
    @inline(__always) static func smoothProbe(_ b: UnsafePointer<UInt64>, _ n: Int) -> Int {
        let m = min(n, 16)
        if m < 3 { return 0 }
        var minDD = Int64.max, maxDD = Int64.min
        var prev = map64(b[1])
        var prevD = Int64(bitPattern: prev &- map64(b[0]))
        for i in 2..<m {
            let x = map64(b[i])
            let d = Int64(bitPattern: x &- prev)
            let dd = d &- prevD
            minDD = min(minDD, dd); maxDD = max(maxDD, dd)
            prevD = d
            prev = x
        }
        return bitWidth(UInt64(bitPattern: maxDD &- minDD))
    }

    // MARK: scaled-diff (codec 8)

    /// 2^e as a Double, exact for every e in minScaledExponent...maxScaledExponent (subnormal below −1022).
    @inline(__always) static func pow2(_ e: Int) -> Double {
        e >= -1022 ? Double(bitPattern: UInt64(e &+ 1023) << 52) : Double(bitPattern: 1 << UInt64(e &+ 1074))
    }

    /// scaled-diff's value from its integer: (Double(n) · q) / k, as a bit pattern.
    @inline(__always) static func scaledValue(_ n: UInt64, _ q: Double, _ k: Double) -> UInt64 {
        ((Double(Int64(bitPattern: n)) * q) / k).bitPattern
    }

    /// The exponent e of scaled-diff with k = 1: the lowest set bit (as a power of two) of the
    /// finite non-zero values, raised so that the largest value's integer stays below 2^62 (values
    /// that then have bits below 2^e become exceptions); nil when the block has no such value.
    static func scaledExponent(_ b: UnsafePointer<UInt64>, _ n: Int) -> Int? {
        var low = Int.max, high = Int.min
        for i in 0..<n {
            let x = b[i]
            let biased = Int((x >> 52) & 0x7FF)
            if biased == 0x7FF || x & ~signBit == 0 { continue }  // NaN, ±Inf, ±0
            let mant = x & 0x000F_FFFF_FFFF_FFFF
            let sig = biased == 0 ? mant : mant | (1 << 52)
            let e0 = biased == 0 ? -1074 : biased &- 1075
            low = min(low, e0 &+ sig.trailingZeroBitCount)
            high = max(high, e0 &+ bitWidth(sig) &- 1)
        }
        if low == Int.max { return nil }
        return max(low, high &- 61)
    }

    /// scaled-diff's mapping with k = 1: the integer n with Double(n) · q bit-identical to the value.
    @inline(__always) static func scaledMap(_ b: UInt64, _ q: Double) -> Int64? {
        let y = Double(bitPattern: b) / q
        guard y.magnitude < 4_611_686_018_427_387_904.0 else { return nil }  // 2^62; rejects NaN and ±Inf
        let n = Int64(y)
        guard scaledValue(UInt64(bitPattern: n), q, 1) == b else { return nil }
        return n
    }

    /// The order and frame of a scaled-diff block.
    struct ScaledPlan {
        var size: Int = .max
        var order: Int = 0
        var width: Int = 0
        var minD: Int64 = 0
        var exceptions: Int = 0
    }

    /// Fills nv[0..<n] with the block's integers (`map`; a value it rejects is an exception, its slot
    /// filled with its predecessor's integer, or the first mapped one at the start) and returns the
    /// number of exceptions, or nil for more than maxExceptions or none mapped.
    @inline(__always)
    static func scaledIntegers(_ b: UnsafePointer<UInt64>, _ n: Int, _ nv: UnsafeMutablePointer<Int64>, _ map: (UInt64) -> Int64?) -> Int? {
        var exc = 0
        var firstOK = -1
        for i in 0..<n {
            if let v = map(b[i]) {
                nv[i] = v
                if firstOK < 0 { firstOK = i }
            } else {
                exc &+= 1
                if exc > maxExceptions { return nil }
                nv[i] = i > 0 ? nv[i &- 1] : 0
            }
        }
        if firstOK < 0 { return nil }
        for i in 0..<firstOK { nv[i] = nv[firstOK] }
        return exc
    }

    /// Evaluates scaled-diff with exponent e and divisor k (integers from `map`) at orders 1…maxOrder
    /// (below n) and returns the smallest. nv and d are scratch for a block of Int64.
    static func planScaled(
        _ b: UnsafePointer<UInt64>, _ n: Int, _ nv: UnsafeMutablePointer<Int64>, _ d: UnsafeMutablePointer<Int64>,
        exponent e: Int, divisor k: Int, _ map: (UInt64) -> Int64?
    ) -> ScaledPlan {
        guard let exc = scaledIntegers(b, n, nv, map) else { return ScaledPlan() }
        let fixed = 3 + varintSize(zigzag(Int64(e))) + varintSize(UInt64(k)) + (exc > 0 ? 1 + 9 * exc : 0)
        var plan = ScaledPlan()
        for i in 0..<n { d[i] = nv[i] }
        var seeds = 0
        var len = n
        for p in 1...maxOrder where p < n {
            seeds += varintSize(zigzag(d[0]))
            len -= 1
            var lo = Int64.max, hi = Int64.min
            for i in 0..<len {
                let x = d[i &+ 1] &- d[i]
                d[i] = x
                lo = min(lo, x)
                hi = max(hi, x)
            }
            let width = bitWidth(UInt64(bitPattern: hi &- lo))
            let size = fixed + seeds + varintSize(zigzag(lo)) + packedSize(len, width)
            if size < plan.size { plan = ScaledPlan(size: size, order: p, width: width, minD: lo, exceptions: exc) }
        }
        return plan
    }

    /// Writes the scaled-diff block `plan` describes (integers from `map`, as in planScaled).
    static func writeScaled(
        _ b: UnsafePointer<UInt64>, _ n: Int, _ w: inout RawByteWriter, _ nv: UnsafeMutablePointer<Int64>, _ d: UnsafeMutablePointer<Int64>,
        plan: ScaledPlan, exponent e: Int, divisor k: Int, _ map: (UInt64) -> Int64?
    ) {
        _ = scaledIntegers(b, n, nv, map)
        w.byte(plan.exceptions > 0 ? codecScaled | exceptionFlag : codecScaled)
        w.byte(UInt8(plan.width))
        w.byte(UInt8(plan.order))
        w.varint(zigzag(Int64(e)))
        w.varint(UInt64(k))
        for i in 0..<n { d[i] = nv[i] }
        var len = n
        for _ in 0..<plan.order {
            w.varint(zigzag(d[0]))
            len -= 1
            for i in 0..<len { d[i] = d[i &+ 1] &- d[i] }
        }
        let minD = plan.minD
        w.varint(zigzag(minD))
        w.pack(len, width: plan.width) { UInt64(bitPattern: d[$0] &- minD) }
        if plan.exceptions > 0 {
            w.byte(UInt8(plan.exceptions))
            for i in 0..<n where map(b[i]) == nil { w.byte(UInt8(i)) }
            for i in 0..<n where map(b[i]) == nil { w.u64(b[i]) }
        }
    }

    enum BaseEncoding { case zigzag, fixed32 }

    @inline(__always)
    static func writeFOR(
        _ b: UnsafePointer<UInt64>, _ n: Int, _ w: inout RawByteWriter, _ scratch: UnsafeMutablePointer<UInt64>,
        codec: UInt8, plan: FORPlan, exponentByte: UInt8?, base: BaseEncoding, divisor: Int? = nil, _ map: (UInt64) -> UInt64?
    ) {
        // scratch[i] = packed value; exception indices collected in a fixed array on the stack.
        var excCount = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ColumnFormat.blockSize) { exc in
            for i in 0..<n {
                if let u = map(b[i]), u >= plan.lo, u <= plan.hi {
                    scratch[i] = u &- plan.lo
                } else {
                    scratch[i] = 0
                    exc[excCount] = UInt8(i)
                    excCount &+= 1
                }
            }
            w.byte(excCount > 0 ? codec | exceptionFlag : codec)
            w.byte(UInt8(plan.width))
            if let e = exponentByte { w.byte(e) }
            if let k = divisor { w.varint(UInt64(k)) }
            switch base {
            case .zigzag: w.varint(zigzag(Int64(bitPattern: plan.lo ^ signBit)))
            case .fixed32:
                let lo = UInt32(truncatingIfNeeded: plan.lo)
                w.base.storeBytes(of: lo.littleEndian, toByteOffset: w.pos, as: UInt32.self)
                w.pos &+= 4
            }
            w.pack(n, width: plan.width) { scratch[$0] }
            if excCount > 0 {
                w.byte(UInt8(excCount))
                for k in 0..<excCount { w.byte(exc[k]) }
                for k in 0..<excCount { w.u64(b[Int(exc[k])]) }
            }
        }
    }

    // MARK: Decoding

    /// A parsed block header. `packed` and `exceptions` are offsets in the reader's buffer.
    struct Block {
        var codec: UInt8 = 0
        var width: Int = 0
        var exponent: Int = 0
        var divisor: Int = 1  // mean-for
        var base: UInt64 = 0  // FOR: minimum (int/decimal as Int64 bits, float32 as mapped UInt32)
        var first: UInt64 = 0  // delta codecs: bit pattern of value 0
        var firstDelta: Int64 = 0  // dod
        var minDelta: Int64 = 0  // delta: min delta; dod: min delta-of-delta
        var packed: Int = 0
        var exceptionCount: Int = 0
        var exceptions: Int = 0  // offset of the index list; the values follow it
        var order: Int = 0  // scaled-diff: difference order; seeds: its first differences D^0_0 … D^(order−1)_0
        var seeds: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    }

    /// Parses the header of block `k` holding `n` values and skips the rest of the block.
    @inline(__always)
    static func readBlock(_ r: inout ColumnByteReader, _ k: Int, _ n: Int) throws(CodecError) -> Block {
        var blk = Block()
        let tag = try r.byte(k, "codec")
        let codec = tag & ~exceptionFlag
        blk.codec = codec
        if codec == codecRaw {
            guard tag & exceptionFlag == 0 else { throw r.error(k, "raw64 block with an exception list") }
            blk.packed = try r.take(8 * n, k, "raw values")
            blk.width = 64
            return blk
        }
        guard codec >= codecInt && codec <= codecScaled else {
            throw r.error(k, "unknown double codec \(codec) at byte \(r.pos - 1)")
        }
        let width = Int(try r.byte(k, "bit width"))
        guard width <= 64 else { throw r.error(k, "bit width \(width) > 64") }
        blk.width = width
        switch codec {
        case codecInt:
            blk.base = UInt64(bitPattern: unzigzag(try r.varint(k, "minimum")))
            blk.packed = try r.take(packedSize(n, width), k, "packed values")
        case codecMean:
            blk.exponent = Int(Int8(bitPattern: try r.byte(k, "power of two")))
            let d = try r.varint(k, "divisor")
            guard d >= 1 && d <= UInt64(maxDivisor) else { throw r.error(k, "mean-for divisor \(d) outside 1...\(maxDivisor)") }
            blk.divisor = Int(d)
            blk.base = UInt64(bitPattern: unzigzag(try r.varint(k, "minimum")))
            blk.packed = try r.take(packedSize(n, width), k, "packed values")
        case codecDecimal:
            let e = Int(try r.byte(k, "decimal exponent"))
            guard e >= 1 && e <= maxDecimalExponent else {
                throw r.error(k, "decimal exponent \(e) outside 1...\(maxDecimalExponent)")
            }
            blk.exponent = e
            blk.base = UInt64(bitPattern: unzigzag(try r.varint(k, "minimum")))
            blk.packed = try r.take(packedSize(n, width), k, "packed values")
        case codecFloat32:
            guard width <= 32 else { throw r.error(k, "float32-for bit width \(width) > 32") }
            let at = try r.take(4, k, "float32 minimum")
            blk.base = UInt64(UInt32(littleEndian: r.base.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            blk.packed = try r.take(packedSize(n, width), k, "packed values")
        case codecScaled:
            let p = Int(try r.byte(k, "difference order"))
            guard p >= 1 && p <= maxOrder else { throw r.error(k, "scaled-diff order \(p) outside 1...\(maxOrder)") }
            blk.order = p
            let e = unzigzag(try r.varint(k, "power of two"))
            guard e >= Int64(minScaledExponent) && e <= Int64(maxScaledExponent) else {
                throw r.error(k, "scaled-diff exponent \(e) outside \(minScaledExponent)...\(maxScaledExponent)")
            }
            blk.exponent = Int(e)
            let d = try r.varint(k, "divisor")
            guard d >= 1 && d <= UInt64(maxDivisor) else { throw r.error(k, "scaled-diff divisor \(d) outside 1...\(maxDivisor)") }
            blk.divisor = Int(d)
            blk.seeds.0 = UInt64(bitPattern: unzigzag(try r.varint(k, "first integer")))
            if p > 1 { blk.seeds.1 = UInt64(bitPattern: unzigzag(try r.varint(k, "first difference"))) }
            if p > 2 { blk.seeds.2 = UInt64(bitPattern: unzigzag(try r.varint(k, "first difference"))) }
            if p > 3 { blk.seeds.3 = UInt64(bitPattern: unzigzag(try r.varint(k, "first difference"))) }
            blk.base = UInt64(bitPattern: unzigzag(try r.varint(k, "minimum difference")))
            blk.packed = try r.take(packedSize(max(n - p, 0), width), k, "packed differences")
        case codecDelta:
            guard tag & exceptionFlag == 0 else { throw r.error(k, "float64-delta block with an exception list") }
            blk.first = try r.u64(k, "first value")
            blk.minDelta = unzigzag(try r.varint(k, "minimum delta"))
            blk.packed = try r.take(packedSize(max(n - 1, 0), width), k, "packed deltas")
        default:  // codecDoD
            guard tag & exceptionFlag == 0 else { throw r.error(k, "float64-dod block with an exception list") }
            blk.first = try r.u64(k, "first value")
            blk.firstDelta = unzigzag(try r.varint(k, "first delta"))
            blk.minDelta = unzigzag(try r.varint(k, "minimum delta-of-delta"))
            blk.packed = try r.take(packedSize(max(n - 2, 0), width), k, "packed delta-of-deltas")
        }
        if tag & exceptionFlag != 0 {
            let c = Int(try r.byte(k, "exception count"))
            guard c >= 1 && c <= n else { throw r.error(k, "exception count \(c) outside 1...\(n)") }
            blk.exceptionCount = c
            blk.exceptions = try r.take(9 * c, k, "exceptions")
            var prev = -1
            for j in 0..<c {
                let idx = Int(r.base.load(fromByteOffset: blk.exceptions + j, as: UInt8.self))
                guard idx > prev, idx < n else {
                    throw r.error(k, "exception index \(idx) out of order or ≥ \(n)")
                }
                prev = idx
            }
        }
        return blk
    }

    /// Where each block begins in an uncompressed column (byte offsets into `bytes`), so that
    /// repeated small decodes of one column skip the walk over earlier block headers; nil for an
    /// LZ4-compressed column. Every block header is parsed (and so checked) once here.
    package static func blockOffsets(_ bytes: UnsafeRawBufferPointer, count: Int) throws(CodecError) -> [Int32]? {
        try validateArguments(bytes, count: count, range: nil, what: "double")
        var r = ColumnByteReader(bytes, what: "double")
        let layout = try readColumnHeader(&r, kind: ColumnFormat.doubleKind, count: count)
        guard layout == ColumnFormat.layoutBlocks else { return nil }
        let blocks = ColumnFormat.blockCount(count)
        var out = [Int32]()
        out.reserveCapacity(blocks)
        for k in 0..<blocks {
            out.append(Int32(r.pos))
            _ = try readBlock(&r, k, min(ColumnFormat.blockSize, count - (k << ColumnFormat.blockShift)))
        }
        return out
    }

    /// `decode` starting from block offsets found by `blockOffsets` for the same bytes and count.
    /// Offsets from other bytes are caught by the block header checks, never trusted blindly.
    package static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Double>, blockOffsets: [Int32]
    ) throws(CodecError) {
        try validateArguments(bytes, count: count, range: range, what: "double")
        if range.isEmpty { return }
        let blocks = ColumnFormat.blockCount(count)
        guard blockOffsets.count == blocks else { throw CodecError("double column: \(blockOffsets.count) block offsets for \(blocks) blocks") }
        try decodeFrom(bytes, count: count, range: range, into: dst, start: Int(blockOffsets[range.lowerBound >> ColumnFormat.blockShift]))
    }

    /// `decode` starting at `start`, the offset (found by `blockOffsets` for the same bytes and
    /// count) of the block that holds `range.lowerBound`: one offset rather than the array, for
    /// readers that keep the offsets of many columns in one flat array. Checked like `decode`.
    package static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Double>, blockAt start: Int
    ) throws(CodecError) {
        try validateArguments(bytes, count: count, range: range, what: "double")
        if range.isEmpty { return }
        try decodeFrom(bytes, count: count, range: range, into: dst, start: start)
    }

    private static func decodeFrom(
        _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Double>, start: Int
    ) throws(CodecError) {
        let out = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt64.self)
        var r = ColumnByteReader(bytes, what: "double")
        let k0 = range.lowerBound >> ColumnFormat.blockShift
        guard start >= 0 && start < bytes.count else { throw CodecError("double column: block offset \(start) outside the column") }
        r.pos = start
        let base = r.base, end = r.end
        try withScratch { (s, s32) throws(CodecError) in
            // `read` is a closure literal: passed as `readBlock`, it became a thunk called per block.
            _ = try forEachBlock(
                &r, count: count, range: range, from: k0,
                read: { (r: inout ColumnByteReader, k: Int, n: Int) throws(CodecError) in try readBlock(&r, k, n) }
            ) { b, lo, hi, at in
                let blockStart = at &+ range.lowerBound &- lo
                decodeBlock(base, end, b, min(ColumnFormat.blockSize, count &- blockStart), lo, hi, out + at, s, s32)
            }
        }
    }

    /// Decodes the values with indices in `range` (a sub-range of 0..<count) into dst[0..<range.count].
    /// Cost is O(range.count + blocks), or O(count) for an LZ4-compressed column.
    package static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Double>
    ) throws(CodecError) {
        let out = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt64.self)
        try decodeColumn(bytes, count: count, range: range, kind: ColumnFormat.doubleKind, what: "double", lz4What: "double lz4") {
            (r) throws(CodecError) in try decodeBlocks(&r, count: count, range: range, out)
        }
    }

    static func decodeBlocks(
        _ r: inout ColumnByteReader, count: Int, range: Range<Int>, _ dst: UnsafeMutablePointer<UInt64>
    ) throws(CodecError) {
        let base = r.base, end = r.end
        let all = try withScratch { (s, s32) throws(CodecError) -> Bool in
            try forEachBlock(
                &r, count: count, range: range, read: { (r: inout ColumnByteReader, k: Int, n: Int) throws(CodecError) in try readBlock(&r, k, n) }
            ) { b, lo, hi, at in
                let blockStart = at &+ range.lowerBound &- lo
                decodeBlock(base, end, b, min(ColumnFormat.blockSize, count &- blockStart), lo, hi, dst + at, s, s32)
            }
        }
        if all { try r.expectEnd(count: count) }
    }

    /// Runs `body` with stack scratch for one block's unpacked values, as UInt64 and as UInt32.
    @inline(__always)
    static func withScratch<R>(
        _ body: (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt32>) throws(CodecError) -> R
    ) throws(CodecError) -> R {
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: unpackScratchSize) { (b64) throws(CodecError) -> R in
            try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: unpackScratchSize) { (b32) throws(CodecError) -> R in
                try body(b64.baseAddress!, b32.baseAddress!)
            }
        }
    }

    /// Decodes values lo..<hi of a parsed (and so bounds-checked) block of `n` values into
    /// out[0..<hi-lo]; `s` and `s32` are scratch for `unpackScratchSize` values. The whole block is unpacked
    /// at once (`unpackAll`), then mapped in a branch-free loop the compiler can vectorise, or
    /// prefix-summed (the delta codecs). A whole block of a codec whose mapping does not vectorise
    /// (int-for's Int64 → Double, the delta codecs' prefix sums) is unpacked straight into a sink
    /// that maps as it stores (`IntSink`, `DeltaSink`, `DoDSink`): one pass, no scratch.
    @inline(__always)
    static func decodeBlock(
        _ base: UnsafeRawPointer, _ end: Int, _ b: Block, _ n: Int, _ lo: Int, _ hi: Int, _ out: UnsafeMutablePointer<UInt64>,
        _ s: UnsafeMutablePointer<UInt64>, _ s32: UnsafeMutablePointer<UInt32>
    ) {
        let p = base + b.packed
        let avail = end - b.packed
        switch b.codec {
        case codecRaw:
            let src = p + lo &* 8
            for i in 0..<(hi &- lo) {
                out[i] = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
            }
        case codecInt:
            // Int64 → Double does not vectorise (SSE2 has no such conversion): a whole block is
            // unpacked and converted in one width-specialised pass; part of a block via scratch.
            var sink = IntSink(out: out, base: Int64(bitPattern: b.base))
            if lo == 0 && hi == n {
                unpackAll(p, avail: avail, width: b.width, n: n, into: &sink)
            } else {
                unpackAll(p, avail: avail, width: b.width, n: n, into: s)
                for i in lo..<hi { out[i &- lo] = sink.value(s[i]) }
            }
        case codecDecimal:
            unpackAll(p, avail: avail, width: b.width, n: n, into: s)
            let m = Int64(bitPattern: b.base)
            let p10 = pow10[b.exponent]
            if let c = magicBase(m, width: b.width) {
                // Every integer of the block is below 2^51 in magnitude: converted two at a time.
                for i in lo..<hi { out[i &- lo] = ((Double(bitPattern: c &+ s[i]) - magic) / p10).bitPattern }
            } else {
                for i in lo..<hi { out[i &- lo] = (Double(m &+ Int64(bitPattern: s[i])) / p10).bitPattern }
            }
        case codecMean:
            unpackAll(p, avail: avail, width: b.width, n: n, into: s)
            let m = Int64(bitPattern: b.base)
            let q = Double(sign: .plus, exponent: b.exponent, significand: 1), k = Double(b.divisor)
            if let c = magicBase(m, width: b.width) {
                for i in lo..<hi { out[i &- lo] = (((Double(bitPattern: c &+ s[i]) - magic) * q) / k).bitPattern }
            } else {
                for i in lo..<hi { out[i &- lo] = ((Double(m &+ Int64(bitPattern: s[i])) * q) / k).bitPattern }
            }
        case codecFloat32:
            // Width ≤ 32 (checked by readBlock): unpacked as UInt32, four to a vector register.
            unpackAll(p, avail: avail, width: b.width, n: n, into: s32)
            let m = UInt32(truncatingIfNeeded: b.base)
            let top = UInt64(m) &+ ((1 &<< UInt64(b.width)) &- 1)  // the largest mapped value the block can hold
            if m >= 0x8000_0000 && top <= 0xFFFF_FFFF {
                // Every value is a positive float (m + u never leaves 2^31...2^32 − 1): unmap32 is
                // x − 2^31, so the float's bits are (m − 2^31) + u, one vector add.
                float32Run(s32 + lo, hi &- lo, out, negative: false, m &- 0x8000_0000)
            } else if top <= 0x7FFF_FFFF {
                // Every value is a negative float (m + u ≤ 2^31 − 1): unmap32 is ~x = ~m − u.
                float32Run(s32 + lo, hi &- lo, out, negative: true, ~m)
            } else {
                for i in lo..<hi {
                    let f = Float(bitPattern: unmap32(m &+ s32[i]))
                    out[i &- lo] = Double(f).bitPattern
                }
            }
        case codecDelta:
            // m(i) = m(0) + Σ_{j<i} (minDelta + packed[j]); packed[j] is delta j+1.
            if lo == 0 && hi == n {
                // A whole block: unpacked and summed in one pass (no scratch).
                out[0] = b.first
                var sink = DeltaSink(out: out + 1, x: map64(b.first), md: UInt64(bitPattern: b.minDelta))
                unpackAll(p, avail: avail, width: b.width, n: n &- 1, into: &sink)
                break
            }
            unpackAll(p, avail: avail, width: b.width, n: max(n &- 1, 0), into: s)
            let md = UInt64(bitPattern: b.minDelta)
            var x = map64(b.first)
            if lo == 0 { out[0] = b.first }
            let skip = max(lo &- 1, 0)  // deltas summed without writing
            var j = 0
            while j < skip {
                x = x &+ (md &+ s[j])
                j &+= 1
            }
            let o = out + (1 &- lo)
            while j < hi &- 1 {
                x = x &+ (md &+ s[j])
                o[j] = unmap64(x)
                j &+= 1
            }
        case codecDoD:
            // m(1) = m(0) + d1; d(i) = d(i−1) + minDoD + packed[i−2]; m(i) = m(i−1) + d(i)
            if lo == 0 && hi == n && n >= 2 {
                // A whole block: unpacked and summed in one pass (no scratch).
                let x1 = map64(b.first) &+ UInt64(bitPattern: b.firstDelta)
                out[0] = b.first
                out[1] = unmap64(x1)
                var sink = DoDSink(out: out + 2, x: x1, d: UInt64(bitPattern: b.firstDelta), md: UInt64(bitPattern: b.minDelta))
                unpackAll(p, avail: avail, width: b.width, n: n &- 2, into: &sink)
                break
            }
            unpackAll(p, avail: avail, width: b.width, n: max(n &- 2, 0), into: s)
            var x = map64(b.first)
            var d = UInt64(bitPattern: b.firstDelta)
            let md = UInt64(bitPattern: b.minDelta)
            if lo == 0 { out[0] = b.first }
            if hi > 1 {
                x = x &+ d
                if lo <= 1 { out[1 &- lo] = unmap64(x) }
            }
            let skip = max(lo &- 2, 0)  // dd values consumed without writing
            var j = 0
            while j < skip {
                d = d &+ (md &+ s[j])
                x = x &+ d
                j &+= 1
            }
            let o = out + (2 &- lo)
            while j < hi &- 2 {
                d = d &+ (md &+ s[j])
                x = x &+ d
                o[j] = unmap64(x)
                j &+= 1
            }
        case codecScaled:
            // n(i) from the differences: the state c_j = D^j at index i advances by c_j += c_(j+1),
            // c_(order−1) += minimum + packed[i]. Differences past the packed ones never reach an
            // output (D^order_i only reaches n(i + order)), so their slots are zeroed.
            let m = max(n &- b.order, 0)
            unpackAll(p, avail: avail, width: b.width, n: m, into: s)
            var j = m
            while j < hi {
                s[j] = 0
                j &+= 1
            }
            scaledRun(b, lo: lo, hi: hi, s, out)
        default:
            break  // unreachable: readBlock rejects other codecs
        }
        if b.exceptionCount > 0 {
            let idx = base + b.exceptions
            let vals = idx + b.exceptionCount
            for j in 0..<b.exceptionCount {
                let i = Int(idx.load(fromByteOffset: j, as: UInt8.self))
                if i >= lo && i < hi {
                    out[i - lo] = UInt64(littleEndian: vals.loadUnaligned(fromByteOffset: j * 8, as: UInt64.self))
                }
            }
        }
    }

    /// float32-for values of a block whose mapped values all have one sign: out[i] is the bit
    /// pattern of Double(Float(bitPattern: c + u[i])), or of c − u[i] when `negative`. Eight values
    /// a step in SIMD registers (add, widen two floats to two doubles per instruction), then
    /// one at a time.
    @inline(__always)
    static func float32Run(_ u: UnsafePointer<UInt32>, _ n: Int, _ out: UnsafeMutablePointer<UInt64>, negative: Bool, _ c: UInt32) {
        let src = UnsafeRawPointer(u), dst = UnsafeMutableRawPointer(out)
        let cv = SIMD4<UInt32>(repeating: c)
        @inline(__always) func bits(_ x: SIMD4<UInt32>) -> SIMD4<Double> {
            SIMD4<Double>(unsafeBitCast(negative ? cv &- x : cv &+ x, to: SIMD4<Float>.self))
        }
        var i = 0
        while i &+ 8 <= n {
            let a = src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<UInt32>.self)
            let b = src.loadUnaligned(fromByteOffset: i &* 4 &+ 16, as: SIMD4<UInt32>.self)
            dst.storeBytes(of: bits(a), toByteOffset: i &* 8, as: SIMD4<Double>.self)
            dst.storeBytes(of: bits(b), toByteOffset: i &* 8 &+ 32, as: SIMD4<Double>.self)
            i &+= 8
        }
        while i < n {
            out[i] = Double(Float(bitPattern: negative ? c &- u[i] : c &+ u[i])).bitPattern
            i &+= 1
        }
    }

    /// 2^52 + 2^51, and its bit pattern: for an integer |v| < 2^51, the Double whose bit pattern
    /// is magicBits + v is exactly magic + v, so Double(bitPattern: magicBits &+ v) − magic is
    /// Double(v) exactly, with an integer add and a subtraction that SSE2 does two at a time (it
    /// has no Int64 → Double conversion).
    static let magic: Double = 6_755_399_441_055_744.0
    static let magicBits: UInt64 = 0x4338_0000_0000_0000

    /// The base c such that Double(bitPattern: c &+ u) − magic == Double(m + u) for every packed
    /// u < 2^width, when every such m + u lies strictly between −2^51 and 2^51; nil otherwise.
    @inline(__always) static func magicBase(_ m: Int64, width: Int) -> UInt64? {
        let limit: Int64 = 1 << 51
        // m < 2^51 and width ≤ 50 keep m + 2^width − 1 from overflowing.
        guard width <= 50, m > -limit, m < limit, m &+ ((1 &<< Int64(width)) &- 1) < limit else { return nil }
        return magicBits &+ UInt64(bitPattern: m)
    }

    /// Values lo..<hi of a scaled-diff block whose differences (minus the minimum) are s[0..<hi].
    /// With k = 1 the division is left out (dividing by 1.0 is exact, so the bits are the same).
    @inline(__always)
    static func scaledRun(_ b: Block, lo: Int, hi: Int, _ s: UnsafeMutablePointer<UInt64>, _ out: UnsafeMutablePointer<UInt64>) {
        let q = pow2(b.exponent), k = Double(b.divisor)
        if b.divisor == 1 {
            scaledRun(b, lo: lo, hi: hi, s, out) { (Double(Int64(bitPattern: $0)) * q).bitPattern }
        } else {
            scaledRun(b, lo: lo, hi: hi, s, out) { scaledValue($0, q, k) }
        }
    }

    @inline(__always)
    static func scaledRun(
        _ b: Block, lo: Int, hi: Int, _ s: UnsafeMutablePointer<UInt64>, _ out: UnsafeMutablePointer<UInt64>, _ value: (UInt64) -> UInt64
    ) {
        let md = b.base
        var (c0, c1, c2, c3) = b.seeds
        let o = out - lo
        switch b.order {
        case 1:
            for i in 0..<hi {
                if i >= lo { o[i] = value(c0) }
                c0 = c0 &+ (md &+ s[i])
            }
        case 2:
            for i in 0..<hi {
                if i >= lo { o[i] = value(c0) }
                c0 = c0 &+ c1
                c1 = c1 &+ (md &+ s[i])
            }
        case 3:
            for i in 0..<hi {
                if i >= lo { o[i] = value(c0) }
                c0 = c0 &+ c1
                c1 = c1 &+ c2
                c2 = c2 &+ (md &+ s[i])
            }
        default:
            for i in 0..<hi {
                if i >= lo { o[i] = value(c0) }
                c0 = c0 &+ c1
                c1 = c1 &+ c2
                c2 = c2 &+ c3
                c3 = c3 &+ (md &+ s[i])
            }
        }
    }

    /// int-for's mapping from a packed integer to the value's bit pattern (`value`), stored at
    /// out[i] by `put`: unpacking into this sink fuses the two.
    struct IntSink: UnpackSink {
        let out: UnsafeMutablePointer<UInt64>
        let base: Int64
        @inline(__always) func value(_ u: UInt64) -> UInt64 { Double(base &+ Int64(bitPattern: u)).bitPattern }
        @inline(__always) func put(_ i: Int, _ u: UInt64) { out[i] = value(u) }
    }

    /// float64-delta over a whole block: packed value i is delta i+1; out[i] is value i+1.
    struct DeltaSink: UnpackSink {
        let out: UnsafeMutablePointer<UInt64>
        var x: UInt64
        let md: UInt64
        @inline(__always) mutating func put(_ i: Int, _ u: UInt64) {
            x = x &+ (md &+ u)
            out[i] = unmap64(x)
        }
    }

    /// float64-dod over a whole block: packed value i is delta-of-delta i+2; out[i] is value i+2.
    struct DoDSink: UnpackSink {
        let out: UnsafeMutablePointer<UInt64>
        var x: UInt64
        var d: UInt64
        let md: UInt64
        @inline(__always) mutating func put(_ i: Int, _ u: UInt64) {
            d = d &+ (md &+ u)
            x = x &+ d
            out[i] = unmap64(x)
        }
    }

    /// Per-codec byte accounting of an encoded column. The entries' bytes add up to `bytes.count`
    /// (the column header is counted in the first entry).
    package static func describe(_ bytes: UnsafeRawBufferPointer, count: Int) throws(CodecError) -> [CodecUsage] {
        try describeColumn(
            bytes, count: count, kind: ColumnFormat.doubleKind, what: "double", lz4What: "double lz4", read: readBlock,
            name: { name($0.codec) })
    }
}

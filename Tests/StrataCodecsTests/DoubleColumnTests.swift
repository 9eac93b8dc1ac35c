import Foundation
import Testing

@testable import StrataCodecs

@Suite struct DoubleColumnTests {
    @discardableResult
    func roundTrip(_ values: [Double], seed: UInt64, _ label: String) throws -> [UInt8] {
        let bytes = encodeDouble(values)
        #expect(encodeDouble(values) == bytes, "\(label): encoding is not deterministic")
        let full = try decodeDouble(bytes, count: values.count)
        #expect(bitsEqual(full, values), "\(label): \(firstDifference(values, full)) (seed \(seed))")
        var rng = SeededRNG(seed: seed)
        for r in interestingRanges(count: values.count, rng: &rng) {
            let part = try decodeDouble(bytes, count: values.count, range: r)
            let expected = Array(values[r])
            #expect(bitsEqual(part, expected), "\(label): range \(r): \(firstDifference(expected, part)) (seed \(seed))")
        }
        let usage = try describeDouble(bytes, count: values.count)
        #expect(usage.reduce(0) { $0 + $1.bytes } == bytes.count, "\(label): describe bytes \(usage) vs \(bytes.count)")
        #expect(usage.reduce(0) { $0 + $1.values } == values.count, "\(label): describe values \(usage)")
        return bytes
    }

    func usage(_ bytes: [UInt8], _ count: Int) throws -> [String: Int] {
        var m: [String: Int] = [:]
        for u in try describeDouble(bytes, count: count) { m[u.codec, default: 0] += u.values }
        return m
    }

    static let specials: [Double] = [
        0.0, -0.0, 1.0, -1.0, .infinity, -.infinity, .nan, -.nan,
        Double(bitPattern: 0x7FF0_0000_0000_0001),  // signalling NaN, payload 1
        Double(bitPattern: 0xFFF8_DEAD_BEEF_0001),  // negative quiet NaN with payload
        Double(bitPattern: 0x7FF4_0000_0000_0000),
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
        Double(bitPattern: 0x000F_FFFF_FFFF_FFFF),  // largest subnormal
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne, .pi,
        9_223_372_036_854_775_808.0, -9_223_372_036_854_775_808.0, 9_223_372_036_854_774_784.0,
        4_503_599_627_370_496.0, 0.1, 1e-300, 1e300, 151_234.7, -0.5,
        Double(Float.leastNonzeroMagnitude), Double(Float.greatestFiniteMagnitude), Double(Float.nan)
    ]

    @Test func emptyAndSingle() throws {
        #expect(try roundTrip([], seed: 1, "empty").count == 3)
        for v in Self.specials { try roundTrip([v], seed: 1, "single \(v.bitPattern)") }
    }

    @Test func specialValuesInEveryCodecContext() throws {
        let seed = testSeed(11)
        var rng = SeededRNG(seed: seed)
        // A special value inside a block of each kind of data, at every position class.
        let w = Workload(steps: 512, seed: seed)
        let contexts: [(String, [Double])] = [
            ("int", w.gpuUtil), ("decimal", w.tokensPerSec), ("float32", w.trainLoss), ("lr", w.lr),
            ("constant", [Double](repeating: 3.5, count: 512))
        ]
        for (name, base) in contexts {
            for special in Self.specials {
                var v = base
                for pos in [0, 1, 2, 64, 127, 128, 300, 511] { v[pos] = special }
                try roundTrip(v, seed: seed, "\(name) with \(special.bitPattern)")
            }
            var v = base
            for i in 0..<v.count where Int.random(in: 0..<10, using: &rng) == 0 {
                v[i] = Self.specials.randomElement(using: &rng)!
            }
            try roundTrip(v, seed: seed, "\(name) with 10% specials")
        }
    }

    @Test func allSpecialsAndRandomBits() throws {
        let seed = testSeed(12)
        var rng = SeededRNG(seed: seed)
        try roundTrip(Self.specials, seed: seed, "specials")
        try roundTrip((0..<3000).map { _ in Self.specials.randomElement(using: &rng)! }, seed: seed, "random specials")
        try roundTrip((0..<3000).map { _ in Double(bitPattern: rng.next()) }, seed: seed, "random bit patterns")
        try roundTrip(
            (0..<1000).map { $0 % 2 == 0 ? Double.greatestFiniteMagnitude : -Double.greatestFiniteMagnitude },
            seed: seed, "alternating extremes")
        try roundTrip((0..<1000).map { $0 % 2 == 0 ? Double.nan : -0.0 }, seed: seed, "NaN and -0.0")
        try roundTrip((0..<1000).map { $0 % 2 == 0 ? 0.0 : -0.0 }, seed: seed, "0.0 and -0.0")
        let subnormals = (0..<1000).map { _ in Double(bitPattern: rng.next() & 0x800F_FFFF_FFFF_FFFF) }
        try roundTrip(subnormals, seed: seed, "subnormals")
        try roundTrip((0..<1000).map { Double($0) * .leastNonzeroMagnitude }, seed: seed, "smooth subnormals")
        try roundTrip(
            (0..<1000).map { _ in Double(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) },
            seed: seed, "random float32 bit patterns")
    }

    @Test func integerValued() throws {
        let seed = testSeed(13)
        var rng = SeededRNG(seed: seed)
        let util = Workload(steps: 4096, seed: seed).gpuUtil
        let b = try roundTrip(util, seed: seed, "gpu util")
        #expect(try usage(b, util.count) == ["int-for": util.count])
        #expect(Double(b.count) / Double(util.count) < 0.75, "gpu util: \(Double(b.count) / 4096) bytes/value")
        let big = (0..<1000).map { _ in Double(Int64.random(in: Int64.min...Int64.max, using: &rng) >> 11) }
        try roundTrip(big, seed: seed, "53-bit integers")
        let huge = (0..<1000).map { _ in Double(Int64.random(in: Int64.min...Int64.max, using: &rng)) }
        try roundTrip(huge, seed: seed, "64-bit-range integers")
        try roundTrip(
            (0..<1000).map { $0 % 2 == 0 ? -9_223_372_036_854_775_808.0 : 9_223_372_036_854_774_784.0 },
            seed: seed, "Int64 range edges")
    }

    @Test func decimals() throws {
        let seed = testSeed(14)
        var rng = SeededRNG(seed: seed)
        let tps = Workload(steps: 4096, seed: seed).tokensPerSec
        let b = try roundTrip(tps, seed: seed, "tokens/s")
        #expect(try usage(b, tps.count) == ["decimal": tps.count])
        #expect(Double(b.count) / Double(tps.count) < 2.2, "tokens/s: \(Double(b.count) / 4096) bytes/value")
        for digits in 1...8 {
            let p = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8][digits]
            let v = (0..<700).map { _ in Double(Int64.random(in: -5_000_000...5_000_000, using: &rng)) / p }
            let bytes = try roundTrip(v, seed: seed, "\(digits) decimal digits")
            if digits <= 6 { #expect(try usage(bytes, v.count)["decimal"] == v.count, "\(digits) digits") }
        }
        // Prices with a NaN and a -0.0 among them: exceptions, still decimal.
        var prices = (0..<512).map { _ in Double(Int64.random(in: 100...99_999, using: &rng)) / 100 }
        prices[5] = .nan
        prices[200] = -0.0
        let pb = try roundTrip(prices, seed: seed, "prices with NaN")
        #expect(try usage(pb, prices.count)["decimal"] == prices.count)
    }

    @Test func float32Origin() throws {
        let seed = testSeed(15)
        let w = Workload(steps: 4096, seed: seed)
        let b = try roundTrip(w.trainLoss, seed: seed, "train loss")
        #expect(try usage(b, 4096)["float32-for", default: 0] >= 4096 - 128)
        #expect(Double(b.count) / 4096 < 2.9, "train loss: \(Double(b.count) / 4096) bytes/value")
        let g = try roundTrip(w.gradNorm, seed: seed, "grad norm")
        #expect(try usage(g, 4096)["float32-for", default: 0] >= 4096 - 128)
        try roundTrip(w.valLoss, seed: seed, "val loss")
        try roundTrip(w.valAccuracy, seed: seed, "val accuracy")
    }

    @Test func smoothFloat64() throws {
        let seed = testSeed(16)
        let lr = Workload(steps: 4096, seed: seed).lr
        let b = try roundTrip(lr, seed: seed, "cosine lr")
        let u = try usage(b, lr.count)
        #expect((u["float64-dod", default: 0] + u["float64-delta", default: 0] + u["scaled-diff", default: 0]) >= lr.count - 256, "\(u)")
        #expect(Double(b.count) / Double(lr.count) < 3.0, "lr: \(Double(b.count) / 4096) bytes/value")
        // A smooth series crossing zero (order-preserving map) and a sine.
        let throughZero: [Double] = (0..<2000).map { (i: Int) -> Double in
            let x = Double(i - 1000)
            return x * 1e-3 + 1e-9 * x * x
        }
        try roundTrip(throughZero, seed: seed, "through zero")
        try roundTrip((0..<2000).map { (Double($0) * 0.01).squareRoot() * 0.123456789 }, seed: seed, "sqrt")
    }

    /// An epoch's loss: the mean of k float32 batch losses, summed in float64. mean-for stores the
    /// sum's significant bits (not the 52 of the quotient); specials and values that are not such
    /// means (NaN, ±Inf, −0.0, subnormals, random bits) round-trip as exceptions or other codecs.
    @Test(arguments: [390, 97, 1, 2048])
    func meansOfFloat32Values(batches: Int) throws {
        let seed = testSeed(17)
        var rng = SeededRNG(seed: seed)
        let means: [Double] = (0..<300).map { epoch in
            let level = 2.3 * exp(-Double(epoch) / 60) + 0.05
            var sum = 0.0
            for _ in 0..<batches { sum += Double(Float(level * Double.random(in: 0.9...1.1, using: &rng))) }
            return sum / Double(batches)
        }
        let b = try roundTrip(means, seed: seed, "means of \(batches)")
        let u = try usage(b, means.count)
        if batches > 1 {
            // mean-for's integers, framed over the block or (scaled-diff) by their differences.
            #expect(u["mean-for", default: 0] + u["scaled-diff", default: 0] >= means.count - 128, "\(batches): \(u)")
            #expect(Double(b.count) / Double(means.count) < 5.0, "means of \(batches): \(Double(b.count) / Double(means.count)) bytes/value")
        }
        for special in Self.specials {
            var v = means
            for pos in [0, 1, 2, 64, 127, 128, 200, 299] { v[pos] = special }
            try roundTrip(v, seed: seed, "means of \(batches) with \(special.bitPattern)")
        }
        var v = means
        for i in 0..<v.count where Int.random(in: 0..<8, using: &rng) == 0 {
            v[i] = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
        }
        try roundTrip(v, seed: seed, "means of \(batches) with random bits")
    }

    /// Hostile mean-for blocks: a divisor of 0 or above 65,535, and every power of two, are errors or decode.
    @Test func meanForHeaderIsChecked() throws {
        // Column: 'D', blocks, count 1; block: codec 7, w 0, e, varint k, svarint min 1.
        for (e, k): (UInt8, [UInt8]) in [(0, [0]), (0, [0x80, 0x80, 0x04]), (0x80, [1]), (0x7F, [3]), (0xC0, [0xFF, 0xFF, 0x03])] {
            let bytes: [UInt8] = [0x44, 0x00, 0x01, 0x07, 0x00, e] + k + [0x02]
            let kv = k.enumerated().reduce(0) { $0 | (Int($1.element & 0x7F) << (7 * $1.offset)) }
            if kv == 0 || kv > 65_535 {
                #expect(throws: CodecError.self) { try decodeDouble(bytes, count: 1) }
            } else {
                let v = try decodeDouble(bytes, count: 1)
                let q = Double(sign: .plus, exponent: Int(Int8(bitPattern: e)), significand: 1)
                #expect(v[0].bitPattern == ((1.0 * q) / Double(kv)).bitPattern)
            }
        }
    }

    @Test func rareSpikesBecomeExceptions() throws {
        let seed = testSeed(17)
        var rng = SeededRNG(seed: seed)
        var v = (0..<128).map { _ in Double(Int64.random(in: 90...100, using: &rng)) }
        v[17] = 0
        v[99] = 10_000
        let b = try roundTrip(v, seed: seed, "int with two outliers")
        // 4-bit frame + 2 exceptions beats a 14-bit frame.
        // 4 column header + 4 block header (codec, width, 2-byte base) + 64 packed + 1 + 2 + 16 exception bytes.
        let limit = 91
        #expect(b.count <= limit, "\(b.count) bytes")
    }

    @Test func rawFallbackAndLZ4() throws {
        let seed = testSeed(18)
        var rng = SeededRNG(seed: seed)
        // Random bits: raw64, no LZ4.
        let random = (0..<1000).map { _ in Double(bitPattern: rng.next()) }
        let rb = try roundTrip(random, seed: seed, "random")
        #expect(try usage(rb, 1000) == ["raw64": 1000])
        // A repeating pattern of random doubles: LZ4 wins by far.
        let pattern = (0..<50).map { _ in Double(bitPattern: rng.next()) }
        let repeated = (0..<4000).map { pattern[$0 % 50] }
        let lb = try roundTrip(repeated, seed: seed, "repeating pattern")
        #expect(lb[1] & 0x80 != 0, "LZ4 flag not set")
        #expect(try describeDouble(lb, count: 4000).allSatisfy { $0.codec.hasPrefix("lz4+") })
        #expect(lb.count < 4000, "\(lb.count) bytes")
        let ints = (0..<4000).map { Int64(bitPattern: pattern[$0 % 50].bitPattern) }
        let ib = encodeInt64(ints)
        #expect(ib[1] & 0x80 != 0)
        #expect(try decodeInt64(ib, count: 4000, range: 1234..<3210) == Array(ints[1234..<3210]))
    }

    @Test func everySizeUpTo300() throws {
        let seed = testSeed(19)
        let w = Workload(steps: 300, seed: seed)
        for n in 0...300 {
            try roundTrip(Array(w.lr[0..<n]), seed: seed, "lr prefix \(n)")
            try roundTrip(Array(w.trainLoss[0..<n]), seed: seed, "loss prefix \(n)")
        }
    }

    @Test func fullSizeColumn() throws {
        let w = Workload(steps: ColumnLimits.maxValues, seed: testSeed(20))
        for (name, v) in [("loss", w.trainLoss), ("lr", w.lr), ("tps", w.tokensPerSec), ("util", w.gpuUtil)] {
            try roundTrip(v, seed: 20, "65536 \(name)")
        }
    }
}

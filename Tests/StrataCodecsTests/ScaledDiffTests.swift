import Foundation
import Testing

@testable import StrataCodecs

/// scaled-diff (double codec 8): full-precision series as integers times a power of two (over a
/// divisor), coded by their differences of order 1…4.
@Suite struct ScaledDiffTests {
    let d = DoubleColumnTests()

    /// A cosine learning-rate schedule with linear warm-up, as the workloads log it.
    static func cosine(_ count: Int, peak: Double = 3e-4, floor: Double = 0.1) -> [Double] {
        let warm = max(1, count / 50)
        return (0..<count).map { i in
            let s = Double(i)
            let progress = min(max((s - Double(warm)) / Double(max(1, count - warm)), 0), 1)
            return i < warm ? peak * (s + 1) / Double(warm) : peak * (floor + (1 - floor) * 0.5 * (1.0 + cos(Double.pi * progress)))
        }
    }

    @Test func chosenForCosineSchedules() throws {
        let seed = testSeed(2801)
        for count in [4000, 20_000] {
            let lr = Self.cosine(count)
            let b = try d.roundTrip(lr, seed: seed, "cosine \(count)")
            let u = try d.usage(b, count)
            // All but a few blocks (the warm-up ramp, where float64-delta can be as small).
            #expect(u["scaled-diff", default: 0] >= count - count / 20, "\(count): \(u)")
            // float64-dod took 3.9 bytes a value on the sweep's 4,000-step schedules.
            #expect(Double(b.count) / Double(count) < 2.0, "cosine \(count): \(Double(b.count) / Double(count)) bytes/value")
        }
        // A schedule decaying to zero over 100 epochs (spans many binades at its end) and a
        // constant one still round-trip.
        try d.roundTrip((0..<100).map { 0.01 * 0.5 * (1 + cos(Double.pi * Double($0) / 100)) }, seed: seed, "to zero")
        try d.roundTrip([Double](repeating: 0.1 * Double.pi, count: 100), seed: seed, "constant")
    }

    /// Epoch means of float32 batch losses with a trend: the integers of mean-for (k > 1), coded by
    /// their differences, beat mean-for's frame over the whole block.
    @Test func chosenForEpochMeans() throws {
        let seed = testSeed(2802)
        var rng = SeededRNG(seed: seed)
        let means: [Double] = (0..<256).map { epoch in
            let level = 2.3 * exp(-Double(epoch) / 20) + 0.05
            var sum = 0.0
            for _ in 0..<390 { sum += Double(Float(level * exp(rng.normal() * 0.05))) }
            return sum / 390
        }
        let b = try d.roundTrip(means, seed: seed, "epoch means")
        let u = try d.usage(b, means.count)
        #expect(u["scaled-diff", default: 0] >= 128, "\(u)")
        #expect(u["scaled-diff", default: 0] + u["mean-for", default: 0] == means.count, "\(u)")
        // The running mean of noisy float64 values round-trips whatever it is stored as.
        var sum = 0.0
        let running = (1...1000).map { i -> Double in
            sum += 1 + rng.normal() * 0.1
            return sum / Double(i)
        }
        try d.roundTrip(running, seed: seed, "running mean")
    }

    /// Every block length 1…300 of full-precision series, with specials (exceptions) mixed in at
    /// block edges, bit-exact, whole and by range.
    @Test func everyLengthWithSpecials() throws {
        let seed = testSeed(2803)
        var rng = SeededRNG(seed: seed)
        let lr = Self.cosine(300)
        var walk = 0.3
        let randomWalk = (0..<300).map { _ in
            walk += rng.normal() * 1e-3
            return walk
        }
        for n in 1...300 {
            try d.roundTrip(Array(lr[0..<n]), seed: seed, "cosine prefix \(n)")
            try d.roundTrip(Array(randomWalk[0..<n]), seed: seed, "walk prefix \(n)")
            if n % 7 == 0 || n <= 5 || (n >= 126 && n <= 130) {
                for special in DoubleColumnTests.specials {
                    var v = Array(lr[0..<n])
                    for pos in [0, 1, 2, 3, n / 2, 126, 127, n - 1] where pos < n { v[pos] = special }
                    try d.roundTrip(v, seed: seed, "cosine prefix \(n) with \(special.bitPattern)")
                }
            }
        }
    }

    @Test func adversarialBlocks() throws {
        let seed = testSeed(2804)
        var rng = SeededRNG(seed: seed)
        let lr = Self.cosine(512)
        // Specials at random places, up to about half the values (beyond the exception limit).
        for rate in [1, 5, 20, 40, 60] {
            var v = lr
            for i in v.indices where Int.random(in: 0..<100, using: &rng) < rate {
                v[i] = DoubleColumnTests.specials.randomElement(using: &rng)!
            }
            try d.roundTrip(v, seed: seed, "cosine with \(rate)% specials")
        }
        // Subnormals: a smooth series of them, and one among normal values.
        let sub = (0..<256).map { (i: Int) -> Double in Double(bitPattern: UInt64(1_000_000 + 3 * i * i + i)) }
        try d.roundTrip(sub, seed: seed, "smooth subnormals")
        var mixed = lr
        mixed[10] = .leastNonzeroMagnitude
        mixed[300] = Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)
        try d.roundTrip(mixed, seed: seed, "subnormals among normals")
        // Values spanning the whole exponent range, alternating signs, around zero.
        let scales = (0..<256).map { (i: Int) -> Double in
            let sign: Double = i % 2 == 0 ? 1 : -1
            return sign * pow(10, Double(i % 600) - 300) * 1.2345678901234
        }
        try d.roundTrip(scales, seed: seed, "all scales")
        try d.roundTrip((0..<256).map { i in (Double(i) - 127.5) * 1e-3 + 1e-9 * sin(Double(i)) }, seed: seed, "through zero")
        // Exactly the largest and smallest magnitudes the integer range allows.
        try d.roundTrip((0..<128).map { i in Double(1 << 61) + Double(i) * 4096 }, seed: seed, "near 2^61")
        try d.roundTrip((0..<128).map { i in (1 + Double(i) * 0x1p-52) * 0x1p-1000 }, seed: seed, "tiny normals")
        // All equal, and equal but for the last bit.
        try d.roundTrip([Double](repeating: 1 / 3, count: 128), seed: seed, "all equal")
        try d.roundTrip((0..<128).map { Double(bitPattern: (1.0 / 3).bitPattern ^ UInt64($0 & 1)) }, seed: seed, "last bit")
        // Random full-precision values in [1, 2): nothing to gain, still exact.
        try d.roundTrip((0..<300).map { _ in Double.random(in: 1..<2, using: &rng) }, seed: seed, "uniform")
    }

    /// The decoder checks every field of the block header.
    @Test func headerIsChecked() throws {
        // Column 'D', blocks, count 3; block: codec 8, w 0, order, svarint e, varint k, seeds, svarint min.
        // 0.5, 0.75, 1.0 = (2, 3, 4) · 2^−2: order 1, e = −2 (svarint 03), k 1, seed 2 (04), min 1 (02).
        let good: [UInt8] = [0x44, 0x00, 0x03, 0x08, 0x00, 0x01, 0x03, 0x01, 0x04, 0x02]
        #expect(try decodeDouble(good, count: 3) == [0.5, 0.75, 1.0])
        #expect(try describeDouble(good, count: 3).map(\.codec) == ["scaled-diff"])
        // Order 2 of the same values: seeds 2 and 1, min 0.
        #expect(try decodeDouble([0x44, 0x00, 0x03, 0x08, 0x00, 0x02, 0x03, 0x01, 0x04, 0x02, 0x00], count: 3) == [0.5, 0.75, 1.0])
        // Order 3, a block of 2 values (no packed differences) with an exception at index 1 (−0.0).
        let neg0: [UInt8] = [0x44, 0x00, 0x02, 0x88, 0x05, 0x03, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x00, 0x01, 0x01] + [0, 0, 0, 0, 0, 0, 0, 0x80]
        let v = try decodeDouble(neg0, count: 2)
        #expect(v[0] == 5 && v[1].bitPattern == (-0.0).bitPattern)
        // Order 0 and 5, exponents −1075 and 1024 (svarint 0x865 / 0x800), divisors 0 and 65,536.
        let bad: [[UInt8]] = [
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x00, 0x03, 0x01, 0x02],
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x05, 0x03, 0x01, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00],
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x01, 0xE5, 0x10, 0x01, 0x04, 0x02],
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x01, 0x80, 0x10, 0x01, 0x04, 0x02],
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x01, 0x03, 0x00, 0x04, 0x02],
            [0x44, 0x00, 0x03, 0x08, 0x00, 0x01, 0x03, 0x80, 0x80, 0x04, 0x04, 0x02]
        ]
        for b in bad {
            #expect(throws: CodecError.self, "\(b)") { try decodeDouble(b, count: 3) }
            #expect(throws: CodecError.self, "\(b)") { try describeDouble(b, count: 3) }
        }
        // The extreme exponents decode: 1 · 2^−1074 and 1 · 2^1023.
        #expect(try decodeDouble([0x44, 0x00, 0x01, 0x08, 0x00, 0x01, 0xE3, 0x10, 0x01, 0x02, 0x00], count: 1) == [.leastNonzeroMagnitude])
        #expect(try decodeDouble([0x44, 0x00, 0x01, 0x08, 0x00, 0x01, 0xFE, 0x0F, 0x01, 0x02, 0x00], count: 1) == [0x1p1023])
    }

    /// Blocks of the codecs that existed before scaled-diff (ids 1–7), as older writers wrote them,
    /// still decode (a store written before codec 8 stays readable).
    @Test func olderCodecsStillDecode() throws {
        let one = Double(1).bitPattern
        let le = (0..<8).map { UInt8(truncatingIfNeeded: one >> (8 * UInt64($0))) }
        let three = [1.0, 1.0.nextUp, 1.0.nextUp.nextUp]
        // float64-delta: first 1.0, minDelta 1 (svarint 02), w 0.
        #expect(try decodeDouble([0x44, 0x00, 0x03, 0x05, 0x00] + le + [0x02], count: 3) == three)
        // float64-dod: first 1.0, d1 1, minDoD 0, w 0.
        #expect(try decodeDouble([0x44, 0x00, 0x03, 0x06, 0x00] + le + [0x02, 0x00], count: 3) == three)
        // mean-for: w 0, e 0, k 3, min 1: 1/3.
        #expect(try decodeDouble([0x44, 0x00, 0x02, 0x07, 0x00, 0x00, 0x03, 0x02], count: 2) == [1.0 / 3, 1.0 / 3])
        // int-for, decimal and float32-for: FormatTests; raw64: below.
        #expect(try decodeDouble([0x44, 0x00, 0x01, 0x01] + le, count: 1) == [1.0])
    }
}

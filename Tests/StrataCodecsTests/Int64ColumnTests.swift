import Testing

@testable import StrataCodecs

@Suite struct Int64ColumnTests {
    /// Encodes, decodes whole and in many sub-ranges, checks describe's accounting; returns the bytes.
    @discardableResult
    func roundTrip(_ values: [Int64], seed: UInt64, _ label: String) throws -> [UInt8] {
        let bytes = encodeInt64(values)
        #expect(encodeInt64(values) == bytes, "\(label): encoding is not deterministic")
        let full = try decodeInt64(bytes, count: values.count)
        #expect(full == values, "\(label): full decode differs (seed \(seed))")
        var rng = SeededRNG(seed: seed)
        for r in interestingRanges(count: values.count, rng: &rng) {
            let part = try decodeInt64(bytes, count: values.count, range: r)
            #expect(part == Array(values[r]), "\(label): range \(r) differs (seed \(seed))")
        }
        let usage = try describeInt64(bytes, count: values.count)
        #expect(usage.reduce(0) { $0 + $1.bytes } == bytes.count, "\(label): describe bytes \(usage) vs \(bytes.count)")
        #expect(usage.reduce(0) { $0 + $1.values } == values.count, "\(label): describe values \(usage)")
        return bytes
    }

    func codecs(_ bytes: [UInt8], _ count: Int) throws -> Set<String> {
        Set(try describeInt64(bytes, count: count).map(\.codec))
    }

    @Test func emptyAndSingle() throws {
        let e = try roundTrip([], seed: 1, "empty")
        #expect(e.count == 3)
        for v: Int64 in [0, 1, -1, .min, .max] {
            try roundTrip([v], seed: 1, "single \(v)")
        }
    }

    @Test func linearSteps() throws {
        let steps = (0..<4096).map { Int64($0) }
        let bytes = try roundTrip(steps, seed: 2, "steps")
        #expect(try codecs(bytes, steps.count) == ["linear"])
        #expect(bytes.count <= 7, "linear column of steps takes \(bytes.count) bytes")
        // Strided, negative stride, offset, constant.
        try roundTrip((0..<1000).map { 100 + Int64($0) * 100 }, seed: 2, "eval steps")
        try roundTrip((0..<1000).map { 5_000 - Int64($0) * 7 }, seed: 2, "descending")
        let constant = [Int64](repeating: 42, count: 700)
        #expect(try codecs(try roundTrip(constant, seed: 2, "constant"), 700) == ["linear"])
    }

    @Test func linearThatWouldOverflow() throws {
        // a + i·d wraps past Int64.max: wrapping arithmetic must still reproduce the values exactly.
        let wraps = (0..<300).map { Int64.max &- 10 &+ Int64($0) &* (1 << 60) }
        let bytes = try roundTrip(wraps, seed: 3, "wrapping linear")
        #expect(try codecs(bytes, wraps.count) == ["linear"])
        try roundTrip([Int64.min, 0, Int64.max], seed: 3, "min 0 max")  // d = 2^63 does not fit the third
        try roundTrip([Int64.max, Int64.min, Int64.max, Int64.min], seed: 3, "alternating extremes")
    }

    @Test func extremes() throws {
        let seed = testSeed(4)
        var rng = SeededRNG(seed: seed)
        let alternating = (0..<1000).map { $0 % 2 == 0 ? Int64.min : Int64.max }
        try roundTrip(alternating, seed: seed, "alternating min/max")
        let random = (0..<5000).map { _ in Int64(bitPattern: rng.next()) }
        try roundTrip(random, seed: seed, "uniform random")
        var mixed = random
        for i in stride(from: 0, to: mixed.count, by: 3) { mixed[i] = [Int64.min, .max, 0, -1][i % 4] }
        try roundTrip(mixed, seed: seed, "random with extremes")
    }

    @Test func wallTimes() throws {
        let w = Workload(steps: 4096, seed: testSeed(5))
        let bytes = try roundTrip(w.times, seed: 5, "wall times")
        #expect(try codecs(bytes, w.times.count) == ["delta-for"])
        let perValue = Double(bytes.count) / Double(w.times.count)
        #expect(perValue < 0.85, "wall times take \(perValue) bytes a value")
    }

    @Test func repeatedAndOutOfOrderSteps() throws {
        let seed = testSeed(6)
        var rng = SeededRNG(seed: seed)
        // Every step logged twice (e.g. a rank pair), then a rewind to step 900 and back up.
        var steps: [Int64] = []
        for s in 0..<1000 { steps.append(Int64(s)); steps.append(Int64(s)) }
        for s in 900..<2000 { steps.append(Int64(s)) }
        let bytes = try roundTrip(steps, seed: seed, "repeated and rewound")
        #expect(Double(bytes.count) / Double(steps.count) < 0.3)
        // Out of order: sorted steps with local shuffles.
        var shuffled = (0..<3000).map { Int64($0) }
        for i in stride(from: 0, to: shuffled.count - 8, by: 8) { shuffled[i..<(i + 8)].shuffle(using: &rng) }
        try roundTrip(shuffled, seed: seed, "locally shuffled")
        // Random values in a small range favour FOR over delta-FOR.
        let small = (0..<2000).map { _ in Int64.random(in: 1_000_000...1_000_015, using: &rng) }
        let b = try roundTrip(small, seed: seed, "small random")
        #expect(try codecs(b, small.count) == ["for"])
    }

    @Test func everyWidth() throws {
        // Deltas of every bit width 0...64 in their own block.
        let seed = testSeed(7)
        var rng = SeededRNG(seed: seed)
        var values: [Int64] = []
        for width in 0...64 {
            var x = Int64.random(in: -1000...1000, using: &rng)
            for _ in 0..<128 {
                values.append(x)
                let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
                x = x &+ Int64(bitPattern: rng.next() & mask)
            }
        }
        try roundTrip(values, seed: seed, "every width")
        // Odd sizes: last block partial.
        for n in [2, 3, 127, 129, 255, 1000, 65_536] {
            let v = (0..<n).map { _ in Int64.random(in: -50...50, using: &rng) }
            try roundTrip(v, seed: seed, "size \(n)")
        }
    }

    @Test func fullSizeColumn() throws {
        let w = Workload(steps: ColumnLimits.maxValues, seed: testSeed(8))
        try roundTrip(w.times, seed: 8, "65536 wall times")
        try roundTrip(w.steps, seed: 8, "65536 steps")
    }
}

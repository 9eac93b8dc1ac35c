import Testing

@testable import StrataCodecs

/// Damaged input must throw CodecError or decode to something: never trap, never read out of bounds
/// (run under the address sanitizer in Fuzz/ for the latter).
@Suite struct CorruptionTests {
    /// Real encoded columns of every codec.
    static func samples() -> [(name: String, isDouble: Bool, count: Int, bytes: [UInt8])] {
        let w = Workload(steps: 700, seed: 77)
        var rng = SeededRNG(seed: 78)
        var out: [(String, Bool, Int, [UInt8])] = []
        out.append(("steps", false, 700, encodeInt64(w.steps)))
        out.append(("times", false, 700, encodeInt64(w.times)))
        out.append(("random ints", false, 300, encodeInt64((0..<300).map { _ in Int64(bitPattern: rng.next()) })))
        let small = (0..<300).map { _ in Int64.random(in: 0...9, using: &rng) }
        out.append(("small ints", false, 300, encodeInt64(small)))
        let pattern = (0..<20).map { _ in Int64(bitPattern: rng.next()) }
        out.append(("lz4 ints", false, 2000, encodeInt64((0..<2000).map { pattern[$0 % 20] })))
        var util = w.gpuUtil
        util[3] = .nan
        util[200] = 1e6
        out.append(("util", true, 700, encodeDouble(util)))
        out.append(("tps", true, 700, encodeDouble(w.tokensPerSec)))
        out.append(("loss", true, 700, encodeDouble(w.trainLoss)))
        out.append(("lr", true, 700, encodeDouble(w.lr)))
        // Means of 390 float32 values (mean-for blocks).
        let means = (0..<300).map { i in
            (0..<390).reduce(0.0) { s, _ in s + Double(Float((2.3 - Double(i) * 0.005) * Double.random(in: 0.9...1.1, using: &rng))) } / 390
        }
        out.append(("means", true, 300, encodeDouble(means)))
        // scaled-diff blocks of every order, with exceptions (NaN, −0.0, a subnormal).
        var sched = ScaledDiffTests.cosine(700)
        sched[5] = .nan
        sched[130] = -0.0
        sched[400] = .leastNonzeroMagnitude
        out.append(("scaled-diff", true, 700, encodeDouble(sched)))
        out.append(("raw", true, 300, encodeDouble((0..<300).map { _ in Double(bitPattern: rng.next()) })))
        let dp = (0..<20).map { _ in Double(bitPattern: rng.next()) }
        out.append(("lz4 doubles", true, 2000, encodeDouble((0..<2000).map { dp[$0 % 20] })))
        return out
    }

    /// Decodes whole, a middle range and a prefix, and describes: each either succeeds or throws CodecError.
    func attempt(_ bytes: [UInt8], isDouble: Bool, count: Int) {
        let ranges = [0..<count, (count / 3)..<(count / 2), 0..<min(count, 5)]
        for r in ranges {
            do {
                if isDouble { _ = try decodeDouble(bytes, count: count, range: r) } else { _ = try decodeInt64(bytes, count: count, range: r) }
            } catch {
                #expect(error is CodecError)
                #expect(!"\(error)".isEmpty)
            }
        }
        do {
            if isDouble { _ = try describeDouble(bytes, count: count) } else { _ = try describeInt64(bytes, count: count) }
        } catch {
            #expect(error is CodecError)
        }
    }

    @Test func truncationsAtEveryLength() {
        for s in Self.samples() {
            for len in 0..<s.bytes.count {
                let cut = Array(s.bytes[0..<len])
                // A truncated column never decodes in full.
                if s.isDouble {
                    #expect(throws: CodecError.self, "\(s.name) cut to \(len)") { try decodeDouble(cut, count: s.count) }
                } else {
                    #expect(throws: CodecError.self, "\(s.name) cut to \(len)") { try decodeInt64(cut, count: s.count) }
                }
                attempt(cut, isDouble: s.isDouble, count: s.count)
            }
        }
    }

    @Test func randomByteFlips() {
        let seed = testSeed(79)
        var rng = SeededRNG(seed: seed)
        for s in Self.samples() {
            for _ in 0..<300 {
                var b = s.bytes
                let flips = Int.random(in: 1...4, using: &rng)
                for _ in 0..<flips {
                    let i = Int.random(in: 0..<b.count, using: &rng)
                    if Bool.random(using: &rng) {
                        b[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                    } else {
                        b[i] = UInt8.random(in: 0...255, using: &rng)
                    }
                }
                attempt(b, isDouble: s.isDouble, count: s.count)
            }
        }
    }

    @Test func hostileCounts() {
        for s in Self.samples() {
            for count in [-1, Int.min, ColumnLimits.maxValues + 1, Int.max, 0, 1, s.count - 1, s.count + 1, s.count + 128, ColumnLimits.maxValues] {
                do {
                    if s.isDouble {
                        _ = try decodeDouble(s.bytes, count: count, range: 0..<max(0, min(count, 10)))
                    } else {
                        _ = try decodeInt64(s.bytes, count: count, range: 0..<max(0, min(count, 10)))
                    }
                } catch { #expect(error is CodecError) }
                if count >= 0 && count <= ColumnLimits.maxValues { attempt(s.bytes, isDouble: s.isDouble, count: count) }
                if count < 0 || count > ColumnLimits.maxValues {
                    #expect(throws: CodecError.self) { _ = try describeDouble(s.bytes, count: count) }
                    #expect(throws: CodecError.self) { _ = try describeInt64(s.bytes, count: count) }
                }
            }
        }
    }

    @Test func wrongCountIsDetectedOnFullDecode() {
        let w = Workload(steps: 1000, seed: 80)
        let b = encodeDouble(w.trainLoss)
        #expect(throws: CodecError.self) { try decodeDouble(b, count: 999) }
        #expect(throws: CodecError.self) { try decodeDouble(b, count: 1001) }
        let t = encodeInt64(w.times)
        #expect(throws: CodecError.self) { try decodeInt64(t, count: 999) }
        #expect(throws: CodecError.self) { try decodeInt64(t, count: 1001) }
    }

    @Test func hostileRanges() {
        let b = encodeInt64([1, 2, 5])
        #expect(throws: CodecError.self) { _ = try decodeInt64(b, count: 3, range: 0..<4) }
        #expect(throws: CodecError.self) { _ = try decodeInt64(b, count: 3, range: -1..<2) }
        #expect(throws: CodecError.self) { _ = try decodeDouble(encodeDouble([1, 2]), count: 2, range: 2..<3) }
    }

    @Test func wrongColumnKind() {
        #expect(throws: CodecError.self) { _ = try decodeDouble(encodeInt64([1, 2, 5]), count: 3) }
        #expect(throws: CodecError.self) { _ = try decodeInt64(encodeDouble([1, 2, 5]), count: 3) }
        #expect(throws: CodecError.self) { _ = try decodeInt64([], count: 0) }
    }

    @Test func errorMessagesSayWhatAndWhere() throws {
        // Loss column: header 'D', 0x00, varint 512 (2 bytes); block 0 is float32-for without
        // exceptions: codec, width w, 4-byte base, 16·w packed bytes. Set block 1's width to 80.
        let w = Workload(steps: 512, seed: 81)
        var b = encodeDouble(w.trainLoss)
        #expect(Array(b[0..<4]) == [0x44, 0x00, 0x80, 0x04])
        #expect(b[4] == DoubleColumn.codecFloat32)
        let block1 = 4 + 2 + 4 + 16 * Int(b[5])
        #expect(b[block1] & 0x7F == DoubleColumn.codecFloat32)
        b[block1 + 1] = 80
        do {
            _ = try decodeDouble(b, count: 512)
            Issue.record("no error")
        } catch let e as CodecError {
            #expect(e.message == "double column block 1: bit width 80 > 64", "\(e.message)")
        }
        #expect(throws: CodecError.self) { _ = try decodeDouble(b, count: 511) }
    }

    @Test func lz4WrapperRejectsGarbage() {
        let src: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x00]
        var dst = [UInt8](repeating: 0, count: 100)
        #expect(throws: CodecError.self) {
            try src.withUnsafeBytes { s in try dst.withUnsafeMutableBytes { d in try LZ4Codec.decompress(s, into: d) } }
        }
        // Round trip.
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 % 97) }
        var c: [UInt8] = []
        let n = data.withUnsafeBytes { LZ4Codec.compress($0, into: &c) }
        #expect(n == c.count && n < 1000)
        var back = [UInt8](repeating: 0, count: 5000)
        #expect(throws: Never.self) {
            try c.withUnsafeBytes { s in try back.withUnsafeMutableBytes { d in try LZ4Codec.decompress(s, into: d) } }
        }
        #expect(back == data)
        // Wrong expected size.
        var short = [UInt8](repeating: 0, count: 4999)
        #expect(throws: CodecError.self) {
            try c.withUnsafeBytes { s in try short.withUnsafeMutableBytes { d in try LZ4Codec.decompress(s, into: d) } }
        }
    }
}

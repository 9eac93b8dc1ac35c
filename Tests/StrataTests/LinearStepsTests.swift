import Testing

@testable import Strata

/// `ChunkHandle.linearSteps` (the steps of a chunk with a constant stride, eight a turn in SIMD
/// registers) against the plain wrapping loop: every length 0...300, strides of both signs, zero,
/// and large enough to wrap.
@Suite struct LinearStepsTests {
    @Test func matchesThePlainLoop() {
        let strides: [Int64] = [0, 1, 10, -3, 1_000_003, Int64.max / 7, Int64.min + 1]
        let firsts: [Int64] = [0, 5, -1_000, Int64.max - 100, Int64.min]
        for n in 0...300 {
            for stride in strides {
                for first in firsts {
                    var expected: [Int64] = []
                    var v = first
                    for _ in 0..<n {
                        expected.append(v)
                        v = v &+ stride
                    }
                    // One slot past the end: it must stay untouched.
                    var got = [Int64](repeating: 0x5A5A, count: n + 1)
                    got.withUnsafeMutableBufferPointer { ChunkHandle.linearSteps(first, stride, n, $0.baseAddress!) }
                    #expect(Array(got[0..<n]) == expected, "n \(n) stride \(stride) first \(first)")
                    #expect(got[n] == 0x5A5A, "wrote past n \(n)")
                }
            }
        }
    }
}

import Foundation
// TempDir and builtProduct, shared by every test target.
@_exported import StrataTestSupport

@testable import Strata

/// A seeded generator (SplitMix64) so failures can be replayed from the printed seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bit-exact comparison of doubles (NaN payloads included).
func sameBits(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

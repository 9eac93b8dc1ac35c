import Foundation
// TempDir and builtProduct, shared by every test target.
@_exported import StrataTestSupport

@testable import Strata

/// A seeded generator (SplitMix64) so failures can be replayed from the printed seed.
typealias SeededRandom = SplitMix64

/// Bit-exact comparison of doubles (NaN payloads included).
func sameBits(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

import Foundation

/// SplitMix64: a small, fast, seeded random number generator (Steele, Lea and Flood, 2014), for
/// the demo's simulated runs, the benchmark's workloads, the tests' replayable inputs and the
/// comparison's bootstrap resampling (fixed seeds, so answers repeat). Not
/// for anything secret.
///
/// Published check: seeded with 1234567, the first outputs are 6457827717110365317,
/// 3203168211198807973, 9817491932198370423.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state.
    public var state: UInt64

    /// A generator starting from `seed` (the same seed gives the same sequence).
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1) from the top 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A standard normal deviate (Box–Muller).
    public mutating func gauss() -> Double {
        let u = max(1e-300, uniform()), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}

import Strata

/// The one seeded generator of the tests: Strata's SplitMix64 (published check values in
/// `InteropFormatTests`), so that failures replay from a printed seed.
public typealias SplitMix64 = Strata.SplitMix64

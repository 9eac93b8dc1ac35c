import StrataInterop

/// The one seeded generator of the tests: StrataInterop's SplitMix64 (published check values in
/// `InteropFormatTests`), so that failures replay from a printed seed.
public typealias SplitMix64 = StrataInterop.SplitMix64

/// Equal-width buckets over a closed `Int64` interval `[lo, last]`, exact for any bounds (the width
/// `last - lo + 1` may be 2⁶⁴, which no `Int64` holds: it is kept as `last - lo` in a `UInt64`).
///
/// The bucket of `x` is `floor((x - lo) · count / (last - lo + 1))`, computed with 128-bit
/// intermediates; every query with buckets (curves on any axis, the server, the CLI) uses this
/// one definition.
public struct Buckets: Sendable, Hashable {
    /// The most buckets a curve may have, in the library, the CLI and the HTTP API alike
    /// (a curve of more buckets than that has more buckets than any screen has pixels).
    public static let maxCount = 100_000
    /// ``maxCount`` as text for messages: `100,000`.
    public static let maxCountText = "100,000"
    /// First value of bucket 0.
    public let lo: Int64
    /// Last value of the last bucket (inclusive, so `Int64.max` can be covered).
    public let last: Int64
    /// Number of buckets (≥ 1).
    public let count: Int
    /// `last - lo`, exact.
    let span: UInt64

    /// Buckets over `range`; `count` must be positive.
    ///
    /// - Parameters:
    ///   - range: The values covered, both ends included.
    ///   - count: The number of buckets (at least 1).
    public init(_ range: ClosedRange<Int64>, count: Int) {
        precondition(count > 0, "Buckets: count must be positive")
        lo = range.lowerBound
        last = range.upperBound
        self.count = count
        span = UInt64(bitPattern: last &- lo)
    }

    /// Whether `x` lies in `[lo, last]`.
    ///
    /// - Parameter x: A value.
    /// - Returns: Whether a bucket holds it.
    @inline(__always) public func contains(_ x: Int64) -> Bool { x >= lo && x <= last }

    /// The bucket of `x` (which must lie in `[lo, last]`): `floor((x - lo) · count / width)`.
    ///
    /// - Parameter x: A value in `[lo, last]`.
    /// - Returns: Its bucket, in `0..<count`.
    @inline(__always) public func index(_ x: Int64) -> Int {
        let off = UInt64(bitPattern: x &- lo)
        let p = off.multipliedFullWidth(by: UInt64(count))
        // width = span + 1; when that is 2⁶⁴ the quotient is the high word.
        if span == .max { return Int(p.high) }
        return Int((span + 1).dividingFullWidth((high: p.high, low: p.low)).quotient)
    }

    /// The first value of bucket `b` (0 ≤ b < count): `lo + ceil(b · width / count)`.
    ///
    /// - Parameter b: A bucket.
    /// - Returns: Its first value.
    public func start(_ b: Int) -> Int64 { lo &+ Int64(bitPattern: startOffset(b)) }

    /// How far bucket `b` starts from `lo`: `ceil(b · width / count)`, unsigned, so a bucket
    /// empty of integers at the end of a range reaching `Int64.max` (which starts past it, where
    /// ``start(_:)`` wraps) still compares above every offset of the range.
    func startOffset(_ b: Int) -> UInt64 {
        precondition(b >= 0 && b < count, "Buckets.start: bucket out of range")
        let n: (high: UInt64, low: UInt64) = span == .max ? (UInt64(b), 0) : UInt64(b).multipliedFullWidth(by: span + 1)
        let (q, r) = UInt64(count).dividingFullWidth(n)
        return q &+ (r == 0 ? 0 : 1)
    }

    /// The last value of bucket `b` (0 ≤ b < count); a bucket can be empty of integers (when
    /// count > width), then `end(b) < start(b)`.
    ///
    /// - Parameter b: A bucket.
    /// - Returns: Its last value.
    public func end(_ b: Int) -> Int64 {
        b + 1 == count ? last : start(b + 1) &- 1
    }

    /// The exclusive end `last + 1` as exact decimal text (it is 9223372036854775808 when
    /// `last` is `Int64.max`).
    public var exclusiveEndText: String { Buckets.exclusiveText(last) }

    /// `x + 1` as exact decimal text, for an inclusive bound shown as an exclusive one.
    ///
    /// - Parameter x: An inclusive bound.
    /// - Returns: The decimal text of `x + 1`.
    public static func exclusiveText(_ x: Int64) -> String {
        x == .max ? "9223372036854775808" : String(x + 1)
    }

    /// Parses an exclusive upper bound given as text into the inclusive last value: any `Int64`
    /// above `Int64.min`, or 9223372036854775808 (which makes `Int64.max` the last value).
    /// Nil when the text is not such a number.
    ///
    /// - Parameter text: An exclusive upper bound in decimal.
    /// - Returns: The inclusive last value, or nil.
    public static func lastValue(exclusiveEnd text: String) -> Int64? {
        if text == "9223372036854775808" { return .max }
        guard let v = Int64(text), v > .min else { return nil }
        return v - 1
    }
}

/// Statistics of a set of points.
///
/// `count` counts every point; NaN values are counted in `nanCount` and left out of
/// `min`, `max`, `sum`, `mean` and `std` (population). ±Inf take part with IEEE rules
/// (a mean with +Inf is +Inf; a std with ±Inf is NaN). `first` and `last` are the values at the
/// smallest and largest step (first and last arrival among equal steps), NaN or not.
public struct Stats: Sendable, Hashable {
    /// How many points, NaN values included.
    public var count: Int
    /// How many of the points have a NaN value.
    public var nanCount: Int
    /// The smallest value that is not NaN (NaN when every value is NaN).
    public var min: Double
    /// The largest value that is not NaN (NaN when every value is NaN).
    public var max: Double
    /// The sum of the values that are not NaN.
    public var sum: Double
    /// The mean of the values that are not NaN (NaN when there is none).
    public var mean: Double
    /// The population standard deviation of the values that are not NaN.
    public var std: Double
    /// The value at the smallest step (the first to arrive among equal steps).
    public var first: Double
    /// The value at the largest step (the last to arrive among equal steps).
    public var last: Double
    /// The smallest step.
    public var firstStep: Int64
    /// The largest step.
    public var lastStep: Int64
    /// Smallest step where `min` is reached (nil when every value is NaN or unknown).
    public var minStep: Int64?
    /// Smallest step where `max` is reached (nil when every value is NaN or unknown).
    public var maxStep: Int64?

    init(_ a: Aggregate) {
        minStep = a.numericCount > 0 && a.minStep != .max ? a.minStep : nil
        maxStep = a.numericCount > 0 && a.maxStep != .max ? a.maxStep : nil
        count = a.count
        nanCount = a.nanCount
        let numeric = a.numericCount > 0
        min = numeric ? a.min : .nan
        max = numeric ? a.max : .nan
        sum = a.sum
        mean = a.mean
        std = a.std
        first = a.firstValue
        last = a.lastValue
        firstStep = a.firstStep
        lastStep = a.lastStep
    }

    /// Equal when every statistic is bit for bit (NaN equals NaN of the same bits); `mean`,
    /// `std`, `minStep` and `maxStep` follow from the others and are not compared.
    ///
    /// - Parameters:
    ///   - x: Statistics.
    ///   - y: Statistics.
    /// - Returns: Whether they are the same.
    public static func == (x: Stats, y: Stats) -> Bool {
        x.count == y.count && x.nanCount == y.nanCount && x.min.bitPattern == y.min.bitPattern && x.max.bitPattern == y.max.bitPattern
            && x.sum.bitPattern == y.sum.bitPattern && x.first.bitPattern == y.first.bitPattern && x.last.bitPattern == y.last.bitPattern
            && x.firstStep == y.firstStep && x.lastStep == y.lastStep
    }
    /// Hashes the count and the step range (consistent with `==`).
    ///
    /// - Parameter h: The hasher.
    public func hash(into h: inout Hasher) { h.combine(count); h.combine(firstStep); h.combine(lastStep) }
}

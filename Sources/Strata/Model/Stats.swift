/// Statistics of a set of points.
///
/// `count` counts every point; NaN values are counted in `nanCount` and left out of
/// `min`, `max`, `sum`, `mean` and `std` (population). ±Inf take part with IEEE rules
/// (a mean with +Inf is +Inf; a std with ±Inf is NaN). `first` and `last` are the values at the
/// smallest and largest step (first and last arrival among equal steps), NaN or not.
public struct Stats: Sendable, Hashable {
    public var count: Int
    public var nanCount: Int
    public var min: Double
    public var max: Double
    public var sum: Double
    public var mean: Double
    public var std: Double
    public var first: Double
    public var last: Double
    public var firstStep: Int64
    public var lastStep: Int64
    /// Smallest step where `min` / `max` is reached (nil when every value is NaN or unknown).
    public var minStep: Int64?
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

    public static func == (x: Stats, y: Stats) -> Bool {
        x.count == y.count && x.nanCount == y.nanCount && x.min.bitPattern == y.min.bitPattern && x.max.bitPattern == y.max.bitPattern
            && x.sum.bitPattern == y.sum.bitPattern && x.first.bitPattern == y.first.bitPattern && x.last.bitPattern == y.last.bitPattern
            && x.firstStep == y.firstStep && x.lastStep == y.lastStep
    }
    public func hash(into h: inout Hasher) { h.combine(count); h.combine(firstStep); h.combine(lastStep) }
}

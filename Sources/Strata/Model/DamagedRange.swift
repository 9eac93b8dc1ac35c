/// A part of a series that a lenient read (`Store.scanPoints(_:steps:skippingDamage:_:)`) left
/// out because its bytes are damaged: the file, the series and the steps it held.
public struct DamagedRange: Sendable, Hashable, CustomStringConvertible {
    /// The segment or log file holding the damaged bytes.
    public var path: String
    /// The series (nil when a whole file is unreadable).
    public var series: SeriesKey?
    /// Smallest and largest step of the points left out, when known.
    public var steps: ClosedRange<Int64>?
    /// How many points were left out, when known.
    public var points: Int?
    /// What is wrong.
    public var reason: String

    /// The file, then the series, steps and points when known, then the reason.
    public var description: String {
        var s = path
        if let series { s += ": series \(series.canonical) of run \(series.run)" }
        if let steps { s += ", steps \(steps.lowerBound)...\(steps.upperBound)" }
        if let points { s += " (\(points) points)" }
        return s + ": " + reason
    }
}

/// The points of a series as columns (struct of arrays), ordered by step, stable by arrival.
public struct SeriesData: Sendable {
    /// The steps, in order.
    public var steps: [Int64] = []
    /// The value of each step (bit for bit as logged).
    public var values: [Double] = []
    /// Empty when the read was made with `times: false`.
    public var times: [Int64] = []
    /// How many points.
    public var count: Int { steps.count }
    /// No points.
    public init() {}
}

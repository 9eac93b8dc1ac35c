/// The points of a series as columns (struct of arrays), ordered by step, stable by arrival.
public struct SeriesData: Sendable {
    public var steps: [Int64] = []
    public var values: [Double] = []
    /// Empty when the read was made with `times: false`.
    public var times: [Int64] = []
    public var count: Int { steps.count }
    public init() {}
}

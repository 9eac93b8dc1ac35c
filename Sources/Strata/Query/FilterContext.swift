/// What a filter expression can look at for one run: its record and the summaries of its
/// metrics (series without context labels, by metric name).
struct FilterContext {
    let run: RunInfo
    /// Summary of the run's series named `metric` (no labels), nil when the run has none.
    let metric: (String) -> Stats?
    /// A quantile (0 < q < 1) of the run's series named `metric` (no labels), from its chunk
    /// sketches; nil when the run has no finite value of it.
    var quantile: (String, Double) -> Double? = { _, _ in nil }
}

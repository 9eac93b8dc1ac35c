/// What a filter expression can look at for one run: its record and the summaries of its
/// metrics (series without context labels, by metric name).
struct FilterContext {
    let run: RunInfo
    /// Summary of the run's series named `metric` (no labels), nil when the run has none.
    let metric: (String) -> Stats?
}

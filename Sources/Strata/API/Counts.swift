/// How many runs, series and points a store holds, as queries see them.
public struct StoreCounts: Sendable, Hashable {
    /// Runs not deleted: those of the catalog, and any run that has points but no catalog record.
    public var runs: Int
    /// Series of those runs (every metric and label set with at least one visible point).
    public var series: Int
    /// Visible points of those series: rewinds applied, live logs included, each run's own
    /// points only (a fork's inherited points are counted in its ancestors).
    public var points: Int
}

extension Store {
    /// Counts runs, series and points without decoding a run record or a chunk: the runs come
    /// from the catalog's run table, the series and points from the statistics in segment
    /// directories (series by series only for runs with rewinds or with points in live logs).
    ///
    /// ```swift
    /// let c = try store.counts()
    /// print("\(c.runs) runs, \(c.series) series, \(c.points) points")
    /// ```
    ///
    /// - Returns: The counts.
    /// - Throws: ``StrataError`` with code `.closed` after ``close()``, or when the catalog or a
    ///   segment cannot be read.
    public func counts() throws(StrataError) -> StoreCounts {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            let ids = knownRunIDsLocked()
            let (series, points) = reader.seriesAndPoints(ofRuns: ids, rewound: ids.map { !catalog.rewinds(of: $0).isEmpty })
            return StoreCounts(runs: ids.count, series: series, points: points)
        }
    }
}

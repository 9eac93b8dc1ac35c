/// How the store's step reads reach a series through its coarse tiers (`CoarseSeries`), or
/// through the clipped chunks of its lineage (`StepSeries`).
extension Store {
    /// Runs `body` on the coarse view of a series, under the store's lock, after a refresh.
    func withCoarse<T>(_ key: SeriesKey, _ body: (inout CoarseSeries) throws(StrataError) -> T) throws(StrataError) -> T {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try checkNotDeletedLocked(key.run)
            try reader.refresh()
            var series = try reader.coarseSeries(key, cache: &coarseCache)
            return try body(&series)
        }
    }

    /// Runs `body` on what a step read of a series through `lineage` covers (``StepSeries``),
    /// under the store's lock, after a refresh; a deleted run's series only with `deleted: .readable`.
    func withCoarse<T>(
        _ key: SeriesKey, lineage: Lineage, deleted: DeletedRuns = .hidden, _ body: (inout StepSeries) throws(StrataError) -> T
    ) throws(StrataError) -> T {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            if deleted == .hidden { try checkNotDeletedLocked(key.run) }
            try reader.refresh()
            let parts = try lineagePartsLocked(key.run, lineage)
            var series: StepSeries =
                parts.count == 1 && parts[0].isWhole
                ? .coarse(try reader.coarseSeries(key, cache: &coarseCache)) : .clipped(SeriesQuery(chunks: try lineageChunksLocked(key, lineage)))
            return try body(&series)
        }
    }
}

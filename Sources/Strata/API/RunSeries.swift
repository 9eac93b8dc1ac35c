extension Store {
    /// The series of several runs with their summaries, in one pass over the store: what a table
    /// of many runs sorted by a metric reads (one ``series(of:)`` call per run would look for new
    /// files once per run).
    ///
    /// - Parameter runs: The runs' identifiers (a run without series maps to an empty list).
    /// - Returns: Per run, what ``series(of:)`` returns for it.
    /// - Throws: ``StrataError`` when the store is closed or a segment cannot be read.
    public func series(ofRuns runs: [RunID]) throws(StrataError) -> [RunID: [SeriesInfo]] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            var out: [RunID: [SeriesInfo]] = [:]
            out.reserveCapacity(runs.count)
            for run in runs where out[run] == nil { out[run] = seriesInfosLocked(run) }
            return out
        }
    }

    /// The series of a run with their summaries (segment directories and live logs). Under the lock.
    func seriesInfosLocked(_ run: RunID) -> [SeriesInfo] {
        reader.seriesKeys(of: run).compactMap { key in
            guard let (a, minT, maxT) = reader.summary(key) else { return nil }
            return SeriesInfo(
                key: key, count: a.count, nanCount: a.nanCount, firstStep: a.firstStep, lastStep: a.lastStep,
                lastValue: a.lastValue, min: a.numericCount > 0 ? a.min : .nan,
                max: a.numericCount > 0 ? a.max : .nan, minTime: minT, maxTime: maxT)
        }
    }
}

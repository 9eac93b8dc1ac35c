extension Store {
    /// The series of several runs with their summaries, in one pass over the store: what a table
    /// of many runs sorted by a metric reads (one ``series(of:lineage:)`` call per run would look for new
    /// files once per run).
    ///
    /// - Parameters:
    ///   - runs: The runs' identifiers (a run without series maps to an empty list; a deleted run is
    ///     left out, as ``series(of:lineage:)`` refuses it).
    ///   - lineage: Whether a forked run's series include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: Per run, what ``series(of:lineage:)`` returns for it.
    /// - Throws: ``StrataError`` when the store is closed or a segment cannot be read.
    public func series(ofRuns runs: [RunID], lineage: Lineage = .full) throws(StrataError) -> [RunID: [SeriesInfo]] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            var out: [RunID: [SeriesInfo]] = [:]
            out.reserveCapacity(runs.count)
            for run in runs where out[run] == nil && !catalog.deletedIDs.contains(run) {
                out[run] = try seriesInfosLocked(run, lineage)
            }
            return out
        }
    }

    /// One series of several runs with its summary: what a table of many runs sorted by one metric
    /// reads, without summarising the runs' other series.
    ///
    /// - Parameters:
    ///   - runs: The runs' identifiers.
    ///   - metric: The series' canonical name: the metric, with its labels as `metric{k=v,…}` if any.
    ///   - lineage: Whether a forked run's series include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: Per run that has the series, what ``series(of:lineage:)`` lists for it; runs without it are left out.
    /// - Throws: ``StrataError`` when the store is closed or a segment cannot be read.
    public func series(ofRuns runs: [RunID], metric: String, lineage: Lineage = .full) throws(StrataError) -> [RunID: SeriesInfo] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            var out: [RunID: SeriesInfo] = [:]
            // Runs whose series is its segment parts alone (no ancestors, rewinds or live logs) are
            // merged together from the segment directories, in one walk of each; the rest one by one.
            var bulk: [RunID] = []
            var seen = Set<RunID>()
            for run in runs where seen.insert(run).inserted {
                if runs.count >= Store.bulkSummaryRuns, reader.tails.isEmpty, reader.rewinds(run).isEmpty {
                    let parts = try lineagePartsLocked(run, lineage)
                    if parts.count == 1 && parts[0].isWhole && parts[0].run == run {
                        bulk.append(run)
                        continue
                    }
                }
                if let info = try seriesInfoLocked(SeriesKey(run: run, canonical: metric), lineage) { out[run] = info }
            }
            if !bulk.isEmpty {
                for (run, merged) in zip(bulk, reader.directorySummaries(metric, runs: bulk)) {
                    guard let (a, minT, maxT) = merged else { continue }
                    out[run] = Store.seriesInfo(SeriesKey(run: run, canonical: metric), a, minTime: minT, maxTime: maxT)
                }
            }
            return out
        }
    }

    /// The series of a run with their summaries (segment directories and live logs). Under the lock.
    func seriesInfosLocked(_ run: RunID, _ lineage: Lineage = .full) throws(StrataError) -> [SeriesInfo] {
        var out: [SeriesInfo] = []
        for key in try lineageSeriesKeysLocked(run, lineage) {
            if let info = try seriesInfoLocked(key, lineage) { out.append(info) }
        }
        return out
    }

    /// One series' summary through `lineage`; nil when it has no points. Under the lock.
    func seriesInfoLocked(_ key: SeriesKey, _ lineage: Lineage) throws(StrataError) -> SeriesInfo? {
        guard let (a, minT, maxT) = try lineageSummaryLocked(key, lineage) else { return nil }
        return Store.seriesInfo(key, a, minTime: minT, maxTime: maxT)
    }

    /// What ``SeriesInfo`` shows of a series' merged statistics.
    static func seriesInfo(_ key: SeriesKey, _ a: Aggregate, minTime minT: Int64, maxTime maxT: Int64) -> SeriesInfo {
        SeriesInfo(
            key: key, count: a.count, nanCount: a.nanCount, firstStep: a.firstStep, lastStep: a.lastStep,
            lastValue: a.lastValue, min: a.numericCount > 0 ? a.min : .nan,
            max: a.numericCount > 0 ? a.max : .nan, minTime: minT, maxTime: maxT)
    }

    /// From how many runs `series(ofRuns:metric:)` walks the segment directories once for all
    /// of them rather than looking each run up (a walk reads every directory entry).
    static let bulkSummaryRuns = 64

}

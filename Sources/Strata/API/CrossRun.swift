import Dispatch

/// Which statistic of a metric ranks runs.
public enum RankStatistic: String, Sendable, CaseIterable {
    /// The smallest value, the largest value, the value at the last step, the value at the first step,
    /// the mean, and the number of points (see ``Stats``).
    case min, max, last, first, mean, count

    /// Ascending for everything but `max` and `count` (lower loss first, higher score first).
    public var defaultAscending: Bool { self != .max && self != .count }

    /// This statistic of `stats`, with the step it belongs to (`min`/`max` where first reached,
    /// `last`/`first` their step; nil for `mean` and `count`).
    func pick(_ stats: Stats) -> (value: Double, step: Int64?) {
        switch self {
        case .min: (stats.min, stats.minStep)
        case .max: (stats.max, stats.maxStep)
        case .last: (stats.last, stats.lastStep)
        case .first: (stats.first, stats.firstStep)
        case .mean: (stats.mean, nil)
        case .count: (Double(stats.count), nil)
        }
    }
}

/// A run with the value that ranked it.
public struct RankedRun: Sendable {
    /// The ranked run.
    public var run: RunInfo
    /// The value of the ranking statistic for this run; NaN (ranked last) when the statistic is NaN,
    /// as `min` of a series whose every value is NaN.
    public var value: Double
    /// Where `min`/`max` was first reached, or the last/first step for `last`/`first`.
    public var step: Int64?
}

/// One row of a band: the points of a group of runs in one step bucket.
public struct BandRow: Sendable, Hashable {
    /// The grouping param's value as text ("(none)" when a run lacks the param).
    public var group: String
    /// floor(step / bucketWidth).
    public var bucket: Int64
    /// Number of points in the row, NaN values included.
    public var count: Int
    /// Number of NaN values in the row (left out of `mean`, `std`, `min` and `max`).
    public var nanCount: Int
    /// Mean of the values other than NaN.
    public var mean: Double
    /// Population standard deviation.
    public var std: Double
    /// Smallest value other than NaN; NaN when every value is NaN.
    public var min: Double
    /// Largest value other than NaN; NaN when every value is NaN.
    public var max: Double
    /// The quantiles asked of the band (`band(_:groupBy:bucketWidth:where:quantiles:)`), exact, in
    /// the order asked; NaN when the row has no finite value; empty when none was asked.
    public var quantiles: [Double] = []
}

/// A run with the summary of each of its metrics (series without context labels).
public struct RunSummary: Sendable {
    /// The summarised run.
    public var run: RunInfo
    /// The statistics of each of the run's metrics, keyed by metric name.
    public var metrics: [String: Stats]
}

extension Store {
    /// Runs matching `filter` (all when nil), oldest first. Metric conditions are answered from
    /// series summaries, without reading chunks.
    ///
    /// - Parameters:
    ///   - filter: The condition (every run when nil).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: The matching runs.
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``, or when the catalog or a segment cannot be read.
    public func runs(where filter: Filter?, lineage: Lineage = .full) throws(StrataError) -> [RunInfo] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            return matching(filter, lineage: lineage)
        }
    }

    /// The first `limit` runs ``runs(where:lineage:)`` returns, decoding only those: the others
    /// are tested as ``runs(where:lineage:)`` tests them but not read whole (what
    /// `strata runs --where … --limit N` shows).
    ///
    /// - Parameters:
    ///   - filter: The condition (every run when nil).
    ///   - limit: The most runs returned (positive).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: The oldest `limit` matching runs, oldest first.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a limit below 1, `.closed` after ``Store/close()``, or when the catalog or a segment cannot be read.
    public func runs(where filter: Filter?, limit: Int, lineage: Lineage = .full) throws(StrataError) -> [RunInfo] {
        guard limit > 0 else { throw .invalid("limit must be positive, got \(limit)") }
        guard let filter else { return try runs(limit: limit) }
        return try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            var out: [RunInfo] = []
            for id in matchingIDsLocked(filter, lineage) {
                guard let run = knownRunLocked(id) else { continue }
                out.append(run)
                if out.count == limit { break }
            }
            return out
        }
    }

    /// The ids of the runs ``runs(where:lineage:)`` returns, in the same order, without decoding
    /// whole records: a run of the catalog checkpoint is tested with only the params the filter
    /// reads decoded, and nothing more of it is decoded. What ranking many runs by a metric before
    /// showing a page of them needs (`strata runs --where … --sort METRIC.STAT --limit N`).
    ///
    /// - Parameters:
    ///   - filter: The condition (every run when nil).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step.
    /// - Returns: The matching runs' ids, oldest first.
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``, or when the catalog or a segment cannot be read.
    package func runIDs(where filter: Filter?, lineage: Lineage = .full) throws(StrataError) -> [RunID] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            guard let filter else { return knownRunIDsLocked() }
            return matchingIDsLocked(filter, lineage)
        }
    }

    /// The ids of the runs matching `filter`, oldest first: the catalog checkpoint's runs tested
    /// over param columns (`Catalog.matchingIDs`) when the filter reads only params and metrics,
    /// else as `matchingLocked` tests them. Must be called under the lock.
    func matchingIDsLocked(_ filter: Filter, _ lineage: Lineage) -> [RunID] {
        let matches = matcher(filter, lineage)
        let metricLeaf = { (id: RunID, leaf: FilterNode) -> Bool in
            leaf.evaluate(
                FilterContext(
                    run: Catalog.skeleton(id, rewinds: []), metric: { self.summaryLocked(id, $0, lineage) },
                    quantile: { self.quantileLocked(id, $0, $1, lineage) }))
        }
        let rows = { (active: [Bool], column: (String) -> [ParamValue?], ids: [RunID]) -> [Bool] in
            filter.matchingRows(active, column: column, metricLeaf: { metricLeaf(ids[$0], $1) })
        }
        guard filter.readsOnlyParamsAndMetrics, let ids = catalog.matchingIDs(paramKeys: filter.paramKeys, rows: rows, whole: matches) else {
            return matchingLocked(filter, lineage, whole: false).map(\.id)
        }
        let extra = standInIDsLocked().compactMap(knownRunLocked).filter(matches).map(\.id)
        return extra.isEmpty ? ids : (ids + extra).sorted()
    }

    /// Whether a run matches `filter`, its metric conditions answered from series summaries.
    /// Must be called under the lock.
    private func matcher(_ filter: Filter, _ lineage: Lineage) -> (RunInfo) -> Bool {
        { (run: RunInfo) -> Bool in
            filter.matches(
                FilterContext(
                    run: run, metric: { self.summaryLocked(run.id, $0, lineage) }, quantile: { self.quantileLocked(run.id, $0, $1, lineage) }))
        }
    }

    /// Must be called under the lock.
    func matching(_ filter: Filter?, lineage: Lineage = .full) -> [RunInfo] {
        guard let filter else { return knownRunsLocked() }
        if filter.readsOnlyParamsAndMetrics && catalog.base != nil { return matchingIDsLocked(filter, lineage).compactMap(knownRunLocked) }
        return matchingLocked(filter, lineage, whole: true)
    }

    /// The runs matching `filter`, oldest first. Runs of the catalog checkpoint are tested with
    /// only the params the filter reads decoded, then decoded whole when `whole` (else returned as
    /// far as the filter decoded them: enough for their ids); stand-in runs, and every run when the
    /// checkpoint cannot be walked, are whole already. Must be called under the lock.
    private func matchingLocked(_ filter: Filter, _ lineage: Lineage, whole: Bool) -> [RunInfo] {
        let matches = matcher(filter, lineage)
        var kept: [RunInfo] = []
        if catalog.eachRun(only: filter.paramKeys, { run, full in if matches(run), let info = whole ? full() : run { kept.append(info) } }) {
            let extra = standInIDsLocked().compactMap(knownRunLocked).filter(matches)
            return extra.isEmpty ? kept : (kept + extra).sorted { $0.id < $1.id }
        }
        return knownRunsLocked().filter(matches)
    }

    /// A quantile of one whole series (no labels) from its chunk sketches, under the lock; nil when
    /// the series has no finite value (or cannot be read: a filter then treats it as missing).
    func quantileLocked(_ run: RunID, _ metric: String, _ q: Double, _ lineage: Lineage = .full) -> Double? {
        guard let chunks = try? lineageChunksLocked(SeriesKey(run: run, canonical: metric), lineage), !chunks.isEmpty,
            let acc = try? SeriesQuery(chunks: chunks).quantiles(.all, exact: false)
        else { return nil }
        return acc.quantiles([q])?.first
    }

    /// Summary statistics of one series (no labels), under the lock.
    func summaryLocked(_ run: RunID, _ metric: String, _ lineage: Lineage = .full) -> Stats? {
        guard let (a, _, _) = (try? lineageSummaryLocked(SeriesKey(run: run, canonical: metric), lineage)) ?? nil else { return nil }
        return Stats(a)
    }

    /// The best `limit` runs by a statistic of `metric`, among runs matching `filter`.
    /// Ties are broken by run name, then id; runs without the metric are left out, NaN values sort last.
    ///
    /// ```swift
    /// let best = try store.rank("val/loss", by: .min, where: try Filter("params.lr < 1e-3"), limit: 10)
    /// ```
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/loss`.
    ///   - statistic: The statistic of the metric that ranks runs.
    ///   - ascending: Whether smaller values rank first (``RankStatistic/defaultAscending`` when nil).
    ///   - filter: Which runs take part (every run when nil).
    ///   - limit: The most runs returned.
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: The best runs, best first.
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``, or when the catalog or a segment cannot be read.
    public func rank(
        _ metric: String, by statistic: RankStatistic, ascending: Bool? = nil, where filter: Filter? = nil, limit: Int = 10,
        lineage: Lineage = .full
    ) throws(StrataError) -> [RankedRun] {
        try Names.validateMetric(metric)
        guard limit > 0 else { throw .invalid("limit must be positive, got \(limit)") }
        let asc = ascending ?? statistic.defaultAscending
        return try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            // Rank ids by the statistic; decode the records only of the runs that can make the
            // page (the best `limit` and every run tied with the last of them: ties go by name).
            let ids = filter.map { matchingIDsLocked($0, lineage) } ?? knownRunIDsLocked()
            var scored: [(id: RunID, value: Double, step: Int64?)] = []
            scored.reserveCapacity(ids.count)
            for (id, a) in zip(ids, try metricSummariesLocked(ids, metric, lineage)) {
                guard let a else { continue }
                let (v, step) = statistic.pick(Stats(a))
                scored.append((id, v, step))
            }
            var rows: [RankedRun] = []
            for c in Store.candidates(scored.map(\.value), ascending: asc, limit: limit) {
                guard let run = knownRunLocked(scored[c].id) else { continue }
                rows.append(RankedRun(run: run, value: scored[c].value, step: scored[c].step))
            }
            return Store.best(rows, ascending: asc, limit: limit)
        }
    }

    /// Positions of `values` that can be among the best `limit` in `best`'s order (NaN last, then
    /// by value, ties by name and id, which are not looked at here): the best `limit` by value
    /// and every position whose value ties with the last of them.
    static func candidates(_ values: [Double], ascending asc: Bool, limit: Int) -> [Int] {
        func before(_ a: Double, _ b: Double) -> Bool {
            if a.isNaN != b.isNaN { return !a.isNaN }
            return !a.isNaN && a != b && (asc ? a < b : a > b)
        }
        let order = values.indices.sorted { before(values[$0], values[$1]) }
        guard order.count > limit else { return order }
        let edge = values[order[limit - 1]]
        var n = limit
        while n < order.count && !before(edge, values[order[n]]) { n += 1 }
        return Array(order.prefix(n))
    }

    /// The summary of the series `metric` (no labels) of each of `ids` through `lineage` (nil:
    /// the run has none), as `summaryLocked` gives it: runs without rewinds or ancestors, read
    /// with no live log tails, from the reader's kept column of the metric
    /// (`StoreReader.metricColumn`); the others one by one. Under the lock.
    func metricSummariesLocked(_ ids: [RunID], _ metric: String, _ lineage: Lineage) throws(StrataError) -> [Aggregate?] {
        let column = reader.tails.isEmpty && ids.count >= Store.bulkSummaryRuns ? reader.metricColumn(metric) : nil
        var out: [Aggregate?] = []
        out.reserveCapacity(ids.count)
        for id in ids {
            if let column, let link = catalog.forkLink(of: id), link.rewinds.isEmpty,
                lineage == .own || link.parent == nil || link.forkStep == nil
            {
                out.append(column[id])
                continue
            }
            out.append(try lineageSummaryLocked(SeriesKey(run: id, canonical: metric), lineage)?.0)
        }
        return out
    }

    /// Orders ranked runs (NaN last, ties by name then id) and keeps the first `limit`.
    static func best(_ rows: [RankedRun], ascending asc: Bool, limit: Int) -> [RankedRun] {
        let sorted = rows.sorted { a, b in
            if a.value.isNaN != b.value.isNaN { return !a.value.isNaN }
            if a.value != b.value && !a.value.isNaN { return asc ? a.value < b.value : a.value > b.value }
            return (a.run.name, a.run.id) < (b.run.name, b.run.id)
        }
        return Array(sorted.prefix(limit))
    }

    /// The best `limit` runs by a quantile of `metric` over each run's whole series (from chunk
    /// sketches, within ``QuantileSummary/sketchRelativeError``; exact for series without full
    /// chunks), among runs matching `filter`. Ascending by default (lower step time first).
    /// Runs without a finite value of the metric are left out; ties by run name, then id.
    ///
    /// ```swift
    /// let fastest = try store.rank("train/step_ms", quantile: 0.9, limit: 5)
    /// ```
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/step_ms`.
    ///   - q: The quantile, strictly between 0 and 1.
    ///   - ascending: Whether smaller values rank first (default true).
    ///   - filter: Which runs take part (every run when nil).
    ///   - limit: The most runs returned.
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: The best runs, best first (``RankedRun/step`` is nil).
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a quantile outside (0, 1); as ``rank(_:by:ascending:where:limit:lineage:)`` otherwise.
    public func rank(
        _ metric: String, quantile q: Double, ascending: Bool = true, where filter: Filter? = nil, limit: Int = 10, lineage: Lineage = .full
    ) throws(StrataError) -> [RankedRun] {
        try Names.validateMetric(metric)
        try Quantile.check([q])
        guard limit > 0 else { throw .invalid("limit must be positive, got \(limit)") }
        return try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            var rows: [RankedRun] = []
            for run in matching(filter, lineage: lineage) {
                let chunks = try lineageChunksLocked(SeriesKey(run: run.id, canonical: metric), lineage)
                if chunks.isEmpty { continue }
                guard let v = try SeriesQuery(chunks: chunks).quantiles(.all, exact: false).quantiles([q])?.first else { continue }
                rows.append(RankedRun(run: run, value: v, step: nil))
            }
            return Store.best(rows, ascending: ascending, limit: limit)
        }
    }

    /// Mean and spread over groups of runs: runs matching `filter` are grouped by the value of
    /// param `groupBy`; the points of `metric` are bucketed by `floor(step / bucketWidth)`; each
    /// (group, bucket) row holds count, mean, population std, min and max over all its points.
    /// Rows are ordered by group, then bucket.
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/loss`.
    ///   - param: The param whose value groups runs.
    ///   - bucketWidth: Steps per bucket (positive).
    ///   - filter: Which runs take part (every run when nil).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: One row per group and non-empty bucket.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket width that is not positive; as ``runs(where:lineage:)`` otherwise.
    public func band(_ metric: String, groupBy param: String, bucketWidth: Int64, where filter: Filter? = nil, lineage: Lineage = .full)
        throws(StrataError) -> [BandRow]
    {
        try band(metric, groupBy: param, bucketWidth: bucketWidth, where: filter, quantiles: [], lineage: lineage)
    }

    /// A band whose rows also carry quantiles of their points (``BandRow/quantiles``): with one
    /// point per run and step, `quantiles: [0.1, 0.9]` gives the p10–p90 band of the seeds of each
    /// group. The quantiles are exact (a band reads every point); NaN is left out, ±Inf rank at the
    /// ends, and a row without a finite value has NaN quantiles.
    ///
    /// - Parameters:
    ///   - metric: The metric name, such as `train/loss`.
    ///   - param: The param whose value groups runs.
    ///   - bucketWidth: Steps per bucket (positive).
    ///   - filter: Which runs take part (every run when nil).
    ///   - levels: The quantiles, each strictly between 0 and 1 (none: as the plain band).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: One row per group and non-empty bucket.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bucket width that is not positive or a quantile outside (0, 1); as ``runs(where:lineage:)`` otherwise.
    public func band(
        _ metric: String, groupBy param: String, bucketWidth: Int64, where filter: Filter? = nil, quantiles levels: [Double],
        lineage: Lineage = .full
    ) throws(StrataError) -> [BandRow] {
        try Names.validateMetric(metric)
        guard bucketWidth > 0 else { throw .invalid("bucket width must be positive, got \(bucketWidth)") }
        if !levels.isEmpty { try Quantile.check(levels) }
        let keep = !levels.isEmpty
        return try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            // Serial: find every run's chunks and verify the column checksums they will need, so
            // that decoding below only reads shared state.
            var work: [(group: String, chunks: [ChunkHandle])] = []
            for run in matching(filter, lineage: lineage) {
                let chunks = try lineageChunksLocked(SeriesKey(run: run.id, canonical: metric), lineage)
                if chunks.isEmpty { continue }
                for c in chunks { try c.verifyColumns() }
                work.append((run.params[param]?.description ?? "(none)", chunks))
            }
            // Parallel: each worker folds a share of the runs into its own accumulators.
            let workers = work.count >= 8 ? 2 : 1
            let results = BandWorkers(count: workers)
            let shared = UncheckedBox(work)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var groups: [String: [Int64: BandCell]] = [:]
                var failure: StrataError?
                for (k, item) in shared.value.enumerated() where k % workers == w && failure == nil {
                    do throws(StrataError) {
                        let d = try SeriesQuery(chunks: item.chunks).read(.all, times: false)
                        var acc = groups[item.group] ?? [:]
                        Store.foldBand(d, width: bucketWidth, keepValues: keep, into: &acc)
                        groups[item.group] = acc
                    } catch {
                        failure = error
                    }
                }
                results.store(w, groups, failure)
            }
            var groups: [String: [Int64: BandCell]] = [:]
            for w in 0..<workers {
                let (part, failure) = results.take(w)
                if let failure { throw failure }
                for (g, buckets) in part {
                    var acc = groups[g] ?? [:]
                    for (b, c) in buckets { acc[b, default: BandCell()].merge(c) }
                    groups[g] = acc
                }
            }
            var rows: [BandRow] = []
            for g in groups.keys.sorted() {
                for (b, cell) in groups[g]!.sorted(by: { $0.key < $1.key }) {
                    let a = cell.stats
                    let numeric = a.numericCount > 0
                    var row = BandRow(
                        group: g, bucket: b, count: a.count, nanCount: a.nanCount, mean: a.mean, std: a.std,
                        min: numeric ? a.min : .nan, max: numeric ? a.max : .nan)
                    if keep {
                        let finite = cell.values.contains { $0.isFinite }
                        row.quantiles = finite ? Quantile.exact(cell.values, levels).map { $0! } : levels.map { _ in .nan }
                    }
                    rows.append(row)
                }
            }
            return rows
        }
    }

    /// Every metric of every run matching `filter`: count, min, max, last value and more, from
    /// series summaries (no chunk is read). Runs oldest first.
    ///
    /// - Parameters:
    ///   - filter: Which runs to summarise (every run when nil).
    ///   - lineage: Whether a forked run's metrics include its ancestors' points up to its fork step (``Lineage``; full by default).
    /// - Returns: One summary per run.
    /// - Throws: ``StrataError`` with code `.closed` after ``Store/close()``, or when the catalog or a segment cannot be read.
    public func summary(where filter: Filter? = nil, lineage: Lineage = .full) throws(StrataError) -> [RunSummary] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try catalog.refresh()
            try reader.refresh()
            let runs = matching(filter, lineage: lineage)
            return zip(runs, try lineageMetricSummariesLocked(runs, lineage)).map { RunSummary(run: $0, metrics: $1.mapValues(Stats.init)) }
        }
    }
}

extension Store {
    /// The first step of band bucket `bucket` of width `width`: `bucket · width`, or `Int64.min`
    /// when that product is below `Int64.min` (the bucket's first existing step). Buckets come from
    /// `floor(step / width)`, so the product is never above `Int64.max`.
    ///
    /// - Parameters:
    ///   - bucket: A bucket number of ``BandRow/bucket``.
    ///   - width: The bucket width the band was made with.
    /// - Returns: The first step of the bucket.
    public static func bandStart(_ bucket: Int64, width: Int64) -> Int64 {
        let (p, overflow) = bucket.multipliedReportingOverflow(by: width)
        return overflow ? (bucket < 0 ? .min : .max) : p
    }

    /// Adds a run's points (sorted by step) to per-bucket accumulators (with their values when
    /// `keepValues`, for quantiles).
    static func foldBand(_ d: SeriesData, width: Int64, keepValues: Bool = false, into acc: inout [Int64: BandCell]) {
        let steps = d.steps
        let n = steps.count
        var i = 0
        while i < n {
            let b = floorDiv(steps[i], width)
            // Steps are sorted: the bucket's points are contiguous.
            let end = b >= Int64.max / width ? Int64.max : (b + 1) * width
            var j = i + 1
            while j < n && steps[j] < end { j += 1 }
            acc[b, default: BandCell()].stats.mergeValues(Aggregate.values(d.values, i..<j))
            if keepValues { acc[b, default: BandCell()].values.append(contentsOf: d.values[i..<j]) }
            i = j
        }
    }
}

/// One (group, bucket) cell of a band: statistics, and the values when quantiles are asked.
struct BandCell {
    var stats = Aggregate()
    var values: [Double] = []
    mutating func merge(_ o: BandCell) {
        stats.mergeValues(o.stats)
        values += o.values
    }
}

/// Per-worker results of a parallel band, written once by each worker, read after all finished.
final class BandWorkers: @unchecked Sendable {
    // @unchecked Sendable: slot w is written only by worker w, and read only after
    // `concurrentPerform` returned (which orders the writes before the reads); `lock` guards anyway.
    private var slots: [([String: [Int64: BandCell]], StrataError?)]
    private let lock = Lock()
    init(count: Int) { slots = Array(repeating: ([:], nil), count: count) }
    func store(_ w: Int, _ groups: [String: [Int64: BandCell]], _ failure: StrataError?) { lock.withLock { slots[w] = (groups, failure) } }
    func take(_ w: Int) -> ([String: [Int64: BandCell]], StrataError?) { lock.withLock { slots[w] } }
}

/// Hands read-only data to worker threads.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

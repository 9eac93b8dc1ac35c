// Reads of a deleted (tombstoned) run by its id, for clients that show deleted runs (MLflow's
// `runs/get`, `metrics/get-history`: a deleted run has lifecycle stage "deleted" and keeps its
// points until compaction reclaims it). Every other read hides a deleted run (``Store/deleteRun(_:)``).

/// Whether a read that names a run by id answers for a deleted run (``Store/deleteRun(_:)``).
///
/// Listings, filters, `rank` and `band` never show deleted runs; only reads by an explicit run id
/// can opt in, with ``readable``, until ``Store/compact(graceSeconds:)`` reclaims the run.
public enum DeletedRuns: String, Sendable, Hashable, CaseIterable {
    /// A deleted run is not found (the default of every read).
    case hidden
    /// A deleted run is read like any other run.
    case readable
}

extension Store {
    /// A run by its exact id, deleted or not (with ``DeletedRuns/readable``).
    ///
    /// - Parameters:
    ///   - id: The run's identifier.
    ///   - deleted: Whether a deleted run is found (its ``RunInfo/deletedMs`` is then set).
    /// - Returns: The run's record.
    /// - Throws: ``StrataError`` with code `.notFound` for an unknown, reclaimed, or (with
    ///   ``DeletedRuns/hidden``) deleted run.
    public func run(_ id: RunID, deleted: DeletedRuns) throws(StrataError) -> RunInfo {
        if deleted == .hidden {
            let info = try run(id.text)
            guard info.id == id else { throw StrataError(.notFound, "no run with id \(id.text) in store \(path)") }
            return info
        }
        return try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            if let info = catalog.info(id) { return info }
            try reader.refresh()
            if let info = knownRunLocked(id) { return info }
            throw StrataError(.notFound, "no run with id \(id.text) in store \(path)")
        }
    }

    /// ``series(of:lineage:)``, for a deleted run too with ``DeletedRuns/readable``.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - lineage: Whether a forked run's series include its ancestors' points (``Lineage``).
    ///   - deleted: Whether a deleted run's series are read.
    /// - Returns: One summary per series.
    /// - Throws: ``StrataError`` as ``series(of:lineage:)``.
    public func series(of run: RunID, lineage: Lineage = .full, deleted: DeletedRuns) throws(StrataError) -> [SeriesInfo] {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try reader.refresh()
            if deleted == .hidden { try checkNotDeletedLocked(run) }
            return try seriesInfosLocked(run, lineage)
        }
    }

    /// ``read(_:_:labels:steps:times:lineage:)-(_,_,_,Range<Int64>?,_,_)``, for a deleted run too
    /// with ``DeletedRuns/readable``.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name.
    ///   - labels: The series' context labels.
    ///   - steps: The half-open step range (every step when nil).
    ///   - times: Whether to decode wall times.
    ///   - lineage: For a forked run, its full lineage or its own points only (``Lineage``).
    ///   - deleted: Whether a deleted run's points are read.
    /// - Returns: The points as columns.
    /// - Throws: ``StrataError`` as the read without `deleted`.
    public func read(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, times: Bool = true,
        lineage: Lineage = .full, deleted: DeletedRuns
    ) throws(StrataError) -> SeriesData {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage, deleted: deleted) { q throws(StrataError) in try q.read(.init(steps), times: times) }
    }

    /// ``points(_:_:labels:steps:lineage:)-(_,_,_,ClosedRange<Int64>,_)``, for a deleted run too
    /// with ``DeletedRuns/readable``.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name.
    ///   - labels: The series' context labels.
    ///   - steps: The closed step interval.
    ///   - lineage: For a forked run, its full lineage or its own points only (``Lineage``).
    ///   - deleted: Whether a deleted run's points are read.
    /// - Returns: The points, ordered by step, stable by arrival.
    /// - Throws: ``StrataError`` as the read without `deleted`.
    public func points(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, lineage: Lineage = .full,
        deleted: DeletedRuns
    ) throws(StrataError) -> [Point] {
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        return try withChunks(key, lineage: lineage, deleted: deleted) { q throws(StrataError) in try q.points(.init(steps)) }
    }

    /// ``curve(_:_:labels:steps:buckets:since:lineage:)``, for a deleted run too with
    /// ``DeletedRuns/readable``.
    ///
    /// - Parameters:
    ///   - run: The run's identifier.
    ///   - metric: The metric name.
    ///   - labels: The series' context labels.
    ///   - steps: The closed step interval.
    ///   - buckets: The number of buckets (1 to ``Buckets/maxCount``).
    ///   - lineage: For a forked run, its full lineage or its own points only (``Lineage``).
    ///   - deleted: Whether a deleted run's points are read.
    /// - Returns: The non-empty buckets, in order.
    /// - Throws: ``StrataError`` as the curve without `deleted`.
    public func curve(
        _ run: RunID, _ metric: String, labels: [String: String] = [:], steps: ClosedRange<Int64>, buckets: Int, lineage: Lineage = .full,
        deleted: DeletedRuns
    ) throws(StrataError) -> [CurveBucket] {
        guard buckets > 0 && buckets <= Buckets.maxCount else { throw .invalid("buckets must be 1 to \(Buckets.maxCountText), got \(buckets)") }
        let key = try SeriesKey(run: run, metric: metric, labels: labels)
        let b = Buckets(steps, count: buckets)
        let rows = try withCoarse(key, lineage: lineage, deleted: deleted) { q throws(StrataError) in try q.curve(b, from: 0) }
        return rows.map { CurveBucket(b, $0) }
    }
}

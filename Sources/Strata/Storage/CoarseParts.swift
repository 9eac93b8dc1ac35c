/// How curves and windows reach a series through its coarse tiers (`CoarseSeries`), without
/// building a handle per chunk.
extension SegmentSeries {
    /// The coarse tier of this series' chunks, built once per process from the chunk headers.
    func tier() throws(StrataError) -> CoarseTier {
        if let coarseTier { return coarseTier }
        let t = CoarseTier(chunkStats: try chunks().map(\.stats))
        coarseTier = t
        return t
    }
}

extension StoreReader {
    /// A series' segment parts with their coarse tiers, and its other chunks (log tails, and the
    /// parts a rewind cuts, trimmed as `chunks(_:)` trims them). Same points, same arrival ranks
    /// as `chunks(_:)`.
    func coarseSeries(_ key: SeriesKey) throws(StrataError) -> CoarseSeries {
        var out = CoarseSeries()
        var order: UInt64 = 0
        let rw = rewinds(key.run)
        for part in segmentSeries(key) {
            defer { order += 1 }
            let entries = try part.chunks()
            let tier = try part.tier()
            let limit = RewindVisibility.limit(rw, loggedAt: part.segment.meta.firstSequence, applied: part.segment.meta.rewindEpoch)
            if tier.lastStep <= limit {
                out.parts.append(CoarseSeries.Part(segment: part.segment, entries: entries, tier: tier, order: order))
                continue
            }
            let handles = entries.indices.map { ChunkHandle(segment: part.segment, entry: entries[$0], rankBase: order << 36 | UInt64($0) << 12) }
            out.loose += try RewindVisibility.trim(handles, to: limit)
        }
        out.loose += try tailChunks(key, firstOrder: order)
        return out
    }
}

/// What a step curve or window aggregate of one series reads: its coarse tiers when the read is
/// the run's own series whole (every unforked run, and any run read with ``Lineage/own``), else the
/// chunks of each part of its lineage clipped to the part's steps (see `lineagePartsLocked`).
enum StepSeries {
    case coarse(CoarseSeries)
    case clipped(SeriesQuery)

    mutating func curve(_ buckets: Buckets, from first: Int = 0) throws(StrataError) -> [CurveRow] {
        switch self {
        case .coarse(var s):
            defer { self = .coarse(s) }
            return try s.curve(buckets, from: first)
        case .clipped(let q): return try q.curve(buckets, from: first)
        }
    }

    mutating func aggregate(_ interval: SeriesQuery.StepInterval) throws(StrataError) -> Aggregate {
        switch self {
        case .coarse(var s):
            defer { self = .coarse(s) }
            return try s.aggregate(interval)
        case .clipped(let q): return try q.aggregate(interval)
        }
    }
}

extension Store {
    /// Runs `body` on the coarse view of a series, under the store's lock, after a refresh.
    func withCoarse<T>(_ key: SeriesKey, _ body: (inout CoarseSeries) throws(StrataError) -> T) throws(StrataError) -> T {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try checkNotDeletedLocked(key.run)
            try reader.refresh()
            var series = try reader.coarseSeries(key)
            return try body(&series)
        }
    }

    /// Runs `body` on what a step read of a series through `lineage` covers (``StepSeries``),
    /// under the store's lock, after a refresh.
    func withCoarse<T>(_ key: SeriesKey, lineage: Lineage, _ body: (inout StepSeries) throws(StrataError) -> T) throws(StrataError) -> T {
        try lock.withLock { () throws(StrataError) in
            try checkOpenLocked()
            try checkNotDeletedLocked(key.run)
            try reader.refresh()
            let parts = try lineagePartsLocked(key.run, lineage)
            var series: StepSeries =
                parts.count == 1 && parts[0].isWhole
                ? .coarse(try reader.coarseSeries(key)) : .clipped(SeriesQuery(chunks: try lineageChunksLocked(key, lineage)))
            return try body(&series)
        }
    }
}

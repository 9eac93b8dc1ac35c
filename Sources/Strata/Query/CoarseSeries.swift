/// A series as curves and windows see it: its segment parts with their coarse tiers, and the
/// chunks that have none (log tails, parts cut by a rewind), queried one by one.
///
/// Above the parts' pyramids sits a tier over segments (`segmentTier`): a pyramid with one entry
/// per part. When the parts follow one another in step order (a series logged in step order, cut
/// into segments by its log), a query walks the parts from bucket edge to bucket edge, merging
/// the runs of parts inside one bucket from that pyramid, so a curve or a zoom costs the same in
/// a series of ten segments or of two hundred. The store keeps the segment side of a series
/// between queries (`CoarseSeriesCache`, in `Store.coarseCache`), so it is not rebuilt per query.
struct CoarseSeries {
    struct Part {
        let segment: Segment
        let entries: [ChunkEntry]
        let tier: CoarseTier
        /// Arrival order of the part among the series' parts (rank bits 36 and up).
        let order: UInt64
        /// The series' place in the segment, which keeps what edge chunks need once opened.
        let series: SegmentSeries

        func handle(_ i: Int) -> ChunkHandle {
            ChunkHandle(segment: segment, entry: entries[i], rankBase: order << 36 | UInt64(i) << 12)
        }

        /// A cursor over chunk `i`: the first time, one that verifies its columns (whose block
        /// offsets the series then keeps), after that one that skips the segment's lookups.
        func cursor(_ i: Int, scratch: ValueScratch) throws(StrataError) -> ChunkCursor {
            if series.edgeOffsets.count != entries.count { series.edgeOffsets = Array(repeating: nil, count: entries.count) }
            if let known = series.edgeOffsets[i] { return ChunkCursor(verified: handle(i), offsets: known, scratch: scratch) }
            var cur = try ChunkCursor(handle(i), scratch: scratch)
            series.edgeOffsets[i] = try cur.blockOffsetsForReuse()
            return cur
        }
    }
    var parts: [Part] = [] {
        didSet { segmentTier = CoarseSeries.segmentTier(parts) }
    }
    var loose: [ChunkHandle] = []
    /// The tier over segments: a pyramid whose level 0 holds one entry per part of `parts`, the
    /// statistics of all its points (ranks with the part's order bits).
    private(set) var segmentTier = CoarseTier(levelZero: [])

    static func segmentTier(_ parts: [Part]) -> CoarseTier {
        CoarseTier(
            levelZero: parts.map { p in
                var m = 0
                var whole = p.tier.merged(0..<p.tier.levelStart[1], merges: &m)
                whole.firstRank |= p.order << 36
                whole.lastRank |= p.order << 36
                return whole
            })
    }

    /// How many tier entries and chunks the last query looked at (a test's measure of its cost).
    private(set) var touched = 0

    /// Per-bucket statistics, as `SeriesQuery.curve` computes them from every chunk: same
    /// buckets, same numbers.
    mutating func curve(_ buckets: Buckets, from first: Int = 0) throws(StrataError) -> [CurveRow] {
        touched = 0
        let last = buckets.last
        guard first < buckets.count else { return [] }
        let lo = first > 0 ? buckets.start(first) : buckets.lo
        if lo > last { return [] }
        var acc = BucketRows(capacity: Swift.min(buckets.count - first, 1 << 16))
        let scratch = ValueScratch()
        try fill(&acc, buckets, from: first, lo: lo, scratch: scratch)
        let rows = acc.rows
        let infinite = rows.filter(\.mayHoldInfinity).map(\.bucket)
        if infinite.isEmpty { return rows }
        return try SeriesQuery.withValueKinds(rows, chunks(overlapping: infinite, buckets), buckets, lo: lo, scratch: scratch)
    }

    /// Statistics of the points with steps in `interval` (a curve of one bucket, without the
    /// value kinds).
    mutating func aggregate(_ interval: SeriesQuery.StepInterval) throws(StrataError) -> Aggregate {
        touched = 0
        if interval.isEmpty { return Aggregate() }
        let buckets = Buckets(interval.lo...interval.hi, count: 1)
        var acc = BucketRows(capacity: 1)
        try fill(&acc, buckets, from: 0, lo: interval.lo, scratch: ValueScratch())
        return acc.rows.first?.stats ?? Aggregate()
    }

    /// Adds every point with a step in `[lo, buckets.last]` to its bucket: each part from the
    /// top of its tier down, then the loose chunks one by one.
    private mutating func fill(_ acc: inout BucketRows, _ buckets: Buckets, from first: Int, lo: Int64, scratch: ValueScratch) throws(StrataError) {
        var finder = BucketFinder(buckets, from: first)
        let last = buckets.last
        if segmentTier.ordered {
            try walkParts(lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
        } else {
            for k in parts.indices { try fill(part: k, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch) }
        }
        for c in loose where c.stats.lastStep >= lo && c.stats.firstStep <= buckets.last {
            touched += 1
            try SeriesQuery.curveChunk(c, lo: lo, last: buckets.last, finder: &finder, acc: &acc, scratch: scratch)
        }
    }

    /// The parts when they follow one another in step order (`segmentTier.ordered`: a series
    /// logged in step order, cut into segments by its log), from bucket edge to bucket edge as
    /// `walk` goes over the chunks of a part: the parts wholly inside one bucket come in runs, each
    /// merged from the tier over segments; a part that an edge cuts is filled on its own. The cost
    /// follows the buckets and the edges, not the number of segments.
    private mutating func walkParts(
        lo: Int64, last: Int64, finder: inout BucketFinder, acc: inout BucketRows, scratch: ValueScratch
    ) throws(StrataError) {
        let t = segmentTier
        let n = t.levelStart[1]
        var k = t.firstChunk(from: 0, guess: t.guess(lo, from: 0), probes: &touched) { t.lastSteps[$0] >= lo }
        while k < n && t.firstSteps[k] <= last {
            if let (b, end) = t.runInOneBucket(from: k, lo: lo, last: last, finder: &finder, probes: &touched) {
                acc.merge(b, t.merged(k..<end, merges: &touched))
                k = end
                continue
            }
            try fill(part: k, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
            k += 1
        }
    }

    /// Adds the points of part `k` with steps in `[lo, last]`, walked edge to edge (chunks in step
    /// order) or from the top of its pyramid down.
    private mutating func fill(
        part k: Int, lo: Int64, last: Int64, finder: inout BucketFinder, acc: inout BucketRows, scratch: ValueScratch
    ) throws(StrataError) {
        let p = parts[k]
        touched += 1
        if p.tier.ordered {
            try walk(p, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
            return
        }
        for at in p.tier.level(p.tier.levelCount - 1) {
            try visit(p, level: p.tier.levelCount - 1, at, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
        }
    }

    /// A part whose chunks are in step order (`CoarseTier.ordered`), from bucket edge to bucket
    /// edge: the chunks wholly inside one bucket come in runs, each merged from the pyramid
    /// (`CoarseTier.merged`, found by a galloping search over the chunks' last steps); a chunk
    /// that an edge cuts (or the range's ends) is walked bucket by bucket, opened from its compact
    /// record (`EdgeChunk`, `EdgeCursor`) when it has linear steps and tier blocks, else through a
    /// `ChunkCursor`. The cost per bucket grows with the logarithm of the chunks a bucket holds,
    /// not of the chunks of the series.
    private mutating func walk(
        _ p: Part, lo: Int64, last: Int64, finder: inout BucketFinder, acc: inout BucketRows, scratch: ValueScratch
    ) throws(StrataError) {
        let t = p.tier
        let n = t.levelStart[1]
        // The first chunk ending at or after lo.
        var i = t.firstChunk(from: 0, guess: t.guess(lo, from: 0), probes: &touched) { t.lastSteps[$0] >= lo }
        while i < n && t.firstSteps[i] <= last {
            if let (b, end) = t.runInOneBucket(from: i, lo: lo, last: last, finder: &finder, probes: &touched) {
                var whole = t.merged(i..<end, merges: &touched)
                whole.firstRank |= p.order << 36
                whole.lastRank |= p.order << 36
                acc.merge(b, whole)
                i = end
                continue
            }
            touched += 1
            if let slot = try p.series.edgeSlot(i, of: p.entries) {
                var cur = EdgeCursor(p.series, slot: slot, rankBase: p.order << 36 | UInt64(i) << 12, scratch: scratch)
                try SeriesQuery.walkBuckets(&cur, lo: lo, last: last, finder: &finder) { (b, r, cur) throws(StrataError) in
                    acc.merge(b, try cur.aggregate(r))
                }
            } else {
                var cur = try p.cursor(i, scratch: scratch)
                try SeriesQuery.walkBuckets(&cur, lo: lo, last: last, finder: &finder) { (b, r, cur) throws(StrataError) in
                    acc.merge(b, try cur.aggregate(r))
                }
            }
            i += 1
        }
    }

    /// One tier entry (at position `at` of the tier's entries): merged whole when its steps lie in
    /// one bucket, else opened (its children, or, for a chunk, the chunk's own bucket walk). Only
    /// its step span is read unless it is merged.
    private mutating func visit(
        _ p: Part, level: Int, _ at: Int, lo: Int64, last: Int64, finder: inout BucketFinder, acc: inout BucketRows, scratch: ValueScratch
    ) throws(StrataError) {
        touched += 1
        let f = p.tier.firstSteps[at], l = p.tier.lastSteps[at]
        // (An empty entry has f > l.)
        if f > l || l < lo || f > last { return }
        if f >= lo && l <= last {
            let b = finder.index(f)
            if finder.holds(b, l) {
                var whole = p.tier.entries[at]
                whole.firstRank |= p.order << 36
                whole.lastRank |= p.order << 36
                acc.merge(b, whole)
                return
            }
        }
        if level == 0 {
            try SeriesQuery.curveChunk(p.handle(at), lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
            return
        }
        for c in p.tier.children(level, at) {
            try visit(p, level: level - 1, c, lo: lo, last: last, finder: &finder, acc: &acc, scratch: scratch)
        }
    }

    /// The chunks with a step in one of the buckets `sorted` (ascending), for the value kinds of
    /// buckets that hold an infinity.
    private func chunks(overlapping sorted: [Int], _ buckets: Buckets) -> [ChunkHandle] {
        func overlaps(_ s: Aggregate) -> Bool {
            if s.count == 0 || s.lastStep < buckets.start(sorted[0]) || s.firstStep > buckets.end(sorted[sorted.count - 1]) { return false }
            // The first listed bucket ending at or after the entry's first step must start by its last.
            var k = 0, n = sorted.count
            while k < n {
                let m = (k + n) / 2
                if buckets.end(sorted[m]) < s.firstStep { k = m + 1 } else { n = m }
            }
            return k < sorted.count && buckets.start(sorted[k]) <= s.lastStep
        }
        var out: [ChunkHandle] = []
        func collect(_ p: Part, _ level: Int, _ at: Int) {
            guard overlaps(p.tier.entries[at]) else { return }
            if level == 0 { out.append(p.handle(at)); return }
            for c in p.tier.children(level, at) { collect(p, level - 1, c) }
        }
        for p in parts {
            let top = p.tier.levelCount - 1
            for at in p.tier.level(top) { collect(p, top, at) }
        }
        return out + loose
    }
}

extension CoarseTier {
    /// When level-0 entry `i` of a tier in step order (`ordered`) lies wholly inside one bucket
    /// of `[lo, last]`: that bucket, and the end of the run of entries from `i` on that end in it
    /// (their first steps are at or after entry `i`'s), found by a galloping search started at the
    /// estimate of where the bucket ends. Nil when entry `i` is cut by a bucket edge or by the
    /// range's ends. `probes` counts the entries tested.
    func runInOneBucket(from i: Int, lo: Int64, last: Int64, finder: inout BucketFinder, probes: inout Int) -> (bucket: Int, end: Int)? {
        let f = firstSteps[i], l = lastSteps[i]
        guard f >= lo && l <= last else { return nil }
        let b = finder.index(f)
        guard finder.holds(b, l) else { return nil }
        let guess = guess(finder.end(b, last: last), from: i) + 1
        let end = firstChunk(from: i + 1, guess: guess, probes: &probes) { [finder] in
            lastSteps[$0] > last || !finder.holds(b, lastSteps[$0])
        }
        return (b, end)
    }
}

/// The bucket of a step without a 128-bit division per lookup: the first steps of the buckets
/// from `first` on, computed once, searched from the last answer (tier entries come mostly in
/// step order).
struct BucketFinder {
    /// Each bucket's first value as an offset from `lo` (`Buckets.startOffset`: unsigned, so an
    /// empty last bucket of a range reaching `Int64.max` still sorts after every step).
    private let starts: [UInt64]
    private let lo: Int64
    private let first: Int
    private var hint = 0

    init(_ buckets: Buckets, from first: Int) {
        self.first = first
        lo = buckets.lo
        starts = (first..<buckets.count).map(buckets.startOffset)
    }

    /// The bucket of `x`, which lies in the buckets from `first` on.
    @inline(__always) mutating func index(_ x: Int64) -> Int {
        let o = UInt64(bitPattern: x &- lo)
        let n = starts.count
        var b = hint
        var tries = 0
        while b + 1 < n && starts[b + 1] <= o && tries < 4 { b += 1; tries += 1 }
        while b > 0 && starts[b] > o && tries < 8 { b -= 1; tries += 1 }
        if !(starts[b] <= o && (b + 1 == n || starts[b + 1] > o)) {
            // The last bucket starting at or before x (a bucket empty of integers starts where the next does).
            var l = 0, h = n
            while l < h {
                let m = (l + h) / 2
                if starts[m] <= o { l = m + 1 } else { h = m }
            }
            b = l - 1
        }
        hint = b
        return b + first
    }

    /// The first step of bucket `b` (from `first` on), as `Buckets.start` computes it; only for a
    /// bucket that holds a step of the range.
    @inline(__always) func start(_ b: Int) -> Int64 { lo &+ Int64(bitPattern: starts[b - first]) }

    /// The last step of bucket `b` (from `first` on), `last` for the last bucket: an estimate's
    /// target only (a bucket empty of integers gives its next bucket's start minus one).
    @inline(__always) func end(_ b: Int, last: Int64) -> Int64 {
        let k = b - first + 1
        return k >= starts.count ? last : lo &+ Int64(bitPattern: starts[k] &- 1)
    }

    /// Whether step `x` (at or after the start of bucket `b`) is still in bucket `b`.
    @inline(__always) func holds(_ b: Int, _ x: Int64) -> Bool {
        let k = b - first + 1
        return k == starts.count || UInt64(bitPattern: x &- lo) < starts[k]
    }
}

extension StoreReader {
    /// A series' segment parts with their coarse tiers, and its other chunks (log tails, and the
    /// parts a rewind cuts, trimmed as `chunks(_:)` trims them). Same points, same arrival ranks
    /// as `chunks(_:)`.
    ///
    /// `cache` keeps the segment side of the series between queries (see `CoarseSeriesCache`).
    func coarseSeries(_ key: SeriesKey, cache: inout CoarseSeriesCache) throws(StrataError) -> CoarseSeries {
        let rw = rewinds(key.run)
        let segmentSide: CoarseSeriesCache.Entry
        if let hit = cache.lookup(key, rewinds: rw, generation: generation) {
            segmentSide = hit
        } else {
            var parts: [CoarseSeries.Part] = []
            var loose: [ChunkHandle] = []
            var order: UInt64 = 0
            for part in segmentSeries(key) {
                defer { order += 1 }
                let entries = try part.chunks()
                let tier = try part.tier()
                let limit = RewindVisibility.limit(rw, loggedAt: part.segment.meta.firstSequence, applied: part.segment.meta.rewindEpoch)
                if tier.lastStep <= limit {
                    parts.append(CoarseSeries.Part(segment: part.segment, entries: entries, tier: tier, order: order, series: part))
                    continue
                }
                let handles = entries.indices.map { ChunkHandle(segment: part.segment, entry: entries[$0], rankBase: order << 36 | UInt64($0) << 12) }
                loose += try RewindVisibility.trim(handles, to: limit)
            }
            var series = CoarseSeries()
            series.parts = parts
            series.loose = loose
            segmentSide = CoarseSeriesCache.Entry(rewinds: rw, series: series, parts: order)
            cache.insert(key, segmentSide, generation: generation)
        }
        var out = segmentSide.series
        if !tails.isEmpty { out.loose += try tailChunks(key, firstOrder: segmentSide.parts) }
        return out
    }
}

/// The segment side of the series queried last through their coarse tiers (parts with their
/// pyramids, the tier over segments, the chunks a rewind cuts loose), kept until the reader's
/// next rebuild (a new or replaced segment: `StoreReader.generation`) and dropped whole when it
/// would hold more than
/// `maxSeries` series or `maxChunks` chunk headers: a dashboard's repeated curves of a series
/// spread over many segments do not look the series up in each segment again. The headers and
/// pyramids are those the segments keep for their series anyway (shared, not copied), unless a
/// segment lets go of its read state (compaction), when the cache holds them until dropped.
struct CoarseSeriesCache {
    struct Entry {
        let rewinds: [RunInfo.Rewind]
        let series: CoarseSeries
        /// Segment parts of the series (the first arrival order of its log tails).
        let parts: UInt64
        var chunks: Int { series.parts.reduce(series.loose.count) { $0 + $1.entries.count } }
    }
    static let maxSeries = 1024
    /// About 70 MB of chunk headers and 45 MB of pyramid entries at most (a 1 G-point series).
    static let maxChunks = 1 << 18
    private var entries: [SeriesKey: Entry] = [:]
    private var chunks = 0
    /// The reader generation the entries were built in.
    private var generation = 0

    func lookup(_ key: SeriesKey, rewinds: [RunInfo.Rewind], generation: Int) -> Entry? {
        guard generation == self.generation, let hit = entries[key], hit.rewinds == rewinds else { return nil }
        return hit
    }

    mutating func insert(_ key: SeriesKey, _ entry: Entry, generation: Int) {
        let n = entry.chunks
        if n > CoarseSeriesCache.maxChunks { return }
        if let old = entries.removeValue(forKey: key) { chunks -= old.chunks }
        if generation != self.generation || entries.count >= CoarseSeriesCache.maxSeries || chunks + n > CoarseSeriesCache.maxChunks {
            self.generation = generation
            entries = [:]
            chunks = 0
        }
        entries[key] = entry
        chunks += n
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

/// What a reader sees of a store: its segments (minus those replaced by compaction) and the
/// tails of logs not yet cut into segments. `refresh()` picks up new files.
///
/// Listing order matters for never seeing a point twice or not at all: logs are listed and mapped
/// before segments, so a log cut while we list is either still mapped (and dropped only when its
/// segment is seen) or its segment is already there. Replaced segments are deleted only after a
/// grace period (see `Compactor`), so a listing never misses both a replaced segment and its
/// replacement.
final class StoreReader {
    let paths: StorePaths
    private(set) var segments: [String: Segment] = [:]
    private(set) var tails: [String: LogTail] = [:]
    /// Files that could not be read, with the reason: reported by `verify`, skipped by queries.
    private(set) var damaged: [String: String] = [:]
    private var ordered: [Segment] = []

    /// The rewinds of a run (from the catalog).
    var rewinds: (RunID) -> [RunInfo.Rewind] = { _ in [] }

    init(paths: StorePaths) { self.paths = paths }

    func refresh() throws(StrataError) {
        var changed = false
        let logNames = (try? Sys.list(paths.logs)) ?? []
        for name in logNames where name.hasSuffix(".wal") && tails[name] == nil {
            let path = paths.logs + "/" + name
            do {
                tails[name] = try LogTail(path: path, name: name)
                damaged[path] = nil
            } catch  where error.code == .io {
                continue  // deleted since listed
            } catch {
                damaged[path] = error.description
            }
        }
        let segNames = (try? Sys.list(paths.segments)) ?? []
        // Forget (unmap) segments deleted after compaction replaced them.
        let present = Set(segNames)
        var replacedBy = Set<String>()
        for s in segments.values where present.contains(s.name) { replacedBy.formUnion(s.meta.replaces) }
        for name in segments.keys where !present.contains(name) && replacedBy.contains(name) {
            segments[name] = nil
            changed = true
        }
        for name in segNames where name.hasSuffix(".seg") && segments[name] == nil {
            let path = paths.segment(name)
            if damaged[path] != nil { continue }
            do {
                segments[name] = try Segment(path: path, name: name)
                changed = true
            } catch  where error.code == .io {
                continue
            } catch {
                damaged[path] = error.description
            }
        }
        // A log whose segment exists has been cut: its points are in the segment.
        for (name, tail) in tails {
            let segName = StorePaths.segmentName(writer: tail.header.writerId, generation: tail.header.generation)
            if segments[segName] != nil {
                tails[name] = nil
                changed = true
            }
        }
        for tail in tails.values { tail.refresh() }
        if changed { rebuild() }
    }

    private func rebuild() {
        var replaced = Set<String>()
        for s in segments.values { replaced.formUnion(s.meta.replaces) }
        ordered = segments.values.filter { !replaced.contains($0.name) }.sorted {
            ($0.meta.firstSequence, $0.name) < ($1.meta.firstSequence, $1.name)
        }
        for (i, seg) in ordered.enumerated() { seg.arrivalOrder = i }
        // The series of a run are looked up per run on first use: listing runs needs only the
        // run tables, and a page of runs only their own series.
        runCache = [:]
        segmentRunIDs = nil
        chunkCache = ChunkListCache()
        generation &+= 1
        directorySummaries = [:]
        runSummaries = [:]
        metricColumns = [:]
    }

    /// Segment chunk lists of the series queried last (`chunks`), until the next rebuild.
    private var chunkCache = ChunkListCache()
    /// Counts the rebuilds (a new, replaced or removed segment): what the reader's callers key
    /// their own caches of segment state on (the coarse series of `Store.withCoarse`).
    private(set) var generation = 0

    /// Per run looked up since the last rebuild: its series (sorted) with their segment parts in
    /// arrival order.
    private var runCache: [RunID: [(key: SeriesKey, parts: [SegmentSeries])]] = [:]
    /// The runs with points in live segments (from their run tables), until the next rebuild.
    private var segmentRunIDs: Set<RunID>?

    private func runParts(_ run: RunID) -> [(key: SeriesKey, parts: [SegmentSeries])] {
        if let cached = runCache[run] { return cached }
        var out: [(key: SeriesKey, parts: [SegmentSeries])] = []
        var position: [String: Int] = [:]
        for seg in ordered {
            for s in seg.series(of: run) {
                if let i = position[s.key.canonical] {
                    out[i].parts.append(s)
                } else {
                    position[s.key.canonical] = out.count
                    out.append((s.key, [s]))
                }
            }
        }
        out.sort { $0.key.canonical < $1.key.canonical }
        runCache[run] = out
        return out
    }

    /// Segment parts of a series, in arrival order.
    private func parts(_ key: SeriesKey) -> [SegmentSeries] {
        let all = runParts(key.run)
        var lo = 0, hi = all.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if all[mid].key.canonical < key.canonical { lo = mid + 1 } else { hi = mid }
        }
        return lo < all.count && all[lo].key.canonical == key.canonical ? all[lo].parts : []
    }

    var liveSegments: [Segment] { ordered }
    /// Every mapped segment, replaced ones included.
    var allSegments: [Segment] { Array(segments.values) }

    /// Every series of a run, from segments and log tails.
    func seriesKeys(of run: RunID) -> [SeriesKey] {
        let fromSegments = runParts(run).map(\.key)
        if tails.isEmpty { return fromSegments }
        var keys = Set(fromSegments)
        for t in tails.values { for k in t.series.keys where k.run == run { keys.insert(k) } }
        return keys.sorted()
    }

    /// Summaries of every series of a run without context labels, keyed by metric name.
    /// Fast path (no rewinds, no live tails): merges segment directory summaries directly.
    func metricSummaries(of run: RunID) -> [String: Aggregate] {
        var out: [String: Aggregate] = [:]
        if tails.isEmpty && rewinds(run).isEmpty {
            for (key, parts) in runParts(run) where key.labels.isEmpty {
                out[key.metric] = mergedSummary(key, parts).0
            }
            return out
        }
        for key in seriesKeys(of: run) where key.labels.isEmpty {
            if let (a, _, _) = summary(key) { out[key.metric] = a }
        }
        return out
    }

    /// Summaries of the series without context labels of many runs, by run (in the order of
    /// `runs`) then metric: for each run what `metricSummaries(of:)` gives, from one walk over
    /// each segment's directory (`Segment.eachSeriesSummary`) instead of a lookup per run and
    /// series. Runs with rewinds or with points in live logs take the per-run path.
    /// `rewound[i]` says whether run `i` has rewinds (the caller has its record at hand).
    func metricSummaries(ofRuns runs: [RunID], rewound: [Bool]) -> [[String: Aggregate]] {
        var out = [[String: Aggregate]](repeating: [:], count: runs.count)
        let tailRuns = runsInTails()
        var slots: [RunID: Int32] = [:]
        slots.reserveCapacity(runs.count)
        for (i, run) in runs.enumerated() {
            if rewound[i] || tailRuns.contains(run) {
                out[i] = metricSummaries(of: run)
            } else if let hit = runSummaries[run] {
                out[i] = hit
            } else {
                slots[run] = Int32(i)
            }
        }
        if slots.isEmpty { return out }
        defer {
            if runSummaries.count + slots.count > Self.maxRunSummaries { runSummaries = [:] }
            for (run, i) in slots { runSummaries[run] = out[Int(i)] }
        }
        let (metrics, merged, perSlot) = mergedDirectoryStats(slots, runCount: runs.count)
        for (i, n) in perSlot.enumerated() where n > 0 { out[i].reserveCapacity(Int(n)) }
        for m in merged { out[Int(m.slot)][metrics[Int(m.name)]] = m.summary }
        return out
    }

    /// The segment directory statistics of the series without labels of the runs in `slots`
    /// (run → slot), merged per (slot, metric) with parts in arrival order as in `merged`. Also how
    /// many such series each slot has.
    private func mergedDirectoryStats(_ slots: [RunID: Int32], runCount: Int) -> (
        names: [String], merged: [(slot: Int32, name: Int32, summary: Aggregate, parts: UInt64)], perSlot: [Int32]
    ) {
        // A segment lists a series once, so the first segment that contributes needs no lookup:
        // `position` is built only when a second one does.
        var nameIDs: [String: Int32] = [:]
        var names: [String] = []
        var position: [Int64: Int]?
        var merged: [(slot: Int32, name: Int32, summary: Aggregate, parts: UInt64)] = []
        var perSlot = [Int32](repeating: 0, count: runCount)
        for seg in ordered {
            let runSlot = seg.runTable.map { slots[$0] ?? -1 }
            if !runSlot.contains(where: { $0 >= 0 }) { continue }
            let nameOf: [Int32] = seg.nameTable.map { canonical in
                let (metric, labels) = SeriesKey.parse(canonical)
                guard labels.isEmpty else { return -1 }
                if let id = nameIDs[metric] { return id }
                let id = Int32(names.count)
                nameIDs[metric] = id
                names.append(metric)
                return id
            }
            if merged.isEmpty {
                merged.reserveCapacity(seg.seriesCount)
                seg.eachSeriesSummary { run, name, summary in
                    let slot = runSlot[run], id = nameOf[name]
                    guard slot >= 0, id >= 0 else { return }
                    merged.append((slot, id, summary, 1))
                    perSlot[Int(slot)] += 1
                }
                continue
            }
            if position == nil {
                var p: [Int64: Int] = [:]
                p.reserveCapacity(merged.count + seg.seriesCount)
                for (at, m) in merged.enumerated() { p[Int64(m.slot) << 32 | Int64(m.name)] = at }
                position = p
            }
            seg.eachSeriesSummary { run, name, summary in
                let slot = runSlot[run], id = nameOf[name]
                guard slot >= 0, id >= 0 else { return }
                let pair = Int64(slot) << 32 | Int64(id)
                if let at = position![pair] {
                    Self.mergePart(&merged[at].summary, summary, order: merged[at].parts)
                    merged[at].parts += 1
                } else {
                    position![pair] = merged.count
                    merged.append((slot, id, summary, 1))
                    perSlot[Int(slot)] += 1
                }
            }
        }
        return (names, merged, perSlot)
    }

    /// How many series the runs have and how many points those hold, as queries see them: from
    /// directory statistics for runs without rewinds or live-log points, series by series for
    /// the others. `rewound[i]` says whether run `i` has rewinds.
    func seriesAndPoints(ofRuns runs: [RunID], rewound: [Bool]) -> (series: Int, points: Int) {
        let tailRuns = runsInTails()
        var slots: [RunID: Int32] = [:]
        slots.reserveCapacity(runs.count)
        var series = 0, points = 0
        for (i, run) in runs.enumerated() {
            if rewound[i] || tailRuns.contains(run) {
                for key in seriesKeys(of: run) {
                    guard let (a, _, _) = summary(key) else { continue }
                    series += 1
                    points += a.count
                }
            } else {
                slots[run] = Int32(i)
            }
        }
        if slots.isEmpty { return (series, points) }
        // A series counts once however many segments hold part of it: the first segment that
        // contributes lists each of its series once; later ones are checked against a set.
        var nameIDs: [String: Int64] = [:]
        var seen: Set<Int64>?
        var pairs: [Int64] = []
        for seg in ordered {
            let runSlot = seg.runTable.map { slots[$0] ?? -1 }
            if !runSlot.contains(where: { $0 >= 0 }) { continue }
            let nameOf: [Int64] = seg.nameTable.map { name in
                if let id = nameIDs[name] { return id }
                let id = Int64(nameIDs.count)
                nameIDs[name] = id
                return id
            }
            if seen == nil && !pairs.isEmpty { seen = Set(pairs) }
            seg.eachSeriesCount { run, name, count in
                let slot = runSlot[run]
                guard slot >= 0 else { return }
                points += count
                let pair = Int64(slot) << 32 | nameOf[name]
                if seen == nil {
                    pairs.append(pair)
                } else if seen!.insert(pair).inserted {
                    series += 1
                }
            }
        }
        return (series + pairs.count, points)
    }

    /// The runs with points in live log tails.
    private func runsInTails() -> Set<RunID> {
        var ids = Set<RunID>()
        for t in tails.values { for k in t.series.keys { ids.insert(k.run) } }
        return ids
    }

    /// Per run, what `metricSummaries(ofRuns:)` merged from the segments (runs without rewinds
    /// or live-log points), until the next rebuild; at most `maxRunSummaries` runs.
    private var runSummaries: [RunID: [String: Aggregate]] = [:]
    static let maxRunSummaries = 200_000

    /// Every run with points, from segments and log tails.
    func allRunIDs() -> Set<RunID> {
        if segmentRunIDs == nil {
            var ids = Set<RunID>()
            for seg in ordered { ids.formUnion(seg.runTable) }
            runTablesScanned += ordered.count
            segmentRunIDs = ids
        }
        let ids = segmentRunIDs!
        return tails.isEmpty ? ids : ids.union(runsInTails())
    }

    /// Runs with points that may lack a catalog record: those of the live segments not in
    /// `checked` (segments a catalog checkpoint found fully recorded) and of the live logs.
    func runIDs(outside checked: Set<String>) -> Set<RunID> {
        if checked.isEmpty { return allRunIDs() }
        var ids = Set<RunID>()
        for seg in ordered where !checked.contains(seg.name) {
            runTablesScanned += 1
            ids.formUnion(seg.runTable)
        }
        return ids.union(runsInTails())
    }

    /// Segment run tables read in search of stand-in runs (for tests).
    private(set) var runTablesScanned = 0

    func allSeriesKeys() -> [SeriesKey] {
        var keys = Set<SeriesKey>()
        for seg in ordered { for s in seg.series { keys.insert(s.key) } }
        for t in tails.values { keys.formUnion(t.series.keys) }
        return keys.sorted()
    }

    /// Segment parts of a series, in arrival order.
    func segmentSeries(_ key: SeriesKey) -> [SegmentSeries] { parts(key) }

    /// Every chunk of a series with its arrival rank base. Throws when a needed table is damaged,
    /// unless `skipDamaged` is given: then damaged chunk tables, chunks whose columns fail their
    /// checksum and undecodable log records are left out, each reported to `skipDamaged`.
    func chunks(_ key: SeriesKey, includeTails: Bool = true, skipDamaged: ((DamagedRange) -> Void)? = nil) throws(StrataError) -> [ChunkHandle] {
        let rw = rewinds(key.run)
        if skipDamaged == nil {
            // Repeated queries of one series (a dashboard's refresh, a zoom) reuse its segment
            // chunk list: building it copies every handle, the largest allocation of a small query.
            let segmentChunks: SegmentChunks
            if let hit = chunkCache.lookup(key, rewinds: rw) {
                segmentChunks = hit
            } else {
                segmentChunks = try self.segmentChunks(key, rewinds: rw, skipDamaged: nil)
                chunkCache.insert(key, segmentChunks)
            }
            if !includeTails || tails.isEmpty { return segmentChunks.handles }
            let tail = try tailChunks(key, firstOrder: segmentChunks.parts)
            return tail.isEmpty ? segmentChunks.handles : segmentChunks.handles + tail
        }
        let segmentChunks = try self.segmentChunks(key, rewinds: rw, skipDamaged: skipDamaged)
        if !includeTails { return segmentChunks.handles }
        return segmentChunks.handles + (try tailChunks(key, firstOrder: segmentChunks.parts, skipDamaged: skipDamaged))
    }

    /// The chunks of a series in the live segments named `segments` only (rewinds applied), ranked
    /// as `chunks` ranks them: what compaction merges from its inputs.
    func segmentChunks(_ key: SeriesKey, of segments: Set<String>) throws(StrataError) -> [ChunkHandle] {
        try segmentChunks(key, rewinds: rewinds(key.run), skipDamaged: nil, only: segments).handles
    }

    /// The chunks of a series in live segments (rewinds applied), and how many parts they came
    /// from; with `only`, the chunks of those segments alone (ranks still count every part).
    private func segmentChunks(
        _ key: SeriesKey, rewinds rw: [RunInfo.Rewind], skipDamaged: ((DamagedRange) -> Void)?, only: Set<String>? = nil
    ) throws(StrataError) -> SegmentChunks {
        var out: [ChunkHandle] = []
        var order: UInt64 = 0
        for part in parts(key) {
            defer { order += 1 }
            if let only, !only.contains(part.segment.name) { continue }
            let entries: [ChunkEntry]
            do throws(StrataError) { entries = try part.chunks() } catch {
                guard let skipDamaged else { throw error }
                let s = part.summary
                skipDamaged(
                    DamagedRange(
                        path: part.segment.path, series: key, steps: s.firstStep...max(s.firstStep, s.lastStep), points: s.count,
                        reason: error.message))
                continue
            }
            var handles: [ChunkHandle] = []
            for (i, e) in entries.enumerated() {
                let h = ChunkHandle(segment: part.segment, entry: e, rankBase: order << 36 | UInt64(i) << 12)
                if let skipDamaged {
                    do throws(StrataError) { try h.verifyAllColumns() } catch {
                        skipDamaged(
                            DamagedRange(
                                path: part.segment.path, series: key, steps: e.stats.firstStep...max(e.stats.firstStep, e.stats.lastStep),
                                points: e.count, reason: error.message))
                        continue
                    }
                }
                handles.append(h)
            }
            out += try RewindVisibility.trim(
                handles, to: RewindVisibility.limit(rw, loggedAt: part.segment.meta.firstSequence, applied: part.segment.meta.rewindEpoch))
        }
        return SegmentChunks(rewinds: rw, handles: out, parts: order)
    }

    /// Files that could not be opened at all (a damaged segment trailer or directory, a damaged
    /// log header), and segments opened from their run index whose directory turned out damaged
    /// when parsed later (their series read as absent, like a segment that does not open), with
    /// the reason.
    var unreadableFiles: [DamagedRange] {
        var all = damaged
        for (name, seg) in segments { if let late = seg.lateDamage { all[paths.segment(name)] = late } }
        return all.sorted { $0.key < $1.key }.map { DamagedRange(path: $0.key, series: nil, steps: nil, points: nil, reason: $0.value) }
    }

    /// Chunks of a series still only in logs, ordered after the `firstOrder` segment parts.
    func tailChunks(_ key: SeriesKey, firstOrder: UInt64, skipDamaged: ((DamagedRange) -> Void)? = nil) throws(StrataError) -> [ChunkHandle] {
        var out: [ChunkHandle] = []
        var order = firstOrder
        let rw = rewinds(key.run)
        for t in tails.values.sorted(by: { ($0.header.createdNs, $0.name) < ($1.header.createdNs, $1.name) }) {
            guard let s = t.series[key] else { continue }
            // Each point under the rewinds later than its own sequence (the log's mark before it).
            let built: [MemoryChunk]
            do throws(StrataError) {
                built = try MemoryChunk.build(s, rewinds: rw.count, limit: { RewindVisibility.limit(rw, loggedAt: $0) })
            } catch {
                guard let skipDamaged else { throw error }
                skipDamaged(DamagedRange(path: t.path, series: key, steps: nil, points: nil, reason: error.message))
                order += 1
                continue
            }
            for (i, c) in built.enumerated() {
                out.append(ChunkHandle(memory: c, rankBase: order << 36 | UInt64(i) << 12))
            }
            order += 1
        }
        return out
    }

    /// Per metric, `metricColumn`'s merged summaries of every run, until the next rebuild.
    var metricColumns: [String: [RunID: Aggregate]] = [:]
    /// Merged directory summaries per series looked up since the last rebuild (`mergedSummary`):
    /// a series cut into many segments (one per log cut) is merged once, not on every summary.
    private var directorySummaries: [SeriesKey: (Aggregate, minTime: Int64, maxTime: Int64)] = [:]
    /// Segment parts merged by `mergedSummary` so far (a test's measure of its cost).
    private(set) var mergedPartCount = 0

    /// The directory summaries of a series' segment parts, merged in arrival order, cached until
    /// the segments change.
    private func mergedSummary(_ key: SeriesKey, _ parts: [SegmentSeries]) -> (Aggregate, minTime: Int64, maxTime: Int64) {
        if let hit = directorySummaries[key] { return hit }
        let m = StoreReader.merged(parts)
        mergedPartCount += parts.count
        directorySummaries[key] = m
        return m
    }

    /// The directory summaries of a series' segment parts, merged in arrival order.
    private static func merged(_ parts: [SegmentSeries]) -> (Aggregate, minTime: Int64, maxTime: Int64) {
        var a = Aggregate()
        var minT = Int64.max, maxT = Int64.min
        for (order, part) in parts.enumerated() {
            mergePart(&a, part.summary, order: UInt64(order))
            minT = min(minT, part.minTime); maxT = max(maxT, part.maxTime)
        }
        return (a, minT, maxT)
    }

    /// Merges `part`, the series' `order`-th segment part in arrival order, into `a`: its arrival
    /// ranks are put after those of the parts before it.
    static func mergePart(_ a: inout Aggregate, _ part: Aggregate, order: UInt64) {
        var s = part
        s.firstRank = order << 36 | s.firstRank
        s.lastRank = order << 36 | s.lastRank
        a.merge(s)
    }

    /// Summary of a series from segment directories and tails, without reading chunk data.
    func summary(_ key: SeriesKey) -> (Aggregate, minTime: Int64, maxTime: Int64)? {
        // Rewound runs are summarised chunk by chunk (what is visible); others from directories.
        let parts = self.parts(key)
        var (a, minT, maxT) = rewinds(key.run).isEmpty ? mergedSummary(key, parts) : (Aggregate(), Int64.max, Int64.min)
        let chunks =
            rewinds(key.run).isEmpty
            ? ((try? tailChunks(key, firstOrder: UInt64(parts.count))) ?? [])
            : ((try? self.chunks(key)) ?? [])
        for c in chunks { a.merge(c.stats); minT = min(minT, c.minTime); maxT = max(maxT, c.maxTime) }
        return a.isEmpty ? nil : (a, minT, maxT)
    }
}

// MARK: one metric of many runs (s24-listing)

extension StoreReader {
    /// The directory summaries of the series `canonical` of each of `runs` (distinct), merged in
    /// arrival order exactly as `summary` merges a series' segment parts; nil for a run without
    /// it. Only for runs without rewinds, read with no live log tails (the caller checks).
    func directorySummaries(_ canonical: String, runs: [RunID]) -> [(Aggregate, minTime: Int64, maxTime: Int64)?] {
        let keys = runs.map(RunKey.init)
        var sums = [Aggregate](repeating: Aggregate(), count: runs.count)
        var minT = [Int64](repeating: .max, count: runs.count), maxT = [Int64](repeating: .min, count: runs.count)
        var order = [UInt64](repeating: 0, count: runs.count)
        for seg in liveSegments {
            seg.eachSummary(named: canonical, runs: keys) { p, summary, lo, hi in
                Self.mergePart(&sums[p], summary, order: order[p])
                order[p] += 1
                minT[p] = min(minT[p], lo); maxT[p] = max(maxT[p], hi)
            }
        }
        return sums.indices.map { sums[$0].isEmpty ? nil : (sums[$0], minT[$0], maxT[$0]) }
    }
}

// MARK: one metric of every run, kept (s26-rank)

extension StoreReader {
    /// The directory summaries of the series `canonical` (no labels) of every run of the live
    /// segments, merged in arrival order exactly as `summary` merges a series' segment parts:
    /// one walk of the directories, kept until the segments change (`rebuild`), so that ranking
    /// many runs by a metric again is a lookup per run. What `summary` gives only for runs
    /// without rewinds, read with no live log tails (the caller checks).
    func metricColumn(_ canonical: String) -> [RunID: Aggregate] {
        if let hit = metricColumns[canonical] { return hit }
        var sums: [RunID: Aggregate] = [:]
        var order: [RunID: UInt64] = [:]
        for seg in liveSegments {
            let table = seg.runTable
            seg.eachSummary(named: canonical) { r, summary, _, _ in
                guard r < table.count else { return }
                let run = table[r]
                let k = order[run, default: 0]
                Self.mergePart(&sums[run, default: Aggregate()], summary, order: k)
                order[run] = k + 1
            }
        }
        if metricColumns.count >= Self.maxMetricColumns { metricColumns = [:] }
        metricColumns[canonical] = sums
        return sums
    }

    /// The most metric columns `metricColumn` keeps (each holds a summary per run).
    static let maxMetricColumns = 4
}

/// The chunks of one series in the live segments, as `StoreReader.chunks` builds them: valid while
/// the segments do not change (the cache is dropped on every rebuild) and the run's rewinds are
/// the ones they were trimmed by.
struct SegmentChunks {
    var rewinds: [RunInfo.Rewind]
    var handles: [ChunkHandle]
    /// Segment parts the handles came from (the arrival order of the first log tail after them).
    var parts: UInt64
}

/// A small cache of segment chunk lists, bounded in series and in handles (about 400 bytes each):
/// when an insert would pass a bound, the cache starts over.
struct ChunkListCache {
    static let maxSeries = 16
    static let maxHandles = 1 << 16
    private var lists: [SeriesKey: SegmentChunks] = [:]
    private var handles = 0

    func lookup(_ key: SeriesKey, rewinds: [RunInfo.Rewind]) -> SegmentChunks? {
        guard let hit = lists[key], hit.rewinds == rewinds else { return nil }
        return hit
    }

    mutating func insert(_ key: SeriesKey, _ chunks: SegmentChunks) {
        if chunks.handles.count > ChunkListCache.maxHandles { return }
        if let old = lists[key] { handles -= old.handles.count; lists[key] = nil }
        if lists.count >= ChunkListCache.maxSeries || handles + chunks.handles.count > ChunkListCache.maxHandles {
            lists = [:]
            handles = 0
        }
        lists[key] = chunks
        handles += chunks.handles.count
    }
}

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
    private var index: [SeriesKey: [SegmentSeries]] = [:]
    private var runsIndex: [RunID: Set<SeriesKey>] = [:]
    private var ordered: [Segment] = []

    init(paths: StorePaths) { self.paths = paths }

    func refresh() throws(StrataError) {
        var changed = false
        let logNames = (try? Sys.list(paths.logs)) ?? []
        for name in logNames where name.hasSuffix(".wal") && tails[name] == nil {
            let path = paths.logs + "/" + name
            do {
                tails[name] = try LogTail(path: path, name: name)
                damaged[path] = nil
            } catch where error.code == .io {
                continue  // deleted since listed
            } catch {
                damaged[path] = error.description
            }
        }
        let segNames = (try? Sys.list(paths.segments)) ?? []
        for name in segNames where name.hasSuffix(".seg") && segments[name] == nil {
            let path = paths.segment(name)
            if damaged[path] != nil { continue }
            do {
                segments[name] = try Segment(path: path, name: name)
                changed = true
            } catch where error.code == .io {
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
        index = [:]
        runsIndex = [:]
        for (i, seg) in ordered.enumerated() {
            seg.arrivalOrder = i
            for s in seg.series {
                index[s.key, default: []].append(s)
                runsIndex[s.key.run, default: []].insert(s.key)
            }
        }
    }

    var liveSegments: [Segment] { ordered }

    /// Every series of a run, from segments and log tails.
    func seriesKeys(of run: RunID) -> [SeriesKey] {
        var keys = runsIndex[run] ?? []
        for t in tails.values { for k in t.series.keys where k.run == run { keys.insert(k) } }
        return keys.sorted()
    }

    func allSeriesKeys() -> [SeriesKey] {
        var keys = Set(index.keys)
        for t in tails.values { keys.formUnion(t.series.keys) }
        return keys.sorted()
    }

    /// Segment parts of a series, in arrival order.
    func segmentSeries(_ key: SeriesKey) -> [SegmentSeries] { index[key] ?? [] }

    /// Every chunk of a series with its arrival rank base. Throws when a needed table is damaged.
    func chunks(_ key: SeriesKey) throws(StrataError) -> [ChunkHandle] {
        var out: [ChunkHandle] = []
        var order: UInt64 = 0
        for part in index[key] ?? [] {
            let entries = try part.chunks()
            for (i, e) in entries.enumerated() {
                out.append(ChunkHandle(segment: part.segment, entry: e, rankBase: order << 36 | UInt64(i) << 12))
            }
            order += 1
        }
        let sortedTails = tails.values.sorted { ($0.header.createdNs, $0.name) < ($1.header.createdNs, $1.name) }
        for t in sortedTails {
            guard let s = t.series[key] else { continue }
            for (i, c) in MemoryChunk.build(s).enumerated() {
                out.append(ChunkHandle(memory: c, rankBase: order << 36 | UInt64(i) << 12))
            }
            order += 1
        }
        return out
    }

    /// Summary of a series from segment directories and tails, without reading chunk data.
    func summary(_ key: SeriesKey) -> (Aggregate, minTime: Int64, maxTime: Int64)? {
        var a = Aggregate()
        var minT = Int64.max, maxT = Int64.min
        var order: UInt64 = 0
        for part in index[key] ?? [] {
            var s = part.summary
            s.firstRank = order << 36 | s.firstRank
            s.lastRank = order << 36 | s.lastRank
            a.merge(s)
            minT = min(minT, part.minTime); maxT = max(maxT, part.maxTime)
            order += 1
        }
        for t in tails.values.sorted(by: { ($0.header.createdNs, $0.name) < ($1.header.createdNs, $1.name) }) {
            guard let s = t.series[key] else { continue }
            for (i, c) in MemoryChunk.build(s).enumerated() {
                var st = c.stats
                st.firstRank = order << 36 | UInt64(i) << 12 | st.firstRank
                st.lastRank = order << 36 | UInt64(i) << 12 | st.lastRank
                a.merge(st)
                minT = min(minT, c.minTime); maxT = max(maxT, c.maxTime)
            }
            order += 1
        }
        return a.isEmpty ? nil : (a, minT, maxT)
    }
}

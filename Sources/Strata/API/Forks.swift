/// Which history a read of a forked run covers (docs/QUERIES.md, "Lineage").
///
/// A run forked from a parent at step `s` (``Store/fork(_:atStep:name:project:params:tags:metadata:)``)
/// starts empty and inherits the parent's points up to and including `s`. Every read of a run can
/// see its **full** lineage — the parent's points up to `s`, then the run's own, recursively for
/// grandparents — or only its **own** points. The default of every read is ``full``: a fork reads
/// like the run it continues. For a run that is not a fork both are the same.
public enum Lineage: String, Sendable, Hashable, CaseIterable {
    /// The ancestors' points up to each fork step, then the run's own points after its fork step.
    case full
    /// Only the points logged to the run itself.
    case own
}

/// One run of a lineage and the steps it contributes (a closed interval; the intervals of a
/// lineage are disjoint and ascending, oldest ancestor first).
struct LineagePart {
    var run: RunID
    var window: SeriesQuery.StepInterval
    var isWhole: Bool { window.lo == .min && window.hi == .max }
}

extension Store {
    // MARK: creating forks

    /// Creates a run forked from `parent` at step `step`: it starts empty, inherits the parent's
    /// history up to and including `step` (read through ``Lineage/full``, without copying a point),
    /// and this process becomes its writer. Written to the catalog at once (create and fork
    /// records in one write), unlike the batched creation of plain runs.
    ///
    /// - Parameters:
    ///   - name: A display name (1–200 bytes, no control characters).
    ///   - project: Groups runs; "default" unless given.
    ///   - params: Typed hyperparameters.
    ///   - tags: Labels such as "baseline".
    ///   - metadata: Reproduction facts; `host`, `pid` and `command` are filled in automatically.
    ///   - parent: The run to fork (it must exist and have points).
    ///   - step: The parent's last inherited step: at most the last step of the parent's own lineage.
    ///   - createdMs: When the run began (now when nil).
    /// - Returns: The new run, logging through this store.
    /// - Throws: ``StrataError``: `.notFound` for an unknown parent, `.invalidArgument` for a step
    ///   beyond the parent's last step (or a parent without points) or a bad name or value, naming
    ///   the run and the step; nothing is written then. `.closed`, `.noSpace`, `.io` as for
    ///   ``createRun(name:project:params:tags:metadata:parent:createdMs:)``.
    public func createRun(
        name: String, project: String = "default", params: [String: ParamValue] = [:], tags: Set<String> = [],
        metadata: [String: ParamValue] = [:], forkOf parent: RunID, atStep step: Int64, createdMs: Int64? = nil
    ) throws(StrataError) -> Run {
        var info = try newRunInfo(
            name: name, project: project, params: params, tags: tags, metadata: metadata, parent: parent, createdMs: createdMs)
        info.forkStep = step
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                try checkOpenLocked()
                try catalog.refresh()
                try reader.refresh()
                try checkForkLocked(info.id, parent: parent, step: step)
                try writeLock.withLock { () throws(StrataError) in try ensureWriter() }
                try catalog.append(Catalog.createRecords(info), sync: false)
            }
        }
        return Run(store: self, id: info.id, name: name)
    }

    /// Forks `parent` at `step` (see ``createRun(name:project:params:tags:metadata:forkOf:atStep:createdMs:)``):
    /// the new run takes the parent's project and params unless given (`params` are merged over
    /// the parent's: give only what the fork changes), and is named `<parent name>@<step>` unless named.
    ///
    /// ```swift
    /// let lowerLR = try store.fork(base.id, atStep: 40_000, params: ["lr": 1e-4])
    /// try lowerLR.log(["train/loss": 0.41], step: 40_001)
    /// let curve = try store.curve(lowerLR.id, "train/loss", steps: 0..<80_000, buckets: 100)  // parent's, then its own
    /// ```
    ///
    /// - Parameters:
    ///   - parent: The run to fork (an id; see ``run(_:)`` to find one by name).
    ///   - step: The parent's last inherited step.
    ///   - name: The new run's name.
    ///   - project: Its project (the parent's when nil).
    ///   - params: Params merged over the parent's.
    ///   - tags: Its tags.
    ///   - metadata: Its metadata.
    /// - Returns: The new run.
    /// - Throws: ``StrataError`` as ``createRun(name:project:params:tags:metadata:forkOf:atStep:createdMs:)``.
    public func fork(
        _ parent: RunID, atStep step: Int64, name: String? = nil, project: String? = nil, params: [String: ParamValue] = [:],
        tags: Set<String> = [], metadata: [String: ParamValue] = [:]
    ) throws(StrataError) -> Run {
        guard let p = runInfo(parent) else { throw StrataError(.notFound, "cannot fork run \(parent.text): no such run in store \(path)") }
        return try createRun(
            name: name ?? "\(p.name)@\(step)", project: project ?? p.project, params: p.params.merging(params) { _, new in new },
            tags: tags, metadata: metadata, forkOf: parent, atStep: step)
    }

    /// Refuses a fork of an unknown parent, at a step beyond the parent's last step, or one that
    /// would close a cycle of parents. Under the lock.
    func checkForkLocked(_ run: RunID, parent: RunID, step: Int64) throws(StrataError) {
        guard let p = knownRunLocked(parent) else { throw StrataError(.notFound, "cannot fork run \(parent.text): no such run in store \(path)") }
        if let cycle = Catalog.parentCycle(run, parent: parent, lookup: { self.catalog.info($0)?.parent }) {
            throw StrataError(.invalidArgument, "cannot fork run \(parent.text) (\(p.name)) at step \(step): a cycle in lineage (\(cycle))")
        }
        guard let last = try lineageLastStepLocked(parent) else {
            throw StrataError(.invalidArgument, "cannot fork run \(parent.text) (\(p.name)) at step \(step): it has no points yet")
        }
        guard step <= last else {
            throw StrataError(
                .invalidArgument, "cannot fork run \(parent.text) (\(p.name)) at step \(step): beyond its last step \(last)")
        }
    }

    /// The largest step of any series in the full lineage of `run`; nil when it has no point.
    func lineageLastStepLocked(_ run: RunID) throws(StrataError) -> Int64? {
        var last: Int64?
        for key in try lineageSeriesKeysLocked(run, .full) {
            if let (a, _, _) = try lineageSummaryLocked(key, .full) { last = max(last ?? .min, a.lastStep) }
        }
        return last
    }

    // MARK: resolving a lineage

    /// The runs and step windows a read of `run` covers, oldest ancestor first. A fork at step `s`
    /// whose own rewinds went back to `r < s` inherits only up to `r` (a rewind hides everything
    /// logged before it above its step, inherited points included). Throws `.corrupt` when the
    /// parents loop (a damaged catalog; creation refuses cycles). Under the lock.
    func lineagePartsLocked(_ run: RunID, _ lineage: Lineage) throws(StrataError) -> [LineagePart] {
        if lineage == .own { return [LineagePart(run: run, window: .all)] }
        var out: [LineagePart] = []
        var upper = Int64.max
        var cur = run
        var seen: Set<RunID> = []
        while true {
            guard seen.insert(cur).inserted else {
                throw StrataError(.corrupt, "the lineage of run \(run.text) has a cycle at run \(cur.text)")
            }
            guard let info = catalog.forkLink(of: cur), let parent = info.parent, let forkStep = info.forkStep else {
                out.append(LineagePart(run: cur, window: .init(lo: .min, hi: upper)))
                break
            }
            let cut = min(forkStep, info.rewinds.map(\.step).min() ?? .max)
            if cut < upper { out.append(LineagePart(run: cur, window: .init(lo: cut + 1, hi: upper))) }
            upper = min(upper, cut)
            cur = parent
        }
        return out.reversed()
    }

    /// The chunks of a series through a lineage: each run's chunks of the same metric and labels,
    /// clipped to its window (whole chunks, their tiers and sketches, are reused; a chunk cut by
    /// a window edge is replaced by its part inside). Under the lock.
    func lineageChunksLocked(_ key: SeriesKey, _ lineage: Lineage) throws(StrataError) -> [ChunkHandle] {
        let parts = try lineagePartsLocked(key.run, lineage)
        if parts.count == 1 && parts[0].isWhole { return try reader.chunks(key) }
        var out: [ChunkHandle] = []
        for p in parts {
            out += try LineageClip.clip(reader.chunks(SeriesKey(run: p.run, named: key)), to: p.window)
        }
        return out
    }

    /// The summary of a series through a lineage: each part's directory summary when its window
    /// holds the part's whole series, else its clipped chunks. Under the lock.
    func lineageSummaryLocked(_ key: SeriesKey, _ lineage: Lineage) throws(StrataError) -> (Aggregate, minTime: Int64, maxTime: Int64)? {
        let parts = try lineagePartsLocked(key.run, lineage)
        if parts.count == 1 && parts[0].isWhole { return reader.summary(key) }
        var a = Aggregate()
        var minT = Int64.max, maxT = Int64.min
        for p in parts {
            let k = SeriesKey(run: p.run, named: key)
            guard let (s, lo, hi) = reader.summary(k) else { continue }
            if s.lastStep < p.window.lo || s.firstStep > p.window.hi { continue }
            if s.firstStep >= p.window.lo && s.lastStep <= p.window.hi {
                a.merge(s); minT = min(minT, lo); maxT = max(maxT, hi)
                continue
            }
            for c in try LineageClip.clip(reader.chunks(k), to: p.window) {
                a.merge(c.stats); minT = min(minT, c.minTime); maxT = max(maxT, c.maxTime)
            }
        }
        return a.isEmpty ? nil : (a, minT, maxT)
    }

    /// The series (metric and labels) of a run through a lineage, keyed to `run`. Under the lock.
    func lineageSeriesKeysLocked(_ run: RunID, _ lineage: Lineage) throws(StrataError) -> [SeriesKey] {
        let parts = try lineagePartsLocked(run, lineage)
        if parts.count == 1 { return reader.seriesKeys(of: parts[0].run).map { SeriesKey(run: run, named: $0) } }
        var keys = Set<SeriesKey>()
        for p in parts { for k in reader.seriesKeys(of: p.run) { keys.insert(SeriesKey(run: run, named: k)) } }
        return keys.sorted()
    }

    // MARK: the lineage tree

    /// A run's place in the fork tree: its ancestors (nearest first, each with the step the run
    /// below it was forked at) and its children (runs forked from it, or naming it as parent).
    public struct LineageTree: Sendable, Hashable {
        /// One link of the tree.
        public struct Link: Sendable, Hashable {
            /// The linked run.
            public var run: RunID
            /// Its name.
            public var name: String
            /// The fork step: for an ancestor, the step of it the run below inherits up to; for a
            /// child, the step of this run it was forked at. Nil for a plain parent link (not a fork).
            public var step: Int64?
        }
        /// Parent, grandparent, … (nearest first); the chain stops at a run that is not a fork's
        /// child, after its plain parent if it has one, or at a cycle (damage).
        public var ancestors: [Link]
        /// The runs whose parent is this run, oldest first.
        public var children: [Link]
    }

    /// The lineage tree around `run`: its ancestors and its children.
    ///
    /// - Parameter run: The run's identifier.
    /// - Returns: Ancestors (nearest first) and children (oldest first).
    /// - Throws: ``StrataError`` with code `.notFound` for an unknown run, `.closed` after ``close()``.
    public func lineageTree(of run: RunID) throws(StrataError) -> LineageTree {
        try lock.withLock { () throws(StrataError) -> LineageTree in
            try checkOpenLocked()
            try catalog.refresh()
            guard let info = knownRunLocked(run) else { throw StrataError(.notFound, "no run \(run.text) in store \(path)") }
            var ancestors: [LineageTree.Link] = []
            var seen: Set<RunID> = [run]
            var cur = info
            while let p = cur.parent, seen.insert(p).inserted {
                let pInfo = knownRunLocked(p)
                ancestors.append(.init(run: p, name: pInfo?.name ?? p.text, step: cur.forkStep))
                guard let pInfo, cur.forkStep != nil else { break }
                cur = pInfo
            }
            let children = knownRunsLocked().filter { $0.parent == run }.map {
                LineageTree.Link(run: $0.id, name: $0.name, step: $0.forkStep)
            }
            return LineageTree(ancestors: ancestors, children: children)
        }
    }
}

/// Clipping chunks to a step window: the rule lineage reads use.
enum LineageClip {
    /// The chunks with the points outside `window` left out: chunks wholly inside are kept as they
    /// are (with their tiers and sketches), chunks wholly outside are dropped, and a chunk cut by an
    /// edge is replaced by its points inside (decoded, in memory; ranks kept).
    static func clip(_ handles: [ChunkHandle], to window: SeriesQuery.StepInterval) throws(StrataError) -> [ChunkHandle] {
        if window.lo == .min && window.hi == .max { return handles }
        if window.isEmpty { return [] }
        var out: [ChunkHandle] = []
        for c in handles {
            if c.stats.lastStep < window.lo || c.stats.firstStep > window.hi { continue }
            if c.stats.firstStep >= window.lo && c.stats.lastStep <= window.hi { out.append(c); continue }
            var cache: [Int64]? = nil
            let i0 = c.stats.firstStep >= window.lo ? 0 : try c.lowerBound(window.lo, steps: &cache)
            let i1 = c.stats.lastStep <= window.hi ? c.count : try c.lowerBound(window.hi + 1, steps: &cache)
            if i1 <= i0 { continue }
            let cols = try ChunkColumns(c, i0..<i1)
            out.append(ChunkHandle(memory: MemoryChunk(cols), rankBase: c.rankBase + UInt64(i0)))
        }
        return out
    }
}

extension Store {
    /// Summaries of every series of a run without context labels through a lineage, keyed by
    /// metric name (the fast directory path of `StoreReader.metricSummaries` for a run read whole). Under the lock.
    /// `lineageMetricSummariesLocked` of many runs, in their order: the runs that read only their
    /// own points (no fork parent, or `.own`) share one walk of the segment directories
    /// (`StoreReader.metricSummaries(ofRuns:)`); forks go through their lineage one by one.
    func lineageMetricSummariesLocked(_ runs: [RunInfo], _ lineage: Lineage) throws(StrataError) -> [[String: Aggregate]] {
        var out = [[String: Aggregate]](repeating: [:], count: runs.count)
        var own: [RunID] = [], ownAt: [Int] = [], rewound: [Bool] = []
        for (i, run) in runs.enumerated() {
            if lineage == .own || run.parent == nil || run.forkStep == nil {
                own.append(run.id)
                ownAt.append(i)
                rewound.append(!run.rewinds.isEmpty)
            } else {
                out[i] = try lineageMetricSummariesLocked(run.id, lineage)
            }
        }
        for (k, s) in reader.metricSummaries(ofRuns: own, rewound: rewound).enumerated() { out[ownAt[k]] = s }
        return out
    }

    func lineageMetricSummariesLocked(_ run: RunID, _ lineage: Lineage) throws(StrataError) -> [String: Aggregate] {
        let parts = try lineagePartsLocked(run, lineage)
        if parts.count == 1 && parts[0].isWhole { return reader.metricSummaries(of: run) }
        var out: [String: Aggregate] = [:]
        for key in try lineageSeriesKeysLocked(run, lineage) where key.labels.isEmpty {
            if let (a, _, _) = try lineageSummaryLocked(key, lineage) { out[key.metric] = a }
        }
        return out
    }
}

import StrataCodecs

/// Where the bytes of a store go: per column and per codec. `strata stats` prints it.
public struct StorageStats: Sendable {
    /// Bytes and values taken by one codec in one kind of column.
    public struct CodecBytes: Sendable, Hashable {
        /// "steps", "values" or "times".
        public var column: String
        /// The codec's name as `strata stats` shows it.
        public var codec: String
        /// Number of values encoded with this codec.
        public var values: Int
        /// Encoded bytes.
        public var bytes: Int
    }
    /// Number of runs (those of the catalog, and any run that has points but no catalog record).
    public var runs = 0
    /// Number of series.
    public var series = 0
    /// Number of segment files.
    public var segments = 0
    /// Number of chunks in all segments.
    public var chunks = 0
    /// Number of points in all chunks.
    public var points = 0
    /// Sum of every file's size in the store directory.
    public var fileBytes = 0
    /// Bytes of column data stored once but referenced by several chunks (shared steps and times).
    public var sharedColumnBytes = 0
    /// Level-1 tier bytes (quantile sketches included), each stored tier blob once.
    public var tierBytes = 0
    /// Bytes of the chunks' quantile sketches (part of ``tierBytes``).
    public var sketchBytes = 0
    /// Bytes per column and codec.
    public var codecs: [CodecBytes] = []

    /// One part of the store's bytes (``structure``).
    public struct Part: Sendable, Hashable {
        /// "columns" (encoded steps, values and times, by codec), "segments" (everything else in
        /// the live segment files), "catalog" (`catalog.log` and `catalog.ckpt`) or "other" (every
        /// other file, by name or folder).
        public var group: String
        /// What the bytes hold, e.g. "values/float64-dod", "chunk headers", "catalog.ckpt params".
        public var name: String
        /// Bytes on disk.
        public var bytes: Int
    }
    /// Every byte of the store directory by structure (`docs/FORMAT.md`), in a fixed order:
    ///
    /// - columns: one part per column and codec (``codecs``), chunked and packed series alike,
    ///   each stored blob once;
    /// - segments: "tier blocks" and "quantile sketches" (the tier blobs of full chunks),
    ///   "chunk headers" (the chunk tables), "series statistics" (the 104 bytes of each series with
    ///   a chunk table in the directory), "packed statistics" (the stored statistics of packed
    ///   series and their table), "packed-series tables" (pack table, packed blob lengths and the
    ///   packed series' directory entries), "series entries" (the other directory entries, without
    ///   their statistics), "run and name tables", "descriptive fields", "run index" and "headers
    ///   and trailers"; "unattributed" only when some bytes of a segment are none of these (a
    ///   writer never leaves any), "unreadable segments" for a live segment whose directory turns
    ///   out damaged;
    /// - catalog: "catalog.log record headers" (16 bytes a record), "catalog.log records" (plain
    ///   bodies), "catalog.log packed records" (kind 7 bodies), "catalog.log unread" (a torn tail
    ///   or damage); "catalog.ckpt params" (the params fields of the run records and the pooled
    ///   key lists), "catalog.ckpt tags" (the pooled tag sets), "catalog.ckpt run tables" (run,
    ///   name and running tables), "catalog.ckpt pool offsets", "catalog.ckpt pooled values"
    ///   (projects, owners, metadata), "catalog.ckpt run records" (the rest of each run's record)
    ///   and "catalog.ckpt header and sections"; "catalog.ckpt unusable" for a checkpoint that
    ///   does not check out;
    /// - other: every other file, by its top-level name (`STRATA`, `catalog.lock`, `wal`, `keys`,
    ///   `tmp`, …; "segments (not live)" for replaced segments awaiting deletion).
    ///
    /// Parts of 0 bytes are left out. The parts add up to ``fileBytes``.
    public var structure: [Part] = []

    /// The catalog's bytes against its runs (issue 10: at most 64 bytes a run beyond its params
    /// and tags).
    public struct CatalogBytes: Sendable, Hashable {
        /// Runs the catalog holds (deleted ones included).
        public var runs = 0
        /// Bytes of `catalog.log` and of `catalog.ckpt`.
        public var logBytes = 0
        public var checkpointBytes = 0
        /// Runs in the checkpoint.
        public var checkpointRuns = 0
        /// The checkpoint's bytes of params and tags ("catalog.ckpt params" + "catalog.ckpt tags").
        public var checkpointParamsAndTags = 0
        /// The checkpoint's bytes a run beyond its params and tags (0 without a checkpoint).
        public var checkpointOverheadPerRun: Double {
            checkpointRuns == 0 ? 0 : Double(checkpointBytes - checkpointParamsAndTags) / Double(checkpointRuns)
        }
        /// The whole catalog's bytes (log and checkpoint) a run beyond the params and tags as the
        /// checkpoint stores them: the log's own copy of every record counts as overhead here.
        public var overheadPerRun: Double {
            runs == 0 ? 0 : Double(logBytes + checkpointBytes - checkpointParamsAndTags) / Double(runs)
        }
    }
    /// The catalog's bytes against its runs.
    public var catalog = CatalogBytes()
}

extension Store {
    /// Counts runs, series, points and bytes, and attributes column bytes to codecs.
    /// Reads every chunk header and column header (not the whole data).
    ///
    /// - Returns: The counts and bytes.
    /// - Throws: ``StrataError`` when a segment cannot be read or the store is closed.
    public func storageStats() throws(StrataError) -> StorageStats {
        try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            try reader.refresh()
            var st = StorageStats()
            st.runs = knownRunsLocked().count
            var keys = Set<SeriesKey>()
            var usage: [String: StorageStats.CodecBytes] = [:]
            var segmentParts: [String: Int] = [:]
            var livePaths = Set<String>()
            for seg in reader.liveSegments {
                st.segments += 1
                livePaths.insert(seg.path)
                // Each stored blob once: identical columns and tier blobs are shared by chunks.
                var seen = Set<Int>(), seenTiers = Set<Int>()
                var blobBytes = 0
                for s in seg.series {
                    keys.insert(s.key)
                    for e in try s.chunks() {
                        st.chunks += 1
                        st.points += e.count
                        if e.tier.length > 0 && seenTiers.insert(e.tier.offset).inserted {
                            let sketch = e.hasSketch ? e.tier.length - ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize : 0
                            st.tierBytes += e.tier.length
                            st.sketchBytes += sketch
                            segmentParts["tier blocks", default: 0] += e.tier.length - sketch
                            segmentParts["quantile sketches", default: 0] += sketch
                            blobBytes += e.tier.length
                        }
                        for (column, ref, isDouble) in [("steps", e.steps, false), ("values", e.values, true), ("times", e.times, false)] {
                            if !seen.insert(ref.offset).inserted { st.sharedColumnBytes += ref.length; continue }
                            blobBytes += ref.length
                            let bytes = try seg.blob(ref)
                            let parts: [CodecUsage]
                            do {
                                parts = isDouble ? try DoubleColumn.describe(bytes, count: e.count) : try Int64Column.describe(bytes, count: e.count)
                            } catch {
                                throw StrataError.corrupt("column: \(error)", path: seg.path, offset: ref.offset)
                            }
                            for p in parts {
                                let k = column + "/" + p.codec
                                var u = usage[k] ?? .init(column: column, codec: p.codec, values: 0, bytes: 0)
                                u.values += p.values
                                u.bytes += p.bytes
                                usage[k] = u
                            }
                        }
                    }
                }
                let size = seg.file.view.count
                guard let b = seg.structureBytes() else {
                    segmentParts["unreadable segments", default: 0] += size - blobBytes
                    continue
                }
                let fixed = [
                    ("chunk headers", b.chunkTables), ("series statistics", b.seriesStatistics), ("packed statistics", b.packedStatistics),
                    ("packed-series tables", b.packTables), ("series entries", b.seriesEntries), ("run and name tables", b.runAndNameTables),
                    ("descriptive fields", b.descriptiveFields), ("run index", b.runIndex), ("headers and trailers", b.headerAndTrailer)
                ]
                for (name, n) in fixed { segmentParts[name, default: 0] += n }
                // The packs hold the packed series' column blobs, counted with the columns above.
                segmentParts["unattributed", default: 0] += size - blobBytes - fixed.reduce(0) { $0 + $1.1 }
            }
            st.series = keys.count
            st.codecs = usage.values.sorted { ($0.column, -$0.bytes) < ($1.column, -$1.bytes) }
            st.fileBytes = Store.directorySize(path)
            var structure = st.codecs.map { StorageStats.Part(group: "columns", name: $0.column + "/" + $0.codec, bytes: $0.bytes) }
            for name in [
                "tier blocks", "quantile sketches", "chunk headers", "series statistics", "packed statistics", "packed-series tables",
                "series entries", "run and name tables", "descriptive fields", "run index", "headers and trailers", "unattributed",
                "unreadable segments"
            ] {
                structure.append(.init(group: "segments", name: name, bytes: segmentParts[name] ?? 0))
            }
            st.catalog.runs = catalog.ids(includingDeleted: true).count
            structure += catalogParts(&st.catalog)
            structure += otherParts(skipping: livePaths.union([paths.catalog, catalog.checkpointPath]))
            st.structure = structure.filter { $0.bytes != 0 }
            return st
        }
    }

    /// The bytes of `catalog.log` and `catalog.ckpt` by what they hold (``StorageStats/structure``).
    private func catalogParts(_ figures: inout StorageStats.CatalogBytes) -> [StorageStats.Part] {
        var out: [StorageStats.Part] = []
        func add(_ name: String, _ bytes: Int) { out.append(.init(group: "catalog", name: name, bytes: bytes)) }
        if let log = try? Sys.readFile(paths.catalog) {
            figures.logBytes = log.count
            var headers = 0, plain = 0, packed = 0
            ByteView.with(log) { b in
                // The reading rule of `Catalog.scan`: accepted records, damage skipped, a torn tail left.
                var pos = 0
                while b.count - pos >= Catalog.headerSize {
                    if let len = Catalog.acceptedLength(b, at: pos) {
                        headers += Catalog.headerSize
                        if len > 0 && b[pos + Catalog.headerSize] == Catalog.packedKind { packed += len } else { plain += len }
                        pos += Catalog.headerSize + len
                        continue
                    }
                    guard let next = Catalog.nextAccepted(b, after: pos) else { break }
                    pos = next
                }
            }
            add("catalog.log record headers", headers)
            add("catalog.log records", plain)
            add("catalog.log packed records", packed)
            add("catalog.log unread", log.count - headers - plain - packed)
        }
        let ckptPath = catalog.checkpointPath
        guard Sys.kind(ckptPath) == .file else { return out }
        let size = Store.fileSize(ckptPath)
        figures.checkpointBytes = size
        guard let ck = try? CatalogCheckpoint(path: ckptPath, logPath: paths.catalog), let b = try? ck.structureBytes() else {
            add("catalog.ckpt unusable", size)
            return out
        }
        figures.checkpointRuns = b.runs
        figures.checkpointParamsAndTags = b.params + b.tags
        add("catalog.ckpt params", b.params)
        add("catalog.ckpt tags", b.tags)
        add("catalog.ckpt run tables", b.runTables)
        add("catalog.ckpt pool offsets", b.poolOffsets)
        add("catalog.ckpt pooled values", b.pooledValues)
        add("catalog.ckpt run records", b.records)
        add("catalog.ckpt header and sections", b.header)
        return out
    }

    /// Every file of the store directory but `skipping`, by top-level name (a folder's files
    /// together; "segments (not live)" for the segment files that are not live).
    private func otherParts(skipping: Set<String>) -> [StorageStats.Part] {
        var sizes: [String: Int] = [:]
        func walk(_ dir: String, top: String?) {
            for name in ((try? Sys.list(dir)) ?? []).sorted() {
                let p = dir + "/" + name
                switch Sys.kind(p) {
                case .file:
                    if skipping.contains(p) { continue }
                    let key = top.map { $0 == "segments" ? "segments (not live)" : $0 } ?? name
                    sizes[key, default: 0] += Store.fileSize(p)
                case .directory: walk(p, top: top ?? name)
                default: break
                }
            }
        }
        walk(path, top: nil)
        return sizes.sorted { $0.key < $1.key }.map { .init(group: "other", name: $0.key, bytes: $0.value) }
    }

    static func fileSize(_ path: String) -> Int {
        guard let fd = try? Sys.open(path, 0) else { return 0 }
        defer { Sys.close(fd) }
        return (try? Sys.fileSize(fd, path)) ?? 0
    }

    static func directorySize(_ path: String) -> Int {
        var total = 0
        for name in (try? Sys.list(path)) ?? [] {
            let p = path + "/" + name
            switch Sys.kind(p) {
            case .file:
                if let fd = try? Sys.open(p, 0) {
                    total += (try? Sys.fileSize(fd, p)) ?? 0
                    Sys.close(fd)
                }
            case .directory: total += directorySize(p)
            default: break
            }
        }
        return total
    }
}

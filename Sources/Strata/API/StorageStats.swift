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
    /// Level-1 tier bytes (quantile sketches included).
    public var tierBytes = 0
    /// Bytes of the chunks' quantile sketches (part of ``tierBytes``).
    public var sketchBytes = 0
    /// Bytes per column and codec.
    public var codecs: [CodecBytes] = []
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
            for seg in reader.liveSegments {
                st.segments += 1
                var seen = Set<Int>()
                for s in seg.series {
                    keys.insert(s.key)
                    for e in try s.chunks() {
                        st.chunks += 1
                        st.points += e.count
                        st.tierBytes += e.tier.length
                        if e.hasSketch { st.sketchBytes += e.tier.length - ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize }
                        for (column, ref, isDouble) in [("steps", e.steps, false), ("values", e.values, true), ("times", e.times, false)] {
                            if !seen.insert(ref.offset).inserted { st.sharedColumnBytes += ref.length; continue }
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
            }
            st.series = keys.count
            st.codecs = usage.values.sorted { ($0.column, -$0.bytes) < ($1.column, -$1.bytes) }
            st.fileBytes = Store.directorySize(path)
            return st
        }
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

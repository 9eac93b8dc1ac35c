import Foundation
import Strata
import StrataParquet

/// The tables of a Parquet export (docs/EXPORT.md is the reference for their schema).
///
/// **points** (long form, one row per point; rows ordered by project, run, series, step):
/// `run_id`, `run_name`, `project`, `metric` STRING; one optional STRING column `label.<key>` per
/// context-label key of the exported series; `step` INT64; `value` DOUBLE (bit-exact: NaN
/// payloads, ±Inf, −0.0, subnormals); `time` TIMESTAMP(MILLIS, UTC).
///
/// **runs** (one row per run): `id`, `name`, `project`, `status` STRING; `created`
/// TIMESTAMP(MILLIS, UTC); `ended` TIMESTAMP(MILLIS, UTC), optional; `parent` STRING, optional;
/// `tags` (JSON array), `params`, `metadata` (JSON objects, typed: an int has no `.`, a double
/// always has one, NaN and the infinities as strings), `summaries` (JSON object: metric → count,
/// min, max, last, ...) STRING; and one optional typed column `param.<key>` per param key: INT64,
/// DOUBLE, BOOLEAN or STRING when every run that has the key gives it that type, else STRING (the
/// value's text).
///
/// **artifacts** and **deployments** (one row per artifact or deployment of the exported runs):
/// ``artifactsColumns`` and ``deploymentsColumns``.
public enum ParquetTables {
    /// Footer key naming the table (`points`, `runs`, `artifacts` or `deployments`), and the schema version.
    public static let tableKey = "strata.table"
    public static let versionKey = "strata.version"
    public static let version = "1"
    /// Prefix of the context-label columns of the points table.
    public static let labelPrefix = "label."
    /// Prefix of the typed param columns of the runs table.
    public static let paramPrefix = "param."

    /// The points table's columns, with a `label.<key>` column per key of `labelKeys` (in that order).
    public static func pointsColumns(labelKeys: [String]) -> [ParquetColumn] {
        [
            ParquetColumn("run_id", .string), ParquetColumn("run_name", .string), ParquetColumn("project", .string),
            ParquetColumn("metric", .string)
        ] + labelKeys.map { ParquetColumn(labelPrefix + $0, .string, optional: true) } + [
            ParquetColumn("step", .int64, encoding: .deltaBinaryPacked),
            ParquetColumn("value", .double, encoding: .byteStreamSplit),
            ParquetColumn("time", .timestampMillis, encoding: .deltaBinaryPacked)
        ]
    }

    /// The Hive partition directory of `project`: `project=` and the name with every byte outside
    /// `A-Z a-z 0-9 . _ -` (and a leading `.`) written `%XX`, as Hive, Spark and DuckDB decode it.
    public static func partition(_ project: String) -> String {
        var out = "project="
        let hex = Array("0123456789ABCDEF".utf8)
        for (i, b) in project.utf8.enumerated() {
            let safe =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
                || (b == 0x2E && i > 0)
            if safe {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// Settings of a Parquet export.
public struct ParquetExportOptions: Sendable {
    /// The page codec (ZSTD by default: docs/EXPORT.md gives the measurement behind the choice).
    public var compression: ParquetCompression = .zstd
    /// Rows per row group (about a million suits DuckDB, Spark and ClickHouse).
    public var rowGroupRows = 1_048_576
    /// A points file holding this many rows is closed at the next row group and another part begun.
    public var maxFileRows = 64 * 1_048_576
    /// Only series of these metrics (a name, or a canonical `metric{k=v}`); every metric when empty.
    public var metrics: Set<String> = []

    public init() {}

    var writerOptions: ParquetWriterOptions {
        var o = ParquetWriterOptions()
        o.compression = compression
        o.rowGroupRows = rowGroupRows
        o.createdBy = "strata-parquet version 1.0.0 (strata export)"
        return o
    }
}

/// What an export wrote.
public struct ParquetExportSummary: Sendable {
    /// Runs in the runs table.
    public var runs = 0
    /// Rows of the artifacts table.
    public var artifacts = 0
    /// Rows of the deployments table.
    public var deployments = 0
    /// Points (rows of the points table).
    public var points = 0
    /// Files written (paths relative to the output directory for a dataset).
    public var files: [String] = []
    /// Bytes written.
    public var bytes = 0
    /// Parts of the store that could not be read and so are missing from the export.
    public var damaged: [DamagedRange] = []
}

/// Exports runs and their points as Parquet: a Hive-partitioned dataset in a directory
/// (``writeDataset(to:)``), or one points file or runs file to any byte sink (``writePoints(to:)``,
/// ``writeRuns(to:)``) for the HTTP server. Memory is bounded by the row group, whatever the store's size:
/// points are read a block at a time and written a row group at a time.
public final class ParquetExport {
    /// The store read.
    public let store: Store
    /// The runs exported, grouped by project (projects in name order, runs in store order within one).
    public let runs: [RunInfo]
    public let options: ParquetExportOptions
    /// Called with the points written so far and the total; for a progress line.
    public var progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    /// The series of each run that are exported (sorted by canonical name).
    private var series: [RunID: [Store.SeriesInfo]] = [:]
    /// Every label key of the exported series, sorted.
    public private(set) var labelKeys: [String] = []
    /// The number of points to export (from the series summaries).
    public private(set) var totalPoints = 0
    private var done = 0
    /// Damage met so far.
    public private(set) var damaged: [DamagedRange] = []

    /// Prepares an export of `runs` (e.g. `store.runs(where:)`): lists their series (no point is read yet).
    public init(store: Store, runs: [RunInfo], options: ParquetExportOptions = .init()) throws {
        self.store = store
        self.options = options
        self.runs = runs.enumerated().sorted { ($0.element.project, $0.offset) < ($1.element.project, $1.offset) }.map(\.element)
        var keys = Set<String>()
        for r in self.runs {
            let s = try store.series(of: r.id).filter {
                options.metrics.isEmpty || options.metrics.contains($0.key.metric) || options.metrics.contains($0.key.canonical)
            }.sorted { $0.key.canonical < $1.key.canonical }
            series[r.id] = s
            for x in s {
                totalPoints += x.count
                for l in x.key.labels { keys.insert(l.key) }
            }
        }
        labelKeys = keys.sorted()
        damaged = try store.unreadableFiles()
    }

    /// The projects of the exported runs, in order.
    public var projects: [String] {
        var out: [String] = []
        for r in runs where out.last != r.project { out.append(r.project) }
        return out
    }

    func writer(_ table: String, _ columns: [ParquetColumn], name: String, _ output: @escaping ([UInt8]) throws -> Void) throws
        -> ParquetWriter
    {
        var o = options.writerOptions
        o.metadata = [ParquetTables.tableKey: table, ParquetTables.versionKey: ParquetTables.version]
        return try ParquetWriter(columns: columns, options: o, name: name, output: output)
    }

    /// Writes the points of the runs of `project` (every project when nil) as one Parquet file to
    /// `output`. Returns the rows written.
    @discardableResult
    public func writePoints(project: String? = nil, name: String = "points.parquet", to output: @escaping ([UInt8]) throws -> Void) throws -> Int {
        let w = try writer("points", ParquetTables.pointsColumns(labelKeys: labelKeys), name: name, output)
        let n = try streamPoints(runs.filter { project == nil || $0.project == project }) { batch in
            try w.append(batch)
        } rotate: { _ in
        }
        try w.close()
        return n
    }

    /// Writes the runs table of the runs of `project` (every project when nil) as one Parquet file.
    /// Returns the rows written.
    @discardableResult
    public func writeRuns(project: String? = nil, name: String = "runs.parquet", to output: @escaping ([UInt8]) throws -> Void) throws -> Int {
        try writeSmall(.runs, runs.filter { project == nil || $0.project == project }, name: name, to: output)
    }

    /// Writes the dataset into `dir` (created; it must not exist or be empty):
    /// `points/project=<p>/part-00000.parquet` (more parts past ``ParquetExportOptions/maxFileRows``),
    /// `runs/project=<p>/part-00000.parquet`, and `artifacts/…` and `deployments/…` likewise for
    /// the projects whose runs have any. Each file is written under a `.tmp` name and
    /// renamed when complete, so a reader never sees a file without its footer.
    public func writeDataset(to dir: String) throws -> ParquetExportSummary {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw InteropError("\(dir) exists and is not a directory") }
            let entries = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            guard entries.isEmpty else { throw InteropError("\(dir) is not empty: a Parquet export needs a new or empty directory") }
        }
        var summary = ParquetExportSummary()
        func file(_ table: String, _ project: String, part: Int) throws -> (final: String, temp: String, handle: FileHandle, relative: String) {
            let relative = "\(table)/\(ParquetTables.partition(project))/part-\(String(format: "%05d", part)).parquet"
            let final = dir + "/" + relative
            let parent = (final as NSString).deletingLastPathComponent
            do { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                throw InteropError("cannot create \(parent): \(fileErrorReason(error))")
            }
            let temp = final + ".tmp"
            guard fm.createFile(atPath: temp, contents: nil), let h = FileHandle(forWritingAtPath: temp) else {
                throw InteropError("cannot create \(temp)")
            }
            return (final, temp, h, relative)
        }
        func finish(_ f: (final: String, temp: String, handle: FileHandle, relative: String), bytes: Int) throws {
            do {
                try f.handle.synchronize()
                try f.handle.close()
                if fm.fileExists(atPath: f.final) { try fm.removeItem(atPath: f.final) }
                try fm.moveItem(atPath: f.temp, toPath: f.final)
            } catch { throw InteropError("cannot finish \(f.final): \(fileErrorReason(error))") }
            summary.files.append(f.relative)
            summary.bytes += bytes
        }
        /// Bytes written to the file being made.
        final class Counter { var bytes = 0 }
        func sink(_ h: FileHandle, _ path: String, _ count: Counter) -> ([UInt8]) throws -> Void {
            { chunk in
                do { try h.write(contentsOf: chunk) } catch { throw InteropError("cannot write \(path): \(fileErrorReason(error))") }
                count.bytes += chunk.count
            }
        }
        let written = Counter()
        for project in projects {
            let chosen = runs.filter { $0.project == project }
            // The runs table, and the artifacts and deployments tables when the runs have any.
            for table in SmallTable.allCases where table == .runs || Self.rows(table, chosen) > 0 {
                let f = try file(table.rawValue, project, part: 0)
                written.bytes = 0
                let n = try writeSmall(table, chosen, name: f.final, to: sink(f.handle, f.temp, written))
                try finish(f, bytes: written.bytes)
                switch table {
                case .runs: summary.runs += n
                case .artifacts: summary.artifacts += n
                case .deployments: summary.deployments += n
                }
            }
            // The points table, in parts.
            guard chosen.contains(where: { !(series[$0.id] ?? []).isEmpty }) else { continue }
            var part = 0
            var f = try file("points", project, part: part)
            written.bytes = 0
            var w = try writer("points", ParquetTables.pointsColumns(labelKeys: labelKeys), name: f.final, sink(f.handle, f.temp, written))
            var rowsInFile = 0
            summary.points += try streamPoints(chosen) { batch in
                try w.append(batch)
                rowsInFile += batch.first?.count ?? 0
            } rotate: { _ in
                // Called between batches: a new part once this one is full (at a row group's end).
                guard rowsInFile >= self.options.maxFileRows, rowsInFile % self.options.rowGroupRows == 0 else { return }
                try w.close()
                try finish(f, bytes: written.bytes)
                part += 1
                f = try file("points", project, part: part)
                written.bytes = 0
                w = try self.writer("points", ParquetTables.pointsColumns(labelKeys: self.labelKeys), name: f.final, sink(f.handle, f.temp, written))
                rowsInFile = 0
            }
            try w.close()
            try finish(f, bytes: written.bytes)
        }
        summary.damaged = damaged
        return summary
    }

    /// Reads the points of `chosen` block by block and hands them on in batches of at most a row
    /// group (a batch never crosses a row group's end, so `rotate` can start a new file there).
    private func streamPoints(
        _ chosen: [RunInfo], _ emit: ([ParquetColumnData]) throws -> Void, rotate: (Int) throws -> Void
    ) throws -> Int {
        let batchRows = min(65_536, options.rowGroupRows)
        var b = PointBatch(labelKeys: labelKeys, capacity: batchRows)
        var total = 0
        var sinceGroup = 0
        func flush() throws {
            guard b.count > 0 else { return }
            let n = b.count
            try emit(b.columns())
            b.reset()
            total += n
            done += n
            progress(done, totalPoints)
            sinceGroup += n
            if sinceGroup == options.rowGroupRows { sinceGroup = 0 }
            try rotate(total)
        }
        for run in chosen {
            for s in series[run.id] ?? [] {
                b.begin(run: run, key: s.key)
                try store.scanPoints(s.key, skippingDamage: &damaged) { steps, values, times in
                    var k = 0
                    while k < steps.count {
                        let room = min(batchRows - b.count, options.rowGroupRows - sinceGroup - b.count)
                        let take = min(room, steps.count - k)
                        b.add(steps, values, times, k..<(k + take))
                        k += take
                        if b.count == batchRows || sinceGroup + b.count == options.rowGroupRows {
                            try flush()
                            b.begin(run: run, key: s.key)
                        }
                    }
                }
            }
        }
        try flush()
        return total
    }

    /// The runs table of `chosen`: its columns (with the typed param columns) and its rows.
    func runsTable(_ chosen: [RunInfo]) throws -> (columns: [ParquetColumn], data: [ParquetColumnData]) {
        // A param key's column type: the type every exported run gives it, else STRING (the same
        // columns in every project's file, so that the files read as one table).
        var types: [String: ParquetColumn.Kind] = [:]
        for r in runs {
            for (k, v) in r.params {
                let t: ParquetColumn.Kind
                switch v {
                case .int: t = .int64
                case .double: t = .double
                case .bool: t = .boolean
                case .null: continue  // a null cell, whatever the column's type
                default: t = .string  // strings, text, big integers (digits), lists (JSON)
                }
                if let old = types[k], old != t { types[k] = .string } else { types[k] = t }
            }
        }
        let keys = types.keys.sorted()
        let columns =
            [
                ParquetColumn("id", .string), ParquetColumn("name", .string), ParquetColumn("project", .string),
                ParquetColumn("status", .string), ParquetColumn("created", .timestampMillis),
                ParquetColumn("ended", .timestampMillis, optional: true), ParquetColumn("parent", .string, optional: true),
                ParquetColumn("tags", .string), ParquetColumn("params", .string), ParquetColumn("metadata", .string),
                ParquetColumn("summaries", .string)
            ] + keys.map { ParquetColumn(ParquetTables.paramPrefix + $0, types[$0]!, optional: true) }
        let summaries = Dictionary(
            try store.summary(where: nil).filter { s in chosen.contains { $0.id == s.run.id } }.map { ($0.run.id, $0.metrics) },
            uniquingKeysWith: { a, _ in a })
        func json(_ build: (inout JSONOut) -> Void) -> String {
            var o = JSONOut()
            build(&o)
            return String(decoding: o.bytes, as: UTF8.self)
        }
        var data: [ParquetColumnData] = [
            ParquetColumnData(.string(chosen.map(\.id.text))), ParquetColumnData(.string(chosen.map(\.name))),
            ParquetColumnData(.string(chosen.map(\.project))), ParquetColumnData(.string(chosen.map(\.status.rawValue))),
            ParquetColumnData(.int64(chosen.map(\.createdMs))),
            ParquetColumnData(.int64(chosen.map { $0.endedMs ?? 0 }), valid: chosen.map { $0.endedMs != nil }),
            ParquetColumnData(.string(chosen.map { $0.parent?.text ?? "" }), valid: chosen.map { $0.parent != nil }),
            ParquetColumnData(
                .string(
                    chosen.map { r in
                        json { o in
                            o.beginArray(); for t in r.tags.sorted() { o.string(t) }; o.endArray()
                        }
                    })),
            ParquetColumnData(.string(chosen.map { r in json { $0.params(r.params) } })),
            ParquetColumnData(.string(chosen.map { r in json { $0.params(r.metadata) } })),
            ParquetColumnData(
                .string(
                    chosen.map { r in
                        json { o in
                            let m = summaries[r.id] ?? [:]
                            o.beginObject()
                            for k in m.keys.sorted() { o.key(k); o.stats(m[k]!) }
                            o.endObject()
                        }
                    }))
        ]
        for k in keys {
            let valid = chosen.map { r in r.params[k].map { $0 != .null } ?? false }
            switch types[k]! {
            case .int64:
                data.append(ParquetColumnData(.int64(chosen.map { if case .int(let v)? = $0.params[k] { v } else { 0 } }), valid: valid))
            case .double:
                data.append(ParquetColumnData(.double(chosen.map { if case .double(let v)? = $0.params[k] { v } else { 0 } }), valid: valid))
            case .boolean:
                data.append(ParquetColumnData(.boolean(chosen.map { if case .bool(let v)? = $0.params[k] { v } else { false } }), valid: valid))
            default:
                data.append(ParquetColumnData(.string(chosen.map { $0.params[k]?.description ?? "" }), valid: valid))
            }
        }
        return (columns, data)
    }
}

/// One batch of points rows being gathered: the numbers as they come, the strings as indices
/// into small per-batch dictionaries (a series' strings are the same on every row).
private struct PointBatch {
    let labelKeys: [String]
    var steps: [Int64] = []
    var values: [Double] = []
    var times: [Int64] = []
    /// run_id, run_name, project, metric, then one per label key.
    var ids: [[UInt32]]
    var dictionaries: [[String]]
    var labelValid: [[Bool]]
    /// The current series' index in each dictionary (nil for an absent label).
    var current: [UInt32?] = []

    init(labelKeys: [String], capacity: Int) {
        self.labelKeys = labelKeys
        ids = Array(repeating: [], count: 4 + labelKeys.count)
        dictionaries = Array(repeating: [], count: 4 + labelKeys.count)
        labelValid = Array(repeating: [], count: labelKeys.count)
        steps.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        times.reserveCapacity(capacity)
    }

    var count: Int { steps.count }

    private mutating func index(_ column: Int, _ s: String) -> UInt32 {
        if let last = dictionaries[column].last, last == s { return UInt32(dictionaries[column].count - 1) }
        // Small dictionaries are searched; past 64 entries a repeat is simply appended again (the
        // writer maps equal strings to one dictionary entry anyway).
        if dictionaries[column].count < 64, let i = dictionaries[column].firstIndex(of: s) { return UInt32(i) }
        dictionaries[column].append(s)
        return UInt32(dictionaries[column].count - 1)
    }

    /// Rows added next belong to series `key` of `run`.
    mutating func begin(run: RunInfo, key: SeriesKey) {
        var labels: [String: String] = [:]
        for l in key.labels { labels[l.key] = l.value }
        current = [index(0, run.id.text), index(1, run.name), index(2, run.project), index(3, key.metric)]
        for (j, k) in labelKeys.enumerated() { current.append(labels[k].map { index(4 + j, $0) }) }
    }

    /// Adds the points at `range` of one scanned block.
    mutating func add(_ s: Span<Int64>, _ v: Span<Double>, _ t: Span<Int64>, _ range: Range<Int>) {
        steps.reserveCapacity(steps.count + range.count)
        values.reserveCapacity(values.count + range.count)
        times.reserveCapacity(times.count + range.count)
        for i in range {
            steps.append(s[i])
            values.append(v[i])
            times.append(t[i])
        }
        for c in current.indices {
            ids[c].append(contentsOf: repeatElement(current[c] ?? 0, count: range.count))
            if c >= 4 { labelValid[c - 4].append(contentsOf: repeatElement(current[c] != nil, count: range.count)) }
        }
    }

    func columns() -> [ParquetColumnData] {
        var out: [ParquetColumnData] = (0..<4).map { ParquetColumnData(.indexed(indices: ids[$0], dictionary: dictionaries[$0])) }
        for j in labelKeys.indices {
            out.append(ParquetColumnData(.indexed(indices: ids[4 + j], dictionary: dictionaries[4 + j]), valid: labelValid[j]))
        }
        return out + [ParquetColumnData(.int64(steps)), ParquetColumnData(.double(values)), ParquetColumnData(.int64(times))]
    }

    mutating func reset() {
        steps.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        for c in ids.indices {
            ids[c].removeAll(keepingCapacity: true)
            dictionaries[c].removeAll(keepingCapacity: true)
        }
        for c in labelValid.indices { labelValid[c].removeAll(keepingCapacity: true) }
    }
}

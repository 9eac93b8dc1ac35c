import Foundation
import Strata
import StrataParquet

/// Imports Parquet files in two long-form layouts:
///
/// - **Strata's own export** (``ParquetTables``): points files (`run_id`, `metric`, `step`,
///   `value`, `time`; `run_name`, `project` and `label.<key>` columns when present) and runs files
///   (footer key `strata.table` = `runs`), whose status, times, parent, tags, params and metadata
///   are given to the runs imported. A run's source is `parquet:<project>/<run_id>`. Artifacts
///   and deployments files (`strata.table` = `artifacts` / `deployments`) are given to those runs
///   afterwards, with their recorded times; what a run holds already is not written again.
/// - **neptune-exporter** (`project_id`, `run_id`, `attribute_path`, `attribute_type`, `step`
///   DECIMAL, `timestamp`, typed `*_value` columns): `float_series` rows become points (metric =
///   attribute path; a step with a fraction is a bad item); `float`, `int`, `bool`, `string` and
///   `datetime` attributes become params, or metadata `neptune.<path>` for `sys/*` attributes
///   (`sys/creation_time` also sets the run's creation time); other types are counted and
///   skipped. A run's source is `neptune:<project_id>/<run_id>`.
///
/// A run may span several files: it is written once its last file is read (a first pass reads
/// only the run ids). Runs whose source the store holds already are skipped, so re-running an
/// import that stopped continues where it stopped; so are Strata runs whose id is in the store
/// (an export imported back into its own store). `again` imports them all anyway.
public final class ParquetImporter {
    let session: ImportSession
    /// Ids of the runs in the store: a Strata run whose id is among them is the store's own run
    /// (an export imported back into the store it came from) and is skipped like one imported before.
    private let storeRunIDs: Set<String>

    /// An importer writing through `session`.
    public init(session: ImportSession) throws {
        self.session = session
        storeRunIDs = Set(try session.store.runs().map(\.id.text))
    }

    /// The Parquet files at `paths`: files as given, directories searched recursively for
    /// `*.parquet` (sorted by path).
    public static func findFiles(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        func walk(_ dir: String) throws {
            for name in try listDirectory(dir).sorted() where !name.hasPrefix(".") {
                let p = joinPath(dir, name)
                switch fileKind(p) {
                case .directory?: try walk(p)
                case .file? where name.hasSuffix(".parquet"): out.append(p)
                default: break
                }
            }
        }
        for p in paths {
            switch fileKind(p) {
            case .directory?: try walk(p)
            case .file?, .other?: out.append(p)
            default: throw InteropError("\(p): no such file or directory")
            }
        }
        return out
    }

    private enum Layout { case strataPoints, strataRuns, strataArtifacts, strataDeployments, neptune }

    /// Whether files of this layout hold points (or neptune attributes): the runs are made from them.
    private static func holdsRuns(_ l: Layout) -> Bool { l == .strataPoints || l == .neptune }

    private struct Source {
        let path: String
        let reader: ParquetReader
        let layout: Layout
        /// The project named by a `project=<p>` directory of the path (Hive partitioning).
        let partitionProject: String?
    }

    /// What a Strata runs table says about a run.
    private struct RunRecord {
        var name: String?
        var status: RunStatus?
        var created: Int64?
        var ended: Int64?
        var tags: Set<String> = []
        var params: [String: ParamValue] = [:]
        var metadata: [String: ParamValue] = [:]
        var parentSource: String?
    }

    /// Imports `files` (see ``findFiles(_:)``).
    public func importFiles(_ files: [String]) throws {
        var sources: [Source] = []
        for f in files {
            let r: ParquetReader
            do { r = try ParquetReader(path: f) } catch { throw InteropError("\(error)") }
            sources.append(Source(path: f, reader: r, layout: try Self.layout(r), partitionProject: Self.partitionProject(f)))
        }
        // Runs tables first: what they say is given to the runs created from the points.
        var records: [String: RunRecord] = [:]
        for s in sources where s.layout == .strataRuns { try readRuns(s, into: &records) }
        // Which file holds each run last.
        var last: [String: Int] = [:]
        for (i, s) in sources.enumerated() where Self.holdsRuns(s.layout) {
            for key in try runKeys(s) { last[key] = i }
        }
        // Runs imported before are left alone (and counted).
        session.summary.alreadyImported += Set(last.keys).union(records.keys).filter(skipped).count
        var open: [String: ImportedRun] = [:]
        for (i, s) in sources.enumerated() where Self.holdsRuns(s.layout) {
            if s.layout == .strataPoints { try readStrataPoints(s, into: &open) } else { try readNeptune(s, into: &open) }
            for key in open.keys.sorted() where last[key] == i {
                var run = open.removeValue(forKey: key)!
                if let r = records[key] { apply(r, to: &run) }
                try session.write(run)
            }
        }
        // Runs tables of runs without points.
        for key in records.keys.sorted() where last[key] == nil && !skipped(key) {
            let r = records[key]!
            let parts = key.dropFirst("parquet:".count).split(separator: "/", maxSplits: 1)
            var run = ImportedRun(name: r.name ?? String(parts.last ?? ""), project: String(parts.first ?? "default"), source: key)
            apply(r, to: &run)
            try session.write(run)
        }
        // Artifacts, then the deployments of those artifacts, given to the runs written above (or
        // imported before: what a run holds already is not written again).
        for s in sources where s.layout == .strataArtifacts { try readArtifacts(s) }
        for s in sources where s.layout == .strataDeployments { try readDeployments(s) }
    }

    private func skipped(_ source: String) -> Bool {
        guard !session.again else { return false }
        if session.importedSources[source] != nil { return true }
        // parquet:<project>/<run id>: run ids hold no '/'.
        return source.hasPrefix("parquet:") && storeRunIDs.contains(String(source[source.index(after: source.lastIndex(of: "/")!)...]))
    }

    private func apply(_ r: RunRecord, to run: inout ImportedRun) {
        if let n = r.name { run.name = n }
        if let s = r.status { run.status = s }
        run.createdMs = r.created ?? run.createdMs
        run.endedMs = r.ended ?? run.endedMs
        run.tags = r.tags
        run.params = r.params
        for (k, v) in r.metadata where k != "import.source" { run.metadata[k] = v }
        if let p = r.parentSource, let id = session.importedSources[p] { run.parent = id }
    }

    private static func layout(_ r: ParquetReader) throws -> Layout {
        let names = Set(r.columns.map(\.name))
        let table = r.metadata[ParquetTables.tableKey]
        if table == "artifacts" || (table == nil && names.isSuperset(of: ["run_id", "name", "uri", "digest", "size"])) { return .strataArtifacts }
        if table == "deployments" || (table == nil && names.isSuperset(of: ["run_id", "artifact", "digest", "environment", "deployed_at"])) {
            return .strataDeployments
        }
        if table == "runs" || names.isSuperset(of: ["id", "name", "status", "created", "params"]) {
            return .strataRuns
        }
        if names.isSuperset(of: ["project_id", "run_id", "attribute_path", "attribute_type"]) { return .neptune }
        if names.isSuperset(of: ["run_id", "metric", "step", "value"]) { return .strataPoints }
        throw InteropError(
            "\(r.name): the columns (\(r.columns.map(\.name).joined(separator: ", "))) are neither Strata's long form (run_id, metric, step, "
                + "value, time), runs, artifacts or deployments tables nor neptune-exporter's (project_id, run_id, attribute_path, attribute_type, step, timestamp, float_value)"
        )
    }

    private static func partitionProject(_ path: String) -> String? {
        for part in path.split(separator: "/").reversed() where part.hasPrefix("project=") {
            return String(part.dropFirst("project=".count)).removingPercentEncoding ?? String(part.dropFirst("project=".count))
        }
        return nil
    }

    // MARK: columns

    /// One row group's column, read as the importer needs it.
    private struct Column {
        let data: ParquetColumnData
        let leaf: ParquetLeafColumn
        func isNull(_ i: Int) -> Bool { data.valid.map { !$0[i] } ?? false }
    }

    private func column(_ s: Source, _ group: Int, _ name: String, required: Bool = true) throws -> Column? {
        guard let c = s.reader.columnIndex(name) else {
            if required {
                throw InteropError("\(s.path): no column '\(name)' (needed for \(s.layout == .neptune ? "neptune-exporter" : "Strata") files)")
            }
            return nil
        }
        do { return Column(data: try s.reader.read(rowGroup: group, column: c), leaf: s.reader.columns[c]) } catch {
            throw InteropError("\(error)")
        }
    }

    private func wrongType(_ s: Source, _ group: Int, _ c: Column, _ wanted: String) -> InteropError {
        InteropError(
            "\(s.path), row group \(group), column '\(c.leaf.name)': \(c.leaf.physicalType?.rawValue ?? "unknown") values where \(wanted) is needed")
    }

    /// Strings of a column, decoded once per distinct run of equal bytes.
    private func strings(_ s: Source, _ group: Int, _ c: Column) throws -> [String?] {
        guard case .bytes(let a) = c.data.values else { throw wrongType(s, group, c, "a string") }
        var out: [String?] = []
        out.reserveCapacity(a.count)
        var lastBytes: [UInt8]? = nil
        var lastString = ""
        for i in a.indices {
            if c.isNull(i) { out.append(nil); continue }
            if lastBytes != a[i] {
                lastBytes = a[i]
                lastString = String(decoding: a[i], as: UTF8.self)
            }
            out.append(lastString)
        }
        return out
    }

    /// Integers of a column (INT32/INT64, or a timestamp converted to milliseconds).
    private func integers(_ s: Source, _ group: Int, _ c: Column, millis: Bool = false) throws -> [Int64] {
        var v: [Int64]
        switch c.data.values {
        case .int64(let a): v = a
        case .int32(let a): v = a.map(Int64.init)
        default: throw wrongType(s, group, c, "an integer")
        }
        if millis, case .timestamp(let unit, _)? = c.leaf.logicalType, unit != .millis {
            let d: Int64 = unit == .micros ? 1_000 : 1_000_000
            v = v.map { $0 >= 0 ? $0 / d : -((-($0 + 1)) / d) - 1 }
        }
        return v
    }

    private func doubles(_ s: Source, _ group: Int, _ c: Column) throws -> [Double] {
        switch c.data.values {
        case .double(let a): return a
        case .float(let a): return a.map(Double.init)
        default: throw wrongType(s, group, c, "a floating-point number")
        }
    }

    /// The run keys (sources) a points file holds.
    private func runKeys(_ s: Source) throws -> Set<String> {
        var keys = Set<String>()
        for g in 0..<s.reader.rowGroupCount {
            let ids = try strings(s, g, try column(s, g, "run_id")!)
            let projectName = s.layout == .neptune ? "project_id" : "project"
            let projects = try column(s, g, projectName, required: s.layout == .neptune).map { try strings(s, g, $0) }
            var lastID: String? = nil, lastProject: String? = nil
            for i in ids.indices {
                let id = ids[i] ?? "", p = projects?[i] ?? nil
                if id == lastID && p == lastProject { continue }
                lastID = id
                lastProject = p
                keys.insert(key(s, project: p, run: id))
            }
        }
        return keys
    }

    /// The run of the last row read: its key and whether it is skipped, worked out once per run of
    /// rows (rows of one run come together), not per row.
    private struct RowRun {
        var id: String? = nil
        var project: String? = nil
        var key = ""
        var skipped = false
    }

    private func update(_ r: inout RowRun, _ s: Source, project: String?, id: String) {
        if r.id == id && r.project == project { return }
        let k = key(s, project: project, run: id)
        r = RowRun(id: id, project: project, key: k, skipped: skipped(k))
    }

    private func key(_ s: Source, project: String?, run: String) -> String {
        s.layout == .neptune
            ? "neptune:\(project ?? "")/\(run)" : "parquet:\(project ?? s.partitionProject ?? "default")/\(run)"
    }

    // MARK: Strata's layout

    private func readRuns(_ s: Source, into records: inout [String: RunRecord]) throws {
        for g in 0..<s.reader.rowGroupCount {
            let ids = try strings(s, g, try column(s, g, "id")!)
            let names = try column(s, g, "name", required: false).map { try strings(s, g, $0) }
            let projects = try column(s, g, "project", required: false).map { try strings(s, g, $0) }
            let status = try column(s, g, "status", required: false).map { try strings(s, g, $0) }
            let created = try column(s, g, "created", required: false)
            let createdV = try created.map { try integers(s, g, $0, millis: true) }
            let ended = try column(s, g, "ended", required: false)
            let endedV = try ended.map { try integers(s, g, $0, millis: true) }
            let parents = try column(s, g, "parent", required: false).map { try strings(s, g, $0) }
            let tags = try column(s, g, "tags", required: false).map { try strings(s, g, $0) }
            let params = try column(s, g, "params", required: false).map { try strings(s, g, $0) }
            let metadata = try column(s, g, "metadata", required: false).map { try strings(s, g, $0) }
            for i in ids.indices {
                guard let id = ids[i] else { continue }
                let project = projects?[i] ?? nil
                var r = RunRecord()
                r.name = names?[i] ?? nil
                r.status = (status?[i] ?? nil).flatMap(RunStatus.init(rawValue:))
                if let c = created, !c.isNull(i) { r.created = createdV![i] }
                if let e = ended, !e.isNull(i) { r.ended = endedV![i] }
                if let p = parents?[i] ?? nil { r.parentSource = key(s, project: project, run: p) }
                if let t = tags?[i] ?? nil, case .array(let a)? = try? JSONValue.parse(line: Array(t.utf8)[...]) {
                    for case .string(let x) in a { r.tags.insert(x) }
                }
                r.params = Self.paramObject(params?[i] ?? nil)
                r.metadata = Self.paramObject(metadata?[i] ?? nil)
                records[key(s, project: project, run: id)] = r
            }
        }
    }

    /// A JSON object of typed values, as the runs table writes params and metadata.
    private static func paramObject(_ text: String?) -> [String: ParamValue] {
        guard let text, case .object(let kv)? = try? JSONValue.parse(line: Array(text.utf8)[...], exactIntegers: true) else { return [:] }
        var out: [String: ParamValue] = [:]
        for (k, v) in kv { out[k] = v.paramValue }
        return out
    }

    private func readStrataPoints(_ s: Source, into open: inout [String: ImportedRun]) throws {
        let labelColumns = s.reader.columns.map(\.name).filter { $0.hasPrefix(ParquetTables.labelPrefix) }
        for g in 0..<s.reader.rowGroupCount {
            let ids = try strings(s, g, try column(s, g, "run_id")!)
            let names = try column(s, g, "run_name", required: false).map { try strings(s, g, $0) }
            let projects = try column(s, g, "project", required: false).map { try strings(s, g, $0) }
            let metrics = try strings(s, g, try column(s, g, "metric")!)
            let labels = try labelColumns.map { (String($0.dropFirst(ParquetTables.labelPrefix.count)), try strings(s, g, try column(s, g, $0)!)) }
            let stepC = try column(s, g, "step")!, valueC = try column(s, g, "value")!
            let steps = try integers(s, g, stepC), values = try doubles(s, g, valueC)
            let timeC = try column(s, g, "time", required: false)
            let times = try timeC.map { try integers(s, g, $0, millis: true) }
            var lastKey = "", lastSeries = "", lastMetric = "", lastLabels: [String: String] = [:]
            var row = RowRun()
            var pending = SeriesBuffer()
            func flushPending() {
                guard pending.count > 0 else { return }
                open[lastKey]!.add(key: lastSeries, metric: lastMetric, labels: lastLabels, pending)
                pending = SeriesBuffer()
            }
            for i in ids.indices {
                guard let id = ids[i], let metric = metrics[i], !stepC.isNull(i), !valueC.isNull(i) else {
                    try session.bad(
                        "rows with a null run_id, metric, step or value", "\(s.path), row group \(g), row \(i): a null run_id, metric, step or value")
                    continue
                }
                let project = projects?[i] ?? nil
                update(&row, s, project: project, id: id)
                let k = row.key
                if row.skipped { continue }
                var l: [String: String] = [:]
                for (name, v) in labels { if let x = v[i] { l[name] = x } }
                if k != lastKey || metric != lastMetric || l != lastLabels {
                    // A new run of rows: hand the rows gathered so far to their run, in one piece.
                    flushPending()
                    if open[k] == nil {
                        open[k] = ImportedRun(name: (names?[i] ?? nil) ?? id, project: project ?? s.partitionProject ?? "default", source: k)
                    }
                    lastKey = k
                    lastMetric = metric
                    lastLabels = l
                    lastSeries =
                        l.isEmpty ? metric : metric + "{" + l.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
                }
                let time = times.map { timeC!.isNull(i) ? 0 : $0[i] } ?? 0
                pending.add(step: steps[i], value: values[i], time: time)
            }
            flushPending()
            session.update("reading \(s.path): row group \(g + 1) of \(s.reader.rowGroupCount)")
        }
    }

    // MARK: Strata's artifacts and deployments tables

    /// The run of this store that the exported run `key` became: the one imported from it (now
    /// or before), or the store's own run when the export came from this store. Nil when the
    /// import holds no such run.
    private func importedRun(_ key: String) -> RunID? {
        if let id = session.importedSources[key] { return id }
        guard key.hasPrefix("parquet:"), let slash = key.lastIndex(of: "/") else { return nil }
        let id = String(key[key.index(after: slash)...])
        return storeRunIDs.contains(id) ? RunID(id) : nil
    }

    /// Reads the run keys and the store runs of one row group's rows (nil where the run is unknown,
    /// counted as a bad row).
    private func rowRuns(_ s: Source, _ g: Int, what: String) throws -> [RunID?] {
        let ids = try strings(s, g, try column(s, g, "run_id")!)
        let projects = try column(s, g, "project", required: false).map { try strings(s, g, $0) }
        var out: [RunID?] = []
        var lastKey = "", lastRun: RunID? = nil
        for i in ids.indices {
            guard let id = ids[i] else {
                try session.bad("\(what) rows with a null run_id", "\(s.path), row group \(g), row \(i): a null run_id")
                out.append(nil)
                continue
            }
            let k = key(s, project: projects?[i] ?? nil, run: id)
            if k != lastKey {
                lastKey = k
                lastRun = importedRun(k)
            }
            if lastRun == nil {
                try session.bad(
                    "\(what) of runs not in the import",
                    "\(s.path), row group \(g), row \(i): run \(id) is neither in the runs or points tables imported nor in the store")
            }
            out.append(lastRun)
        }
        return out
    }

    /// Imports one artifacts table (``ParquetTables/artifactsColumns``).
    private func readArtifacts(_ s: Source) throws {
        for g in 0..<s.reader.rowGroupCount {
            let runs = try rowRuns(s, g, what: "artifacts")
            let names = try strings(s, g, try column(s, g, "name")!)
            let uris = try strings(s, g, try column(s, g, "uri")!)
            let digests = try strings(s, g, try column(s, g, "digest")!)
            let sizeC = try column(s, g, "size")!
            let sizes = try integers(s, g, sizeC)
            let kinds = try column(s, g, "kind", required: false).map { try strings(s, g, $0) }
            let roles = try column(s, g, "role", required: false).map { try strings(s, g, $0) }
            let stepC = try column(s, g, "step", required: false)
            let steps = try stepC.map { try integers(s, g, $0) }
            let metadata = try column(s, g, "metadata", required: false).map { try strings(s, g, $0) }
            let loggedC = try column(s, g, "logged", required: false)
            let logged = try loggedC.map { try integers(s, g, $0, millis: true) }
            for i in runs.indices {
                guard let run = runs[i] else { continue }
                let where_ = "\(s.path), row group \(g), row \(i)"
                guard let name = names[i], let uri = uris[i], let digest = digests[i], !sizeC.isNull(i) else {
                    try session.bad("artifacts with a null name, uri, digest or size", "\(where_): a null name, uri, digest or size")
                    continue
                }
                let roleText = roles?[i] ?? nil
                guard let role = roleText.map({ Artifact.Role(rawValue: $0) }) ?? .output else {
                    try session.bad("artifacts with an unknown role", "\(where_): role \(jsonString(roleText ?? "")) is neither output nor input")
                    continue
                }
                let a = Artifact(
                    run: run, name: name, uri: uri, digest: digest, size: sizes[i], kind: (kinds?[i] ?? nil) ?? "model", role: role,
                    step: stepC.map { $0.isNull(i) } == false ? steps![i] : nil, metadata: Self.paramObject(metadata?[i] ?? nil),
                    loggedMs: loggedC.map { $0.isNull(i) } == false ? logged![i] : Int64(Date().timeIntervalSince1970 * 1000))
                do {
                    if try session.store.importArtifact(a, into: run) { session.summary.artifacts += 1 }
                } catch {
                    try session.bad("artifacts Strata refuses", "\(where_): \(error)")
                }
            }
        }
    }

    /// Imports one deployments table (``ParquetTables/deploymentsColumns``).
    private func readDeployments(_ s: Source) throws {
        for g in 0..<s.reader.rowGroupCount {
            let runs = try rowRuns(s, g, what: "deployments")
            let artifacts = try strings(s, g, try column(s, g, "artifact")!)
            let digests = try strings(s, g, try column(s, g, "digest")!)
            let envs = try strings(s, g, try column(s, g, "environment")!)
            let atC = try column(s, g, "deployed_at")!
            let at = try integers(s, g, atC, millis: true)
            let recordedC = try column(s, g, "recorded", required: false)
            let recorded = try recordedC.map { try integers(s, g, $0, millis: true) }
            for i in runs.indices {
                guard let run = runs[i] else { continue }
                let where_ = "\(s.path), row group \(g), row \(i)"
                guard let artifact = artifacts[i], let digest = digests[i], let env = envs[i], !atC.isNull(i) else {
                    try session.bad(
                        "deployments with a null artifact, digest, environment or time",
                        "\(where_): a null artifact, digest, environment or deployed_at")
                    continue
                }
                let d = Deployment(
                    run: run, artifact: artifact, digest: digest, environment: env, atMs: at[i],
                    recordedMs: recordedC.map { $0.isNull(i) } == false ? recorded![i] : at[i])
                do {
                    if try session.store.importDeployment(d, into: run) { session.summary.deployments += 1 }
                } catch {
                    try session.bad("deployments Strata refuses", "\(where_): \(error)")
                }
            }
        }
    }

    // MARK: neptune-exporter's layout

    private func readNeptune(_ s: Source, into open: inout [String: ImportedRun]) throws {
        for g in 0..<s.reader.rowGroupCount {
            let projects = try strings(s, g, try column(s, g, "project_id")!)
            let ids = try strings(s, g, try column(s, g, "run_id")!)
            let paths = try strings(s, g, try column(s, g, "attribute_path")!)
            let types = try strings(s, g, try column(s, g, "attribute_type")!)
            let stepC = try column(s, g, "step", required: false)
            let timeC = try column(s, g, "timestamp", required: false)
            let times = try timeC.map { try integers(s, g, $0, millis: true) }
            let floatC = try column(s, g, "float_value", required: false)
            let floats = try floatC.map { try doubles(s, g, $0) }
            let intC = try column(s, g, "int_value", required: false)
            let ints = try intC.map { try integers(s, g, $0) }
            let stringC = try column(s, g, "string_value", required: false)
            let strs = try stringC.map { try strings(s, g, $0) }
            let boolC = try column(s, g, "bool_value", required: false)
            let dateC = try column(s, g, "datetime_value", required: false)
            let dates = try dateC.map { try integers(s, g, $0, millis: true) }
            var steps: [Int64?]? = nil
            var fractional: [Bool] = []
            var row = RowRun()
            if let stepC { (steps, fractional) = try decimalSteps(s, g, stepC) }
            for i in ids.indices {
                guard let project = projects[i], let id = ids[i], let path = paths[i], let type = types[i] else {
                    try session.bad(
                        "rows with a null project_id, run_id, attribute_path or attribute_type",
                        "\(s.path), row group \(g), row \(i): a null key column")
                    continue
                }
                update(&row, s, project: project, id: id)
                let k = row.key
                if row.skipped { continue }
                if open[k] == nil { open[k] = ImportedRun(name: id, project: project, source: k) }
                func set(_ v: ParamValue) {
                    if path.hasPrefix("sys/") { open[k]!.metadata["neptune." + path] = v } else { open[k]!.params[path] = v }
                }
                func present(_ c: Column?) -> Bool { c.map { !$0.isNull(i) } ?? false }
                switch type {
                case "float_series":
                    guard let step = steps?[i] ?? nil, present(floatC) else {
                        if i < fractional.count && fractional[i] {
                            try session.bad(
                                "points with a fractional step",
                                "\(s.path), row group \(g), row \(i): \(path) has a step with a fraction (Strata steps are integers)")
                        } else {
                            try session.bad(
                                "points without a step or value", "\(s.path), row group \(g), row \(i): \(path) has no step or float_value")
                        }
                        continue
                    }
                    let t = present(timeC) ? times![i] : 0
                    open[k]!.add(path, step: step, value: floats![i], time: t)
                case "float" where present(floatC): set(.double(floats![i]))
                case "int" where present(intC): set(.int(ints![i]))
                case "string" where present(stringC): set(.string(strs![i]!))
                case "bool" where present(boolC):
                    if case .boolean(let b) = boolC!.data.values { set(.bool(b[i])) }
                case "datetime" where present(dateC):
                    if path == "sys/creation_time" { open[k]!.createdMs = dates![i] }
                    set(.int(dates![i]))
                default:
                    session.summary.skip("neptune \(type) attributes")
                }
            }
            session.update("reading \(s.path): row group \(g + 1) of \(s.reader.rowGroupCount)")
        }
    }

    /// neptune-exporter's `step` (DECIMAL, as FIXED_LEN_BYTE_ARRAY, INT64 or INT32) as integers:
    /// nil where null or where the step has a fraction (flagged in the second array).
    private func decimalSteps(_ s: Source, _ g: Int, _ c: Column) throws -> ([Int64?], [Bool]) {
        var scale = 0
        if case .decimal(_, let sc)? = c.leaf.logicalType { scale = sc } else if let sc = c.leaf.scale { scale = sc }
        guard scale >= 0, scale <= 18 else { throw InteropError("\(s.path), row group \(g), column 'step': DECIMAL scale \(scale) is not supported") }
        var unit: Int128 = 1
        for _ in 0..<scale { unit *= 10 }
        var raw: [Int128?] = []
        switch c.data.values {
        case .int64(let a): raw = a.map { Int128($0) }
        case .int32(let a): raw = a.map { Int128($0) }
        case .double(let a): raw = a.map { $0.isFinite && $0 == $0.rounded() && abs($0) < 9e18 ? Int128(Int64($0)) : nil }
        case .bytes(let a):
            for b in a {
                guard !b.isEmpty, b.count <= 16 else { raw.append(nil); continue }
                var v: Int128 = (b[0] & 0x80) != 0 ? -1 : 0
                for x in b { v = (v << 8) | Int128(x) }
                raw.append(v)
            }
        default: throw wrongType(s, g, c, "a DECIMAL or integer step")
        }
        if case .double = c.data.values { unit = 1 }
        var steps: [Int64?] = []
        var fractional: [Bool] = []
        for (i, r) in raw.enumerated() {
            guard !c.isNull(i), let r else { steps.append(nil); fractional.append(false); continue }
            let (q, m) = r.quotientAndRemainder(dividingBy: unit)
            if m != 0 { steps.append(nil); fractional.append(true); continue }
            steps.append(Int64(exactly: q))
            fractional.append(false)
        }
        return (steps, fractional)
    }
}

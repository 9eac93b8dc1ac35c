import Strata

/// Reads runs of an MLflow file store (an `mlruns` directory, one experiment directory in it, or
/// one run directory). Project = experiment name. Params are typed (int, float, bool, else
/// string); `mlflow.*` tags become metadata (git.commit, user, ...), other tags become tags
/// `key=value`. Deleted runs are skipped; parents are imported before their children.
public final class MLflowImporter {
    /// An experiment directory's `meta.yaml`.
    public struct Experiment: Sendable {
        /// The experiment id.
        public var id: String
        /// The experiment name (the project of its runs).
        public var name: String
        /// Deleted experiments' runs are skipped.
        public var deleted: Bool
    }
    /// A run directory with its experiment and its `meta.yaml`.
    public struct RunDir: Sendable {
        /// The run directory.
        public var dir: String
        /// Its experiment.
        public var experiment: Experiment
        /// Its `meta.yaml`.
        public var meta: [String: String]
        /// The MLflow run id.
        public var runId: String { meta["run_id"] ?? baseName(dir) }
    }

    let session: ImportSession
    let project: String?

    /// `project`: the project of every imported run (default: each run's experiment name).
    public init(session: ImportSession, project: String?) {
        self.session = session
        self.project = project
    }

    /// A flat YAML mapping (`key: value` lines, as MLflow writes meta.yaml). Nested values are ignored.
    package static func readYAML(_ path: String) throws(InteropError) -> [String: String] {
        var out: [String: String] = [:]
        for raw in try readTextFile(path).split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            guard let first = line.first, first != " ", first != "-", first != "#", let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            var value = line[line.index(after: colon)...].trimmingCharactersSpaces()
            if value.count >= 2, value.first == "'", value.last == "'" {
                // YAML single quotes: '' is one quote
                var unquoted = "", quote = false
                for c in value.dropFirst().dropLast() {
                    if c == "'" && quote { quote = false; continue }
                    quote = c == "'"
                    unquoted.append(c)
                }
                value = unquoted
            } else if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            } else if value == "null" || value == "~" {
                continue
            }
            out[key] = value
        }
        return out
    }

    package static func experiment(_ dir: String) -> Experiment? {
        let metaPath = joinPath(dir, "meta.yaml")
        guard fileKind(metaPath) == .file, let m = try? readYAML(metaPath), m["run_id"] == nil, m["experiment_id"] != nil || m["name"] != nil else {
            return nil
        }
        return Experiment(id: m["experiment_id"] ?? baseName(dir), name: m["name"] ?? baseName(dir), deleted: m["lifecycle_stage"] == "deleted")
    }

    package static func runMeta(_ dir: String) -> [String: String]? {
        let metaPath = joinPath(dir, "meta.yaml")
        guard fileKind(metaPath) == .file, let m = try? readYAML(metaPath), m["run_id"] != nil || m["run_uuid"] != nil else { return nil }
        var out = m
        if out["run_id"] == nil { out["run_id"] = m["run_uuid"] }
        return out
    }

    /// The runs under `root` (deleted ones included: `importRuns` counts and skips them).
    public static func findRuns(_ root: String) throws(InteropError) -> [RunDir] {
        guard fileKind(root) == .directory else { throw InteropError("no such directory: \(root)") }
        func runs(of exp: Experiment, in dir: String) throws(InteropError) -> [RunDir] {
            try listDirectory(dir).compactMap { n -> RunDir? in
                let p = joinPath(dir, n)
                guard fileKind(p) == .directory, let m = runMeta(p) else { return nil }
                return RunDir(dir: p, experiment: exp, meta: m)
            }
        }
        if let m = runMeta(root) {  // one run
            let parent = realPath(root) + "/.."
            let exp = experiment(parent) ?? Experiment(id: m["experiment_id"] ?? "0", name: "default", deleted: false)
            return [RunDir(dir: root, experiment: exp, meta: m)]
        }
        if let exp = experiment(root) { return try runs(of: exp, in: root) }
        var out: [RunDir] = []
        for n in try listDirectory(root) where !n.hasPrefix(".") {  // .trash holds deleted experiments
            let p = joinPath(root, n)
            guard fileKind(p) == .directory, let exp = experiment(p) else { continue }
            out += try runs(of: exp, in: p)
        }
        return out
    }

    /// Files under `dir`, as keys relative to it (MLflow keeps a key with slashes in nested directories).
    package static func keyedFiles(_ dir: String) throws(InteropError) -> [(key: String, path: String)] {
        guard fileKind(dir) == .directory else { return [] }
        var out: [(String, String)] = []
        func walk(_ d: String, _ prefix: String, depth: Int) throws(InteropError) {
            guard depth < 32 else { return }
            for n in try listDirectory(d) {
                let p = joinPath(d, n)
                switch fileKind(p) {
                case .file?: out.append((prefix + n, p))
                case .directory?: try walk(p, prefix + n + "/", depth: depth + 1)
                default: break
                }
            }
        }
        try walk(dir, "", depth: 0)
        return out
    }

    /// One MLflow run as either store keeps it (file store or SQL database), with its tags.
    package struct RunRecord {
        /// The MLflow run id.
        package var runId: String
        /// `run_name` / `runs.name` (the `mlflow.runName` tag wins).
        package var runName: String?
        package var experiment: Experiment
        /// `FINISHED`, `FAILED`, `KILLED`, `RUNNING`, `SCHEDULED`.
        package var status: String
        package var startTime: Int64?
        package var endTime: Int64?
        package var userId: String?
        /// `lifecycle_stage: deleted` (its experiment's included).
        package var deleted: Bool
        package var tags: [(key: String, value: String)]
        /// Where the store keeps the run (a run directory; empty for a database).
        package var dir = ""

        /// The parent run id (`mlflow.parentRunId`).
        package var parent: String? {
            tags.first { $0.key == "mlflow.parentRunId" }.map { $0.value.trimmingCharactersSpaces() }
        }
    }

    /// The runs that are not deleted (the deleted ones counted), parents before their children
    /// so that a child can point at its imported parent.
    package func liveParentsFirst(_ all: [RunRecord]) -> [RunRecord] {
        var pending: [RunRecord] = []
        for r in all {
            if r.deleted { session.summary.skip("deleted runs") } else { pending.append(r) }
        }
        var ordered: [RunRecord] = []
        while !pending.isEmpty {
            let ids = Set(pending.map(\.runId))
            func waits(_ r: RunRecord) -> Bool { r.parent.map { ids.contains($0) && $0 != r.runId } ?? false }
            let ready = pending.filter { !waits($0) }
            let rest = pending.filter(waits)
            if ready.isEmpty { ordered += rest; break }  // a cycle: keep the rest as they are
            ordered += ready
            pending = rest
        }
        return ordered
    }

    /// A param as MLflow keeps it: its text exactly, the typed value derived from it.
    package static func param(_ text: String) -> ParamValue { .text(text) }

    /// The Strata run for an MLflow run: name, project, status, times, tags mapped to metadata
    /// and tags, params typed, the parent when it is in the store. Metrics are added by the caller.
    package func run(_ r: RunRecord, params: [(key: String, value: String)]) -> ImportedRun {
        var name = r.runName.flatMap { $0.isEmpty ? nil : $0 } ?? r.runId
        var metadata: [String: ParamValue] = [
            "mlflow.run_id": .string(r.runId),
            "mlflow.experiment_id": .string(r.experiment.id),
            "mlflow.experiment": .string(r.experiment.name),
            "mlflow.status": .string(r.status)
        ]
        var runTags: Set<String> = []
        if let t = r.startTime { metadata["mlflow.start_time"] = .int(t) }
        if let t = r.endTime { metadata["mlflow.end_time"] = .int(t) }
        if let u = r.userId, !u.isEmpty, u != "unknown" { metadata["user"] = .string(u) }
        for (key, value) in r.tags {
            switch key {
            case "mlflow.runName": if !value.isEmpty { name = value }
            case "mlflow.source.git.commit": metadata["git.commit"] = .string(value)
            case "mlflow.source.git.branch": metadata["git.branch"] = .string(value)
            case "mlflow.source.git.repoURL": metadata["git.repo"] = .string(value)
            case "mlflow.user": metadata["user"] = .string(value)
            case "mlflow.source.name": metadata["command"] = .string(value)
            case "mlflow.note.content": metadata["purpose"] = .string(value)
            default:
                if key.hasPrefix("mlflow.") {
                    metadata[key] = .string(value)
                } else {
                    let tag = value.isEmpty ? key : key + "=" + value
                    if tag.utf8.count <= Limits.maxRunNameBytes { runTags.insert(tag) } else { metadata["tag." + key] = .string(value) }
                }
            }
        }
        var run = ImportedRun(name: name, project: project ?? r.experiment.name, source: "mlflow:" + r.runId)
        for (key, text) in params { run.params[key] = Self.param(text) }
        run.metadata = metadata
        run.tags = runTags
        run.status = r.status == "FAILED" || r.status == "KILLED" ? .failed : .finished
        if let parent = r.parent, let id = session.importedSources["mlflow:" + parent] { run.parent = id }
        run.createdMs = r.startTime
        run.endedMs = r.endTime
        return run
    }

    /// Imports the runs of a file store (those already in the store are left alone unless `again`).
    public func importRuns(_ all: [RunDir]) throws {
        var records: [RunRecord] = []
        for d in all {
            var tags: [(key: String, value: String)] = []
            for (key, path) in try Self.keyedFiles(joinPath(d.dir, "tags")) { tags.append((key, try readTextFile(path))) }
            records.append(
                RunRecord(
                    runId: d.runId, runName: d.meta["run_name"], experiment: d.experiment,
                    status: d.meta["status"].map { Self.statusNames[$0] ?? $0 } ?? "FINISHED",
                    startTime: d.meta["start_time"].flatMap { Int64($0) }, endTime: d.meta["end_time"].flatMap { Int64($0) },
                    userId: d.meta["user_id"], deleted: d.experiment.deleted || d.meta["lifecycle_stage"] == "deleted",
                    tags: tags, dir: d.dir))
        }
        let ordered = liveParentsFirst(records)
        for (i, r) in ordered.enumerated() {
            session.update("importing mlflow: run \(i + 1)/\(ordered.count) \(r.runId), \(withCommas(session.summary.points)) points", force: true)
            if session.alreadyImported("mlflow:" + r.runId) { continue }
            var params: [(key: String, value: String)] = []
            for (key, path) in try Self.keyedFiles(joinPath(r.dir, "params")) { params.append((key, try readTextFile(path))) }
            var run = run(r, params: params)
            try readMetrics(r.dir, into: &run)
            try session.write(run)
        }
    }

    private static let statusNames = ["1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"]

    private func readMetrics(_ dir: String, into run: inout ImportedRun) throws {
        for (key, path) in try Self.keyedFiles(joinPath(dir, "metrics")) {
            let text = try readWholeFile(path)
            var lineNo = 0
            for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNo += 1
                let s = String(decoding: line, as: UTF8.self).trimmingCharactersSpaces()
                if s.isEmpty { continue }
                // "timestamp value step" (step missing in files of very old MLflow versions: 0)
                let parts = s.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count == 2 || parts.count == 3, let t = Int64(parts[0]), let v = parseNumberText(parts[1]),
                    let step = parts.count == 3 ? Int64(parts[2]) : 0
                else {
                    try session.bad(
                        "bad lines", "\(path): line \(lineNo): expected \"timestamp value step\", got \(jsonString(String(s.prefix(80))))")
                    continue
                }
                run.add(key, step: step, value: v, time: t)
            }
        }
    }
}

import Strata

/// Reads an MLflow tracking database (`mlflow.db`, what `sqlite:///mlflow.db` names: MLflow 3's
/// default store) through the system libsqlite3, read-only. The same mapping as the file store
/// (`MLflowImporter.run`); metrics with their full history (NaN from `is_nan`; ±Inf, which
/// MLflow's SQL store writes as ±1.7976931348623157e308, read back as ±Inf), datasets from
/// `inputs`/`datasets`/`input_tags` as `dataset.*` metadata.
extension MLflowImporter {
    /// The database file a path or a `sqlite:` URI names (`sqlite:///rel/path`, `sqlite:////abs/path`),
    /// or nil when `path` is neither a URI nor a file that starts like a SQLite database.
    public static func databasePath(_ path: String) -> String? {
        if path.hasPrefix("sqlite://") {
            var p = String(path.dropFirst("sqlite://".count))
            if p.hasPrefix("/") { p.removeFirst() }  // sqlite:///rel → rel, sqlite:////abs → /abs
            if let q = p.firstIndex(of: "?") { p = String(p[..<q]) }
            return p.isEmpty ? nil : p
        }
        guard fileKind(path) == .file, let head = try? readFilePrefix(path, count: 16) else { return nil }
        return head == Array("SQLite format 3\0".utf8) ? path : nil
    }

    /// Imports every run of the database (deleted ones counted and skipped; those already in the
    /// store left alone unless `again`).
    public func importDatabase(_ path: String) throws {
        guard fileKind(path) == .file else { throw InteropError("no such file: \(path)") }
        let db = try SQLiteDatabase(readOnly: path)
        var tables: Set<String> = []
        try db.query("SELECT name FROM sqlite_master WHERE type = 'table'") { row in
            if let n = row.text(0) { tables.insert(n) }
        }
        for t in ["experiments", "runs", "metrics", "params", "tags"] where !tables.contains(t) {
            throw InteropError("\(path): not an MLflow tracking database (it has no table \(jsonString(t)))")
        }
        var experiments: [String: Experiment] = [:]
        try db.query("SELECT experiment_id, name, lifecycle_stage FROM experiments") { row in
            let id = row.text(0) ?? ""
            experiments[id] = Experiment(id: id, name: row.text(1) ?? id, deleted: row.text(2) == "deleted")
        }
        var tagsByRun: [String: [(key: String, value: String)]] = [:]
        try db.query("SELECT run_uuid, key, value FROM tags ORDER BY run_uuid, key") { row in
            tagsByRun[row.text(0) ?? "", default: []].append((row.text(1) ?? "", row.text(2) ?? ""))
        }
        var records: [RunRecord] = []
        try db.query(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, experiment_id, user_id FROM runs ORDER BY start_time, run_uuid"
        ) { row in
            let id = row.text(0) ?? ""
            let expID = row.text(6) ?? "0"
            let exp = experiments[expID] ?? Experiment(id: expID, name: "default", deleted: false)
            records.append(
                RunRecord(
                    runId: id, runName: row.text(1), experiment: exp, status: row.text(2) ?? "FINISHED",
                    startTime: row.int(3), endTime: row.int(4), userId: row.text(7),
                    deleted: exp.deleted || row.text(5) == "deleted", tags: tagsByRun[id] ?? []))
        }
        let hasDatasets = ["inputs", "datasets"].allSatisfy(tables.contains)
        let hasInputTags = tables.contains("input_tags")
        let ordered = liveParentsFirst(records)
        for (i, r) in ordered.enumerated() {
            session.update("importing mlflow: run \(i + 1)/\(ordered.count) \(r.runId), \(withCommas(session.summary.points)) points", force: true)
            if session.alreadyImported("mlflow:" + r.runId) { continue }
            var params: [(key: String, value: String)] = []
            try db.query("SELECT key, value FROM params WHERE run_uuid = ?1 ORDER BY key", [.text(r.runId)]) { row in
                params.append((row.text(0) ?? "", row.text(1) ?? ""))
            }
            var run = run(r, params: params)
            if hasDatasets { try datasets(db, r.runId, inputTags: hasInputTags, into: &run) }
            // Arrival order within a metric (rowid): equal steps keep the order they were logged in.
            var rows = 0
            try db.query(
                "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 ORDER BY key, rowid", [.text(r.runId)]
            ) { row in
                guard let key = row.text(0), let raw = row.double(1) else {
                    try session.bad("bad rows", "\(path): table metrics: run \(r.runId): a row without a key or value")
                    return
                }
                var value = raw
                if row.int(4) == 1 {
                    value = .nan
                } else if abs(raw) == Double.greatestFiniteMagnitude {
                    value = raw > 0 ? .infinity : -.infinity
                }
                run.add(key, step: row.int(3) ?? 0, value: value, time: row.int(2) ?? 0)
                rows += 1
                if rows % 65536 == 0 {
                    session.update("importing mlflow: run \(i + 1)/\(ordered.count) \(r.runId), \(withCommas(session.summary.points + rows)) points")
                }
            }
            try session.write(run)
        }
    }

    /// `log_input` datasets of the run: metadata `dataset.NAME` = digest, `dataset.NAME.source`
    /// (source type and source), `dataset.NAME.context` (the `mlflow.data.context` input tag).
    private func datasets(_ db: SQLiteDatabase, _ runId: String, inputTags: Bool, into run: inout ImportedRun) throws {
        let sql =
            inputTags
            ? """
            SELECT d.name, d.digest, d.dataset_source_type, d.dataset_source,
                   (SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context')
            FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
            WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id = ?1
            ORDER BY d.name
            """
            : """
            SELECT d.name, d.digest, d.dataset_source_type, d.dataset_source, NULL
            FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
            WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id = ?1
            ORDER BY d.name
            """
        try db.query(sql, [.text(runId)]) { row in
            guard let name = row.text(0), !name.isEmpty else { return }
            let key = "dataset." + name
            run.metadata[key] = .string(row.text(1) ?? "")
            if let type = row.text(2), let source = row.text(3) {
                let text = type + ": " + source
                if text.utf8.count <= Limits.maxStringValueBytes { run.metadata[key + ".source"] = .string(text) }
            }
            if let context = row.text(4) { run.metadata[key + ".context"] = .string(context) }
        }
    }
}

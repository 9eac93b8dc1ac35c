import Foundation
import Hummingbird
import Strata
import StrataInterop

/// The MLflow tracking API on `strata serve` (docs/MLFLOW.md): the REST endpoints the official
/// MLflow client calls, under `/api/2.0/mlflow/` and `/ajax-api/2.0/mlflow/`, answered from the
/// store. Experiments are projects (``MLflowExperiments``); MLflow's run ids are Strata run ids.
final class MLflowAPI: Sendable {
    let store: Store
    let experiments: MLflowExperiments
    let handles: RunHandles
    let keys: IdempotencyKeys
    let maxBodyBytes: Int

    init(store: Store, keys: IdempotencyKeys, maxBodyBytes: Int) {
        self.store = store
        self.keys = keys
        self.experiments = MLflowExperiments(store: store.path)
        self.handles = RunHandles()
        self.maxBodyBytes = maxBodyBytes
    }

    /// The endpoints: path under the prefix, method, and whether a read token may call it (POST
    /// searches are reads).
    struct Endpoint: Sendable {
        var path: String
        var method: HTTPRequest.Method
        var read: Bool
        var handler: @Sendable (MLflowAPI, MLflowRequest) throws -> Response
    }

    static let prefixes = ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"]

    static let endpoints: [Endpoint] = [
        Endpoint(path: "experiments/create", method: .post, read: false) { try $0.createExperiment($1) },
        Endpoint(path: "experiments/get", method: .get, read: true) { try $0.getExperiment($1) },
        Endpoint(path: "experiments/get-by-name", method: .get, read: true) { try $0.getExperimentByName($1) },
        Endpoint(path: "experiments/search", method: .post, read: true) { try $0.searchExperiments($1) },
        Endpoint(path: "experiments/search", method: .get, read: true) { try $0.searchExperiments($1) },
        Endpoint(path: "experiments/list", method: .get, read: true) { try $0.searchExperiments($1) },
        Endpoint(path: "experiments/delete", method: .post, read: false) { try $0.setExperimentDeleted($1, true) },
        Endpoint(path: "experiments/restore", method: .post, read: false) { try $0.setExperimentDeleted($1, false) },
        Endpoint(path: "experiments/update", method: .post, read: false) { try $0.renameExperiment($1) },
        Endpoint(path: "experiments/set-experiment-tag", method: .post, read: false) { try $0.setExperimentTag($1, delete: false) },
        Endpoint(path: "experiments/delete-experiment-tag", method: .post, read: false) { try $0.setExperimentTag($1, delete: true) },
        Endpoint(path: "runs/create", method: .post, read: false) { try $0.createRun($1) },
        Endpoint(path: "runs/get", method: .get, read: true) { try $0.getRun($1) },
        Endpoint(path: "runs/update", method: .post, read: false) { try $0.updateRun($1) },
        Endpoint(path: "runs/delete", method: .post, read: false) { try $0.setRunDeleted($1, true) },
        Endpoint(path: "runs/restore", method: .post, read: false) { try $0.setRunDeleted($1, false) },
        Endpoint(path: "runs/search", method: .post, read: true) { try $0.searchRuns($1) },
        Endpoint(path: "runs/search", method: .get, read: true) { try $0.searchRuns($1) },
        Endpoint(path: "runs/log-metric", method: .post, read: false) { try $0.logMetric($1) },
        Endpoint(path: "runs/log-batch", method: .post, read: false) { try $0.logBatch($1) },
        Endpoint(path: "runs/log-parameter", method: .post, read: false) { try $0.logParam($1) },
        Endpoint(path: "runs/set-tag", method: .post, read: false) { try $0.setTag($1) },
        Endpoint(path: "runs/delete-tag", method: .post, read: false) { try $0.deleteTag($1) },
        Endpoint(path: "runs/log-inputs", method: .post, read: false) { try $0.logInputs($1) },
        Endpoint(path: "metrics/get-history", method: .get, read: true) { try $0.metricHistory($1) },
        Endpoint(path: "metrics/get-history-bulk-interval", method: .get, read: true) { try $0.metricHistoryBulkInterval($1) }
    ]

    /// True for a path of the MLflow API (its errors are answered in MLflow's form).
    static func isMLflowPath(_ path: String) -> Bool {
        prefixes.contains { path.hasPrefix($0) }
    }

    /// True when `method path` is an MLflow endpoint that only reads (a read token may call it,
    /// POST included).
    static func isRead(method: HTTPRequest.Method, path: String) -> Bool {
        guard let prefix = prefixes.first(where: { path.hasPrefix($0) }) else { return false }
        let rest = path.dropFirst(prefix.count)
        return endpoints.contains { $0.method == method && $0.read && $0.path == rest }
    }

    /// Registers every endpoint under both prefixes, and MLflow's `ENDPOINT_NOT_FOUND` for the rest.
    /// `keys`: the idempotency keys of `/api/ingest`, shared (one table of a store's batch keys).
    static func register(on router: Router<BasicRequestContext>, store: Store, keys: IdempotencyKeys, maxBodyBytes: Int) {
        let api = MLflowAPI(store: store, keys: keys, maxBodyBytes: maxBodyBytes)
        for prefix in prefixes {
            for e in endpoints {
                router.on(RouterPath(prefix + e.path), method: e.method) { request, _ in
                    try await api.serve(request, e)
                }
            }
            for method in [HTTPRequest.Method.get, .post, .patch, .delete, .put] {
                router.on(RouterPath(prefix + "**"), method: method) { request, _ -> Response in
                    MLflowError(
                        "ENDPOINT_NOT_FOUND",
                        "\(request.method.rawValue) \(request.uri.path) is not an endpoint of Strata's MLflow API (docs/MLFLOW.md lists them)",
                        status: 404
                    ).response
                }
            }
        }
    }

    func serve(_ request: Request, _ e: Endpoint) async throws(MLflowError) -> Response {
        do {
            let fields = try await MLflowRequest.read(request, maxBodyBytes: maxBodyBytes)
            let pool = e.read ? WorkerPool.queries : WorkerPool.ingest
            return try await pool.runIfActive { [self] in try e.handler(self, fields) }
        } catch {
            throw MLflowError(error, maxBodyBytes: maxBodyBytes)
        }
    }

    // MARK: lookups

    /// The experiment of every project the store has (registering new projects), by project.
    func experimentsByProject() throws -> [String: MLflowExperiments.Experiment] {
        let projects = try Set(store.runs().map(\.project))
        var out: [String: MLflowExperiments.Experiment] = [:]
        for e in try experiments.all(projects: projects) { out[e.project] = e }
        return out
    }

    /// A run by its exact MLflow run id (a Strata run id), deleted (tombstoned) or not: MLflow
    /// reads a deleted run by id (lifecycle stage "deleted") until compaction reclaims it.
    func runInfo(_ id: String) throws -> RunInfo {
        guard let rid = RunID(id), let info = try? store.run(rid, deleted: .readable) else {
            throw MLflowError.notFound("Run '\(id)' not found")
        }
        return info
    }

    /// The MLflow view of a run, deleted or not, with the latest value of each metric.
    func view(_ info: RunInfo, experimentId: String? = nil) throws -> MLflowRunView {
        let exp = try experimentId ?? experiments.experiment(project: info.project).id
        let series = try store.series(of: info.id, deleted: .readable)
        return MLflowRunView(info: info, experimentId: exp, metrics: MLflowRunView.latest(series))
    }

    /// A run that may be written to: it exists and is not deleted.
    func activeRun(_ id: String) throws -> (RunInfo, Run) {
        let info = try runInfo(id)
        if MLflowRunView.isDeleted(info) {
            throw MLflowError.invalid("The run \(id) must be in the 'active' state. Current state is deleted.")
        }
        return (info, try handles.handle(store, info))
    }

    // MARK: experiments

    func createExperiment(_ q: MLflowRequest) throws -> Response {
        let name = try q.require("name")
        let location = try q.string("artifact_location").flatMap { $0.isEmpty ? nil : $0 }
        let e = try experiments.create(name: name, artifactLocation: location, tags: try q.keyValues("tags"))
        return mlflowResponse { $0.field("experiment_id", e.id) }
    }

    func getExperiment(_ q: MLflowRequest) throws -> Response {
        let id = try q.require("experiment_id")
        _ = try experimentsByProject()
        let e = try experiments.get(id: id)
        return mlflowResponse {
            $0.key("experiment")
            $0.mlflowExperiment(e)
        }
    }

    func getExperimentByName(_ q: MLflowRequest) throws -> Response {
        let name = try q.require("experiment_name")
        guard let e = try experimentsByProject().values.first(where: { $0.name == name }) else {
            throw MLflowError.notFound("Could not find experiment with name '\(name)'")
        }
        return mlflowResponse {
            $0.key("experiment")
            $0.mlflowExperiment(e)
        }
    }

    /// `view_type` / `run_view_type`: ACTIVE_ONLY (default), DELETED_ONLY or ALL.
    static func viewType(_ q: MLflowRequest, _ key: String) throws(MLflowError) -> (active: Bool, deleted: Bool) {
        guard let v = q.value(key) else { return (true, false) }
        switch v {
        case .string("ACTIVE_ONLY"), .number(_, 1?): return (true, false)
        case .string("DELETED_ONLY"), .number(_, 2?): return (false, true)
        case .string("ALL"), .number(_, 3?): return (true, true)
        default: throw .invalid("Invalid value \(v.brief) for parameter '\(key)': it must be ACTIVE_ONLY, DELETED_ONLY or ALL.")
        }
    }

    /// `max_results` within 1…`limit`, and the offset a `page_token` stands for.
    static func page(_ q: MLflowRequest, default d: Int64, limit: Int64) throws(MLflowError) -> (max: Int, offset: Int) {
        let m = try q.int("max_results") ?? d
        guard m >= 1, m <= limit else {
            throw .invalid("Invalid value \(m) for parameter 'max_results' supplied. It must be at most \(limit), and at least 1.")
        }
        var offset = 0
        if let t = try q.string("page_token"), !t.isEmpty {
            // An offset (as this server writes them); capped so that offset + max_results cannot overflow.
            guard let o = Int(t), o >= 0, o <= 1 << 40 else { throw .invalid("Invalid page token '\(t.prefix(60))'.") }
            offset = o
        }
        return (Int(m), offset)
    }

    func searchExperiments(_ q: MLflowRequest) throws -> Response {
        let (active, deleted) = try Self.viewType(q, "view_type")
        let (max, offset) = try Self.page(q, default: 1000, limit: 50_000)
        let filter = try q.string("filter").map { try MLflowFilter($0, experiments: true) }
        var list = try experimentsByProject().values.filter { ($0.deleted ? deleted : active) && (filter?.matches($0) ?? true) }
        var orders: [(String, Bool)] = []
        for o in try q.strings("order_by") {
            let parts = o.split(separator: " ").map(String.init)
            guard let f = parts.first, parts.count <= 2 else { throw MLflowError.invalid("Invalid order_by clause '\(o)'.") }
            let field = f.hasPrefix("attributes.") ? String(f.dropFirst(11)) : f
            guard MLflowFilter.experimentAttributes.contains(field) else {
                throw MLflowError.invalid(
                    "Invalid order_by clause '\(o)': experiments are ordered by name, experiment_id, creation_time or last_update_time.")
            }
            let dir = parts.count == 2 ? parts[1].lowercased() : "asc"
            guard dir == "asc" || dir == "desc" else {
                throw MLflowError.invalid("Invalid order_by clause '\(o)': the direction must be ASC or DESC.")
            }
            orders.append((field, dir == "asc"))
        }
        // MLflow's default: newest first, then by id; the id breaks any tie (descending, as MLflow's).
        if orders.isEmpty { orders = [("creation_time", false), ("experiment_id", true)] }
        list.sort { a, b in
            for (field, asc) in orders {
                let c: Int
                switch field {
                case "name": c = a.name == b.name ? 0 : (a.name < b.name ? -1 : 1)
                case "experiment_id":
                    let x = Int(a.id) ?? 0, y = Int(b.id) ?? 0
                    c = x == y ? 0 : (x < y ? -1 : 1)
                case "creation_time": c = a.createdMs == b.createdMs ? 0 : (a.createdMs < b.createdMs ? -1 : 1)
                default: c = a.updatedMs == b.updatedMs ? 0 : (a.updatedMs < b.updatedMs ? -1 : 1)
                }
                if c != 0 { return asc ? c < 0 : c > 0 }
            }
            return (Int(a.id) ?? 0) > (Int(b.id) ?? 0)
        }
        let pageItems = list.dropFirst(offset).prefix(max)
        return mlflowResponse { o in
            o.key("experiments")
            o.beginArray()
            for e in pageItems { o.mlflowExperiment(e) }
            o.endArray()
            if offset + max < list.count { o.field("next_page_token", String(offset + max)) }
        }
    }

    func setExperimentDeleted(_ q: MLflowRequest, _ deleted: Bool) throws -> Response {
        let id = try q.require("experiment_id")
        if deleted && id == MLflowExperiments.defaultId {
            throw MLflowError.invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.")
        }
        try experiments.update(id: id) { e, _ in e.deleted = deleted }
        return mlflowResponse { _ in }
    }

    func renameExperiment(_ q: MLflowRequest) throws -> Response {
        let id = try q.require("experiment_id")
        let name = try q.require("new_name")
        do { try Limits.check(runName: name, what: "experiment name") } catch { throw MLflowError.invalid(error.description) }
        try experiments.update(id: id) { e, all in
            if e.deleted { throw MLflowError.invalid("Cannot rename a non-active experiment.") }
            if all.contains(where: { $0.name == name && $0.id != id }) {
                throw MLflowError("RESOURCE_ALREADY_EXISTS", "Experiment '\(name)' already exists.")
            }
            e.name = name
        }
        return mlflowResponse { _ in }
    }

    func setExperimentTag(_ q: MLflowRequest, delete: Bool) throws -> Response {
        let id = try q.require("experiment_id")
        let key = try q.require("key")
        let value = try q.string("value") ?? ""
        try experiments.update(id: id) { e, _ in
            if e.deleted { throw MLflowError.invalid("The experiment \(id) must be in the 'active' state.") }
            if delete {
                guard e.tags[key] != nil else { throw MLflowError.notFound("No tag with name: \(key) in experiment \(id).") }
                e.tags[key] = nil
            } else {
                e.tags[key] = value
            }
        }
        return mlflowResponse { _ in }
    }

    // MARK: runs

    func createRun(_ q: MLflowRequest) throws -> Response {
        let expId = try q.string("experiment_id").flatMap { $0.isEmpty ? nil : $0 } ?? MLflowExperiments.defaultId
        _ = try experimentsByProject()
        let exp = try experiments.get(id: expId)
        if exp.deleted { throw MLflowError.invalid("The experiment \(expId) must be in the 'active' state. Current state is deleted.") }
        var tags: [String: String] = [:]
        for (k, v) in try q.keyValues("tags") { tags[k] = v }
        if let user = try q.string("user_id"), !user.isEmpty, tags[MLflowKeys.userTag] == nil { tags[MLflowKeys.userTag] = user }
        var name = try q.string("run_name") ?? ""
        if name.isEmpty { name = tags[MLflowKeys.runNameTag] ?? "" }
        if name.isEmpty { name = "run-" + String(RunID.generate().text.suffix(8)).lowercased() }
        tags[MLflowKeys.runNameTag] = name
        var parent: RunID?
        if let p = tags[MLflowKeys.parentTag], let rid = RunID(p) {
            guard (try? store.run(rid.text))?.id == rid else { throw MLflowError.notFound("Parent run '\(p)' not found") }
            parent = rid
        }
        var meta: [String: ParamValue] = [:]
        for (k, v) in tags { meta[MLflowKeys.tagPrefix + k] = .string(v) }
        let start = try q.int("start_time")
        let run = try store.createRun(name: name, project: exp.project, metadata: meta, parent: parent, createdMs: start)
        let base = exp.artifactLocation.hasSuffix("/") ? String(exp.artifactLocation.dropLast()) : exp.artifactLocation
        try run.setMetadata([MLflowKeys.artifactURI: .string("\(base)/\(run.id.text)/artifacts")])
        handles.add(run)
        let v = try view(try runInfo(run.id.text), experimentId: exp.id)
        return mlflowResponse {
            $0.key("run")
            $0.mlflowRun(v)
        }
    }

    func getRun(_ q: MLflowRequest) throws -> Response {
        let v = try view(try runInfo(try q.runId()))
        return mlflowResponse {
            $0.key("run")
            $0.mlflowRun(v)
        }
    }

    func updateRun(_ q: MLflowRequest) throws -> Response {
        let id = try q.runId()
        var (info, run) = try activeRun(id)
        if let name = try q.string("run_name"), !name.isEmpty {
            try run.setMetadata([MLflowKeys.tagPrefix + MLflowKeys.runNameTag: .string(name)])
        }
        if let s = q.value("status") {
            guard let status = MLflowStatus.parse(s) else {
                throw MLflowError.invalid(
                    "Invalid value \(s.brief) for parameter 'status': it must be RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.")
            }
            let end = try q.int("end_time")
            if status == .running {
                if info.status != .running { _ = try store.resumeRun(info.id.text) }
            } else {
                try run.finish(status, endedMs: end)
            }
        } else if let end = try q.int("end_time"), info.status != .running {
            try run.finish(info.status, endedMs: end)
        }
        info = try runInfo(id)
        let v = try view(info)
        return mlflowResponse {
            $0.key("run_info")
            $0.mlflowRunInfo(v)
        }
    }

    /// `runs/delete` / `runs/restore`: Strata's tombstone (``Store/deleteRun(_:)``,
    /// ``Store/restoreRun(_:)``), so a run deleted through MLflow is hidden from every Strata
    /// listing and query while MLflow still reads it by id. Deleting a deleted run or restoring
    /// an active one changes nothing. Restoring also clears the metadata mark that stores written
    /// before runs/delete used the tombstone carry.
    func setRunDeleted(_ q: MLflowRequest, _ deleted: Bool) throws -> Response {
        let info = try runInfo(try q.runId())
        if deleted {
            if info.deletedMs == nil {
                try handles.handle(store, info).setMetadata([MLflowKeys.deletedTime: .int(Clock.milliseconds())])
                try store.deleteRun(info.id.text)
            }
        } else {
            let restored = info.deletedMs == nil ? info : try store.restoreRun(info.id.text)
            if restored.metadata[MLflowKeys.lifecycle] != nil || restored.metadata[MLflowKeys.deletedTime] != nil {
                try handles.handle(store, restored).setMetadata([
                    MLflowKeys.lifecycle: .string("active"), MLflowKeys.deletedTime: .bool(false)
                ])
            }
        }
        return mlflowResponse { _ in }
    }

    /// MLflow's limits of one `log-batch` (the client splits larger calls to fit).
    static let maxBatchMetrics = 1000
    static let maxBatchParams = 100
    static let maxBatchTags = 100

    /// Params are immutable in MLflow: the same text again is accepted, another text is refused.
    static func checkParams(_ params: [(String, String)], against info: RunInfo) throws(MLflowError) -> [String: ParamValue] {
        var out: [String: ParamValue] = [:]
        for (k, v) in params {
            if let old = info.params[k]?.description ?? out[k]?.description, old != v {
                throw .invalid(
                    "Changing param values is not allowed. Param with key='\(k)' was already logged with value='\(old)' for run ID='\(info.id.text)'. Attempted logging new value '\(v)'."
                )
            }
            out[k] = MLflowAPI.paramValue(v)
        }
        return out
    }

    /// How an MLflow param (always text) is stored: the text exactly, its typed value derived.
    static func paramValue(_ text: String) -> ParamValue { .text(text) }

    /// The points of one `log-metric` / `log-batch` request, checked and grouped by metric.
    struct Points {
        var order: [String] = []
        var byKey: [String: (steps: [Int64], values: [Double], times: [Int64])] = [:]
        /// SHA-256 of the run and every point (key, value bits, time, step) in order.
        var digest: [UInt8] = []
        var isEmpty: Bool { order.isEmpty }
    }

    /// Reads and checks metric entries (names included) before anything is written.
    static func points(_ run: RunID, _ entries: [JSONValue], field: String) throws -> Points {
        var p = Points()
        let now = Clock.milliseconds()
        var bytes: [UInt8] = Array(run.text.utf8)
        for m in entries {
            guard case .object = m else { throw MLflowError.invalid("Invalid value \(m.brief) in '\(field)': each metric must be an object.") }
            guard case .string(let key)? = m["key"], !key.isEmpty else { throw MLflowError.missing("\(field).key") }
            guard let v = m["value"] else { throw MLflowError.missing("\(field).value") }
            let value = try MLflowRequest.double(v, "\(field).value")
            let time = try m["timestamp"].map { try MLflowRequest.int($0, "\(field).timestamp") } ?? now
            let step = try m["step"].map { try MLflowRequest.int($0, "\(field).step") } ?? 0
            if p.byKey[key] == nil {
                do { _ = try SeriesKey(run: run, metric: key, labels: [:]) } catch {
                    throw MLflowError.invalid("Invalid metric name '\(key.prefix(100))': \(error.description)")
                }
                p.order.append(key)
            }
            p.byKey[key, default: ([], [], [])].steps.append(step)
            p.byKey[key]!.values.append(value)
            p.byKey[key]!.times.append(time)
            bytes += Array(key.utf8)
            bytes.append(0)
            for x in [value.bitPattern, UInt64(bitPattern: time), UInt64(bitPattern: step)] {
                for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * i))) }
            }
        }
        p.digest = Digest.sha256(bytes)
        return p
    }

    /// Logs the points in one atomic step. An identical request (same run, same points in the same
    /// order) already applied in the last 24 hours is not applied again: a client's retry after a
    /// lost answer must not double the points, and MLflow keeps one copy of an identical point.
    /// The key is durable with the points (the idempotency keys of `/api/ingest`).
    func log(_ run: Run, _ p: Points) throws {
        if p.isEmpty { return }
        let key = "mlflow:" + p.digest.map { String(format: "%02x", $0) }.joined()
        let now = Clock.milliseconds()
        switch keys.start(key, digest: p.digest, nowMs: now) {
        case .apply: break
        case .replay: return
        case .inProgress, .otherBody:
            throw MLflowError("TEMPORARILY_UNAVAILABLE", "an identical batch of metrics is being logged right now; retry", status: 503)
        }
        do {
            var batch = AtomicBatch()
            for k in p.order {
                let c = p.byKey[k]!
                batch.append(try run.metrics([k]), steps: c.steps, values: c.values, times: c.times)
            }
            let commit = BatchCommit(key: key, digest: p.digest, committedMs: now, response: Array("{}".utf8))
            try store.log(batch, commit: commit)
            keys.finish(commit)
        } catch {
            keys.abandon(key)
            throw error
        }
    }

    func logMetric(_ q: MLflowRequest) throws -> Response {
        let (info, run) = try activeRun(try q.runId())
        let key = try q.require("key")
        guard let value = q.value("value") else { throw MLflowError.missing("value") }
        var m: [(String, JSONValue)] = [("key", .string(key)), ("value", value)]
        if let t = q.value("timestamp") { m.append(("timestamp", t)) }
        if let s = q.value("step") { m.append(("step", s)) }
        try log(run, try Self.points(info.id, [.object(m)], field: "metric"))
        return mlflowResponse { _ in }
    }

    /// Everything is checked before anything is written: a refused batch stores nothing.
    func logBatch(_ q: MLflowRequest) throws -> Response {
        let (info, run) = try activeRun(try q.runId())
        let metrics = q.list("metrics")
        let params = try q.keyValues("params")
        let tags = try q.keyValues("tags")
        if metrics.count > Self.maxBatchMetrics || params.count > Self.maxBatchParams || tags.count > Self.maxBatchTags {
            throw MLflowError.invalid(
                "A batch logging request can contain at most \(Self.maxBatchMetrics) metrics, \(Self.maxBatchParams) params and \(Self.maxBatchTags) tags; got \(metrics.count) metrics, \(params.count) params and \(tags.count) tags."
            )
        }
        let points = try Self.points(info.id, metrics, field: "metrics")
        let typed = try Self.checkParams(params, against: info)
        var meta: [String: ParamValue] = [:]
        for (k, v) in tags { meta[MLflowKeys.tagPrefix + k] = .string(v) }
        do {
            try Limits.check(params: typed, what: "param")
            try Limits.check(params: meta, what: "tag")
        } catch { throw MLflowError.invalid(error.description) }
        if !typed.isEmpty { try run.setParams(typed) }
        if !meta.isEmpty { try run.setMetadata(meta) }
        try log(run, points)
        return mlflowResponse { _ in }
    }

    func logParam(_ q: MLflowRequest) throws -> Response {
        let (info, run) = try activeRun(try q.runId())
        let key = try q.require("key")
        let value = try q.string("value") ?? ""
        let typed = try Self.checkParams([(key, value)], against: info)
        try run.setParams(typed)
        return mlflowResponse { _ in }
    }

    func setTags(_ run: Run, _ tags: [(String, String)]) throws {
        var meta: [String: ParamValue] = [:]
        for (k, v) in tags { meta[MLflowKeys.tagPrefix + k] = .string(v) }
        try run.setMetadata(meta)
    }

    func setTag(_ q: MLflowRequest) throws -> Response {
        let (_, run) = try activeRun(try q.runId())
        try setTags(run, [(try q.require("key"), try q.string("value") ?? "")])
        return mlflowResponse { _ in }
    }

    func deleteTag(_ q: MLflowRequest) throws -> Response {
        let id = try q.runId()
        let (info, run) = try activeRun(id)
        let key = try q.require("key")
        let v = MLflowRunView(info: info, experimentId: "", metrics: [:])
        guard v.tagValue(key) != nil else { throw MLflowError.notFound("No tag with name: \(key) in run with id \(id)") }
        try run.setMetadata([MLflowKeys.tagPrefix + key: .bool(false)])
        return mlflowResponse { _ in }
    }

    func logInputs(_ q: MLflowRequest) throws -> Response {
        let (_, run) = try activeRun(try q.runId())
        var meta: [String: ParamValue] = [:]
        for input in q.list("datasets") {
            guard case .object? = input["dataset"], let d = input["dataset"] else {
                throw MLflowError.invalid("Invalid value \(input.brief) in 'datasets': each input needs a dataset.")
            }
            guard case .string(let name)? = d["name"], !name.isEmpty else { throw MLflowError.missing("datasets.dataset.name") }
            guard case .string(let digest)? = d["digest"] else { throw MLflowError.missing("datasets.dataset.digest") }
            let p = MLflowKeys.datasetPrefix + name
            meta[p + ".digest"] = .string(digest)
            for f in MLflowKeys.datasetFields where f != "digest" {
                if case .string(let s)? = d[f] { meta[p + "." + f] = .string(s) }
            }
            if case .string(let source)? = d["source"] { meta[p] = .string(source) } else { meta[p] = .string(digest) }
            if case .array(let tags)? = input["tags"] {
                for t in tags {
                    let (k, v) = try MLflowRequest.keyValue(t, "datasets.tags")
                    meta[p + ".tag." + k] = .string(v)
                }
            }
        }
        if !meta.isEmpty { try run.setMetadata(meta) }
        return mlflowResponse { _ in }
    }

    func searchRuns(_ q: MLflowRequest) throws -> Response {
        let ids = Set(try q.strings("experiment_ids"))
        let filter = try q.string("filter").map { try MLflowFilter($0) }
        let orders = try q.strings("order_by").map { try MLflowFilter.Order($0) }
        let (active, deleted) = try Self.viewType(q, "run_view_type")
        let (max, offset) = try Self.page(q, default: 1000, limit: 50_000)
        let byProject = try experimentsByProject()
        var views: [MLflowRunView] = []
        for s in try store.summary() {
            guard let exp = byProject[s.run.project], ids.isEmpty || ids.contains(exp.id) else { continue }
            var latest: [String: (value: Double, step: Int64, time: Int64)] = [:]
            for (k, st) in s.metrics { latest[k] = (st.last, st.lastStep, 0) }
            let v = MLflowRunView(info: s.run, experimentId: exp.id, metrics: latest)
            guard v.deleted ? deleted : active else { continue }
            if let filter, !filter.matches(v) { continue }
            views.append(v)
        }
        if deleted {  // tombstoned runs are in no summary: their latest values come from their series
            for info in try store.deletedRuns() {
                let exp = try byProject[info.project] ?? experiments.experiment(project: info.project)
                guard ids.isEmpty || ids.contains(exp.id) else { continue }
                let v = try view(info, experimentId: exp.id)
                if let filter, !filter.matches(v) { continue }
                views.append(v)
            }
        }
        let sorted = MLflowFilter.sorted(views, by: orders)
        let page = sorted.dropFirst(offset).prefix(max)
        var out: [MLflowRunView] = []
        for v in page { out.append(try view(v.info, experimentId: v.experimentId)) }
        return mlflowResponse { o in
            o.key("runs")
            o.beginArray()
            for v in out { o.mlflowRun(v) }
            o.endArray()
            if offset + max < sorted.count { o.field("next_page_token", String(offset + max)) }
        }
    }

    // MARK: metric history

    func metricHistory(_ q: MLflowRequest) throws -> Response {
        let info = try runInfo(try q.runId())
        let key = try q.require("metric_key")
        let (max, offset) = try Self.page(q, default: 25_000_000, limit: 25_000_000)
        let data = try readSeries(info.id, key, steps: nil)
        let end = min(data.count, offset + max)
        return mlflowResponse { o in
            o.key("metrics")
            o.beginArray()
            if offset < end {
                for i in offset..<end { o.mlflowMetric(key, data.values[i], data.times[i], data.steps[i]) }
            }
            o.endArray()
            if end < data.count { o.field("next_page_token", String(end)) }
        }
    }

    /// The points of a metric; none for a key Strata cannot name (it was never logged).
    func readSeries(_ run: RunID, _ key: String, steps: Range<Int64>?) throws -> SeriesData {
        if (try? SeriesKey(run: run, metric: key, labels: [:])) == nil { return SeriesData() }
        return try store.read(run, key, steps: steps, times: true, deleted: .readable)
    }

    /// Up to `max_results` steps of each run between `start_step` and `end_step` (both included),
    /// spread evenly over the steps and always with the first and last (``sampledPoints``); every
    /// point at a chosen step is returned exactly as stored.
    func metricHistoryBulkInterval(_ q: MLflowRequest) throws -> Response {
        let runIds = try q.strings("run_ids")
        guard !runIds.isEmpty else { throw MLflowError.missing("run_ids") }
        guard runIds.count <= 100 else {
            throw MLflowError.invalid("GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received \(runIds.count) run_ids.")
        }
        let key = try q.require("metric_key")
        let maxResults = try q.int("max_results") ?? 320
        guard maxResults >= 1, maxResults <= 1000 else {
            throw MLflowError.invalid("max_results must be between 1 and 1000, got \(maxResults).")
        }
        let start = try q.int("start_step"), end = try q.int("end_step")
        if (start == nil) != (end == nil) { throw MLflowError.invalid("If either start step or end step are specified, both must be specified.") }
        if let start, let end, start > end {
            throw MLflowError.invalid("end_step must be greater than start_step. Found start_step=\(start) and end_step=\(end).")
        }
        var out: [(String, [Point])] = []
        let window = start.map { $0...end! } ?? Int64.min...Int64.max
        for id in runIds.sorted() {
            let info = try runInfo(id)
            guard (try? SeriesKey(run: info.id, metric: key, labels: [:])) != nil else { continue }
            out.append((info.id.text, try Self.sampledPoints(store, info.id, key, steps: window, max: Int(maxResults))))
        }
        return mlflowResponse { o in
            o.key("metrics")
            o.beginArray()
            for (id, points) in out {
                for p in points { o.mlflowMetric(key, p.value, p.time, p.step, runId: id) }
            }
            o.endArray()
        }
    }

    /// The points of up to `max` steps of a series within `steps`, chosen through the exact tiers
    /// so that the cost grows with `max`, not with the series: a one-bucket curve gives the count
    /// and the first and last step; when there are more than `max` points, a curve of `max - 1`
    /// buckets between them gives each bucket's first step, and the last step is added. Every
    /// point at a chosen step is returned as stored (several values at one step all come back).
    /// With `max` points or fewer in the window, every point is returned.
    static func sampledPoints(_ store: Store, _ run: RunID, _ key: String, steps: ClosedRange<Int64>, max: Int) throws -> [Point] {
        guard let whole = try store.curve(run, key, steps: steps, buckets: 1, deleted: .readable).first else { return [] }
        let lo = whole.stats.firstStep, hi = whole.stats.lastStep
        if whole.stats.count <= max { return try store.points(run, key, steps: lo...hi, deleted: .readable) }
        var chosen: [Int64] = []
        if max > 1 && lo < hi {
            for b in try store.curve(run, key, steps: lo...hi, buckets: max - 1, deleted: .readable) where chosen.last != b.stats.firstStep {
                chosen.append(b.stats.firstStep)
            }
        }
        if chosen.last != hi { chosen.append(hi) }
        var out: [Point] = []
        for step in chosen { out += try store.points(run, key, steps: step...step, deleted: .readable) }
        return out
    }
}

/// The `Run` handles the MLflow API logs through, one per run. A run this process did not create
/// is taken over once (`Store.resumeRun`); a finished or failed run keeps its status and end time,
/// as MLflow lets a client log to a finished run.
final class RunHandles: @unchecked Sendable {
    // @unchecked Sendable: `runs` is touched only under `lock`.
    private let lock = Lock()
    private var runs: [RunID: Run] = [:]

    func add(_ run: Run) { lock.withLock { runs[run.id] = run } }

    func handle(_ store: Store, _ info: RunInfo) throws -> Run {
        try lock.withLock {
            if let r = runs[info.id] { return r }
            let r = try store.resumeRun(info.id.text)
            if info.status == .finished || info.status == .failed { try r.finish(info.status, endedMs: info.endedMs) }
            runs[info.id] = r
            return r
        }
    }
}

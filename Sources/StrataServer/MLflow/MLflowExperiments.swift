import Foundation
import Strata
import StrataInterop

/// The MLflow experiments of a store, kept in `STORE/mlflow-experiments.json` (docs/MLFLOW.md).
///
/// An experiment is a Strata project with what MLflow adds: a numeric id, a name that can change
/// (the project stays), an artifact location, a lifecycle stage and tags. Experiment `0`,
/// "Default", is project `default` and always exists. A project that has runs but no experiment
/// (runs ingested through `/api/ingest` or `strata ingest`) gets one the first time the MLflow API
/// lists it. The file is rewritten atomically on every change; one server process owns it.
final class MLflowExperiments: @unchecked Sendable {
    // @unchecked Sendable: `state` is touched only under `lock`.
    struct Experiment: Sendable {
        var id: String
        var name: String
        /// The project its runs belong to (the name it was created with).
        var project: String
        var artifactLocation: String
        var deleted: Bool
        var createdMs: Int64
        var updatedMs: Int64
        var tags: [String: String]
    }

    private struct State {
        var list: [Experiment] = []
        var nextId = 1
    }

    let path: String
    let tmpDir: String
    private let lock = Lock()
    private var state: State?

    init(store: String) {
        path = store + "/mlflow-experiments.json"
        tmpDir = store + "/tmp"
    }

    static let defaultId = "0"

    static func defaultExperiment(createdMs: Int64) -> Experiment {
        Experiment(
            id: defaultId, name: "Default", project: "default", artifactLocation: "mlflow-artifacts:/0", deleted: false,
            createdMs: createdMs, updatedMs: createdMs, tags: [:])
    }

    /// Runs `body` on the loaded experiments under the lock; saves them when `body` says it
    /// changed them (or when the file does not exist yet, so the Default experiment's time stays).
    private func withState<T>(_ body: (inout State, inout Bool) throws -> T) throws -> T {
        try lock.withLock {
            var changed = false
            if state == nil {
                changed = !FileManager.default.fileExists(atPath: path)
                state = try load()
            }
            var s = state!
            let out = try body(&s, &changed)
            if changed { try save(s) }
            state = s
            return out
        }
    }

    private func load() throws -> State {
        var s = State()
        guard FileManager.default.fileExists(atPath: path) else {
            s.list = [Self.defaultExperiment(createdMs: Clock.milliseconds())]
            return s
        }
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path) } catch { throw MLflowError("INTERNAL_ERROR", "cannot read \(path): \(error)", status: 500) }
        func damaged(_ why: String) -> MLflowError {
            MLflowError("INTERNAL_ERROR", "\(path) is damaged (\(why)); the MLflow API is unavailable until it is repaired or removed", status: 500)
        }
        let root: JSONValue
        do { root = try JSONValue.parse(line: bytes[...]) } catch { throw damaged("malformed JSON at byte \(error.offset)") }
        guard case .number(_, let next?)? = root["next_id"], case .array(let items)? = root["experiments"] else {
            throw damaged("no next_id or experiments")
        }
        guard next >= 1, next < 1 << 53 else { throw damaged("next_id \(next) is out of range") }
        s.nextId = Int(next)
        for item in items {
            guard case .string(let id)? = item["id"], case .string(let name)? = item["name"], case .string(let project)? = item["project"],
                case .string(let artifacts)? = item["artifact_location"], case .bool(let deleted)? = item["deleted"],
                case .number(_, let created?)? = item["creation_time"], case .number(_, let updated?)? = item["last_update_time"]
            else { throw damaged("an experiment lacks a field") }
            var tags: [String: String] = [:]
            if case .object(let kv)? = item["tags"] {
                for (k, v) in kv { if case .string(let t) = v { tags[k] = t } }
            }
            s.list.append(
                Experiment(
                    id: id, name: name, project: project, artifactLocation: artifacts, deleted: deleted, createdMs: created,
                    updatedMs: updated, tags: tags))
        }
        if !s.list.contains(where: { $0.id == Self.defaultId }) { s.list.insert(Self.defaultExperiment(createdMs: Clock.milliseconds()), at: 0) }
        return s
    }

    private func save(_ s: State) throws {
        var o = JSONOut()
        o.beginObject()
        o.field("format", "strata mlflow experiments v1")
        o.field("next_id", s.nextId)
        o.key("experiments")
        o.beginArray()
        for e in s.list {
            o.beginObject()
            o.field("id", e.id)
            o.field("name", e.name)
            o.field("project", e.project)
            o.field("artifact_location", e.artifactLocation)
            o.field("deleted", e.deleted)
            o.field("creation_time", e.createdMs)
            o.field("last_update_time", e.updatedMs)
            o.key("tags")
            o.beginObject()
            for k in e.tags.keys.sorted() { o.field(k, e.tags[k]!) }
            o.endObject()
            o.endObject()
        }
        o.endArray()
        o.endObject()
        o.bytes.append(10)
        do {
            if !FileManager.default.fileExists(atPath: tmpDir) { try Sys.mkdirs(tmpDir) }
            try Sys.writeAtomically(o.bytes, to: path, tmpDir: tmpDir)
        } catch {
            throw MLflowError("INTERNAL_ERROR", "cannot write \(path): \(error)", status: 500)
        }
    }

    /// Every experiment, after registering the projects in `projects` that have none.
    func all(projects: some Sequence<String>) throws -> [Experiment] {
        try withState { s, changed in
            let known = Set(s.list.map(\.project))
            let now = Clock.milliseconds()
            for p in Set(projects).subtracting(known).sorted() {
                let id = String(s.nextId)
                s.nextId += 1
                changed = true
                s.list.append(
                    Experiment(
                        id: id, name: Self.freeName(p, in: s.list), project: p, artifactLocation: "mlflow-artifacts:/\(id)",
                        deleted: false, createdMs: now, updatedMs: now, tags: [:]))
            }
            return s.list
        }
    }

    /// A name no experiment has: `name`, or `name (2)`, `name (3)`, …
    private static func freeName(_ name: String, in list: [Experiment]) -> String {
        let names = Set(list.map(\.name))
        if !names.contains(name) { return name }
        var i = 2
        while names.contains("\(name) (\(i))") { i += 1 }
        return "\(name) (\(i))"
    }

    func get(id: String) throws -> Experiment {
        try withState { s, _ in
            guard let e = s.list.first(where: { $0.id == id }) else {
                throw MLflowError.notFound("No Experiment with id=\(id) exists")
            }
            return e
        }
    }

    /// The experiment of `project` (registering it when the project has none).
    func experiment(project: String) throws -> Experiment {
        try all(projects: [project]).first { $0.project == project }!
    }

    func create(name: String, artifactLocation: String?, tags: [(String, String)]) throws -> Experiment {
        if name.isEmpty { throw MLflowError.missing("name") }
        do { try Limits.check(runName: name, what: "experiment name") } catch { throw MLflowError.invalid(error.description) }
        return try withState { s, changed in
            if let other = s.list.first(where: { $0.name == name || ($0.project == name && $0.id != Self.defaultId) }) {
                throw MLflowError(
                    "RESOURCE_ALREADY_EXISTS",
                    "Experiment '\(name)' already exists\(other.deleted ? " in deleted state; restore it or delete it permanently" : "").")
            }
            if name == "default" {
                throw MLflowError(
                    "RESOURCE_ALREADY_EXISTS", "Experiment 'default' already exists: it is the Default experiment (id 0, project default).")
            }
            let id = String(s.nextId)
            s.nextId += 1
            let now = Clock.milliseconds()
            var e = Experiment(
                id: id, name: name, project: name, artifactLocation: artifactLocation ?? "mlflow-artifacts:/\(id)", deleted: false,
                createdMs: now, updatedMs: now, tags: [:])
            for (k, v) in tags { e.tags[k] = v }
            s.list.append(e)
            changed = true
            return e
        }
    }

    /// Changes an experiment; `body` may throw to refuse the change.
    @discardableResult
    func update(id: String, _ body: (inout Experiment, [Experiment]) throws -> Void) throws -> Experiment {
        try withState { s, changed in
            guard let i = s.list.firstIndex(where: { $0.id == id }) else {
                throw MLflowError.notFound("No Experiment with id=\(id) exists")
            }
            var e = s.list[i]
            try body(&e, s.list)
            e.updatedMs = max(Clock.milliseconds(), s.list[i].updatedMs &+ 1)
            s.list[i] = e
            changed = true
            return e
        }
    }
}

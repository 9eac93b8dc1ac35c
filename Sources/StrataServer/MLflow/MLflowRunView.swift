import Strata
import StrataInterop

/// Where the MLflow API keeps what MLflow has and a Strata run does not: run metadata keys under
/// `mlflow.` (docs/MLFLOW.md, "Concept mapping").
enum MLflowKeys {
    /// `mlflow.tag.KEY`: an MLflow run tag (text); a deleted tag is the boolean `false`.
    static let tagPrefix = "mlflow.tag."
    static let lifecycle = "mlflow.lifecycle_stage"
    static let deletedTime = "mlflow.deleted_time"
    static let artifactURI = "mlflow.artifact_uri"
    /// `dataset.NAME.digest`, `.source_type`, `.source`, `.schema`, `.profile` and `.tag.KEY`
    /// (input tags such as `mlflow.data.context`); `dataset.NAME` is the source.
    static let datasetPrefix = "dataset."
    static let datasetFields = ["digest", "source_type", "source", "schema", "profile"]
    static let runNameTag = "mlflow.runName"
    static let parentTag = "mlflow.parentRunId"
    static let userTag = "mlflow.user"
}

/// MLflow's names of Strata's run statuses (a crashed run, one whose writer died, is `KILLED`).
enum MLflowStatus {
    static func name(_ s: RunStatus) -> String {
        switch s {
        case .running: return "RUNNING"
        case .finished: return "FINISHED"
        case .failed: return "FAILED"
        case .crashed: return "KILLED"
        }
    }

    /// The Strata status of an MLflow status name or protobuf number; nil for an unknown one.
    static func parse(_ v: JSONValue) -> RunStatus? {
        switch v {
        case .string(let s):
            switch s.uppercased() {
            case "RUNNING", "SCHEDULED": return .running
            case "FINISHED": return .finished
            case "FAILED": return .failed
            case "KILLED": return .crashed
            default: return nil
            }
        case .number(_, let i?):
            switch i {
            case 1, 2: return .running
            case 3: return .finished
            case 4: return .failed
            case 5: return .crashed
            default: return nil
            }
        default: return nil
        }
    }
}

/// One dataset input of a run, as `log-inputs` gave it.
struct MLflowDataset: Sendable {
    var name: String
    var fields: [String: String]
    var tags: [String: String]
    var digest: String { fields["digest"] ?? "" }
    var context: String? { tags["mlflow.data.context"] }
}

/// A run as the MLflow API shows it, built from its Strata record.
struct MLflowRunView: Sendable {
    var info: RunInfo
    var experimentId: String
    /// Latest value of each metric: (value, step, timestamp ms).
    var metrics: [String: (value: Double, step: Int64, time: Int64)]

    var id: String { info.id.text }

    var tags: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in info.metadata where k.hasPrefix(MLflowKeys.tagPrefix) {
            if case .bool(false) = v { continue }  // deleted
            out[String(k.dropFirst(MLflowKeys.tagPrefix.count))] = v.description
        }
        if out[MLflowKeys.runNameTag] == nil { out[MLflowKeys.runNameTag] = info.name }
        if out[MLflowKeys.parentTag] == nil, let p = info.parent { out[MLflowKeys.parentTag] = p.text }
        if !info.tags.isEmpty, out["strata.tags"] == nil { out["strata.tags"] = info.tags.sorted().joined(separator: ",") }
        return out
    }

    var params: [String: String] { info.params.mapValues(\.description) }
    var runName: String { tagValue(MLflowKeys.runNameTag) ?? info.name }
    var userId: String { tagValue(MLflowKeys.userTag) ?? "" }
    var status: String { MLflowStatus.name(info.status) }
    /// Deleted: tombstoned (``Store/deleteRun(_:)``), or marked deleted in metadata by a store
    /// written before runs/delete used the tombstone.
    var deleted: Bool { Self.isDeleted(info) }
    static func isDeleted(_ info: RunInfo) -> Bool { info.deletedMs != nil || info.metadata[MLflowKeys.lifecycle]?.description == "deleted" }
    var lifecycleStage: String { deleted ? "deleted" : "active" }
    var artifactURI: String { info.metadata[MLflowKeys.artifactURI]?.description ?? "" }

    func tagValue(_ key: String) -> String? {
        guard let v = info.metadata[MLflowKeys.tagPrefix + key] else { return nil }
        if case .bool(false) = v { return nil }
        return v.description
    }

    var datasets: [MLflowDataset] {
        var byName: [String: MLflowDataset] = [:]
        let p = MLflowKeys.datasetPrefix
        for (k, v) in info.metadata where k.hasPrefix(p) && k.hasSuffix(".digest") {
            let name = String(k.dropFirst(p.count).dropLast(".digest".count))
            var d = MLflowDataset(name: name, fields: [:], tags: [:])
            d.fields["digest"] = v.description
            for f in MLflowKeys.datasetFields { if let x = info.metadata[p + name + "." + f] { d.fields[f] = x.description } }
            let tp = p + name + ".tag."
            for (tk, tv) in info.metadata where tk.hasPrefix(tp) { d.tags[String(tk.dropFirst(tp.count))] = tv.description }
            byName[name] = d
        }
        return byName.keys.sorted().map { byName[$0]! }
    }

    /// Latest values from the run's series summaries (series with labels are not MLflow metrics).
    static func latest(_ series: [Store.SeriesInfo]) -> [String: (value: Double, step: Int64, time: Int64)] {
        var out: [String: (value: Double, step: Int64, time: Int64)] = [:]
        for s in series where s.key.labels.isEmpty && s.count > 0 {
            out[s.key.metric] = (s.lastValue, s.lastStep, s.maxTime)
        }
        return out
    }
}

extension JSONOut {
    mutating func mlflowKeyValues(_ name: String, _ kv: [String: String]) {
        key(name)
        beginArray()
        for k in kv.keys.sorted() {
            beginObject()
            field("key", k)
            field("value", kv[k]!)
            endObject()
        }
        endArray()
    }

    mutating func mlflowRunInfo(_ r: MLflowRunView) {
        beginObject()
        field("run_id", r.id)
        field("run_uuid", r.id)
        field("run_name", r.runName)
        field("experiment_id", r.experimentId)
        field("user_id", r.userId)
        field("status", r.status)
        field("start_time", r.info.createdMs)
        if let e = r.info.endedMs, r.info.status != .running { field("end_time", e) }
        field("artifact_uri", r.artifactURI)
        field("lifecycle_stage", r.lifecycleStage)
        endObject()
    }

    mutating func mlflowRun(_ r: MLflowRunView) {
        beginObject()
        key("info")
        mlflowRunInfo(r)
        key("data")
        beginObject()
        key("metrics")
        beginArray()
        for k in r.metrics.keys.sorted() {
            let m = r.metrics[k]!
            mlflowMetric(k, m.value, m.time, m.step)
        }
        endArray()
        mlflowKeyValues("params", r.params)
        mlflowKeyValues("tags", r.tags)
        endObject()
        key("inputs")
        beginObject()
        key("dataset_inputs")
        beginArray()
        for d in r.datasets {
            beginObject()
            mlflowKeyValues("tags", d.tags)
            key("dataset")
            beginObject()
            field("name", d.name)
            for f in MLflowKeys.datasetFields { if let v = d.fields[f] { field(f, v) } }
            endObject()
            endObject()
        }
        endArray()
        endObject()
        endObject()
    }

    mutating func mlflowMetric(_ key: String, _ value: Double, _ time: Int64, _ step: Int64, runId: String? = nil) {
        beginObject()
        field("key", key)
        field("value", value)
        field("timestamp", time)
        field("step", step)
        if let runId { field("run_id", runId) }
        endObject()
    }

    mutating func mlflowExperiment(_ e: MLflowExperiments.Experiment) {
        beginObject()
        field("experiment_id", e.id)
        field("name", e.name)
        field("artifact_location", e.artifactLocation)
        field("lifecycle_stage", e.deleted ? "deleted" : "active")
        field("last_update_time", e.updatedMs)
        field("creation_time", e.createdMs)
        mlflowKeyValues("tags", e.tags)
        endObject()
    }
}

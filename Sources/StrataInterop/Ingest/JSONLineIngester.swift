import Strata

/// Converts JSON values to what the library takes.
package enum Convert {
    /// A metric value: a number, or NaN/Infinity/-Infinity as strings. nil for JSON null (skipped).
    package static func metricValue(_ v: JSONValue, name: String) throws -> Double? {
        switch v {
        case .number(let d, _): return d
        case .null: return nil
        case .string(let s):
            // The same spellings as the server (docs/API.md): JSON number syntax or NaN/Infinity words.
            if let d = JSONText.numberString(s) { return d }
            throw InteropError("metric \(jsonString(name)) must be a number, got \(v.shown)")
        default:
            throw InteropError("metric \(jsonString(name)) must be a number, got \(v.shown)")
        }
    }

    package static func specialNumber(_ s: String) -> Double? { JSONText.special(s) }

    package static func step(_ v: JSONValue?, field: String = "step") throws -> Int64 {
        guard let v else { throw InteropError("\"\(field)\" is missing (every point needs an integer step)") }
        if case .number(_, let i?) = v { return i }
        throw InteropError("\"\(field)\" must be an integer, got \(v.shown)")
    }

    /// Wall time in milliseconds since 1970 (an integer; a fractional number is rounded).
    package static func time(_ v: JSONValue?) throws -> Int64? {
        guard let v else { return nil }
        switch v {
        case .null: return nil
        case .number(_, let i?): return i
        case .number(let d, nil) where d.isFinite && abs(d) < 9e18: return Int64(d.rounded())
        default: throw InteropError("\"time\" must be milliseconds since 1970 (an integer), got \(v.shown)")
        }
    }

    package static func string(_ v: JSONValue?, field: String) throws -> String? {
        guard let v else { return nil }
        if case .string(let s) = v { return s }
        if case .null = v { return nil }
        throw InteropError("\"\(field)\" must be a string, got \(v.shown)")
    }

    /// Params or metadata: nested objects flattened with dots; arrays kept as their JSON text.
    package static func params(_ v: JSONValue, field: String, prefix: String = "", into out: inout [String: ParamValue]) throws {
        guard case .object(let kv) = v else { throw InteropError("\"\(field)\" must be an object, got \(v.shown)") }
        for (k, x) in kv {
            let key = prefix.isEmpty ? k : prefix + "." + k
            switch x {
            case .string(let s): out[key] = .string(s)
            case .bool(let b): out[key] = .bool(b)
            case .number(_, let i?): out[key] = .int(i)
            case .number(let d, nil): out[key] = .double(d)
            case .object: try params(x, field: field, prefix: key, into: &out)
            case .array: out[key] = .string(x.text)
            case .null: continue
            }
        }
    }

    package static func labels(_ v: JSONValue?) throws -> [String: String] {
        guard let v else { return [:] }
        guard case .object(let kv) = v else { throw InteropError("\"labels\" must be an object of strings, got \(v.shown)") }
        var out: [String: String] = [:]
        for (k, x) in kv {
            switch x {
            case .string(let s): out[k] = s
            case .number(_, let i?): out[k] = String(i)
            default: throw InteropError("label \(jsonString(k)) must be a string, got \(x.shown)")
            }
        }
        return out
    }
}

/// What a session of `ingest` (or an import) did.
public struct IngestCounts: Sendable {
    public var lines = 0
    public var points = 0
    public var runRecords = 0
    public var skipped = 0
    public var firstSkipped: String?
}

/// Applies JSON lines to the store.
public final class JSONLineIngester {
    public let book: RunBook
    public let defaultRun: String?
    public var counts = IngestCounts()
    package static let knownKeys: Set<String> = ["run", "run_id", "project", "step", "time", "metrics", "metric", "value", "labels",
                                         "params", "tags", "meta", "metadata", "status"]

    public init(book: RunBook, defaultRun: String?) {
        self.book = book
        self.defaultRun = defaultRun
    }

    /// Handles one line; throws an `InteropError` without the line number (the caller adds it).
    public func handle(_ bytes: ArraySlice<UInt8>) throws {
        // Blank lines are allowed (and skipped).
        var blank = true
        for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0d) { blank = false; break }
        if blank { return }
        let v: JSONValue
        do { v = try JSONParser.parse(bytes) } catch {
            throw InteropError("malformed JSON at column \(error.column): \(error.message)")
        }
        guard case .object(let kv) = v else { throw InteropError("expected a JSON object, got \(v.shown)") }
        for (k, _) in kv where !Self.knownKeys.contains(k) {
            throw InteropError("unknown key \(jsonString(k)) (a line has run, run_id, step, time, metrics or metric+value, labels; or params, tags, meta, status)")
        }
        let name = try Convert.string(v["run"], field: "run") ?? defaultRun
        let id = try Convert.string(v["run_id"], field: "run_id")
        let project = try Convert.string(v["project"], field: "project")
        if name == nil && id == nil { throw InteropError("\"run\" is missing (name the run in the line or pass --run NAME)") }
        if let name, name.isEmpty { throw InteropError("run name is empty") }

        // Everything is converted before anything is written, so a bad line writes nothing.
        var params: [String: ParamValue] = [:]
        var meta: [String: ParamValue] = [:]
        var tags: [String] = []
        var status: RunStatus?
        var isRecord = false
        if let p = v["params"] { try Convert.params(p, field: "params", into: &params); isRecord = true }
        if let m = v["meta"] ?? v["metadata"] { try Convert.params(m, field: "meta", into: &meta); isRecord = true }
        if let t = v["tags"] {
            guard case .array(let a) = t else { throw InteropError("\"tags\" must be an array of strings, got \(t.shown)") }
            for x in a {
                guard case .string(let s) = x else { throw InteropError("\"tags\" must be an array of strings, got \(x.shown) in it") }
                tags.append(s)
            }
            isRecord = true
        }
        if let s = v["status"] {
            guard case .string(let text) = s, let st = RunStatus(rawValue: text), st == .finished || st == .failed else {
                throw InteropError("\"status\" must be \"finished\" or \"failed\", got \(s.shown)")
            }
            status = st
            isRecord = true
        }

        var values: [String: Double] = [:]
        var single: (String, Double?)?
        let hasPoints = v["metrics"] != nil || v["metric"] != nil
        var step: Int64 = 0
        var time: Int64?
        var labels: [String: String] = [:]
        if hasPoints {
            step = try Convert.step(v["step"])
            time = try Convert.time(v["time"])
            labels = try Convert.labels(v["labels"])
            if let m = v["metrics"] {
                guard case .object(let mkv) = m else { throw InteropError("\"metrics\" must be an object of name: number, got \(m.shown)") }
                values.reserveCapacity(mkv.count)
                for (k, x) in mkv { if let d = try Convert.metricValue(x, name: k) { values[k] = d } }
            }
            if let m = v["metric"] {
                guard case .string(let mname) = m else { throw InteropError("\"metric\" must be a string, got \(m.shown)") }
                guard let val = v["value"] else { throw InteropError("\"value\" is missing (a line with \"metric\" needs a \"value\")") }
                single = (mname, try Convert.metricValue(val, name: mname))
            }
        } else if !isRecord {
            throw InteropError("nothing to do: a line needs \"metrics\" (with \"step\"), or \"metric\" and \"value\", or params/tags/meta/status")
        }

        // The library's limits, checked before the run is resolved (which may create it).
        try Limits.check(params: params, what: "param")
        try Limits.check(params: meta, what: "metadata")
        try Limits.check(tags: tags)
        let run = try book.run(name: name, id: id, project: project)
        if isRecord {
            if !params.isEmpty { try run.setParams(params) }
            if !meta.isEmpty { try run.setMetadata(meta) }
            if !tags.isEmpty { try run.tag(add: tags) }
            counts.runRecords += 1
        }
        if hasPoints {
            if labels.isEmpty {
                if let (m, d) = single, let d { values[m] = d }
                if !values.isEmpty { try run.log(values, step: step, time: time); book.note(run, time: time) }
                counts.points += values.count
            } else {
                let t = time ?? nowMs()
                if let (m, d) = single, let d { values[m] = d }
                // One metric at a time with labels: validate all names first so the line is all or nothing.
                for k in values.keys { _ = try SeriesKey(run: run.id, metric: k, labels: labels) }
                for (k, d) in values { try run.log(k, d, step: step, time: t, labels: labels) }
                if !values.isEmpty { book.note(run, time: time) }
                counts.points += values.count
            }
        }
        if let status {
            try book.startFromData(run)
            try run.finish(status, endedMs: book.dataEnd(run))
        }
    }
}

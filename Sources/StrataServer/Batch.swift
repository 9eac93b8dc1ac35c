import Strata
import StrataInterop

/// One record of an ingest batch, decoded and validated (applying it cannot fail on its content).
struct IngestRecord {
    var index = 0
    var run: String?
    var runId: String?
    var project: String?
    var step: Int64?
    var time: Int64?
    /// Metrics at `step` (from `metrics` and `metric`+`value`); null values already dropped.
    var names: [String] = []
    var values: [Double] = []
    var labels: [String: String] = [:]
    var params: [String: ParamValue] = [:]
    var meta: [String: ParamValue] = [:]
    var tags: [String] = []
    var status: RunStatus?
    /// Columnar form (server extension): one series slice, `metric` + `steps` + `values` [+ `times`].
    var column: Column?

    struct Column {
        var metric: String
        var steps: [Int64]
        var values: [Double]
        var times: [Int64]?
    }

    var pointCount: Int { column?.steps.count ?? names.count }
}

/// Decodes an ingest body: a JSON array of records, or records one after another (JSON lines).
///
/// The record format is `strata ingest`'s JSON line format (docs/CLI.md), plus the columnar form.
/// Everything is checked here, before anything is written: a batch is rejected whole.
struct BatchDecoder {
    static let knownKeys: Set<String> = ["run", "run_id", "project", "step", "time", "metrics", "metric", "value", "labels",
                                         "params", "tags", "meta", "metadata", "status", "steps", "values", "times"]
    /// A valid run id to validate series names against (the run does not matter).
    static let probeRun = RunID("00000000000000000000000000")!

    /// Metric names already validated in this batch (without labels).
    private var validMetrics = Set<String>()

    static func decode(_ body: UnsafeBufferPointer<UInt8>) throws(APIError) -> [IngestRecord] {
        var d = BatchDecoder()
        return try d.decodeAll(body)
    }

    private mutating func decodeAll(_ body: UnsafeBufferPointer<UInt8>) throws(APIError) -> [IngestRecord] {
        var s = JSONScanner(body)
        s.skipSpace()
        guard let first = s.peek else { throw APIError(400, "the request body is empty (send a JSON array of records, or JSON lines)") }
        var out: [IngestRecord] = []
        var index = 0
        do {
            if first == UInt8(ascii: "[") {
                if try s.beginArray() {
                    repeat {
                        out.append(try record(&s, index: index))
                        index += 1
                    } while try s.commaOr(UInt8(ascii: "]"))
                }
                s.skipSpace()
                if !s.atEnd { throw s.fail("unexpected \(s.describeHere()) after the closing ']'") }
            } else {
                while true {
                    s.skipSpace()
                    if s.atEnd { break }
                    out.append(try record(&s, index: index))
                    index += 1
                }
            }
        } catch let e as JSONSyntaxError {
            throw APIError(400, "record \(index): malformed JSON at byte \(e.offset): \(e.message)", index: index)
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(400, "record \(index): \(error)", index: index)
        }
        return out
    }

    private func bad(_ index: Int, _ field: String?, _ message: String) -> APIError {
        APIError(400, "record \(index): \(message)", index: index, field: field)
    }

    // Throws JSONSyntaxError or APIError.
    private mutating func record(_ s: inout JSONScanner, index: Int) throws -> IngestRecord {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else {
            let v = try s.value()
            throw bad(index, nil, "expected a JSON object, got \(v.shown)")
        }
        var r = IngestRecord()
        r.index = index
        var singleMetric: String?
        var singleValue: JValue?
        var hasMetrics = false
        var steps: [Int64]?
        var colValues: [Double]?
        var times: [Int64]?
        var isRunRecord = false
        var seen = Set<String>()
        if try s.beginObject() {
            repeat {
                let k = try s.key()
                if !seen.insert(k).inserted { throw bad(index, k, "key \"\(k)\" appears twice") }
                do {
                switch k {
                case "metrics":
                    hasMetrics = true
                    try metrics(&s, into: &r)
                case "step":
                    let v = try s.value()
                    guard case .number(_, let iv?) = v else { throw bad(index, "step", "\"step\" must be an integer, got \(v.shown)") }
                    r.step = iv
                case "time":
                    let v = try s.value()
                    switch v {
                    case .null: break
                    case .number(_, let iv?): r.time = iv
                    case .number(let d, nil) where d.isFinite && abs(d) < 9e18: r.time = Int64(d.rounded())
                    default: throw bad(index, "time", "\"time\" must be milliseconds since 1970 (an integer), got \(v.shown)")
                    }
                case "steps":
                    steps = try intArray(&s, index: index, field: "steps")
                case "times":
                    times = try intArray(&s, index: index, field: "times")
                case "values":
                    colValues = try doubleArray(&s, index: index)
                case "value":
                    singleValue = try s.value()
                case "metric":
                    let v = try s.value()
                    guard case .string(let m) = v else { throw bad(index, "metric", "\"metric\" must be a string, got \(v.shown)") }
                    singleMetric = m
                case "run", "run_id", "project":
                    let v = try s.value()
                    switch v {
                    case .null: break
                    case .string(let str):
                        if k == "run" { r.run = str } else if k == "run_id" { r.runId = str } else { r.project = str }
                    default: throw bad(index, k, "\"\(k)\" must be a string, got \(v.shown)")
                    }
                case "labels":
                    let v = try s.value()
                    guard case .object(let kv) = v else { throw bad(index, "labels", "\"labels\" must be an object of strings, got \(v.shown)") }
                    for (lk, lv) in kv {
                        switch lv {
                        case .string(let str): r.labels[lk] = str
                        case .number(_, let iv?): r.labels[lk] = String(iv)
                        default: throw bad(index, "labels.\(lk)", "label \"\(lk)\" must be a string, got \(lv.shown)")
                        }
                    }
                case "params", "meta", "metadata":
                    let v = try s.value()
                    let field = k == "params" ? "params" : "meta"
                    guard case .object = v else { throw bad(index, k, "\"\(k)\" must be an object, got \(v.shown)") }
                    var out: [String: ParamValue] = [:]
                    flatten(v, prefix: "", into: &out)
                    // The library's limits, checked here so that a batch is refused whole.
                    for (pk, pv) in out {
                        do { try Limits.check(key: pk, value: pv, what: field) } catch { throw bad(index, pk.isEmpty || pk.utf8.count > Limits.maxParamKeyBytes ? k : "\(k).\(pk)", error.message) }
                    }
                    if k == "params" { r.params.merge(out) { _, n in n } } else { r.meta.merge(out) { _, n in n } }
                    do { try Limits.check(params: k == "params" ? r.params : r.meta, what: field) } catch { throw bad(index, k, error.message) }
                    isRunRecord = true
                case "tags":
                    let v = try s.value()
                    guard case .array(let a) = v else { throw bad(index, "tags", "\"tags\" must be an array of strings, got \(v.shown)") }
                    for x in a {
                        guard case .string(let t) = x else { throw bad(index, "tags", "\"tags\" must be an array of strings, got \(x.shown) in it") }
                        r.tags.append(t)
                    }
                    do { try Limits.check(tags: r.tags) } catch { throw bad(index, "tags", error.message) }
                    isRunRecord = true
                case "status":
                    let v = try s.value()
                    guard case .string(let text) = v, let st = RunStatus(rawValue: text), st == .finished || st == .failed else {
                        throw bad(index, "status", "\"status\" must be \"finished\" or \"failed\", got \(v.shown)")
                    }
                    r.status = st
                    isRunRecord = true
                default:
                    throw bad(index, k, "unknown key \"\(k)\" (a record has run, run_id, step, time, metrics or metric+value, labels; or params, tags, meta, status; or metric+steps+values[+times])")
                }
                } catch let e as JSONSyntaxError {
                    // Malformed text inside a value (e.g. a lone surrogate): name the key it is in.
                    throw APIError(400, "record \(index): malformed JSON at byte \(e.offset) in \"\(k)\": \(e.message)", index: index, field: k)
                }
            } while try s.commaOr(UInt8(ascii: "}"))
        }

        // Which run.
        if r.run == nil && r.runId == nil { throw bad(index, "run", "\"run\" is missing (every record names its run)") }
        if let name = r.run { try checkName(name, what: "run name", index: index, field: "run") }
        if let p = r.project { try checkName(p, what: "project name", index: index, field: "project") }
        if let id = r.runId, id.isEmpty || id.utf8.count > Limits.maxRunNameBytes {
            throw bad(index, "run_id", "\"run_id\" must be 1 to \(Limits.maxRunNameBytes) bytes")
        }
        if let id = r.runId { try checkName(id, what: "run_id", index: index, field: "run_id") }

        // Which points.
        let columnar = steps != nil || colValues != nil || times != nil
        if columnar {
            if hasMetrics || singleValue != nil || r.step != nil || r.time != nil {
                throw bad(index, "steps", "a columnar record (steps/values/times) cannot also have step, time, value or metrics")
            }
            guard let m = singleMetric else { throw bad(index, "metric", "\"metric\" is missing (a record with \"steps\" and \"values\" names its metric)") }
            guard let st = steps else { throw bad(index, "steps", "\"steps\" is missing (a columnar record needs steps and values)") }
            guard let vs = colValues else { throw bad(index, "values", "\"values\" is missing (a columnar record needs steps and values)") }
            if st.count != vs.count { throw bad(index, "values", "\"values\" has \(vs.count) entries but \"steps\" has \(st.count)") }
            if let t = times, t.count != st.count { throw bad(index, "times", "\"times\" has \(t.count) entries but \"steps\" has \(st.count)") }
            try checkMetric(m, labels: r.labels, index: index, field: "metric")
            r.column = .init(metric: m, steps: st, values: vs, times: times)
        } else if hasMetrics || singleMetric != nil {
            if r.step == nil { throw bad(index, "step", "\"step\" is missing (every point needs an integer step)") }
            if let m = singleMetric {
                guard let v = singleValue else { throw bad(index, "value", "\"value\" is missing (a record with \"metric\" needs a \"value\")") }
                if let d = try metricValue(v, name: m, index: index, field: "value") {
                    if let j = r.names.firstIndex(of: m) { r.values[j] = d } else { r.names.append(m); r.values.append(d) }
                }
            }
            if r.names.count > Limits.maxMetricsPerLog {
                throw bad(index, "metrics", "\(r.names.count) metrics in one record; the limit is \(Limits.maxMetricsPerLog)")
            }
            for m in r.names { try checkMetric(m, labels: r.labels, index: index, field: "metrics.\(m)") }
        } else {
            if singleValue != nil { throw bad(index, "metric", "\"metric\" is missing (a record with \"value\" names its metric)") }
            if r.step != nil || r.time != nil || !r.labels.isEmpty {
                throw bad(index, "metrics", "\"metrics\" is missing (a record with step, time or labels carries metrics)")
            }
            if !isRunRecord {
                throw bad(index, nil, "nothing to do: a record needs \"metrics\" (with \"step\"), or \"metric\" and \"value\", or params/tags/meta/status")
            }
        }
        return r
    }

    private func checkName(_ name: String, what: String, index: Int, field: String) throws(APIError) {
        let n = name.utf8.count
        if n == 0 { throw bad(index, field, "\(what) is empty") }
        if n > Limits.maxRunNameBytes { throw bad(index, field, "\(what) \"\(name.prefix(40))…\" is \(n) bytes; the limit is \(Limits.maxRunNameBytes)") }
        for sc in name.unicodeScalars where sc.value < 0x20 || sc.value == 0x7f {
            throw bad(index, field, "\(what) \"\(name)\" has a control character")
        }
    }

    private mutating func checkMetric(_ m: String, labels: [String: String], index: Int, field: String) throws(APIError) {
        if labels.isEmpty && validMetrics.contains(m) { return }
        do {
            _ = try SeriesKey(run: Self.probeRun, metric: m, labels: labels)
        } catch {
            let f = error.message.hasPrefix("label") ? "labels" : field
            throw bad(index, f, error.message)
        }
        if labels.isEmpty { validMetrics.insert(m) }
    }

    /// A metric value: a number, NaN/Infinity tokens, or such text in a string; nil for null.
    private func metricValue(_ v: JValue, name: String, index: Int, field: String) throws(APIError) -> Double? {
        switch v {
        case .number(let d, _): return d
        case .null: return nil
        case .string(let s):
            if let d = JSONText.numberString(s) { return d }
            throw bad(index, field, "metric \"\(name)\" must be a number, got \(v.shown)")
        default:
            throw bad(index, field, "metric \"\(name)\" must be a number, got \(v.shown)")
        }
    }


    /// `"metrics": {"name": value, ...}` parsed straight into the record's arrays (the hot path).
    private mutating func metrics(_ s: inout JSONScanner, into r: inout IngestRecord) throws {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else {
            let v = try s.value()
            throw bad(r.index, "metrics", "\"metrics\" must be an object of name: number, got \(v.shown)")
        }
        guard try s.beginObject() else { return }
        repeat {
            let name = try s.key()
            guard let c = s.peek else { throw s.fail("unexpected end of input, expected a value") }
            let d: Double?
            if c == UInt8(ascii: "-") || (c >= 48 && c <= 57) || c == UInt8(ascii: "N") || c == UInt8(ascii: "I") {
                d = try s.number().0
            } else {
                d = try metricValue(try s.value(), name: name, index: r.index, field: "metrics.\(name)")
            }
            if let d {
                if let j = r.names.firstIndex(of: name) { r.values[j] = d } else { r.names.append(name); r.values.append(d) }
            }
        } while try s.commaOr(UInt8(ascii: "}"))
    }

    private func intArray(_ s: inout JSONScanner, index: Int, field: String) throws -> [Int64] {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "[") else {
            let v = try s.value()
            throw bad(index, field, "\"\(field)\" must be an array of integers, got \(v.shown)")
        }
        var out: [Int64] = []
        guard try s.beginArray() else { return out }
        repeat {
            let at = out.count
            guard case (_, let iv?) = try s.number() else {
                throw bad(index, field, "\"\(field)\"[\(at)] must be an integer")
            }
            out.append(iv)
        } while try s.commaOr(UInt8(ascii: "]"))
        return out
    }

    private func doubleArray(_ s: inout JSONScanner, index: Int) throws -> [Double] {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "[") else {
            let v = try s.value()
            throw bad(index, "values", "\"values\" must be an array of numbers, got \(v.shown)")
        }
        var out: [Double] = []
        guard try s.beginArray() else { return out }
        repeat {
            s.skipSpace()
            if s.peek == UInt8(ascii: "\"") {
                let str = try s.string()
                guard let d = JSONText.special(str) else { throw bad(index, "values", "\"values\"[\(out.count)] must be a number, got \"\(str.prefix(40))\"") }
                out.append(d)
            } else if s.peek == UInt8(ascii: "n") || s.peek == UInt8(ascii: "t") || s.peek == UInt8(ascii: "f") || s.peek == UInt8(ascii: "{") || s.peek == UInt8(ascii: "[") {
                let v = try s.value()
                throw bad(index, "values", "\"values\"[\(out.count)] must be a number, got \(v.shown)")
            } else {
                out.append(try s.number().0)
            }
        } while try s.commaOr(UInt8(ascii: "]"))
        return out
    }

    /// Params or metadata: nested objects flattened with dots; arrays kept as their JSON text; null ignored.
    private func flatten(_ v: JValue, prefix: String, into out: inout [String: ParamValue]) {
        guard case .object(let kv) = v else { return }
        for (k, x) in kv {
            let key = prefix.isEmpty ? k : prefix + "." + k
            switch x {
            case .string(let s): out[key] = .string(s)
            case .bool(let b): out[key] = .bool(b)
            case .number(_, let i?): out[key] = .int(i)
            case .number(let d, nil): out[key] = .double(d)
            case .object: flatten(x, prefix: key, into: &out)
            case .array: out[key] = .string(x.text)
            case .null: continue
            }
        }
    }
}

import Strata

/// One ingest record (a line of `strata ingest`, a record of the server's batches), decoded and validated (applying it cannot fail on its content).
package struct IngestRecord {
    /// Its position in the input (0-based record of a batch, or line number).
    package var index = 0
    package var run: String?
    package var runId: String?
    package var project: String?
    package var step: Int64?
    package var time: Int64?
    /// Metrics at `step` (from `metrics` and `metric`+`value`); null values already dropped.
    package var names: [String] = []
    package var values: [Double] = []
    package var labels: [String: String] = [:]
    package var params: [String: ParamValue] = [:]
    package var meta: [String: ParamValue] = [:]
    package var tags: [String] = []
    package var status: RunStatus?
    /// The record has params, meta, tags or status (it changes the run, not only its points).
    package var isRunRecord = false
    /// Columnar form (server extension): one series slice, `metric` + `steps` + `values` [+ `times`].
    package var column: Column?

    package struct Column {
        package var metric: String
        package var steps: [Int64]
        package var values: [Double]
        package var times: [Int64]?
    }

    package var pointCount: Int { column?.steps.count ?? names.count }
}

/// Why a record was refused: what is wrong with it and the field at fault, or where its JSON
/// text is malformed (and in which key). The caller says which record or line.
package enum RecordFailure: Error {
    case invalid(message: String, field: String?)
    case malformed(JSONSyntaxError, key: String?)
}

/// Decodes and validates ingest records: `strata ingest`'s JSON lines and the server's batches
/// (docs/CLI.md, docs/API.md) go through this one decoder, so their rules cannot drift. Everything
/// is checked here, before anything is written: names, labels, limits, types.
///
/// The two dialects differ only in how messages name a record ("line"/"record"), the hint when
/// the run is missing, a default run (`--run`), and the server's columnar form
/// (`metric` + `steps` + `values` [+ `times`]).
package struct RecordDecoder {
    package struct Dialect: Sendable {
        /// What a record is called in messages: "line" or "record".
        package var noun: String
        /// Accepts the columnar form.
        package var columnar: Bool
        /// Completes `"run" is missing (…)`.
        package var runHint: String
        /// The run of records that name none.
        package var defaultRun: String?
        /// How limit messages name params and metadata entries (`Limits.check(params:what:)`):
        /// the server has always said "params"/"meta", `strata ingest` "param"/"metadata".
        package var limitWords: (params: String, meta: String)

        /// The server's batches.
        package static let batch = Dialect(
            noun: "record", columnar: true, runHint: "every record names its run", defaultRun: nil,
            limitWords: ("params", "meta"))

        /// `strata ingest` lines; `defaultRun`: its `--run`.
        package static func line(defaultRun: String?) -> Dialect {
            Dialect(
                noun: "line", columnar: false, runHint: "name the run in the line or pass --run NAME", defaultRun: defaultRun,
                limitWords: ("param", "metadata"))
        }
    }

    /// A valid run id to validate series names against (the run does not matter).
    static let probeRun = RunID("00000000000000000000000000")!

    package let dialect: Dialect
    /// Metric names already validated (without labels).
    private var validMetrics = Set<String>()

    package init(_ dialect: Dialect) { self.dialect = dialect }

    private func bad(_ field: String?, _ message: String) -> RecordFailure {
        .invalid(message: message, field: field)
    }

    /// Decodes the record at the scanner (its object, nothing after it). Throws `RecordFailure`.
    package mutating func record(_ s: inout JSONScanner) throws(RecordFailure) -> IngestRecord {
        do { return try decode(&s) } catch let e as RecordFailure { throw e } catch let e as JSONSyntaxError {
            throw .malformed(e, key: nil)
        } catch {
            throw .invalid(message: "\(error)", field: nil)
        }
    }

    // Throws JSONSyntaxError or RecordFailure.
    private mutating func decode(_ s: inout JSONScanner) throws -> IngestRecord {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else {
            let v = try s.value()
            throw bad(nil, "expected a JSON object, got \(v.shown)")
        }
        var r = IngestRecord()
        var singleMetric: String?
        var singleValue: JSONValue?
        var hasMetrics = false
        var steps: [Int64]?
        var colValues: [Double]?
        var times: [Int64]?
        var isRunRecord = false
        var metaKey = "meta"
        // Too many params or metadata entries: the key and the message, thrown once the run is known
        // (the "run" key may come after "params"); no more entries are merged after it.
        var tooMany: (key: String, message: String)?
        var seen = Set<String>()
        if try s.beginObject() {
            repeat {
                let k = try s.key()
                if !seen.insert(k).inserted { throw bad(k, "key \"\(k)\" appears twice") }
                do {
                    switch k {
                    case "metrics":
                        hasMetrics = true
                        try metrics(&s, into: &r)
                    case "step":
                        let v = try s.value()
                        guard case .number(_, let iv?) = v else { throw bad("step", "\"step\" must be an integer, got \(v.shown)") }
                        r.step = iv
                    case "time":
                        let v = try s.value()
                        switch v {
                        case .null: break
                        case .number(_, let iv?): r.time = iv
                        case .number(let d, nil) where d.isFinite && abs(d) < 9e18: r.time = Int64(d.rounded())
                        default: throw bad("time", "\"time\" must be milliseconds since 1970 (an integer), got \(v.shown)")
                        }
                    case "steps" where dialect.columnar:
                        steps = try intArray(&s, field: "steps")
                    case "times" where dialect.columnar:
                        times = try intArray(&s, field: "times")
                    case "values" where dialect.columnar:
                        colValues = try doubleArray(&s)
                    case "value":
                        singleValue = try s.value()
                    case "metric":
                        let v = try s.value()
                        guard case .string(let m) = v else { throw bad("metric", "\"metric\" must be a string, got \(v.shown)") }
                        singleMetric = m
                    case "run", "run_id", "project":
                        let v = try s.value()
                        switch v {
                        case .null: break
                        case .string(let str):
                            if k == "run" { r.run = str } else if k == "run_id" { r.runId = str } else { r.project = str }
                        default: throw bad(k, "\"\(k)\" must be a string, got \(v.shown)")
                        }
                    case "labels":
                        let v = try s.value()
                        guard case .object(let kv) = v else { throw bad("labels", "\"labels\" must be an object of strings, got \(v.shown)") }
                        for (lk, lv) in kv {
                            switch lv {
                            case .string(let str): r.labels[lk] = str
                            case .number(_, let iv?): r.labels[lk] = String(iv)
                            default: throw bad("labels.\(lk)", "label \(jsonString(lk)) must be a string, got \(lv.shown)")
                            }
                        }
                    case "params", "meta", "metadata":
                        s.exactIntegers = true
                        defer { s.exactIntegers = false }
                        let v = try s.value()
                        let field = k == "params" ? dialect.limitWords.params : dialect.limitWords.meta
                        guard case .object = v else { throw bad(k, "\"\(k)\" must be an object, got \(v.shown)") }
                        if tooMany == nil {
                            var out: [String: ParamValue] = [:]
                            v.flattenParams(prefix: "", into: &out)
                            if k == "params" { r.params.merge(out) { _, n in n } } else { r.meta.merge(out) { _, n in n } }
                            // Counted now, so that no more entries are held past the limit; the error is
                            // thrown below, once the run is known; each entry is checked there too.
                            do { try Limits.check(paramCount: k == "params" ? r.params.count : r.meta.count, what: field) } catch {
                                tooMany = (k, error.message)
                                r.params = [:]
                                r.meta = [:]
                            }
                        }
                        if k != "params" { metaKey = k }
                        isRunRecord = true
                    case "tags":
                        let v = try s.value()
                        guard case .array(let a) = v else { throw bad("tags", "\"tags\" must be an array of strings, got \(v.shown)") }
                        for x in a {
                            guard case .string(let t) = x else { throw bad("tags", "\"tags\" must be an array of strings, got \(x.shown) in it") }
                            r.tags.append(t)
                        }
                        do { try Limits.check(tags: r.tags) } catch { throw bad("tags", error.message) }
                        isRunRecord = true
                    case "status":
                        let v = try s.value()
                        guard case .string(let text) = v, let st = RunStatus(rawValue: text), st == .finished || st == .failed else {
                            throw bad("status", "\"status\" must be \"finished\" or \"failed\", got \(v.shown)")
                        }
                        r.status = st
                        isRunRecord = true
                    default:
                        throw bad(
                            k,
                            "unknown key \(jsonString(k)) (a \(dialect.noun) has run, run_id, step, time, metrics or metric+value, labels; or params, tags, meta, status\(dialect.columnar ? "; or metric+steps+values[+times]" : ""))"
                        )
                    }
                } catch let e as JSONSyntaxError {
                    // Malformed text inside a value (e.g. a lone surrogate): name the key it is in.
                    throw RecordFailure.malformed(e, key: k)
                }
            } while try s.commaOr(UInt8(ascii: "}"))
        }

        // Which run.
        if r.run == nil { r.run = dialect.defaultRun }
        if r.run == nil && r.runId == nil { throw bad("run", "\"run\" is missing (\(dialect.runHint))") }
        if let name = r.run { try checkName(name, what: "run name", field: "run") }
        if let p = r.project { try checkName(p, what: "project name", field: "project") }
        if let id = r.runId, id.isEmpty || id.utf8.count > Limits.maxRunNameBytes {
            throw bad("run_id", "\"run_id\" must be 1 to \(Limits.maxRunNameBytes) bytes")
        }
        if let id = r.runId { try checkName(id, what: "run_id", field: "run_id") }

        // Params and meta: the library's limits, checked here so that a batch is refused whole;
        // the message names the run and the key.
        let runText = "run \(jsonString(r.run ?? r.runId ?? ""))"
        if let tooMany { throw bad(tooMany.key, "\(runText): " + tooMany.message) }
        for (k, values, field) in [("params", r.params, dialect.limitWords.params), (metaKey, r.meta, dialect.limitWords.meta)] {
            for pk in values.keys.sorted() {
                do { try Limits.check(key: pk, value: values[pk]!, what: field) } catch {
                    throw bad(pk.isEmpty || pk.utf8.count > Limits.maxParamKeyBytes ? k : "\(k).\(pk)", "\(runText): " + error.message)
                }
            }
            do { try Limits.check(params: values, what: field) } catch { throw bad(k, "\(runText): " + error.message) }
        }

        // Which points.
        let columnar = steps != nil || colValues != nil || times != nil
        if columnar {
            if hasMetrics || singleValue != nil || r.step != nil || r.time != nil {
                throw bad("steps", "a columnar record (steps/values/times) cannot also have step, time, value or metrics")
            }
            guard let m = singleMetric else { throw bad("metric", "\"metric\" is missing (a record with \"steps\" and \"values\" names its metric)") }
            guard let st = steps else { throw bad("steps", "\"steps\" is missing (a columnar record needs steps and values)") }
            guard let vs = colValues else { throw bad("values", "\"values\" is missing (a columnar record needs steps and values)") }
            if st.count != vs.count { throw bad("values", "\"values\" has \(vs.count) entries but \"steps\" has \(st.count)") }
            if let t = times, t.count != st.count { throw bad("times", "\"times\" has \(t.count) entries but \"steps\" has \(st.count)") }
            try checkMetric(m, labels: r.labels, field: "metric")
            r.column = .init(metric: m, steps: st, values: vs, times: times)
        } else if hasMetrics || singleMetric != nil {
            if r.step == nil { throw bad("step", "\"step\" is missing (every point needs an integer step)") }
            if let m = singleMetric {
                guard let v = singleValue else { throw bad("value", "\"value\" is missing (a \(dialect.noun) with \"metric\" needs a \"value\")") }
                if let d = try metricValue(v, name: m, field: "value") {
                    if let j = r.names.firstIndex(of: m) { r.values[j] = d } else { r.names.append(m); r.values.append(d) }
                }
            }
            if r.names.count > Limits.maxMetricsPerLog {
                throw bad("metrics", "\(r.names.count) metrics in one record; the limit is \(Limits.maxMetricsPerLog)")
            }
            for m in r.names { try checkMetric(m, labels: r.labels, field: "metrics.\(m)") }
        } else {
            if singleValue != nil { throw bad("metric", "\"metric\" is missing (a \(dialect.noun) with \"value\" names its metric)") }
            if r.step != nil || r.time != nil || !r.labels.isEmpty {
                throw bad("metrics", "\"metrics\" is missing (a \(dialect.noun) with step, time or labels carries metrics)")
            }
            if !isRunRecord {
                throw bad(
                    nil, "nothing to do: a \(dialect.noun) needs \"metrics\" (with \"step\"), or \"metric\" and \"value\", or params/tags/meta/status"
                )
            }
        }
        r.isRunRecord = isRunRecord
        return r
    }

    /// The library's rule for run names, projects and ids (`Limits.check(runName:)`).
    private func checkName(_ name: String, what: String, field: String) throws(RecordFailure) {
        do { try Limits.check(runName: name, what: what) } catch { throw bad(field, error.message) }
    }

    private mutating func checkMetric(_ m: String, labels: [String: String], field: String) throws(RecordFailure) {
        if labels.isEmpty && validMetrics.contains(m) { return }
        do {
            _ = try SeriesKey(run: Self.probeRun, metric: m, labels: labels)
        } catch {
            let f = error.message.hasPrefix("label") ? "labels" : field
            throw bad(f, error.message)
        }
        if labels.isEmpty { validMetrics.insert(m) }
    }

    /// A metric value: a number, NaN/Infinity tokens, or such text in a string; nil for null.
    private func metricValue(_ v: JSONValue, name: String, field: String) throws(RecordFailure) -> Double? {
        switch v {
        case .number(let d, _): return d
        case .null: return nil
        case .string(let s):
            if let d = JSONText.numberString(s) { return d }
            throw bad(field, "metric \(jsonString(name)) must be a number, got \(v.shown)")
        default:
            throw bad(field, "metric \(jsonString(name)) must be a number, got \(v.shown)")
        }
    }

    /// `"metrics": {"name": value, ...}` parsed straight into the record's arrays (the hot path).
    private mutating func metrics(_ s: inout JSONScanner, into r: inout IngestRecord) throws {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else {
            let v = try s.value()
            throw bad("metrics", "\"metrics\" must be an object of name: number, got \(v.shown)")
        }
        guard try s.beginObject() else { return }
        repeat {
            let name = try s.key()
            guard let c = s.peek else { throw s.fail("unexpected \(s.end), expected a value") }
            let d: Double?
            if c == UInt8(ascii: "-") || (c >= 48 && c <= 57) || c == UInt8(ascii: "N") || c == UInt8(ascii: "I") {
                d = try s.number().0
            } else {
                d = try metricValue(try s.value(), name: name, field: "metrics.\(name)")
            }
            if let d {
                if let j = r.names.firstIndex(of: name) { r.values[j] = d } else { r.names.append(name); r.values.append(d) }
            }
        } while try s.commaOr(UInt8(ascii: "}"))
    }

    private func intArray(_ s: inout JSONScanner, field: String) throws -> [Int64] {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "[") else {
            let v = try s.value()
            throw bad(field, "\"\(field)\" must be an array of integers, got \(v.shown)")
        }
        var out: [Int64] = []
        guard try s.beginArray() else { return out }
        repeat {
            let at = out.count
            guard case (_, let iv?) = try s.number() else {
                throw bad(field, "\"\(field)\"[\(at)] must be an integer")
            }
            out.append(iv)
        } while try s.commaOr(UInt8(ascii: "]"))
        return out
    }

    private func doubleArray(_ s: inout JSONScanner) throws -> [Double] {
        s.skipSpace()
        guard s.peek == UInt8(ascii: "[") else {
            let v = try s.value()
            throw bad("values", "\"values\" must be an array of numbers, got \(v.shown)")
        }
        var out: [Double] = []
        guard try s.beginArray() else { return out }
        repeat {
            s.skipSpace()
            if s.peek == UInt8(ascii: "\"") {
                let str = try s.string()
                guard let d = JSONText.special(str) else {
                    throw bad("values", "\"values\"[\(out.count)] must be a number, got \"\(str.prefix(40))\"")
                }
                out.append(d)
            } else if s.peek == UInt8(ascii: "n") || s.peek == UInt8(ascii: "t") || s.peek == UInt8(ascii: "f") || s.peek == UInt8(ascii: "{")
                || s.peek == UInt8(ascii: "[")
            {
                let v = try s.value()
                throw bad("values", "\"values\"[\(out.count)] must be a number, got \(v.shown)")
            } else {
                out.append(try s.number().0)
            }
        } while try s.commaOr(UInt8(ascii: "]"))
        return out
    }
}

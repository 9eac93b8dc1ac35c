import ArgumentParser
import Strata

/// Finds or creates the runs named by input lines, once each.
final class RunBook {
    let store: Store
    /// Always create new runs instead of resuming runs of the same name already in the store.
    let newRuns: Bool
    private var cache: [String: Run] = [:]
    private(set) var touched: [Run] = []
    private(set) var created = 0
    /// Runs this book created (their `created` may be set from the data's times).
    private var createdHere: Set<RunID> = []
    /// Per run: the smallest and largest time of its points here, and whether any point had none.
    private var times: [RunID: (lo: Int64, hi: Int64, untimed: Bool)] = [:]

    /// Notes the time of a point logged to `run` (nil: the line carried none).
    func note(_ run: Run, time: Int64?) {
        var t = times[run.id] ?? (.max, .min, false)
        if let time { t.lo = min(t.lo, time); t.hi = max(t.hi, time) } else { t.untimed = true }
        times[run.id] = t
    }

    /// When every point logged to `run` here carried a time: the latest one (its `ended`).
    func dataEnd(_ run: Run) -> Int64? {
        guard let t = times[run.id], !t.untimed, t.lo <= t.hi else { return nil }
        return t.hi
    }

    /// A run created here whose every point so far carried a time begins at its first point's time
    /// (called before the run is ended: only a running run's start is changed).
    func startFromData(_ run: Run) throws {
        guard createdHere.contains(run.id), let t = times[run.id], !t.untimed, t.lo <= t.hi else { return }
        try store.setCreated(run.id, ms: t.lo)
    }

    /// Ends the input: a run created here whose every point carried a time begins at its first
    /// point's time, and a run still running ends at its last point's time (both from the data,
    /// not the clock of the ingest); `Store.close` ends the rest now.
    func finishFromData() throws {
        for r in touched {
            guard let t = times[r.id], !t.untimed, t.lo <= t.hi else { continue }
            try startFromData(r)
            guard let info = r.info, info.status == .running else { continue }
            try r.finish(.finished, endedMs: max(t.hi, info.createdMs))
        }
    }

    init(store: Store, newRuns: Bool) {
        self.store = store
        self.newRuns = newRuns
    }

    /// The run for a line's `run` (name) and optional `run_id`.
    /// - A `run_id` present in the store is that run; an unknown `run_id` creates a run named `name`
    ///   and maps that id to it for the rest of the input (so `export` output re-ingests faithfully).
    /// - A name alone resumes the newest run of that name (unless `newRuns`), else creates it.
    func run(name: String?, id: String?, project: String?) throws -> Run {
        if let id {
            if let r = cache["id:" + id] { return r }
            let r: Run
            if !newRuns, RunID(id) != nil, let info = try? store.run(id), info.id.text == id.uppercased() {
                r = try store.resumeRun(info.id.text)
            } else {
                r = try create(name ?? id, project: project)
            }
            cache["id:" + id] = r
            touched.append(r)
            return r
        }
        guard let name else { throw CLIError("no run: give \"run\" in the line or --run NAME") }
        if let r = cache["name:" + name] { return r }
        let r: Run
        if newRuns {
            r = try create(name, project: project)
        } else {
            // Resolve-or-create in one step across processes (two ingests naming a new run create one).
            let (found, isNew) = try store.openRun(name: name, project: project ?? "default")
            r = found
            if isNew { created += 1; createdHere.insert(found.id) }
        }
        cache["name:" + name] = r
        touched.append(r)
        return r
    }

    private func create(_ name: String, project: String?) throws -> Run {
        created += 1
        let r = try store.createRun(name: name, project: project ?? "default")
        createdHere.insert(r.id)
        return r
    }
}

/// Converts JSON values to what the library takes.
enum Convert {
    /// A metric value: a number, or NaN/Infinity/-Infinity as strings. nil for JSON null (skipped).
    static func metricValue(_ v: JSON, name: String) throws -> Double? {
        switch v {
        case .number(let d, _): return d
        case .null: return nil
        case .string(let s):
            // The same spellings as the server (docs/API.md): JSON number syntax or NaN/Infinity words.
            if let d = JSONText.numberString(s) { return d }
            throw CLIError("metric \(jsonString(name)) must be a number, got \(v.shown)")
        default:
            throw CLIError("metric \(jsonString(name)) must be a number, got \(v.shown)")
        }
    }

    static func specialNumber(_ s: String) -> Double? { JSONText.special(s) }

    static func step(_ v: JSON?, field: String = "step") throws -> Int64 {
        guard let v else { throw CLIError("\"\(field)\" is missing (every point needs an integer step)") }
        if case .number(_, let i?) = v { return i }
        throw CLIError("\"\(field)\" must be an integer, got \(v.shown)")
    }

    /// Wall time in milliseconds since 1970 (an integer; a fractional number is rounded).
    static func time(_ v: JSON?) throws -> Int64? {
        guard let v else { return nil }
        switch v {
        case .null: return nil
        case .number(_, let i?): return i
        case .number(let d, nil) where d.isFinite && abs(d) < 9e18: return Int64(d.rounded())
        default: throw CLIError("\"time\" must be milliseconds since 1970 (an integer), got \(v.shown)")
        }
    }

    static func string(_ v: JSON?, field: String) throws -> String? {
        guard let v else { return nil }
        if case .string(let s) = v { return s }
        if case .null = v { return nil }
        throw CLIError("\"\(field)\" must be a string, got \(v.shown)")
    }

    /// Params or metadata: nested objects flattened with dots; arrays kept as their JSON text.
    static func params(_ v: JSON, field: String, prefix: String = "", into out: inout [String: ParamValue]) throws {
        guard case .object(let kv) = v else { throw CLIError("\"\(field)\" must be an object, got \(v.shown)") }
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

    static func labels(_ v: JSON?) throws -> [String: String] {
        guard let v else { return [:] }
        guard case .object(let kv) = v else { throw CLIError("\"labels\" must be an object of strings, got \(v.shown)") }
        var out: [String: String] = [:]
        for (k, x) in kv {
            switch x {
            case .string(let s): out[k] = s
            case .number(_, let i?): out[k] = String(i)
            default: throw CLIError("label \(jsonString(k)) must be a string, got \(x.shown)")
            }
        }
        return out
    }
}

extension JSON {
    /// Compact JSON text (bare NaN/Infinity for non-finite numbers).
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d, let i): return i.map { String($0) } ?? fmt(d)
        case .string(let s): return jsonString(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let kv): return "{" + kv.map { jsonString($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }
    }
}

/// What a session of `ingest` (or an import) did.
struct IngestCounts {
    var lines = 0
    var points = 0
    var runRecords = 0
    var skipped = 0
    var firstSkipped: String?
}

/// Applies JSON lines to the store.
final class JSONLineIngester {
    let book: RunBook
    let defaultRun: String?
    var counts = IngestCounts()
    static let knownKeys: Set<String> = ["run", "run_id", "project", "step", "time", "metrics", "metric", "value", "labels",
                                         "params", "tags", "meta", "metadata", "status"]

    init(book: RunBook, defaultRun: String?) {
        self.book = book
        self.defaultRun = defaultRun
    }

    /// Handles one line; throws a CLIError without the line number (the caller adds it).
    func handle(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        // Blank lines are allowed (and skipped).
        var blank = true
        for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0d) { blank = false; break }
        if blank { return }
        let v: JSON
        do { v = try JSONParser.parse(bytes) } catch {
            throw CLIError("malformed JSON at column \(error.column): \(error.message)")
        }
        guard case .object(let kv) = v else { throw CLIError("expected a JSON object, got \(v.shown)") }
        for (k, _) in kv where !Self.knownKeys.contains(k) {
            throw CLIError("unknown key \(jsonString(k)) (a line has run, run_id, step, time, metrics or metric+value, labels; or params, tags, meta, status)")
        }
        let name = try Convert.string(v["run"], field: "run") ?? defaultRun
        let id = try Convert.string(v["run_id"], field: "run_id")
        let project = try Convert.string(v["project"], field: "project")
        if name == nil && id == nil { throw CLIError("\"run\" is missing (name the run in the line or pass --run NAME)") }
        if let name, name.isEmpty { throw CLIError("run name is empty") }

        // Everything is converted before anything is written, so a bad line writes nothing.
        var params: [String: ParamValue] = [:]
        var meta: [String: ParamValue] = [:]
        var tags: [String] = []
        var status: RunStatus?
        var isRecord = false
        if let p = v["params"] { try Convert.params(p, field: "params", into: &params); isRecord = true }
        if let m = v["meta"] ?? v["metadata"] { try Convert.params(m, field: "meta", into: &meta); isRecord = true }
        if let t = v["tags"] {
            guard case .array(let a) = t else { throw CLIError("\"tags\" must be an array of strings, got \(t.shown)") }
            for x in a {
                guard case .string(let s) = x else { throw CLIError("\"tags\" must be an array of strings, got \(x.shown) in it") }
                tags.append(s)
            }
            isRecord = true
        }
        if let s = v["status"] {
            guard case .string(let text) = s, let st = RunStatus(rawValue: text), st == .finished || st == .failed else {
                throw CLIError("\"status\" must be \"finished\" or \"failed\", got \(s.shown)")
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
                guard case .object(let mkv) = m else { throw CLIError("\"metrics\" must be an object of name: number, got \(m.shown)") }
                values.reserveCapacity(mkv.count)
                for (k, x) in mkv { if let d = try Convert.metricValue(x, name: k) { values[k] = d } }
            }
            if let m = v["metric"] {
                guard case .string(let mname) = m else { throw CLIError("\"metric\" must be a string, got \(m.shown)") }
                guard let val = v["value"] else { throw CLIError("\"value\" is missing (a line with \"metric\" needs a \"value\")") }
                single = (mname, try Convert.metricValue(val, name: mname))
            }
        } else if !isRecord {
            throw CLIError("nothing to do: a line needs \"metrics\" (with \"step\"), or \"metric\" and \"value\", or params/tags/meta/status")
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

/// Keeps the input durable: flush every `everyLines` lines and whenever input pauses.
final class FlushPolicy {
    let store: Store
    let everyLines: Int
    let everyMs: Int64
    private(set) var unflushed = 0
    private var last = monotonicMs()

    init(store: Store, everyLines: Int, everyMs: Int64) {
        self.store = store
        self.everyLines = max(1, everyLines)
        self.everyMs = everyMs
    }

    func lineDone() throws {
        unflushed += 1
        if unflushed >= everyLines || monotonicMs() - last >= everyMs { try flush() }
    }

    func flush() throws {
        if unflushed == 0 { return }
        try store.flush()
        unflushed = 0
        last = monotonicMs()
    }
}

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read metric lines (JSON lines or CSV) from stdin into the store as they arrive.",
        discussion: """
        JSON lines, for example (all fields: docs/CLI.md):

          {"run": "r1", "step": 12, "metrics": {"train/loss": 0.5}}
          {"run": "r1", "params": {"lr": 0.0003}, "tags": ["baseline"]}

        NaN, Infinity and -Infinity are accepted as bare tokens and as strings. A run named for the \
        first time is created; a name already in the store is resumed (--new-runs creates new runs).
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Run for lines that do not name one (and for wide CSV).") var runName: String?
    @Option(help: "Input format: jsonl or csv.") var format: InputFormat = .jsonl
    @Flag(help: "Count and skip bad lines instead of stopping at the first one.") var skipBad = false
    @Flag(help: "Create new runs even when the store has runs of the same names.") var newRuns = false
    @Option(help: "Make input durable (fsync) at least every N lines.") var flushEvery: Int = 1000
    @Option(help: "File to read instead of stdin.") var input: String?
    @Flag(help: "No summary on stderr.") var quiet = false
    @Flag(help: "Answer {\"ack\": ID} lines once all before them is durable, and report refused lines, on stdout.") var ack = false

    enum InputFormat: String, ExpressibleByArgument, CaseIterable { case jsonl, csv }

    func run() throws {
        if let r = runName, r.isEmpty { throw CLIError("--run: run name is empty", exitCode: 2) }
        var fd: Int32 = 0
        if let input {
            fd = open(input, O_RDONLY)
            if fd < 0 { throw CLIError("cannot open \(input): \(String(cString: strerror(errno)))") }
        }
        defer { if fd > 0 { close(fd) } }
        let store = try global.openForWriting()
        let book = RunBook(store: store, newRuns: newRuns)
        let policy = FlushPolicy(store: store, everyLines: flushEvery, everyMs: 100)
        let json = JSONLineIngester(book: book, defaultRun: runName)
        let csv = CSVIngester(book: book, defaultRun: runName, timeUnit: .auto)
        let acks = ack ? IngestAcks() : nil  // --ack: IngestAck.swift
        var failure: Error?
        do {
            try LineReader(fd: fd).forEachLine(needsIdle: { policy.unflushed > 0 }, idle: { try policy.flush() }) { bytes, lineNo in
                let ackID = acks?.control(bytes)
                do {
                    switch format {
                    case _ where ackID != nil: break
                    case .jsonl: try json.handle(bytes)
                    case .csv: try csv.handle(bytes, lineNo: lineNo)
                    }
                } catch {
                    let msg = "line \(lineNo): \(describe(error))"
                    acks?.refused(line: lineNo, describe(error))
                    if !skipBad { throw CLIError(msg) }
                    json.counts.skipped += 1
                    if json.counts.firstSkipped == nil { json.counts.firstSkipped = msg }
                }
                json.counts.lines = lineNo
                if let ackID { try policy.flush(); acks?.ack(ackID, line: lineNo) } else { try policy.lineDone() }
            }
            try book.finishFromData()
        } catch { failure = error }
        // Every line before a failure is kept: flush and close whatever happens.
        do {
            try policy.flush()
            try store.close()
        } catch {
            if failure == nil { failure = error }
        }
        if let failure { throw failure }
        if !quiet {
            let c = json.counts
            let points = c.points + csv.points
            var s = "ingested \(withCommas(c.lines)) lines: \(withCommas(points)) points, \(book.touched.count) runs (\(book.created) new)"
            if c.skipped > 0 { s += "; skipped \(withCommas(c.skipped)) bad lines (first: \(c.firstSkipped!))" }
            warn(s)
        }
    }
}

/// One-line description of any error.
func describe(_ error: Error) -> String {
    if let e = error as? CLIError { return e.message }
    if let e = error as? StrataError { return e.description }
    return "\(error)"
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

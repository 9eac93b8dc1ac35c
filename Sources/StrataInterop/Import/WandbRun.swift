import Strata

/// Reads W&B run directories: the transaction log `run-ID.wandb` that the `wandb` package writes in
/// every run directory (`wandb/offline-run-*/`, `wandb/run-*/`), online or offline.
///
/// The log's framing is read by `WandbLogReader`; its records are `wandb_internal.proto`'s
/// `Record` messages, of which these are read: `run` (name, project, config, tags, notes,
/// group, job type, host, git, start time), `history` (one row: `_step`, `_timestamp`, values),
/// `config` and `summary` (updates and removals), `stats` (system metrics) and `exit` (exit code,
/// runtime). See docs/CLI.md for the mapping.
public final class WandbLogImporter {
    let session: ImportSession
    let project: String?
    private var done = 0
    private var total = 0

    /// `project`: the project of every imported run (default: each run's W&B project).
    public init(session: ImportSession, project: String?) {
        self.session = session
        self.project = project
    }

    /// The `.wandb` logs under the given paths: a log file, a run directory, or any directory
    /// above run directories (`wandb/`, a project; up to 8 levels). The `latest-run` link W&B keeps
    /// in `wandb/` is not followed (it names a run found anyway), nor are the subdirectories of a
    /// run directory. Each log once, in path order per argument.
    public static func findLogs(_ paths: [String]) throws(InteropError) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        func add(_ f: String) { if seen.insert(realPath(f)).inserted { out.append(f) } }
        func walk(_ dir: String, depth: Int) throws(InteropError) {
            guard depth < 8 else { return }
            let names = try listDirectory(dir).filter { $0 != "latest-run" && !$0.hasPrefix(".") }
            let logs = names.filter { $0.hasSuffix(".wandb") && fileKind(joinPath(dir, $0)) == .file }
            if !logs.isEmpty {  // a run directory: its files/, logs/ and tmp/ hold no logs
                for n in logs { add(joinPath(dir, n)) }
                return
            }
            for n in names where fileKind(joinPath(dir, n)) == .directory { try walk(joinPath(dir, n), depth: depth + 1) }
        }
        for path in paths {
            switch fileKind(path) {
            case .file?: add(path)
            case .directory?: try walk(path, depth: 0)
            default: throw InteropError("no such file or directory: \(path)")
            }
        }
        return out
    }

    /// Imports each log as one run (logs already in the store are left alone unless `again`).
    public func importLogs(_ logs: [String]) throws {
        total = logs.count
        for log in logs {
            session.update("importing wandb: log \(done + 1)/\(total), \(withCommas(session.summary.points)) points", force: true)
            try importLog(log)
            done += 1
        }
    }

    /// What the records of one log say about its run.
    private struct State {
        var runID = ""
        var entity = ""
        var project = ""
        var name = ""
        var notes = ""
        var group = ""
        var jobType = ""
        var host = ""
        var sweep = ""
        var gitRemote = ""
        var gitCommit = ""
        var tags: [String] = []
        var startMs: Int64?
        var exitCode: Int64?
        var runtime: Int64?
        /// Config and summary as W&B keeps them: an ordered mapping from key to JSON value.
        var config: [(String, JSONValue)] = []
        var summary: [(String, JSONValue)] = []
        var statsSamples: Int64 = 0
        var lastTime: Int64?
    }

    private func importLog(_ path: String) throws {
        let bytes = try readWholeFile(path)
        var reader: WandbLogReader
        do { reader = try WandbLogReader(bytes) } catch {
            try session.bad("unreadable logs", "\(path): \(error.message)")
            return
        }
        let real = realPath(path)
        let dir = baseName(String(real[..<(real.lastIndex(of: "/") ?? real.startIndex)]))
        // The run directory's name holds its start time and run id: it names the source, so a
        // moved `wandb/` folder is still recognised.
        let source = "wandb:" + dir + "/" + baseName(path)
        if session.alreadyImported(source) { return }
        var st = State()
        var run = ImportedRun(name: "", project: "", source: source)
        var records = 0
        var stoppedBy: String?
        reading: while true {
            switch reader.next() {
            case .end: break reading
            case .record(let r, let at):
                records += 1
                do { try parse(r, &st, &run) } catch {
                    try session.bad("damaged records", "\(path): byte \(at): record does not parse (\(error.message))")
                }
                if records % 256 == 0 {
                    session.update(
                        "importing wandb: log \(done + 1)/\(total) (\(reader.offset * 100 / max(1, bytes.count))%), \(withCommas(session.summary.points + run.points)) points"
                    )
                }
            case .truncated(let at):
                let m = "\(path): byte \(at): the log ends inside a record (cut short, or still being written); read up to it"
                session.summary.skip("incomplete records at log ends")
                if session.summary.firstBad == nil { session.summary.firstBad = m }
                stoppedBy = m
                break reading
            case .damaged(let at, let reason):
                let m = "\(path): byte \(at): \(reason)"
                if session.skipBad {
                    session.summary.skip("damaged blocks")
                    if session.summary.firstBad == nil { session.summary.firstBad = m }
                    reader.recover()
                    continue reading
                }
                session.summary.skip("logs read up to damage")
                if session.summary.firstBad == nil { session.summary.firstBad = m + "; read up to it (--skip-bad reads past it)" }
                stoppedBy = m
                break reading
            }
        }
        finish(st, &run, stoppedBy: stoppedBy)
        try session.write(run)
    }

    /// Names, project, params, metadata and status of the run from what the records said.
    private func finish(_ st: State, _ run: inout ImportedRun, stoppedBy: String?) {
        let id = st.runID.isEmpty ? "wandb-run" : st.runID
        run.name = st.name.isEmpty ? id : st.name
        var meta: [String: ParamValue] = [:]
        if (try? Limits.check(runName: run.name)) == nil {
            // A display name Strata does not accept as a run name: the run id names the run.
            meta["wandb.display_name"] = .string(run.name)
            run.name = id
        }
        run.project = project ?? (st.project.isEmpty ? "uncategorized" : st.project)
        var params: [String: ParamValue] = [:]
        for (k, v) in st.config where k != "_wandb" {
            if case .object = v { v.flattenParams(prefix: k, into: &params) } else { params[k] = v.paramValue }
        }
        run.params = params
        func set(_ key: String, _ s: String) { if !s.isEmpty { meta[key] = .string(s) } }
        set("wandb.run_id", st.runID)
        set("wandb.entity", st.entity)
        set("wandb.project", st.project)
        set("wandb.group", st.group)
        set("wandb.job_type", st.jobType)
        set("wandb.sweep_id", st.sweep)
        set("purpose", st.notes)
        set("host", st.host)
        set("git.repo", st.gitRemote)
        set("git.commit", st.gitCommit)
        if let c = st.exitCode { meta["wandb.exit_code"] = .int(c) }
        if let r = st.runtime { meta["wandb.runtime"] = .int(r) }
        if let stoppedBy { meta["import.incomplete"] = .string(stoppedBy) }
        var summary: [String: ParamValue] = [:]
        for (k, v) in st.summary where !k.hasPrefix("_") {
            if case .object(let o) = v {
                if o.contains(where: { $0.0 == "_type" }) { continue }  // media, tables, histograms
                v.flattenParams(prefix: "summary." + k, into: &summary)
            } else {
                summary["summary." + k] = v.paramValue
            }
        }
        for (k, v) in summary { meta[k] = v }
        run.metadata = meta
        run.tags = Set(st.tags.filter { (try? Limits.check(tag: $0)) != nil })
        session.summary.skip("tags over Strata's limits", Set(st.tags).count - run.tags.count)
        // Without an exit record the process died (or is still running): crashed.
        run.status = st.exitCode.map { $0 == 0 ? .finished : .failed } ?? .crashed
        run.createdMs = st.startMs
        if let s = st.startMs, let r = st.runtime {
            run.endedMs = max(s + r * 1000, st.lastTime ?? .min)
        }
    }

    // MARK: records (field numbers from wandb_internal.proto)

    private func parse(_ bytes: [UInt8], _ st: inout State, _ run: inout ImportedRun) throws(ProtoError) {
        var r = ProtoReader(bytes)
        while let (field, wire) = try r.field() {
            guard wire == 2 else { try r.skip(wire); continue }
            let body = try r.bytes()
            switch field {
            case 2: try history(r.sub(body), &st, &run)
            case 3: try updates(r.sub(body), &st.summary, joiner: "/")
            case 5: try updates(r.sub(body), &st.config, joiner: ".")
            case 7: try stats(r.sub(body), &st, &run)
            case 17: try runRecord(r.sub(body), &st)
            case 18: try exitRecord(r.sub(body), &st)
            default: break  // output, files, telemetry, metric definitions, requests, ...
            }
        }
    }

    /// An item of a history, config, summary or stats record: `key` 1 or `nested_key` 2 (joined
    /// with `joiner`), `value_json` 16.
    private func item(_ m: ProtoReader, joiner: String) throws(ProtoError) -> (String, JSONValue) {
        var r = m
        var key = ""
        var nested: [String] = []
        var json: Range<Int>?
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 2): key = r.string(try r.bytes())
            case (2, 2): nested.append(r.string(try r.bytes()))
            case (16, 2): json = try r.bytes()
            default: try r.skip(wire)
            }
        }
        if key.isEmpty { key = nested.joined(separator: joiner) }
        guard let json else { return (key, .null) }
        do { return (key, try JSONValue.parse(line: r.buffer[json], exactIntegers: true)) } catch {
            throw ProtoError(message: "\(jsonString(key)): value_json is not JSON (\(error.message) at column \(error.offset + 1))")
        }
    }

    /// HistoryRecord: item 1 (repeated), step 2 (HistoryStep: num 1).
    private func history(_ m: ProtoReader, _ st: inout State, _ run: inout ImportedRun) throws(ProtoError) {
        var r = m
        var items: [(String, JSONValue)] = []
        var stepNum: Int64 = 0
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 2): items.append(try item(r.sub(try r.bytes()), joiner: "/"))
            case (2, 2):
                var s = r.sub(try r.bytes())
                while let (f, w) = try s.field() { if f == 1, w == 0 { stepNum = Int64(bitPattern: try s.varint()) } else { try s.skip(w) } }
            default: try r.skip(wire)
            }
        }
        var step = stepNum
        var time = st.lastTime ?? st.startMs ?? 0
        for (k, v) in items {
            if k == "_step", case .number(let d, let i) = v { step = i ?? (d.isFinite && abs(d) < 9e18 ? Int64(d) : step) }
            if k == "_timestamp", case .number(let t, _) = v, t.isFinite, abs(t) < 9e12 { time = Int64((t * 1000).rounded()) }
        }
        var points: [(String, Double)] = []
        var skipped = 0
        for (k, v) in items where !k.hasPrefix("_") { WandbImporter.historyValues(k, v, into: &points, skipped: &skipped) }
        session.summary.skip("non-numeric values", skipped)
        for (k, d) in points { run.add(k, step: step, value: d, time: time) }
        st.lastTime = max(st.lastTime ?? time, time)
    }

    /// ConfigRecord / SummaryRecord: update 1, remove 2 (items). A nested key (a path into the
    /// config or summary tree) is joined with `joiner`: `.` for config, as nested objects flatten
    /// into params, `/` for summary, as history keys do.
    private func updates(_ m: ProtoReader, _ into: inout [(String, JSONValue)], joiner: String) throws(ProtoError) {
        var r = m
        while let (field, wire) = try r.field() {
            guard wire == 2, field == 1 || field == 2 else { try r.skip(wire); continue }
            let (k, v) = try item(r.sub(try r.bytes()), joiner: joiner)
            if let i = into.firstIndex(where: { $0.0 == k }) {
                if field == 1 { into[i].1 = v } else { into.remove(at: i) }
            } else if field == 1 {
                into.append((k, v))
            }
        }
    }

    /// StatsRecord: timestamp 2 (Timestamp), item 3 (key 1, value_json 16) → series `sys/KEY`,
    /// step = the sample's number in the log (0, 1, ...).
    private func stats(_ m: ProtoReader, _ st: inout State, _ run: inout ImportedRun) throws(ProtoError) {
        var r = m
        var items: [(String, JSONValue)] = []
        var time: Int64?
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (2, 2): time = try timestamp(r.sub(try r.bytes()))
            case (3, 2): items.append(try item(r.sub(try r.bytes()), joiner: "."))
            default: try r.skip(wire)
            }
        }
        let t = time ?? st.lastTime ?? st.startMs ?? 0
        var points: [(String, Double)] = []
        var skipped = 0
        for (k, v) in items { WandbImporter.historyValues("sys/" + k, v, into: &points, skipped: &skipped) }
        session.summary.skip("non-numeric values", skipped)
        for (k, d) in points { run.add(k, step: st.statsSamples, value: d, time: t) }
        st.statsSamples += 1
    }

    /// google.protobuf.Timestamp (seconds 1, nanos 2) in ms.
    private func timestamp(_ m: ProtoReader) throws(ProtoError) -> Int64 {
        var r = m
        var seconds: Int64 = 0, nanos: Int64 = 0
        while let (f, w) = try r.field() {
            switch (f, w) {
            case (1, 0): seconds = Int64(bitPattern: try r.varint())
            case (2, 0): nanos = Int64(Int32(truncatingIfNeeded: try r.varint()))
            default: try r.skip(w)
            }
        }
        guard abs(seconds) < 9_000_000_000_000 else { throw ProtoError(message: "timestamp \(seconds) s is out of range") }
        return seconds * 1000 + (nanos / 1_000_000)
    }

    /// RunRecord: run_id 1, entity 2, project 3, config 4, summary 5, run_group 6, job_type 7,
    /// display_name 8, notes 9, tags 10, sweep_id 12, host 13, start_time 17, git 21
    /// (remote_url 1, commit 2). A later run record (an update) replaces the fields it sets.
    private func runRecord(_ m: ProtoReader, _ st: inout State) throws(ProtoError) {
        var r = m
        var tags: [String] = []
        func text(_ s: inout String, _ r: inout ProtoReader) throws(ProtoError) {
            let v = r.string(try r.bytes())
            if !v.isEmpty { s = v }
        }
        while let (field, wire) = try r.field() {
            guard wire == 2 else { try r.skip(wire); continue }
            switch field {
            case 1: try text(&st.runID, &r)
            case 2: try text(&st.entity, &r)
            case 3: try text(&st.project, &r)
            case 4: try updates(r.sub(try r.bytes()), &st.config, joiner: ".")
            case 5: try updates(r.sub(try r.bytes()), &st.summary, joiner: "/")
            case 6: try text(&st.group, &r)
            case 7: try text(&st.jobType, &r)
            case 8: try text(&st.name, &r)
            case 9: try text(&st.notes, &r)
            case 10: tags.append(r.string(try r.bytes()))
            case 12: try text(&st.sweep, &r)
            case 13: try text(&st.host, &r)
            case 17: st.startMs = try timestamp(r.sub(try r.bytes()))
            case 21:
                var g = r.sub(try r.bytes())
                while let (f, w) = try g.field() {
                    switch (f, w) {
                    case (1, 2): try text(&st.gitRemote, &g)
                    case (2, 2): try text(&st.gitCommit, &g)
                    default: try g.skip(w)
                    }
                }
            default: _ = try r.bytes()
            }
        }
        if !tags.isEmpty { st.tags = tags }
    }

    /// RunExitRecord: exit_code 1 (int32), runtime 2 (int32, seconds).
    private func exitRecord(_ m: ProtoReader, _ st: inout State) throws(ProtoError) {
        var r = m
        st.exitCode = 0
        while let (f, w) = try r.field() {
            switch (f, w) {
            case (1, 0): st.exitCode = Int64(Int32(truncatingIfNeeded: try r.varint()))
            case (2, 0): st.runtime = Int64(Int32(truncatingIfNeeded: try r.varint()))
            default: try r.skip(w)
            }
        }
    }
}

import Strata

/// Reads scalars from TensorBoard event files (TFRecord framing, both checksums verified, Event
/// protobufs parsed by hand): every directory holding event files becomes one run, named by its
/// path relative to the root (the root itself: its own name). Metric = tag, step = step,
/// time = wall time. Classic scalars (`simple_value`) and TF2 scalar tensors are imported;
/// histograms, images, text and other non-scalar values are counted and skipped. The hparams
/// plugin's session start gives params; a SessionLog START purges what the run logged at its
/// step or later, as TensorBoard does.
public final class TensorBoardImporter {
    /// One run's event files: the run name, its directory, the files in name order.
    public struct RunFiles: Sendable {
        /// The run's name: its directory relative to the root.
        public var name: String
        /// The directory.
        public var dir: String
        /// Its event files, in name order.
        public var files: [String]
    }

    let session: ImportSession
    let project: String
    private var totalFiles = 0
    private var filesDone = 0
    private var pointsRead = 0

    /// An importer writing through `session` into `project`.
    public init(session: ImportSession, project: String) {
        self.session = session
        self.project = project
    }

    /// `events.out.tfevents.*`, and `events.out.tfevents` exactly (CatBoost's name).
    package static func isEventFile(_ name: String) -> Bool {
        name.hasPrefix("events.out.tfevents.") || name == "events.out.tfevents"
    }

    /// Directories holding event files, each with its files in name order (a restarted job's files in time order).
    public static func findRuns(_ root: String) throws(InteropError) -> [RunFiles] {
        guard let kind = fileKind(root) else { throw InteropError("no such directory: \(root)") }
        if kind == .file {
            let parent = root.contains("/") ? String(root[..<root.lastIndex(of: "/")!]) : "."
            return [RunFiles(name: baseName(realPath(parent.isEmpty ? "/" : parent)), dir: parent, files: [root])]
        }
        guard kind == .directory else { throw InteropError("\(root) is not a directory") }
        var out: [RunFiles] = []
        var seen: Set<[UInt64]> = []
        func walk(_ dir: String, _ rel: String, depth: Int) throws(InteropError) {
            guard let identity = fileIdentity(dir), seen.insert(identity).inserted, depth < 64 else { return }
            let names = try listDirectory(dir)
            var files: [String] = []
            var subdirs: [String] = []
            for n in names {
                let p = joinPath(dir, n)
                switch fileKind(p) {
                case .file? where isEventFile(n): files.append(p)
                case .directory?: subdirs.append(n)
                default: break
                }
            }
            if !files.isEmpty {
                let name = rel.isEmpty ? baseName(realPath(dir)) : rel
                out.append(RunFiles(name: name, dir: dir, files: files))
            }
            for s in subdirs { try walk(joinPath(dir, s), rel.isEmpty ? s : rel + "/" + s, depth: depth + 1) }
        }
        try walk(root, "", depth: 0)
        return out
    }

    /// Imports the runs `findRuns` found, one after another.
    public func importRuns(_ groups: [RunFiles]) throws {
        totalFiles = groups.reduce(0) { $0 + $1.files.count }
        for g in groups { try importRun(g) }
    }

    /// Imports one run (left alone when the store holds it already and `again` is off).
    public func importRun(_ g: RunFiles) throws {
        let source = "tensorboard:" + realPath(g.dir)
        if session.alreadyImported(source) { filesDone += g.files.count; return }
        var run = ImportedRun(name: g.name, project: project, source: source)
        var plugins: [String: String] = [:]  // tag -> plugin name (TF2 sends metadata with a tag's first value only)
        for f in g.files {
            try readFile(f, into: &run, plugins: &plugins)
            filesDone += 1
        }
        try session.write(run)
    }

    private func readFile(_ path: String, into run: inout ImportedRun, plugins: inout [String: String]) throws {
        let bytes = try readWholeFile(path)
        var reader = TFRecordReader(bytes)
        while true {
            let record: Range<Int>
            switch reader.next() {
            case .end: return
            case .record(let r): record = r
            case .truncated(let at):
                // A writer still running (or killed) leaves a partial last record; TensorBoard ignores it too.
                session.summary.skip("incomplete records at file ends")
                if session.summary.firstBad == nil {
                    session.summary.firstBad = "\(path): byte \(at): incomplete record at the end of the file (still being written, or cut short)"
                }
                return
            case .badChecksum(let at, let what, let stored, let computed, let resumeAt):
                try session.bad(
                    "damaged records",
                    "\(path): byte \(at): \(what) checksum mismatch (stored \(hex32(stored)), computed \(hex32(computed))): the file is damaged")
                guard let resumeAt else { return }
                reader.offset = resumeAt
                continue
            }
            do {
                try parseEvent(ProtoReader(bytes, record), into: &run, plugins: &plugins)
            } catch {
                try session.bad("damaged records", "\(path): byte \(record.lowerBound - 12): Event record does not parse (\(error.message))")
            }
            session.update("importing tensorboard: file \(filesDone + 1)/\(totalFiles) (\(run.name)), \(withCommas(pointsRead)) points read")
        }
    }

    /// Event: wall_time 1 (double), step 2, summary 5, session_log 7 (SessionLog: status 1, START = 1).
    private func parseEvent(_ event: ProtoReader, into run: inout ImportedRun, plugins: inout [String: String]) throws(ProtoError) {
        var r = event
        var wall = 0.0
        var step: Int64 = 0
        var summary: Range<Int>?
        var restart = false
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 1): wall = Double(bitPattern: try r.fixed64())
            case (2, 0): step = Int64(bitPattern: try r.varint())
            case (5, 2): summary = try r.bytes()
            case (7, 2):
                var log = r.sub(try r.bytes())
                while let (f, w) = try log.field() {
                    if f == 1, w == 0 { restart = try log.varint() == 1 } else { try log.skip(w) }
                }
            default: try r.skip(wire)
            }
        }
        if restart {
            // A job restarted from a checkpoint at `step`: TensorBoard (purge_orphaned_data, on by
            // default) discards what the run logged before at this step or later.
            session.summary.skip("points purged by a restart (SessionLog START)", run.dropPoints(fromStep: step))
        }
        guard let summary else { return }  // file_version, graph, ...
        let time = wall.isFinite && abs(wall) < 9e15 ? Int64((wall * 1000).rounded()) : 0
        var s = r.sub(summary)
        while let (field, wire) = try s.field() {
            guard field == 1, wire == 2 else { try s.skip(wire); continue }
            let v = try s.bytes()
            let value = try parseValue(s.sub(v))
            if let plugin = value.plugin, plugins[value.tag] == nil { plugins[value.tag] = plugin }
            if value.plugin == "hparams" {
                if let content = value.content { try hparams(s.sub(content), into: &run) }
                continue
            }
            switch value.kind {
            case .simple(let x):
                run.add(value.tag, step: step, value: x, time: time)
                pointsRead += 1
            case .tensor(let x?) where (plugins[value.tag] ?? "scalars") == "scalars" || (plugins[value.tag] ?? "").isEmpty:
                run.add(value.tag, step: step, value: x, time: time)
                pointsRead += 1
            default:
                session.summary.skip("non-scalar values")
            }
        }
    }

    private struct SummaryValue {
        enum Kind { case simple(Double), tensor(Double?), other }
        var tag = ""
        var plugin: String?
        /// The plugin's content (`plugin_data.content`).
        var content: Range<Int>?
        var kind = Kind.other
    }

    /// The hparams plugin's data (HParamsPluginData: session_start_info 3 → SessionStartInfo:
    /// hparams 1, a map of string to google.protobuf.Value: number 2, string 3, bool 4): params.
    /// The experiment (2) and session end (4) parts say nothing about the run's values.
    private func hparams(_ data: ProtoReader, into run: inout ImportedRun) throws(ProtoError) {
        var r = data
        while let (field, wire) = try r.field() {
            guard field == 3, wire == 2 else { try r.skip(wire); continue }
            var start = r.sub(try r.bytes())
            while let (f, w) = try start.field() {
                guard f == 1, w == 2 else { try start.skip(w); continue }
                var entry = start.sub(try start.bytes())
                var key = ""
                var value: ParamValue?
                while let (ef, ew) = try entry.field() {
                    switch (ef, ew) {
                    case (1, 2): key = entry.string(try entry.bytes())
                    case (2, 2): value = try Self.protobufValue(entry.sub(try entry.bytes()), depth: 0)
                    default: try entry.skip(ew)
                    }
                }
                // A struct at the top is flattened into dotted keys, as JSON objects are.
                if !key.isEmpty, case .object(let kv)? = value {
                    for (k, x) in kv { run.params[key + "." + k] = x }
                } else if !key.isEmpty, let value {
                    run.params[key] = value
                }
            }
        }
    }

    /// A google.protobuf.Value as a param value: null_value 1 (null), number_value 2 (double),
    /// string_value 3, bool_value 4, struct_value 5 (fields 1: map of string to Value; an object),
    /// list_value 6 (values 1; a list). Nil for an empty message or one nested past the JSON depth.
    package static func protobufValue(_ m: ProtoReader, depth: Int) throws(ProtoError) -> ParamValue? {
        var v = m
        var value: ParamValue?
        while let (vf, vw) = try v.field() {
            switch (vf, vw) {
            case (1, 0): _ = try v.varint(); value = .null
            case (2, 1): value = .double(Double(bitPattern: try v.fixed64()))
            case (3, 2): value = .string(v.string(try v.bytes()))
            case (4, 0): value = .bool(try v.varint() != 0)
            case (5, 2) where depth < JSONScanner.maxDepth:
                var st = v.sub(try v.bytes())
                var kv: [String: ParamValue] = [:]
                while let (sf, sw) = try st.field() {
                    guard sf == 1, sw == 2 else { try st.skip(sw); continue }
                    var e = st.sub(try st.bytes())
                    var k = ""
                    var x: ParamValue?
                    while let (ef, ew) = try e.field() {
                        switch (ef, ew) {
                        case (1, 2): k = e.string(try e.bytes())
                        case (2, 2): x = try protobufValue(e.sub(try e.bytes()), depth: depth + 1)
                        default: try e.skip(ew)
                        }
                    }
                    kv[k] = x ?? .null
                }
                value = .object(kv)
            case (6, 2) where depth < JSONScanner.maxDepth:
                var l = v.sub(try v.bytes())
                var xs: [ParamValue] = []
                while let (lf, lw) = try l.field() {
                    guard lf == 1, lw == 2 else { try l.skip(lw); continue }
                    xs.append(try protobufValue(l.sub(try l.bytes()), depth: depth + 1) ?? .null)
                }
                value = .list(xs)
            default: try v.skip(vw)
            }
        }
        return value
    }

    /// Summary.Value: tag 1, simple_value 2 (float), node_name 7, tensor 8, metadata 9 (plugin_data 1: plugin_name 1, content 2).
    private func parseValue(_ value: ProtoReader) throws(ProtoError) -> SummaryValue {
        var r = value
        var out = SummaryValue()
        var nodeName = ""
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 2): out.tag = r.string(try r.bytes())
            case (7, 2): nodeName = r.string(try r.bytes())
            case (2, 5): out.kind = .simple(Double(Float(bitPattern: try r.fixed32())))
            case (8, 2): out.kind = .tensor(try TensorScalar.parse(r.buffer, try r.bytes()))
            case (9, 2):
                var m = r.sub(try r.bytes())
                while let (mf, mw) = try m.field() {
                    guard mf == 1, mw == 2 else { try m.skip(mw); continue }
                    let pd = try m.bytes()
                    var pr = m.sub(pd)
                    while let (pf, pw) = try pr.field() {
                        switch (pf, pw) {
                        case (1, 2): out.plugin = pr.string(try pr.bytes())
                        case (2, 2): out.content = try pr.bytes()
                        default: try pr.skip(pw)
                        }
                    }
                }
            default:
                try r.skip(wire)
            }
        }
        if out.tag.isEmpty { out.tag = nodeName }
        return out
    }
}

extension ImportedRun {
    /// Drops every point at `step` or later (of every series); returns how many were dropped.
    mutating func dropPoints(fromStep step: Int64) -> Int {
        var dropped = 0
        for (name, buffer) in series {
            guard buffer.steps.contains(where: { $0 >= step }) else { continue }
            var kept = SeriesBuffer()
            for i in 0..<buffer.count where buffer.steps[i] < step {
                kept.add(step: buffer.steps[i], value: buffer.values[i], time: buffer.times[i])
            }
            dropped += buffer.count - kept.count
            series[name] = kept.count == 0 ? nil : kept
        }
        order.removeAll { series[$0] == nil }
        return dropped
    }
}

/// `0x0000abcd`: a checksum as error messages show it.
func hex32(_ v: UInt32) -> String {
    let h = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - h.count) + h
}

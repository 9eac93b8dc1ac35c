import Strata

/// Reads a W&B run history exported as JSON lines or CSV.
///
/// JSON lines: one history row per line with `_step`, `_timestamp` (seconds) and metric keys;
/// nested objects are flattened with `/`; strings, booleans, arrays and media objects are counted
/// and skipped; null is ignored. CSV: a header with `_step` (or `Step`) and one column per metric;
/// empty cells are skipped; chart exports (`RUN - metric` columns) give one run per RUN, their
/// `__MIN`/`__MAX` columns are skipped.
public final class WandbImporter {
    let session: ImportSession
    let file: String
    let name: String
    /// `--run` was given (a chart export of one run is named by its column prefix otherwise).
    let nameGiven: Bool
    let project: String
    let source: String

    /// `file`: the path (it names the source); `name`: the run's name, `nameGiven` when the user
    /// chose it (a chart export of one run is otherwise named by its column prefix).
    public init(session: ImportSession, file: String, name: String, nameGiven: Bool, project: String) {
        self.session = session
        self.file = file
        self.name = name
        self.nameGiven = nameGiven
        self.project = project
        source = "wandb:" + realPath(file)
    }

    /// Calls `body(line, lineNumber)` for each line (without `\n` / `\r\n`).
    private func lines(_ p: [UInt8], _ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        try forEachLine(p) { line, n in
            try body(line, n)
            if n % 1024 == 0 {
                session.update("importing wandb: line \(withCommas(n)) (\(line.startIndex * 100 / max(1, p.count))%)")
            }
        }
    }

    /// The points of one history value under `key`: numbers (and the strings "NaN", "Infinity",
    /// "-Infinity"); nested objects flattened with `/`; null ignored; strings, booleans, arrays and
    /// media objects (objects with `_type`: tables, images, histograms) counted in `skipped`.
    package static func historyValues(_ key: String, _ x: JSONValue, into points: inout [(String, Double)], skipped: inout Int) {
        switch x {
        case .number(let d, _): points.append((key, d))
        case .bigInteger(let t): points.append((key, Double(t) ?? .nan))
        case .null: break
        case .string(let s):
            if let d = JSONText.special(s) { points.append((key, d)) } else { skipped += 1 }
        case .object(let o):
            if o.contains(where: { $0.0 == "_type" }) { skipped += 1; return }
            for (k, y) in o { historyValues(key + "/" + k, y, into: &points, skipped: &skipped) }
        case .bool, .array: skipped += 1
        }
    }

    /// Imports a JSON-lines history: one run.
    public func jsonl(_ p: [UInt8]) throws {
        var run = ImportedRun(name: name, project: project, source: source)
        let now = nowMs()
        try lines(p) { line, lineNo in
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            let v: JSONValue
            do { v = try JSONValue.parse(line: line) } catch let error as JSONSyntaxError {
                try session.bad("bad lines", "\(file): line \(lineNo): malformed JSON at column \(error.offset + 1): \(error.message)")
                return
            }
            guard case .object(let kv) = v else {
                try session.bad("bad lines", "\(file): line \(lineNo): expected a JSON object, got \(v.shown)")
                return
            }
            let step: Int64
            switch v["_step"] {
            case .number(_, let i?)?: step = i
            case .number(let d, nil)? where d.isFinite && d == d.rounded() && abs(d) < 9e18: step = Int64(d)
            case nil:
                try session.bad("bad lines", "\(file): line \(lineNo): \"_step\" is missing")
                return
            case let other?:
                try session.bad("bad lines", "\(file): line \(lineNo): \"_step\" must be an integer, got \(other.shown)")
                return
            }
            var time = now
            if case .number(let t, _)? = v["_timestamp"], t.isFinite, abs(t) < 9e15 {
                time = abs(t) >= 1e11 ? Int64(t.rounded()) : Int64((t * 1000).rounded())
            }
            var points: [(String, Double)] = []
            var skipped = 0
            for (k, x) in kv where !k.hasPrefix("_") { Self.historyValues(k, x, into: &points, skipped: &skipped) }
            session.summary.skip("non-numeric values", skipped)
            for (k, d) in points { run.add(k, step: step, value: d, time: time) }
        }
        try session.write(run)
    }

    /// Imports a CSV history: one run, or one per run of a chart export.
    public func csv(_ p: [UInt8]) throws {
        var columns: [(index: Int, run: String, metric: String)] = []
        var stepCol = -1, timeCol: Int?, width = 0
        var runs: [String: ImportedRun] = [:]
        var runOrder: [String] = []
        var chartExport = false
        try lines(p) { line, lineNo in
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            var fields: [String]
            do { fields = try splitCSV(line) } catch {
                try session.bad("bad lines", "\(file): line \(lineNo): \(error)")
                return
            }
            if stepCol < 0 {
                if let f = fields.first, f.hasPrefix("\u{FEFF}") { fields[0] = String(f.dropFirst()) }
                let names = fields.map { $0.trimmingCharactersSpaces() }
                guard let s = names.firstIndex(of: "_step") ?? names.firstIndex(of: "Step") ?? names.firstIndex(where: { $0.lowercased() == "step" })
                else {
                    throw InteropError("\(file): line 1: the CSV header has no _step or Step column")
                }
                stepCol = s
                width = names.count
                timeCol = names.firstIndex(of: "_timestamp")
                chartExport = names[s] == "Step" && names.contains { $0.contains(" - ") }
                for (i, n) in names.enumerated() where i != s && !n.isEmpty && !n.hasPrefix("_") {
                    if chartExport, let r = n.firstRange(of: " - ") {
                        let metric = String(n[r.upperBound...])
                        if metric.hasSuffix("__MIN") || metric.hasSuffix("__MAX") { continue }
                        columns.append((i, String(n[..<r.lowerBound]), metric))
                    } else {
                        columns.append((i, name, n))
                    }
                }
                if columns.isEmpty { throw InteropError("\(file): line 1: the CSV header has a step column but no metric columns") }
                let runNames = Set(columns.map(\.run))
                for c in columns where runs[c.run] == nil {
                    // A chart export names its runs in the columns; --run renames a single one.
                    let rn = chartExport && !(nameGiven && runNames.count == 1) ? c.run : name
                    runs[c.run] = ImportedRun(name: rn, project: project, source: source + (chartExport ? "#" + c.run : ""))
                    runOrder.append(c.run)
                }
                return
            }
            guard fields.count == width else {
                try session.bad("bad lines", "\(file): line \(lineNo): \(fields.count) fields, but the header has \(width)")
                return
            }
            let stepText = fields[stepCol].trimmingCharactersSpaces()
            if stepText.isEmpty { return }
            guard let step = stepValue(stepText) else {
                try session.bad("bad lines", "\(file): line \(lineNo): step must be an integer, got \(jsonString(stepText))")
                return
            }
            var time = nowMs()
            if let tc = timeCol, let t = timeMs(fields[tc], unit: .auto) { time = t }
            for c in columns {
                let cell = fields[c.index].trimmingCharactersSpaces()
                if cell.isEmpty { continue }
                guard let d = parseNumberText(cell) else { session.summary.skip("non-numeric values"); continue }
                runs[c.run]!.add(c.metric, step: step, value: d, time: time)
            }
        }
        if stepCol < 0 { throw InteropError("\(file): the file is empty") }
        for r in runOrder { try session.write(runs[r]!) }
    }
}

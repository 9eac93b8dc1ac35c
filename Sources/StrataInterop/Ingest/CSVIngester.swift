import Strata

/// Reads wide CSV (a step column and one column per metric) or long CSV
/// (`run,metric,step,value[,time][,labels][,run_id]`, as `strata export --format csv` writes it).
package final class CSVIngester {
    static let stepColumns = ["step", "_step", "global_step", "epoch", "iteration", "iter", "steps"]
    static let timeColumns = ["time", "_timestamp", "timestamp", "wall time", "wall_time", "walltime", "time_ms"]

    let book: RunBook
    let defaultRun: String?
    let timeUnit: TimeUnit
    package private(set) var points = 0

    private enum Layout {
        case wide(step: Int, time: Int?, run: Int?, metrics: [(Int, String)])
        case long(run: Int, metric: Int, step: Int, value: Int, time: Int?, labels: Int?, runID: Int?)
    }
    private var layout: Layout?
    private var columns = 0

    package init(book: RunBook, defaultRun: String?, timeUnit: TimeUnit) {
        self.book = book
        self.defaultRun = defaultRun
        self.timeUnit = timeUnit
    }

    /// Handles one line; throws without the line number (the caller adds it).
    package func handle(_ bytes: ArraySlice<UInt8>, lineNo: Int) throws {
        var blank = true
        for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0d) { blank = false; break }
        if blank { return }
        var fields = try splitCSV(bytes)
        if layout == nil {
            if lineNo == 1, let f = fields.first, f.hasPrefix("\u{FEFF}") { fields[0] = String(f.dropFirst()) }
            try header(fields)
            return
        }
        guard fields.count == columns else {
            throw InteropError("\(fields.count) fields, but the header has \(columns)")
        }
        switch layout! {
        case let .wide(stepCol, timeCol, runCol, metrics):
            let stepText = fields[stepCol]
            if stepText.trimmingCharactersSpaces().isEmpty { return }  // a row with no step (e.g. summary rows)
            guard let step = stepValue(stepText) else { throw InteropError("step must be an integer, got \(jsonString(stepText))") }
            let time =
                try timeCol.map { c -> Int64? in
                    let t = fields[c].trimmingCharactersSpaces()
                    if t.isEmpty { return nil }
                    guard let ms = timeMs(t, unit: timeUnit) else { throw InteropError("time must be a number, got \(jsonString(t))") }
                    return ms
                } ?? nil
            var values: [String: Double] = [:]
            for (c, name) in metrics {
                let cell = fields[c].trimmingCharactersSpaces()
                if cell.isEmpty { continue }
                guard let d = parseNumberText(cell) else {
                    throw InteropError("metric \(jsonString(name)) must be a number, got \(jsonString(cell))")
                }
                values[name] = d
            }
            let runName = runCol.map { fields[$0] } ?? defaultRun
            guard let runName, !runName.isEmpty else { throw InteropError("no run: wide CSV needs --run NAME (or a run column)") }
            if values.isEmpty { return }
            let run = try book.run(name: runName, id: nil, project: nil)
            try run.log(values, step: step, time: time)
            book.note(run, time: time)
            points += values.count
        case let .long(runCol, metricCol, stepCol, valueCol, timeCol, labelsCol, idCol):
            let runName = fields[runCol].isEmpty ? defaultRun : fields[runCol]
            guard let runName, !runName.isEmpty else { throw InteropError("run name is empty") }
            guard let step = stepValue(fields[stepCol]) else { throw InteropError("step must be an integer, got \(jsonString(fields[stepCol]))") }
            let cell = fields[valueCol].trimmingCharactersSpaces()
            if cell.isEmpty { return }
            guard let value = parseNumberText(cell) else { throw InteropError("value must be a number, got \(jsonString(cell))") }
            var time: Int64?
            if let tc = timeCol, !fields[tc].isEmpty {
                guard let t = timeMs(fields[tc], unit: timeUnit) else { throw InteropError("time must be a number, got \(jsonString(fields[tc]))") }
                time = t
            }
            var labels: [String: String] = [:]
            if let lc = labelsCol, !fields[lc].isEmpty {
                for part in fields[lc].split(separator: ";") {
                    let kv = part.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2 else { throw InteropError("labels must be key=value;key=value, got \(jsonString(fields[lc]))") }
                    labels[String(kv[0])] = String(kv[1])
                }
            }
            let id = idCol.map { fields[$0].trimmingCharactersSpaces() }.flatMap { $0.isEmpty ? nil : $0 }
            let run = try book.run(name: runName, id: id, project: nil)
            try run.log(fields[metricCol], value, step: step, time: time, labels: labels)
            book.note(run, time: time)
            points += 1
        }
    }

    private func header(_ fields: [String]) throws {
        columns = fields.count
        let names = fields.map { $0.trimmingCharactersSpaces().lowercased() }
        func col(_ n: String) -> Int? { names.firstIndex(of: n) }
        if let r = col("run"), let m = col("metric"), let s = col("step"), let v = col("value") {
            let t = col("time")
            let known = Set([r, m, s, v] + [t, col("labels"), col("run_id")].compactMap { $0 })
            if known.count == names.count {
                layout = .long(run: r, metric: m, step: s, value: v, time: t, labels: col("labels"), runID: col("run_id"))
                return
            }
        }
        guard let stepCol = Self.stepColumns.lazy.compactMap({ col($0) }).first else {
            throw InteropError(
                "CSV header has no step column (expected one of \(Self.stepColumns.joined(separator: ", ")), or long form run,metric,step,value[,time])"
            )
        }
        let timeCol = Self.timeColumns.lazy.compactMap { col($0) }.first
        let runCol = col("run") ?? col("run_name")
        var metrics: [(Int, String)] = []
        for (i, raw) in fields.enumerated() {
            let n = names[i]
            if i == stepCol || i == timeCol || i == runCol || n.isEmpty || n.hasPrefix("_") || Self.stepColumns.contains(n)
                || Self.timeColumns.contains(n)
            {
                continue
            }
            metrics.append((i, raw.trimmingCharactersSpaces()))
        }
        if metrics.isEmpty { throw InteropError("CSV header has a step column but no metric columns") }
        if runCol == nil, defaultRun == nil { throw InteropError("wide CSV needs --run NAME (or a run column)") }
        layout = .wide(step: stepCol, time: timeCol, run: runCol, metrics: metrics)
    }
}

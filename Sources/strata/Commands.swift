import ArgumentParser
import Strata
import StrataInterop
import StrataParquet

/// `metric` or `metric{k=v,k=v}` → name and labels (``Store/splitSeriesText(_:)``).
func parseSeriesSpec(_ spec: String) -> (String, [String: String]) { Store.splitSeriesText(spec) }

func lookupRun(_ store: Store, _ name: String) throws -> RunInfo {
    if name.isEmpty { throw CLIError("run name is empty") }
    let result = Result { () throws(StrataError) in try store.run(name) }
    switch result {
    case .success(let info): return info
    case .failure(let e) where e.code == .notFound:
        let names = Set(((try? store.runs()) ?? []).map(\.name)).sorted()
        let hint = Suggest.closest(to: name, in: names).map { "did you mean \($0)? " } ?? ""
        throw CLIError("no run named \(jsonString(name)) in store \(store.path) (\(hint)see `strata runs`)")
    case .failure(let e): throw e
    }
}

func seriesInfo(_ store: Store, _ run: RunInfo, _ spec: String, lineage: Lineage = .full) throws -> Store.SeriesInfo {
    let (metric, labels) = parseSeriesSpec(spec)
    let key = try SeriesKey(run: run.id, metric: metric, labels: labels)
    guard let s = try store.series(of: run.id, lineage: lineage).first(where: { $0.key == key }) else {
        let have = try store.series(of: run.id).map(\.key.canonical).sorted().prefix(8).joined(separator: ", ")
        throw CLIError("run \(jsonString(run.name)) has no metric \(jsonString(spec)) (it has: \(have.isEmpty ? "no metrics" : have))")
    }
    return s
}

// MARK: log

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log one step of metrics from a shell script.",
        discussion: "Example: strata log baseline --step 100 train/loss=0.42 lr=3e-4")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Option(help: "Step (an integer).") var step: Int64
    @Argument(help: "metric=value pairs (NaN, Infinity, -Infinity allowed).") var values: [String] = []
    @Option(help: "Wall time in milliseconds since 1970 (default: now).") var time: Int64?
    @Option(name: .customLong("label"), help: "Context label key=value (repeatable).") var labels: [String] = []
    @Flag(help: "Create the run when no run has this name.") var create = false

    func run() throws {
        if runName.isEmpty { throw CLIError("run name is empty", exitCode: 2) }
        if values.isEmpty {
            throw CLIError("nothing to log: give metric=value pairs, e.g. `strata log \(runName) --step \(step) loss=0.5`", exitCode: 2)
        }
        var metrics: [String: Double] = [:]
        for pair in values {
            guard let eq = pair.firstIndex(of: "=") else { throw CLIError("\(jsonString(pair)) is not metric=value", exitCode: 2) }
            let name = String(pair[..<eq]), text = String(pair[pair.index(after: eq)...])
            guard let v = parseNumberText(text) else { throw CLIError("\(jsonString(name)): \(jsonString(text)) is not a number", exitCode: 2) }
            metrics[name] = v
        }
        var labelMap: [String: String] = [:]
        for l in labels {
            let kv = l.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw CLIError("--label \(jsonString(l)) is not key=value", exitCode: 2) }
            labelMap[String(kv[0])] = String(kv[1])
        }
        let store = create ? try global.openForWriting() : try global.openForReading()
        defer { try? store.close() }
        let handle: Run
        if let info = try? store.run(runName), info.name == runName || info.id.text == runName.uppercased() {
            handle = try store.resumeRun(info.id.text)
        } else if create {
            handle = try store.openRun(name: runName).run
        } else {
            throw CLIError("no run named \(jsonString(runName)) in store \(store.path) (add --create to create it)")
        }
        if labelMap.isEmpty {
            try handle.log(metrics, step: step, time: time)
        } else {
            for k in metrics.keys { _ = try SeriesKey(run: handle.id, metric: k, labels: labelMap) }
            let t = time ?? nowMs()
            for (k, v) in metrics { try handle.log(k, v, step: step, time: t, labels: labelMap) }
        }
        try store.close()
    }
}

// MARK: runs

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List runs with params and metric summaries.",
        discussion: """
            Keys (for --where, --sort, --columns): name, id, project, status, created, ended, tags, parent, \
            params.KEY, meta.KEY, and METRIC.AGG with AGG one of count, nans, min, max, mean, std, first, \
            last, first_step, last_step, min_step, max_step (e.g. train/loss.min). The filter language of \
            --where is in docs/FILTERS.md.

            Example: strata runs --where 'params.lr < 1e-3' --sort -train/loss.min
            Example: strata runs --where 'tags has "baseline"' --columns name,id
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("where"), help: "Filter expression.") var filter: String?
    // `.unconditional`: the value may start with `-` (`--sort -val/loss.min`, `--limit -1`).
    @Option(parsing: .unconditional, help: "Sort key (prefix - for descending).") var sort: String?
    @Option(parsing: .unconditional, help: "At most N runs.") var limit: Int?
    @Option(help: "Comma-separated column keys.") var columns: String?
    @Flag(help: "JSON output (one array; NaN and Infinity as bare tokens).") var json = false
    @Option(help: "Metric columns, sorts and filters of a forked run: full (through its ancestors; the default) or own.")
    var lineage: Lineage = .full

    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        if let limit, limit < 1 { throw CLIError("--limit must be a positive integer, got \(limit)", exitCode: 2) }
        // The first page of an unfiltered, unsorted listing reads only its runs.
        let firstPage = filter == nil && sort == nil && limit != nil
        // A page sorted by a metric statistic ranks the matching runs by that series alone and
        // decodes only the page's runs (`--columns` checks its keys against every row: not here).
        let ranked =
            try sort != nil && limit != nil && columns == nil
            ? RunRow.topByMetric(store, where: filter, sort: sort!, limit: limit!, lineage: lineage) : nil
        // So does the first page of a filtered, unsorted listing: runs that match are tested, but
        // only the page's runs are decoded.
        let filteredPage = filter != nil && sort == nil && limit != nil
        var rows =
            try ranked
            ?? (firstPage || filteredPage
                ? store.runs(where: Lib.filter(filter), limit: limit!, lineage: lineage).map { RunRow(info: $0, store: store, lineage: lineage) }
                : Lib.runs(store, where: filter, lineage: lineage))
        var everyRun: [RunRow]?
        let allRows = { () throws -> [RunRow] in
            if let everyRun { return everyRun }
            let all = filter == nil && !firstPage ? rows : try Lib.runs(store, where: nil, lineage: lineage)
            everyRun = all
            return all
        }
        let columnKeys = columns.map { $0.split(separator: ",").map { $0.trimmingCharactersSpaces() } }
        if let sort, ranked == nil {
            let key = sort.hasPrefix("-") ? String(sort.dropFirst()) : sort
            // A metric key reads that one series of every row: in one library call, not one per row.
            if let (metric, _) = RunRow.metricKey(key), !key.hasPrefix("params."), !key.hasPrefix("meta.") {
                RunRow.loadMetric(rows, metric, store: store)
            }
            try RunRow.checkKey(key, option: "--sort", rows: rows, allRows: allRows)
        }
        for k in columnKeys ?? [] { try RunRow.checkKey(k, option: "--columns", rows: rows, allRows: allRows) }
        if let sort, ranked == nil {
            let desc = sort.hasPrefix("-")
            let key = desc ? String(sort.dropFirst()) : sort
            let keyed = rows.map { ($0, $0.value(key)) }
            rows = keyed.sorted { a, b in RunRow.sortsBefore(a.1, b.1, descending: desc) }.map(\.0)
        }
        if let limit { rows = Array(rows.prefix(limit)) }
        let out = Output()
        if json {
            out.line("[")
            for (i, r) in rows.enumerated() { out.line("  " + runJSON(r) + (i + 1 < rows.count ? "," : "")) }
            out.line("]")
            return
        }
        let keys: [String]
        if let columnKeys {
            keys = columnKeys
        } else {
            var paramKeys: [String] = []
            for r in rows { for k in r.info.params.keys.sorted() where !paramKeys.contains(k) { paramKeys.append(k) } }
            var metricKeys: [String] = []
            for r in rows.prefix(200) { for s in r.series where !metricKeys.contains(s.key.canonical) { metricKeys.append(s.key.canonical) } }
            keys =
                ["name", "id", "status", "created"] + paramKeys.prefix(6).map { "params." + $0 }
                + metricKeys.sorted().prefix(4).map { $0 + ".last" }
        }
        if rows.isEmpty { warn("no runs" + (filter != nil ? " match --where" : "") + " in store \(store.path)"); return }
        let header = keys.map { k -> String in
            if k.hasPrefix("params.") { return String(k.dropFirst(7)) }
            if k.hasPrefix("meta.") { return String(k.dropFirst(5)) }
            return k
        }
        let table = rows.map { r in
            keys.map { k in
                if k == "id" { return String(r.info.id.text.suffix(10)) }
                return r.value(k)?.display ?? "-"
            }
        }
        for l in renderTable(header: header, rows: table) { out.line(l) }
    }
}

func runJSON(_ r: RunRow) -> String {
    let i = r.info
    var s = "{\"id\": \(jsonString(i.id.text)), \"name\": \(jsonString(i.name)), \"project\": \(jsonString(i.project)), "
    s += "\"status\": \(jsonString(i.status.rawValue)), \"created\": \(i.createdMs), \"ended\": \(i.endedMs.map { String($0) } ?? "null"), "
    s += "\"parent\": \(i.parent.map { jsonString($0.text) } ?? "null"), "
    s += "\"fork_step\": \(i.forkStep.map { String($0) } ?? "null"), "
    s += "\"params\": \(jsonObject(i.params)), \"tags\": [\(i.tags.sorted().map(jsonString).joined(separator: ", "))], "
    s += "\"meta\": \(jsonObject(i.metadata)), \"metrics\": {"
    s += r.series.map { x in
        "\(jsonString(x.key.canonical)): {\"count\": \(x.count), \"first_step\": \(x.firstStep), \"last_step\": \(x.lastStep), \"last\": \(fmt(x.lastValue)), \"min\": \(fmt(x.min)), \"max\": \(fmt(x.max)), \"nan\": \(x.nanCount)}"
    }.joined(separator: ", ")
    return s + "}}"
}

// MARK: show

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything about one run: params, tags, metadata, status, lineage, series, reproduction recipe.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let info = try lookupRun(store, runName)
        let row = RunRow(info: info, store: store)
        let out = Output()
        if json { out.line(runJSON(row)); return }
        out.sanitise = true
        out.line("run       \(info.name)")
        out.line("id        \(info.id.text)")
        out.line("project   \(info.project)")
        var st = "status    \(info.status.rawValue)   created \(formatTime(info.createdMs))"
        if let e = info.endedMs { st += "   ended \(formatTime(e)) (\(durationText(from: info.createdMs, to: e)))" }
        out.line(st)
        showLineage(store, info, out)
        for r in info.rewinds { out.line("rewound   to step \(r.step)") }
        out.line("tags      \(info.tags.isEmpty ? "-" : info.tags.sorted().joined(separator: ", "))")
        func section(_ title: String, _ kv: [String: ParamValue]) {
            out.line(title + (kv.isEmpty ? "  -" : ""))
            let w = min(40, kv.keys.map(\.count).max() ?? 0)
            for k in kv.keys.sorted() { out.line("  " + pad(k, w) + "  " + paramText(kv[k]!)) }
        }
        section("params", info.params)
        section("metadata", info.metadata)
        showManagement(info, out)  // artifacts, deployments, history (ManageCommands.swift)
        let series = row.series
        out.line("series" + (series.isEmpty ? "  -" : ""))
        if !series.isEmpty {
            let rows = series.map { s in
                [
                    s.key.canonical, String(s.count), "\(s.firstStep)..\(s.lastStep)", short(s.lastValue), s.extremeText(s.min), s.extremeText(s.max),
                    s.nanCount > 0 ? String(s.nanCount) : ""
                ]
            }
            for l in renderTable(header: ["metric", "count", "steps", "last", "min", "max", "NaN"], rows: rows, maxWidth: 60) { out.line("  " + l) }
        }
        out.line("reproduce")
        let m = info.metadata
        if let c = m["git.commit"] {
            var line = "  git checkout \(c)"
            if case .bool(true)? = m["git.dirty"] { line += "   # the working tree had uncommitted changes" }
            out.line(line)
        } else {
            out.line("  (no git commit recorded: set meta git.commit)")
        }
        if let cmd = m["command"] { out.line("  \(cmd)") }
        if let e = m["env.fingerprint"] { out.line("  environment: \(e)") }
        let seeds = m.keys.filter { $0.hasPrefix("seed") }.sorted()
        if !seeds.isEmpty { out.line("  seeds: " + seeds.map { "\($0)=\(paramText(m[$0]!))" }.joined(separator: " ")) }
        let data = m.keys.filter { $0.hasPrefix("dataset.") }.sorted()
        if !data.isEmpty { out.line("  datasets: " + data.map { "\($0.dropFirst(8))=\(paramText(m[$0]!))" }.joined(separator: " ")) }
        if let h = m["host"] { out.line("  host: \(h)") }
        if let p = m["purpose"] { out.line("  purpose: \(p)") }
    }
}

/// The duration from `start` to `end` (ms) as text, exact for any two times (the difference may
/// exceed Int64.max; an end before the start is shown with a minus sign).
func durationText(from start: Int64, to end: Int64) -> String {
    let negative = end < start
    let ms = negative ? UInt64(bitPattern: start &- end) : UInt64(bitPattern: end &- start)
    let s = ms / 1000
    let sign = negative ? "-" : ""
    if s < 60 { return "\(sign)\(s)s" }
    if s < 3600 { return "\(sign)\(s / 60)m\(s % 60)s" }
    return "\(sign)\(s / 3600)h\((s % 3600) / 60)m"
}

// MARK: export

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every point at full resolution, ordered by run, metric and step (JSON lines, CSV or Parquet).",
        discussion: """
            JSONL lines read back with `strata ingest`; CSV (run,metric,step,value,time,labels,run_id) with \
            `strata ingest --format csv`. Parquet (--format parquet --out DIR): a Hive-partitioned dataset \
            DIR/points/project=<p>/part-NNNNN.parquet and DIR/runs/project=<p>/part-00000.parquet (and \
            DIR/artifacts/…, DIR/deployments/… when runs have them), schema in docs/EXPORT.md; read back with \
            `strata import parquet DIR`.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, csv, parquet }

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Only this run (name or id; repeatable).") var runNames: [String] = []
    @Option(help: "Only this metric (repeatable).") var metric: [String] = []
    @Option(name: .customLong("where"), help: "Only runs matching this filter (docs/FILTERS.md).") var filter: String?
    @Option(help: "jsonl, csv or parquet.") var format: Format = .jsonl
    @Option(help: "Output directory of a Parquet export (new or empty).") var out: String?
    @Option(help: "Parquet page codec: zstd (default), lz4_raw, snappy or uncompressed.") var compression: String = "zstd"

    func validate() throws {
        if format == .parquet && out == nil { throw ValidationError("--format parquet needs --out DIR (a dataset directory)") }
        if format != .parquet && out != nil { throw ValidationError("--out is for --format parquet (JSON lines and CSV go to stdout)") }
        if format == .parquet,
            ParquetCompression(rawValue: compression).map({ [.zstd, .lz4Raw, .snappy, .uncompressed].contains($0) }) != true
        {
            throw ValidationError("--compression must be zstd, lz4_raw, snappy or uncompressed, got \(jsonString(compression))")
        }
    }

    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        var runs = try runNames.isEmpty ? store.runs() : runNames.map { try lookupRun(store, $0) }
        if filter != nil {
            let matching = Set(try Lib.runs(store, where: filter).map(\.info.id))
            runs = runs.filter { matching.contains($0.id) }
        }
        let wanted = Set(metric)
        if !wanted.isEmpty {
            // A metric no selected run has is a typo, not an empty export.
            var have = Set<String>()
            for info in runs { for s in try store.series(of: info.id) { have.insert(s.key.metric); have.insert(s.key.canonical) } }
            for m in metric where !have.contains(m) {
                let hint = Suggest.closest(to: m, in: have.sorted()).map { " (did you mean \($0)?)" } ?? ""
                throw CLIError("--metric \(jsonString(m)): no \(runNames.isEmpty ? "run" : "selected run") has this metric\(hint)", exitCode: 2)
            }
        }
        var damaged: [DamagedRange]
        if format == .parquet {
            damaged = try exportParquet(store, runs, wanted)
        } else {
            damaged = try store.unreadableFiles()
            try exportText(store, runs, wanted, &damaged)
        }
        if !damaged.isEmpty {
            for d in damaged { warn("strata: damaged, not exported: \(d)") }
            let points = damaged.compactMap(\.points).reduce(0, +)
            throw CLIError(
                "export of store \(store.path) is incomplete: \(damaged.count) damaged range(s)"
                    + (points > 0 ? " (\(withCommas(points)) points)" : "") + " left out (listed above); everything else was exported")
        }
    }

    /// The Parquet dataset (StrataInterop's ParquetExport does the work); returns the damage met.
    private func exportParquet(_ store: Store, _ runs: [RunInfo], _ wanted: Set<String>) throws -> [DamagedRange] {
        let started = monotonicMs()
        var options = ParquetExportOptions()
        options.metrics = wanted
        options.compression = ParquetCompression(rawValue: compression)!
        let export = try ParquetExport(store: store, runs: runs, options: options)
        let line = ProgressLine()
        if line.enabled {
            export.progress = { done, total in
                line.update("exporting: \(withCommas(done)) of \(withCommas(total)) points (\(total > 0 ? done * 100 / total : 100)%)")
            }
        }
        let summary: ParquetExportSummary
        do { summary = try export.writeDataset(to: out!) } catch {
            line.clear()
            throw CLIError("parquet export to \(out!) failed: \(error)")
        }
        line.clear()
        let seconds = Double(monotonicMs() - started) / 1000
        warn(
            "exported \(summary.runs) run\(summary.runs == 1 ? "" : "s") and \(withCommas(summary.points)) points to \(out!): "
                + "\(summary.files.count) files, \(withCommas(summary.bytes)) bytes" + cformat(", %.2f s", seconds))
        return summary.damaged
    }

    /// JSON lines or CSV on stdout. Damage does not stop an export: what is readable is written,
    /// each damaged range is reported on stderr, and the exit status says the export is incomplete.
    private func exportText(_ store: Store, _ runs: [RunInfo], _ wanted: Set<String>, _ damaged: inout [DamagedRange]) throws {
        let out = Output()
        let rowFormat: PointFormat = format == .csv ? .csv : .jsonl
        if let header = rowFormat.header { out.line(header) }
        for info in runs {
            let series = try store.series(of: info.id).filter {
                wanted.isEmpty || wanted.contains($0.key.metric) || wanted.contains($0.key.canonical)
            }
            .sorted { $0.key.canonical < $1.key.canonical }
            for s in series {
                let rows = PointRows(format: rowFormat, run: info, key: s.key)
                // Streamed a block (≤ 4,096 points) at a time: memory does not grow with the series.
                try store.scanPoints(s.key, skippingDamage: &damaged) { steps, values, times in
                    for i in 0..<steps.count { rows.write(step: steps[i], value: values[i], time: times[i], out.write) }
                }
            }
        }
        out.flush()
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

// MARK: stats, verify, compact, rewind

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Runs, series, points, bytes on disk and bytes per point per codec.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Also every byte of the store by structure (columns, tiers, chunk headers, directories, catalog, other files).")
    var structure = false

    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let st = try store.storageStats()
        let runs = try store.runs()
        var byStatus: [String: Int] = [:]
        for r in runs { byStatus[r.status.rawValue, default: 0] += 1 }
        let out = Output()
        out.line("store        \(store.path)")
        out.line(
            "runs         \(withCommas(st.runs))"
                + (byStatus.isEmpty ? "" : "  (" + byStatus.keys.sorted().map { "\(byStatus[$0]!) \($0)" }.joined(separator: ", ") + ")"))
        out.line("series       \(withCommas(st.series))")
        out.line("points       \(withCommas(st.points))")
        out.line("segments     \(withCommas(st.segments)) (\(withCommas(st.chunks)) chunks)")
        out.line("bytes        \(humanBytes(st.fileBytes)) on disk (write-ahead logs of live writers included)")
        if st.points > 0 {
            let bpp = cformat("%.2f", Double(st.fileBytes) / Double(st.points))
            out.line("bytes/point  \(bpp) overall")
        }
        if st.tierBytes > 0 { out.line("tiers        \(humanBytes(st.tierBytes))") }
        if st.sharedColumnBytes > 0 {
            out.line("shared       \(humanBytes(st.sharedColumnBytes)) of step/time columns shared by metrics logged together")
        }
        if structure {
            out.line("")
            let points = Double(max(1, st.points))
            let rows = st.structure.map { p -> [String] in [p.group, p.name, withCommas(p.bytes), cformat("%.3f", Double(p.bytes) / points)] }
            for l in renderTable(header: ["group", "part", "bytes", "bytes/point"], rows: rows) { out.line(l) }
            let c = st.catalog
            if c.runs > 0 {
                out.line(
                    "catalog      \(cformat("%.1f", c.checkpointOverheadPerRun)) bytes a run beyond params and tags in catalog.ckpt, "
                        + "\(cformat("%.1f", c.overheadPerRun)) with catalog.log")
            }
        }
        if !st.codecs.isEmpty {
            out.line("")
            let rows = st.codecs.sorted { ($0.column, -$0.bytes) < ($1.column, -$1.bytes) }.map { c -> [String] in
                [
                    c.column, c.codec, withCommas(c.values), withCommas(c.bytes),
                    c.values > 0 ? cformat("%.3f", Double(c.bytes) / Double(c.values)) : "-"
                ]
            }
            for l in renderTable(header: ["column", "codec", "values", "bytes", "bytes/value"], rows: rows) { out.line(l) }
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check every checksum and decode every column; exit 1 when anything is damaged.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let r = try store.verify()
        let out = Output()
        for p in r.problems { out.line("damaged: \(p)") }
        let replaced = r.replacedSegments > 0 ? " (and \(r.replacedSegments) replaced by compaction, awaiting deletion)" : ""
        out.line(
            "verified \(r.segments) segments\(replaced), \(withCommas(r.chunks)) chunks, \(withCommas(r.points)) points, \(r.logs) logs: "
                + (r.isHealthy ? "OK" : "\(r.problems.count) problems"))
        out.flush()
        if !r.isHealthy { throw CLIError("store \(store.path) has \(r.problems.count) damaged items (listed above)") }
    }
}

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Merge small segments and build coarse tiers.")
    @OptionGroup var global: GlobalOptions
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        print(try Lib.compact(store))
    }
}

struct Rewind: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hide a run's points after STEP (resuming from a checkpoint).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Option(help: "Last step to keep.") var to: Int64
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let info = try lookupRun(store, runName)
        try Lib.rewind(store, run: info, to: to)
        // The status is not changed (docs/CLI.md): say what it is and what changes it.
        var status = "status \(info.status.rawValue)"
        if let e = info.endedMs { status += ", ended \(formatTime(e))" }
        print("rewound \(runName) to step \(to); \(status) unchanged (logging to the run resumes it as running)")
    }
}

// MARK: curve

struct Curve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A curve of N buckets over a step range: per bucket count, min, mean, max, last (exact).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "Metric (metric or metric{key=value}).") var metric: String
    @Option(help: "First step (inclusive; default the first step).") var from: Int64?
    @Option(help: "Last step (exclusive; default after the last step).") var to: Int64?
    @Option(help: "Number of buckets.") var buckets: Int = 20
    @Option(help: "Quantiles per bucket, each in (0, 1), e.g. 0.5,0.9,0.99 (from chunk sketches, within 0.99 %).")
    var quantiles: String?
    @Flag(help: "With --quantiles: read every point and give exact order statistics.") var exact = false
    @Flag(help: "JSON lines output, one bucket a line.") var json = false
    @Option(help: "For a forked run: full (its ancestors' points up to the fork step, then its own; the default) or own.")
    var lineage: Lineage = .full

    func run() throws {
        let levels = try Curve.parseQuantiles(quantiles)
        if exact && levels.isEmpty { throw CLIError("--exact goes with --quantiles", exitCode: 2) }
        let store = try global.openForReading()
        defer { try? store.close() }
        try checkBucketOption(buckets)
        let info = try lookupRun(store, runName)
        let s = try seriesInfo(store, info, metric, lineage: lineage)
        let lo = from ?? s.firstStep
        // The range is [from, to); without --to it ends at the last step, Int64.max included.
        let last =
            try to.map { t throws in
                guard t > .min else { throw CLIError("empty step range: --to \(t) leaves no step", exitCode: 2) }
                return t - 1
            } ?? s.lastStep
        guard lo <= last else { throw CLIError("empty step range: --from \(lo) must be below --to \(Buckets.exclusiveText(last))", exitCode: 2) }
        let (m, labels) = parseSeriesSpec(metric)
        let rows =
            levels.isEmpty
            ? try store.curve(info.id, m, labels: labels, steps: lo...last, buckets: buckets, lineage: lineage)
            : try store.curve(info.id, m, labels: labels, steps: lo...last, buckets: buckets, quantiles: levels, exact: exact, lineage: lineage)
        let names = levels.map(Quantile.name)
        let out = Output()
        if json {
            for r in rows {
                let st = r.stats
                var l = "{\"bucket\": \(r.bucket), \"from\": \(r.range.lowerBound), \"to\": \(Buckets.exclusiveText(r.range.upperBound)), "
                l += "\"count\": \(st.count), \"nan\": \(st.nanCount), \"min\": \(fmt(st.min)), \"max\": \(fmt(st.max)), "
                l += "\"mean\": \(fmt(st.mean)), \"first\": \(fmt(st.first)), \"last\": \(fmt(st.last)), "
                l += "\"first_step\": \(st.firstStep), \"last_step\": \(st.lastStep)"
                if !levels.isEmpty {
                    l += ", \"quantiles\": {" + zip(names, r.quantiles).map { "\"\($0)\": \(fmt($1))" }.joined(separator: ", ") + "}"
                    l += ", \"quantiles_exact\": \(r.quantilesExact)"
                }
                out.line(l + "}")
            }
            return
        }
        let table = rows.map { (r: CurveBucket) -> [String] in
            let st = r.stats
            // min, mean and max are over the values other than NaN: the NaN column says how many are left out.
            return [
                "\(st.firstStep)..\(st.lastStep)", String(st.count), String(st.nanCount),
                short(st.min), short(st.mean), short(st.max), short(st.last)
            ] + r.quantiles.map { $0.isNaN ? "-" : short($0) }
        }
        // Buckets without points print no row: the header says how many of the N hold points.
        let held = rows.count == buckets ? "in \(buckets) buckets" : "\(rows.count) of \(buckets) buckets hold points"
        out.line("\(info.name) \(metric), steps \(lo)..<\(Buckets.exclusiveText(last)), \(held)")
        if !levels.isEmpty {
            out.line(
                rows.allSatisfy(\.quantilesExact)
                    ? "quantiles: exact" : "quantiles: from chunk sketches, within 0.99 % of the exact value (--exact for exact)")
        }
        for l in renderTable(header: ["steps", "count", "NaN", "min", "mean", "max", "last"] + names, rows: table) { out.line(l) }
    }

    /// `0.5,0.9,0.99` (or `p50,p90,p99`) → quantiles; a usage error (exit 2) for one outside (0, 1).
    static func parseQuantiles(_ text: String?) throws -> [Double] {
        guard let text else { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count > Quantile.maxCount { throw CLIError("--quantiles: at most \(Quantile.maxCount) quantiles, got \(parts.count)", exitCode: 2) }
        return try parts.map { p in
            if let q = Quantile.parseName(p) { return q }
            guard let q = Double(p), q.isFinite else {
                throw CLIError("--quantiles: \(jsonString(p)) is not a quantile (write 0.5,0.9,0.99 or p50,p90,p99)", exitCode: 2)
            }
            guard Quantile.isValid(q) else { throw CLIError("--quantiles: \(p) is outside (0, 1) (write p99 as 0.99)", exitCode: 2) }
            return q
        }
    }
}

import ArgumentParser
import Strata

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `strata import tensorboard|mlflow|wandb`: bring runs over from another tracker.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import runs from TensorBoard event files, an MLflow mlruns directory or a W&B history export.",
        discussion: "Each source run becomes one Strata run; its points are written series by series. See docs/CLI.md.",
        subcommands: [ImportTensorBoard.self, ImportMLflow.self, ImportWandb.self])
}

/// Options every importer takes.
struct ImportOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Count and skip damaged records, bad lines and unusable series instead of stopping at the first one.")
    var skipBad = false
    @Flag(help: "Import runs again even when the store already holds a run imported from the same source.")
    var again = false
}

/// A series collected in memory before it is written with one bulk `Run.append`.
struct SeriesBuffer {
    var steps: [Int64] = []
    var values: [Double] = []
    var times: [Int64] = []

    mutating func add(step: Int64, value: Double, time: Int64) {
        steps.append(step); values.append(value); times.append(time)
    }
    var count: Int { steps.count }
}

/// One run ready to be written.
struct ImportedRun {
    var name: String
    var project: String
    /// Identifies the source run (kept as metadata `import.source`): a run already imported from the
    /// same source is skipped unless `--again`.
    var source: String
    var params: [String: ParamValue] = [:]
    var metadata: [String: ParamValue] = [:]
    var tags: Set<String> = []
    /// Series in the order they were first seen.
    var order: [String] = []
    var series: [String: SeriesBuffer] = [:]
    var status: RunStatus = .finished
    var parent: RunID?
    /// When the source run began and ended (ms); default: its first and last point times.
    var createdMs: Int64?
    var endedMs: Int64?

    init(name: String, project: String, source: String) {
        self.name = name
        self.project = project
        self.source = source
    }

    mutating func add(_ metric: String, step: Int64, value: Double, time: Int64) {
        if series[metric] == nil { order.append(metric); series[metric] = SeriesBuffer() }
        series[metric]!.add(step: step, value: value, time: time)
    }

    var points: Int { series.values.reduce(0) { $0 + $1.count } }
}

/// What an import did; printed as the summary line.
struct ImportSummary {
    var runs = 0
    var series = 0
    var points = 0
    var alreadyImported = 0
    /// Skipped items by reason ("non-scalar values", "damaged records", ...), in first-seen order.
    var skipped: [(String, Int)] = []
    var firstBad: String?

    mutating func skip(_ reason: String, _ n: Int = 1) {
        if n == 0 { return }
        if let i = skipped.firstIndex(where: { $0.0 == reason }) { skipped[i].1 += n } else { skipped.append((reason, n)) }
    }
    var skippedTotal: Int { skipped.reduce(0) { $0 + $1.1 } }
}

/// A progress line on stderr (only when stderr is a terminal), redrawn at most every 100 ms.
final class ProgressLine {
    let enabled: Bool
    private var last: Int64 = 0
    private var shown = false

    init() { enabled = isTerminal(2) && getenv("STRATA_NO_PROGRESS") == nil }

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = monotonicMs()
        if !force && now - last < 100 { return }
        last = now
        var t = text()
        let width = terminalWidth() - 1
        if t.count > width { t = String(t.prefix(max(10, width - 1))) + "…" }
        writeErr("\r\u{1B}[K" + t)
        shown = true
    }

    func clear() {
        if shown { writeErr("\r\u{1B}[K"); shown = false }
    }

    private func writeErr(_ s: String) {
        var s = s
        s.withUTF8 { p in _ = Glibc.write(2, p.baseAddress!, p.count) }
    }
}

/// Shared machinery of the importers: the store, the summary, the progress line, `--skip-bad`.
final class ImportSession {
    let store: Store
    let options: ImportOptions
    let kind: String
    var summary = ImportSummary()
    let progress = ProgressLine()
    private let started = monotonicMs()
    /// Sources of the runs in the store (metadata `import.source`) and the runs imported from them.
    private(set) var importedSources: [String: RunID] = [:]

    init(kind: String, options: ImportOptions) throws {
        self.kind = kind
        self.options = options
        store = try options.global.openForWriting()
        for info in try store.runs() {
            if case .string(let s)? = info.metadata["import.source"] { importedSources[s] = info.id }
        }
    }

    /// Under `--skip-bad` counts the problem under `reason` and returns; otherwise throws it.
    func bad(_ reason: String, _ message: String) throws {
        if !options.skipBad { throw CLIError(message + " (--skip-bad skips and counts such \(reason))") }
        summary.skip(reason)
        if summary.firstBad == nil { summary.firstBad = message }
    }

    /// True when a run from this source is in the store already (and `--again` was not given).
    func alreadyImported(_ source: String) -> Bool {
        if !options.again, importedSources[source] != nil {
            summary.alreadyImported += 1
            return true
        }
        return false
    }

    /// Creates the run and writes every series with one bulk append each. Returns the run id.
    @discardableResult
    func write(_ r: ImportedRun) throws -> RunID? {
        if alreadyImported(r.source) { return nil }
        // Check every metric name first, so a bad name does not leave half a run behind.
        let probe = RunID.generate()
        var names: [String] = []
        for m in r.order {
            do { _ = try SeriesKey(run: probe, metric: m) } catch {
                try bad("series", "run \(jsonString(r.name)): \(error.description)")
                continue
            }
            names.append(m)
        }
        var meta = r.metadata
        meta["import.source"] = .string(r.source)
        var first = Int64.max, last = Int64.min
        for m in names { for t in r.series[m]!.times { first = min(first, t); last = max(last, t) } }
        let created = r.createdMs ?? (first == .max ? nil : first)
        var ended = r.endedMs ?? (last == .min ? nil : last)
        if let c = created, let e = ended, e < c { ended = c }
        let run = try store.createRun(name: r.name, project: r.project, params: r.params, tags: r.tags,
                                      metadata: meta, parent: r.parent, createdMs: created)
        for m in names {
            let s = r.series[m]!
            try run.append(m, steps: s.steps, values: s.values, times: s.times)
            summary.series += 1
            summary.points += s.count
        }
        try run.finish(r.status, endedMs: ended)
        summary.runs += 1
        importedSources[r.source] = run.id
        return run.id
    }

    /// Closes the store (whatever happened before), then prints the summary or rethrows `failure`.
    func finish(failure: Error?) throws {
        progress.clear()
        var failure = failure
        do { try store.close() } catch { if failure == nil { failure = error } }
        if let failure {
            if summary.runs > 0, let e = failure as? CLIError {
                throw CLIError(e.message + "; \(summary.runs) run\(summary.runs == 1 ? "" : "s") imported before it are kept", exitCode: e.exitCode)
            }
            throw failure
        }
        let seconds = Double(monotonicMs() - started) / 1000
        var s = "imported \(summary.runs) run\(summary.runs == 1 ? "" : "s") from \(kind): \(withCommas(summary.series)) series, "
            + "\(withCommas(summary.points)) points, skipped \(withCommas(summary.skippedTotal))"
        if !summary.skipped.isEmpty {
            s += " (" + summary.skipped.map { "\(withCommas($0.1)) \($0.0)" }.joined(separator: ", ") + ")"
        }
        s += cformat(", %.2f s", seconds)
        if summary.alreadyImported > 0 {
            s += "; \(summary.alreadyImported) run\(summary.alreadyImported == 1 ? " was" : "s were") imported before and left alone (--again imports again)"
        }
        if let first = summary.firstBad { s += "; first problem: \(first)" }
        warn(s)
    }
}

// MARK: files

enum FileKind { case file, directory, other }

func fileKind(_ path: String) -> FileKind? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    default: return .other
    }
}

/// Names in a directory (without `.` and `..`), sorted.
func listDirectory(_ path: String) throws -> [String] {
    guard let d = opendir(path) else { throw CLIError("cannot read directory \(path): \(String(cString: strerror(errno)))") }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        names.append(name)
    }
    return names.sorted()
}

/// The whole file.
func readWholeFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    if fd < 0 { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    _ = fstat(fd, &st)
    var out: [UInt8] = []
    out.reserveCapacity(Int(st.st_size) + 1)
    var buf = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

func readTextFile(_ path: String) throws -> String {
    String(decoding: try readWholeFile(path), as: UTF8.self)
}

/// The absolute, symlink-free path (or the path itself when that fails).
func realPath(_ path: String) -> String {
    guard let p = realpath(path, nil) else { return path }
    defer { free(p) }
    return String(cString: p)
}

func baseName(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1, p.last == "/" { p.removeLast() }
    if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
    return String(p)
}

func joinPath(_ a: String, _ b: String) -> String {
    if a.isEmpty { return b }
    return a.hasSuffix("/") ? a + b : a + "/" + b
}

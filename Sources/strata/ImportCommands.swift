import ArgumentParser
import Strata
import StrataInterop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The `strata import` commands: arguments, progress on the terminal and the summary line. The
// reading of other trackers' files is in StrataInterop (`Import/`).

/// `strata import tensorboard|mlflow|wandb`: bring runs over from another tracker.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import runs from TensorBoard event files, MLflow (mlflow.db or mlruns), W&B (run directories or a history export) or Parquet.",
        discussion: "Each source run becomes one Strata run; its points are written series by series. See docs/CLI.md.",
        subcommands: [ImportTensorBoard.self, ImportMLflow.self, ImportWandb.self, ImportParquet.self])
}

/// Options every importer takes.
struct ImportOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Count and skip damaged records, bad lines and unusable series instead of stopping at the first one.")
    var skipBad = false
    @Flag(help: "Import runs again even when the store already holds a run imported from the same source.")
    var again = false

    /// Opens the store and starts an import session that draws progress on a terminal.
    func session() throws -> (ImportSession, ProgressLine) {
        let session = try ImportSession(store: try global.openForWriting(), skipBad: skipBad, again: again)
        let line = ProgressLine()
        if line.enabled { session.progress = { text, force in line.update(text(), force: force) } }
        return (session, line)
    }
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
        try? Sys.writeAll(2, Array(s.utf8), "standard error")
    }
}

/// Runs an import: closes the store (whatever happened), then prints the summary or rethrows the failure.
func runImport(kind: String, options: ImportOptions, _ body: (ImportSession) throws -> Void) throws {
    let started = monotonicMs()
    let (session, progress) = try options.session()
    var failure: Error?
    do { try body(session) } catch { failure = error }
    progress.clear()
    do { try session.store.close() } catch { if failure == nil { failure = error } }
    let summary = session.summary
    if let failure {
        if summary.runs > 0, let message = (failure as? CLIError)?.message ?? (failure as? InteropError)?.message {
            throw CLIError(
                message + "; \(summary.runs) run\(summary.runs == 1 ? "" : "s") imported before it are kept",
                exitCode: (failure as? CLIError)?.exitCode ?? 1)
        }
        throw failure
    }
    let seconds = Double(monotonicMs() - started) / 1000
    var s =
        "imported \(summary.runs) run\(summary.runs == 1 ? "" : "s") from \(kind): \(withCommas(summary.series)) series, "
        + "\(withCommas(summary.points)) points, "
        + (summary.artifacts + summary.deployments > 0 ? "\(summary.artifacts) artifacts, \(summary.deployments) deployments, " : "")
        + "skipped \(withCommas(summary.skippedTotal))"
    if !summary.skipped.isEmpty {
        s += " (" + summary.skipped.map { "\(withCommas($0.1)) \($0.0)" }.joined(separator: ", ") + ")"
    }
    s += cformat(", %.2f s", seconds)
    if summary.alreadyImported > 0 {
        s +=
            "; \(summary.alreadyImported) run\(summary.alreadyImported == 1 ? " was" : "s were") imported before and left alone (--again imports again)"
    }
    if summary.incompleteReplaced > 0 {
        let n = summary.incompleteReplaced
        s +=
            "; \(n) run\(n == 1 ? " was" : "s were") imported again: an interrupted import had left \(n == 1 ? "it" : "them") incomplete (metadata import.complete = false)"
    }
    if let first = summary.firstBad { s += "; first problem: \(first)" }
    warn(s)
}

/// `strata import tensorboard DIR`: scalars from TensorBoard event files (TFRecord framing, both
/// checksums verified, Event protobufs parsed by hand).
struct ImportTensorBoard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorboard",
        abstract: "Import scalars from TensorBoard event files (events.out.tfevents*) under DIR.",
        discussion: """
            Every directory holding event files becomes one run, named by its path relative to DIR (DIR itself: \
            its own name). Metric = tag, step = step, time = wall time. Classic scalars (simple_value) and TF2 \
            scalar tensors are imported; histograms, images, text and other non-scalar values are counted and skipped. \
            hparams plugin values become params; a restart (SessionLog START at step S) drops the run's earlier points \
            at step >= S, as TensorBoard does.
            """)

    @OptionGroup var options: ImportOptions
    @Argument(help: "A log directory (searched recursively) or one event file.") var dir: String
    @Option(help: "Project of the imported runs.") var project: String = "default"

    func run() throws {
        let groups = try TensorBoardImporter.findRuns(dir)
        if groups.isEmpty { throw CLIError("no TensorBoard event files (events.out.tfevents*) under \(dir)") }
        try runImport(kind: "tensorboard", options: options) { session in
            try TensorBoardImporter(session: session, project: project).importRuns(groups)
        }
    }
}

/// `strata import mlflow PATH`: runs of an MLflow tracking database (`mlflow.db`, `sqlite:///…`) or file store (`mlruns/`).
struct ImportMLflow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflow",
        abstract: "Import runs from an MLflow tracking database (mlflow.db, sqlite:///PATH) or file store (mlruns): params, tags, metrics.",
        discussion: """
            PATH is a SQLite tracking database (a file, or a sqlite:/// URI), an mlruns directory, one experiment \
            directory in it, or one run directory. Project = experiment name. Params keep their text; the typed \
            value is derived from it. mlflow.* tags become metadata (git.commit, user, ...), other tags become Strata \
            tags "key=value". Deleted runs are skipped. See docs/CLI.md.
            """)

    @OptionGroup var options: ImportOptions
    @Argument(help: "mlflow.db or sqlite:///PATH; or an mlruns directory, an experiment directory or a run directory.") var dir: String
    @Option(help: "Project of the imported runs (default: the experiment name).") var project: String?

    func run() throws {
        if let db = MLflowImporter.databasePath(dir) {
            try runImport(kind: "mlflow", options: options) { session in
                try MLflowImporter(session: session, project: project).importDatabase(db)
            }
            return
        }
        switch fileKind(dir) {
        case nil: throw CLIError("no such file or directory: \(dir)")
        case .file?: throw CLIError("\(dir) is neither an MLflow tracking database (SQLite) nor an mlruns directory")
        default: break
        }
        let runs = try MLflowImporter.findRuns(dir)
        if runs.isEmpty { throw CLIError("no MLflow runs under \(dir) (expected mlruns/<experiment>/<run>/meta.yaml)") }
        try runImport(kind: "mlflow", options: options) { session in
            try MLflowImporter(session: session, project: project).importRuns(runs)
        }
    }
}

/// `strata import wandb PATH...`: W&B run directories (their `.wandb` transaction logs), or one
/// run history exported as JSON lines or CSV.
struct ImportWandb: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wandb",
        abstract: "Import W&B runs: run directories (.wandb logs), or a history exported as JSON lines or CSV.",
        discussion: """
            PATH: a run directory (wandb/offline-run-*, wandb/run-*), its run-*.wandb log, or a directory above run \
            directories (wandb/): each log is one run with its history, config (params), summary, tags, notes and \
            system metrics (sys/*). Or one history file: JSONL (one row per line with _step, _timestamp and metric \
            keys; nested objects flattened with '/') or CSV (_step or Step and one column per metric; chart exports \
            give one run per "RUN - metric" prefix). See docs/CLI.md.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case auto, jsonl, csv }

    @OptionGroup var options: ImportOptions
    @Argument(help: "Run directories, .wandb logs or wandb/ directories; or one history file (.jsonl or .csv).") var paths: [String]
    @Option(name: .customLong("run"), help: "Run name of a history file (default: the file name without its extension).") var runName: String?
    @Option(help: "Project of the imported runs (default: the W&B project; for a history file: default).") var project: String?
    @Option(help: "For a history file: auto (by extension, else by content), jsonl or csv.") var format: Format = .auto

    func run() throws {
        if let r = runName, r.isEmpty { throw CLIError("--run: run name is empty", exitCode: 2) }
        if paths.isEmpty { throw CLIError("give a W&B run directory, a .wandb log or a history file", exitCode: 2) }
        // One path that is not a directory nor a .wandb log: an exported history file.
        let history = paths.count == 1 && fileKind(paths[0]) != .directory && !paths[0].hasSuffix(".wandb")
        if !history {
            if runName != nil || format != .auto {
                throw CLIError("--run and --format are for a history file, not for W&B run directories", exitCode: 2)
            }
            let logs = try WandbLogImporter.findLogs(paths)
            if logs.isEmpty {
                throw CLIError("no W&B logs (run-*.wandb) under \(paths.joined(separator: ", ")) (expected wandb/offline-run-*/run-*.wandb)")
            }
            try runImport(kind: "wandb", options: options) { session in
                try WandbLogImporter(session: session, project: project).importLogs(logs)
            }
            return
        }
        let file = paths[0]
        guard fileKind(file) == .file else { throw CLIError("no such file: \(file)") }
        let bytes = try readWholeFile(file)
        var fmt = format
        if fmt == .auto {
            let lower = file.lowercased()
            if lower.hasSuffix(".csv") {
                fmt = .csv
            } else if lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") || lower.hasSuffix(".ndjson") {
                fmt = .jsonl
            } else {
                fmt = bytes.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) == UInt8(ascii: "{") ? .jsonl : .csv
            }
        }
        var stem = baseName(file)
        if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = String(stem[..<dot]) }
        try runImport(kind: "wandb", options: options) { session in
            let importer = WandbImporter(
                session: session, file: file, name: runName ?? stem, nameGiven: runName != nil, project: project ?? "default")
            if fmt == .jsonl { try importer.jsonl(bytes) } else { try importer.csv(bytes) }
        }
    }
}

/// `strata import parquet PATH…`: Strata's own Parquet export, or neptune-exporter's files.
struct ImportParquet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet",
        abstract: "Import Parquet in Strata's long form (a `strata export --format parquet` dataset) or neptune-exporter's layout.",
        discussion: """
            PATHs are files or directories (searched recursively for *.parquet). Strata's points, runs, artifacts and \
            deployments tables give back runs with their labels, params, tags, metadata, status, artifacts and deployments; neptune-exporter's float_series become \
            points and its scalar attributes params (sys/* as metadata neptune.*). Runs already imported are skipped, \
            so an interrupted import is resumed by running it again. See docs/EXPORT.md.
            """)

    @OptionGroup var options: ImportOptions
    @Argument(help: "Parquet files or directories.") var paths: [String]

    func run() throws {
        let files: [String]
        do { files = try ParquetImporter.findFiles(paths) } catch { throw CLIError("\(error)") }
        if files.isEmpty { throw CLIError("no Parquet files (*.parquet) under \(paths.joined(separator: ", "))") }
        try runImport(kind: "parquet", options: options) { session in
            try ParquetImporter(session: session).importFiles(files)
        }
    }
}

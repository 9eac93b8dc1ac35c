import Strata

/// A series collected in memory before it is written with one bulk `Run.append`.
package struct SeriesBuffer {
    package var steps: [Int64] = []
    package var values: [Double] = []
    package var times: [Int64] = []

    package mutating func add(step: Int64, value: Double, time: Int64) {
        steps.append(step); values.append(value); times.append(time)
    }
    package var count: Int { steps.count }

    package mutating func append(_ o: SeriesBuffer) {
        steps += o.steps; values += o.values; times += o.times
    }
}

/// One run read from another tracker, ready to be written.
package struct ImportedRun {
    package var name: String
    package var project: String
    /// Identifies the source run (kept as metadata `import.source`): a run already imported from the
    /// same source is skipped unless `again`.
    package var source: String
    package var params: [String: ParamValue] = [:]
    package var metadata: [String: ParamValue] = [:]
    package var tags: Set<String> = []
    /// Series in the order they were first seen.
    package var order: [String] = []
    package var series: [String: SeriesBuffer] = [:]
    /// The metric name and context labels of series added with labels (keyed like `series`).
    package var labelled: [String: (metric: String, labels: [String: String])] = [:]
    package var status: RunStatus = .finished
    package var parent: RunID?
    /// When the source run began and ended (ms); default: its first and last point times.
    package var createdMs: Int64?
    package var endedMs: Int64?

    package init(name: String, project: String, source: String) {
        self.name = name
        self.project = project
        self.source = source
    }

    package mutating func add(_ metric: String, step: Int64, value: Double, time: Int64) {
        if series[metric] == nil { order.append(metric); series[metric] = SeriesBuffer() }
        series[metric]!.add(step: step, value: value, time: time)
    }

    /// Adds a point to the series `metric` with context `labels` (`key` names the series: any
    /// text unique per metric and labels, such as the canonical `metric{k=v}`).
    package mutating func add(key: String, metric: String, labels: [String: String], step: Int64, value: Double, time: Int64) {
        declare(key: key, metric: metric, labels: labels)
        series[key]!.add(step: step, value: value, time: time)
    }

    /// Starts the series `key` (metric and labels) the first time it is named.
    private mutating func declare(key: String, metric: String, labels: [String: String]) {
        if series[key] == nil {
            order.append(key)
            series[key] = SeriesBuffer()
            if !labels.isEmpty || key != metric { labelled[key] = (metric, labels) }
        }
    }

    /// Adds the points of `buffer` to the series `metric` with context `labels` (as
    /// ``add(key:metric:labels:step:value:time:)`` does one point).
    package mutating func add(key: String, metric: String, labels: [String: String], _ buffer: SeriesBuffer) {
        declare(key: key, metric: metric, labels: labels)
        series[key]!.append(buffer)
    }

    package var points: Int { series.values.reduce(0) { $0 + $1.count } }
}

/// What an import did (the CLI prints it as its summary line).
public struct ImportSummary: Sendable {
    /// Runs written.
    public var runs = 0
    /// Series written.
    public var series = 0
    /// Points written.
    public var points = 0
    /// Artifacts written (Strata's Parquet export; one a run holds already is not counted).
    public var artifacts = 0
    /// Deployments written (likewise).
    public var deployments = 0
    /// Source runs left alone because the store holds a run imported from them.
    public var alreadyImported = 0
    /// Skipped items by reason ("non-scalar values", "damaged records", ...), in first-seen order.
    public var skipped: [(String, Int)] = []
    /// The first problem skipped, as a sentence.
    public var firstBad: String?
    /// Runs imported again because an interrupted import had left them incomplete.
    public var incompleteReplaced = 0

    package mutating func skip(_ reason: String, _ n: Int = 1) {
        if n == 0 { return }
        if let i = skipped.firstIndex(where: { $0.0 == reason }) { skipped[i].1 += n } else { skipped.append((reason, n)) }
    }
    /// Everything skipped.
    public var skippedTotal: Int { skipped.reduce(0) { $0 + $1.1 } }
}

/// The store side of an import, shared by the importers: writes the runs read, counts what was
/// done and skipped, and decides what a bad item does (throw, or count and go on).
public final class ImportSession {
    /// The store written.
    public let store: Store
    /// Count and skip damaged records, bad lines and unusable series instead of stopping.
    public let skipBad: Bool
    /// Import runs again even when the store holds a run imported from the same source.
    public let again: Bool
    /// What the import did so far.
    public var summary = ImportSummary()
    /// Called with a line of progress (`force`: draw it now, not only when due); for a terminal.
    public var progress: (_ text: () -> String, _ force: Bool) -> Void = { _, _ in }
    /// Sources of the runs in the store (metadata `import.source`) and the runs imported from them.
    public private(set) var importedSources: [String: RunID] = [:]
    /// Sources of runs an interrupted import left incomplete (`import.complete` false): they are
    /// imported again.
    private var incompleteSources: Set<String> = []

    /// A session writing into `store` (reads which sources the store holds already).
    public init(store: Store, skipBad: Bool, again: Bool) throws {
        self.store = store
        self.skipBad = skipBad
        self.again = again
        for info in try store.runs() {
            guard case .string(let s)? = info.metadata["import.source"] else { continue }
            if case .bool(false)? = info.metadata["import.complete"] { incompleteSources.insert(s) } else { importedSources[s] = info.id }
        }
    }

    package func update(_ text: @autoclosure () -> String, force: Bool = false) { progress(text, force) }

    /// Under `skipBad` counts the problem under `reason` and returns; otherwise throws it.
    package func bad(_ reason: String, _ message: String) throws(InteropError) {
        if !skipBad { throw InteropError(message + " (--skip-bad skips and counts such \(reason))") }
        summary.skip(reason)
        if summary.firstBad == nil { summary.firstBad = message }
    }

    /// True when a run from this source is in the store already (and `again` was not given).
    package func alreadyImported(_ source: String) -> Bool {
        if !again, importedSources[source] != nil {
            summary.alreadyImported += 1
            return true
        }
        return false
    }

    /// `name` as a run or project name Strata accepts: control characters become spaces, the text
    /// is cut to ``Limits/maxRunNameBytes`` on a character boundary, and an empty result is
    /// `fallback`.
    static func acceptable(_ name: String, fallback: String) -> String {
        if (try? Limits.check(runName: name)) != nil { return name }
        let clean = String(name.map { c in c.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } ? " " : c })
        let out = Limits.truncated(clean, bytes: Limits.maxRunNameBytes)
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? fallback : trimmed
    }

    /// Creates the run and writes every series with one bulk append each. Returns the run id.
    @discardableResult
    package func write(_ r: ImportedRun) throws -> RunID? {
        if alreadyImported(r.source) { return nil }
        // Check every metric name first, so a bad name does not leave half a run behind.
        let probe = RunID.generate()
        var names: [String] = []
        for m in r.order {
            let (metric, labels) = r.labelled[m] ?? (m, [:])
            do { _ = try SeriesKey(run: probe, metric: metric, labels: labels) } catch {
                try bad("series", "run \(jsonString(r.name)): \(error.description)")
                continue
            }
            names.append(m)
        }
        // A param or metadata entry Strata refuses (a key with an empty segment such as MLflow's
        // `lr.`, a tree too deep, too many list elements) is left out and counted, not the run.
        var params = r.params
        for (k, v) in params where (try? Limits.check(key: k, value: v, what: "param")) == nil {
            params[k] = nil
            summary.skip("params over Strata's limits")
        }
        var meta = r.metadata
        for (k, v) in meta where (try? Limits.check(key: k, value: v, what: "metadata")) == nil {
            meta[k] = nil
            summary.skip("metadata over Strata's limits")
        }
        meta["import.source"] = .string(r.source)
        // Another tracker's names may be longer than Strata allows or hold control characters: the
        // run keeps a name Strata accepts, and the original text as metadata.
        let name = Self.acceptable(r.name, fallback: "imported-run")
        let project = Self.acceptable(r.project, fallback: "default")
        if name != r.name { meta["import.original_name"] = .text(String(r.name.unicodeScalars.prefix(Limits.maxStringValueBytes / 4))) }
        if project != r.project { meta["import.original_project"] = .text(String(r.project.unicodeScalars.prefix(Limits.maxStringValueBytes / 4))) }
        // Until every series is in: a run an interrupted import leaves behind is imported again.
        meta["import.complete"] = .bool(false)
        var first = Int64.max, last = Int64.min
        for m in names { for t in r.series[m]!.times { first = min(first, t); last = max(last, t) } }
        let created = r.createdMs ?? (first == .max ? nil : first)
        var ended = r.endedMs ?? (last == .min ? nil : last)
        if let c = created, let e = ended, e < c { ended = c }
        let run = try store.createRun(
            name: name, project: project, params: params, tags: r.tags,
            metadata: meta, parent: r.parent, createdMs: created)
        for m in names {
            let s = r.series[m]!
            let (metric, labels) = r.labelled[m] ?? (m, [:])
            try run.append(metric, labels: labels, steps: s.steps, values: s.values, times: s.times)
            summary.series += 1
            summary.points += s.count
        }
        try run.finish(r.status, endedMs: ended)
        try run.setMetadata(["import.complete": .bool(true)])
        summary.runs += 1
        if incompleteSources.remove(r.source) != nil { summary.incompleteReplaced += 1 }
        importedSources[r.source] = run.id
        return run.id
    }
}

import Strata
import StrataInterop

/// Thin wrappers that turn library calls into CLI text and errors.
enum Lib {
    /// Runs matching a filter expression (the library's language, docs/FILTERS.md), oldest first.
    static func runs(_ store: Store, where expression: String?, lineage: Lineage = .full) throws -> [RunRow] {
        try store.runs(where: filter(expression), lineage: lineage).map { RunRow(info: $0, store: store, lineage: lineage) }
    }

    /// The filter of a `--where` expression (nil for none or blank).
    static func filter(_ expression: String?) throws -> Strata.Filter? {
        guard let expression, !expression.trimmingCharactersSpaces().isEmpty else { return nil }
        do { return try Strata.Filter(expression) } catch {
            throw CLIError("--where: \(error.description)", exitCode: 2)
        }
    }

    static func compact(_ store: Store) throws -> String {
        let r = try store.compact()
        if r.busy { return "another process is compacting this store; nothing done" }
        if r.inputSegments == 0 { return "nothing to compact" }
        return
            "merged \(r.inputSegments) segments (\(withCommas(r.points)) points) into \(r.outputSegment ?? "-"); deleted \(r.deletedSegments) old segments"
            + (r.deletedSegments < r.inputSegments ? " (the rest are deleted by a later compact, after a grace period for readers)" : "")
    }

    /// Rewinds without changing the run's status.
    static func rewind(_ store: Store, run: RunInfo, to step: Int64) throws {
        try store.rewind(run.id, to: step)
    }
}

/// A run and (loaded on demand) its series summaries: what tables, sorting and filters read.
final class RunRow {
    let info: RunInfo
    let store: Store
    /// For a forked run: whether its series cover its ancestors' points (full) or its own.
    let lineage: Lineage
    private var _series: [Store.SeriesInfo]?

    init(info: RunInfo, store: Store, lineage: Lineage = .full) {
        self.info = info
        self.store = store
        self.lineage = lineage
    }

    /// Per series name: that one series, loaded alone (`loadMetric`) while `series` is not loaded.
    private var _metric: [String: Store.SeriesInfo?] = [:]

    /// The statistics `summaryValue` gives.
    static let summaryStats: Set<String> = ["last", "min", "max", "count", "nans", "first_step", "last_step", "step"]

    /// The value a `METRIC.STAT` key gives for the statistics a series summary holds; nil for other
    /// statistics. Without `display` the text is left empty: what ranking many rows needs.
    static func summaryValue(_ s: Store.SeriesInfo, _ agg: String, display: Bool = true) -> ColumnValue? {
        func number(_ v: Double, _ text: @autoclosure () -> String) -> ColumnValue {
            .number(v, display: display ? text() : "")
        }
        switch agg {
        case "last": return number(s.lastValue, short(s.lastValue))
        case "min": return number(s.min, s.extremeText(s.min))
        case "max": return number(s.max, s.extremeText(s.max))
        case "count": return number(Double(s.count), String(s.count))
        case "nans": return number(Double(s.nanCount), String(s.nanCount))
        case "first_step": return number(Double(s.firstStep), String(s.firstStep))
        case "last_step", "step": return number(Double(s.lastStep), String(s.lastStep))
        default: return nil
        }
    }

    /// The sort order of `strata runs --sort`: values before missing ones, NaN after numbers,
    /// numbers by value, anything else by its text.
    static func sortsBefore(_ x: ColumnValue?, _ y: ColumnValue?, descending desc: Bool) -> Bool {
        guard let x else { return false }
        guard let y else { return true }
        if let nx = x.number, let ny = y.number {
            if nx.isNaN { return false }
            if ny.isNaN { return true }
            return desc ? nx > ny : nx < ny
        }
        return desc ? x.display > y.display : x.display < y.display
    }

    /// The first `limit` runs matching `expression` in the order `--sort key` gives every
    /// matching row, for a `METRIC.STAT` key whose statistic a series summary holds (`summaryValue`):
    /// the runs are ranked by that one series' summaries and only the page's records are decoded.
    /// Nil for any other key, or when no matching run has the metric (the general path then
    /// answers, and reports a mistyped key).
    static func topByMetric(_ store: Store, where expression: String?, sort: String, limit: Int, lineage: Lineage) throws -> [RunRow]? {
        let desc = sort.hasPrefix("-")
        let key = desc ? String(sort.dropFirst()) : sort
        guard !key.hasPrefix("params."), !key.hasPrefix("meta."), let (metric, agg) = metricKey(key), summaryStats.contains(agg) else {
            return nil
        }
        let ids = try store.runIDs(where: Lib.filter(expression), lineage: lineage)
        guard ids.count > 1, let all = try? store.series(ofRuns: ids, metric: metric, lineage: lineage), !all.isEmpty else { return nil }
        let keyed = ids.map { id in (id, all[id].flatMap { summaryValue($0, agg, display: false) }) }
        let ranked = keyed.sorted { a, b in sortsBefore(a.1, b.1, descending: desc) }
        return ranked.prefix(limit).compactMap { id, _ in
            guard let info = store.runInfo(id) else { return nil }
            let row = RunRow(info: info, store: store, lineage: lineage)
            row._metric[metric] = .some(all[id])
            return row
        }
    }

    /// One series of several rows in one library call, without the rows' other series: what
    /// sorting many rows by one metric reads.
    static func loadMetric(_ rows: [RunRow], _ metric: String, store: Store) {
        let missing = rows.filter { $0._series == nil && $0._metric[metric] == nil }
        guard missing.count > 1, let lineage = missing.first?.lineage,
            let all = try? store.series(ofRuns: missing.map(\.info.id), metric: metric, lineage: lineage)
        else { return }
        for r in missing { r._metric[metric] = .some(all[r.info.id]) }
    }

    /// The series named `metric` (canonical name) of this row, if it has one.
    func metricSeries(_ metric: String) -> Store.SeriesInfo? {
        if let s = _series { return s.first { $0.key.canonical == metric } }
        if let hit = _metric[metric] { return hit }
        let s = (try? store.series(ofRuns: [info.id], metric: metric, lineage: lineage))?[info.id]
        _metric[metric] = .some(s)
        return s
    }

    var series: [Store.SeriesInfo] {
        if let s = _series { return s }
        let s = ((try? store.series(of: info.id, lineage: lineage)) ?? []).sorted { $0.key.canonical < $1.key.canonical }
        _series = s
        return s
    }

    /// The value of a column key: name, id, project, status, created, ended, tags, params.K, meta.K,
    /// or METRIC.STAT with STAT one of `metricStats`.
    func value(_ key: String) -> ColumnValue? {
        switch key {
        case "name": return .text(info.name)
        case "id": return .text(info.id.text)
        case "project": return .text(info.project)
        case "status": return .text(info.status.rawValue)
        case "created": return .number(Double(info.createdMs), display: formatTime(info.createdMs))
        case "ended": return info.endedMs.map { .number(Double($0), display: formatTime($0)) }
        case "tags": return .text(info.tags.sorted().joined(separator: ","))
        case "parent": return info.parent.map { .text($0.text) }
        default: break
        }
        if key.hasPrefix("params.") { return info.params[String(key.dropFirst(7))].map(ColumnValue.param) }
        if key.hasPrefix("meta.") { return info.metadata[String(key.dropFirst(5))].map(ColumnValue.param) }
        guard let (metric, agg) = RunRow.metricKey(key) else { return nil }
        guard let s = metricSeries(metric) else { return nil }
        if let v = RunRow.summaryValue(s, agg) { return v }
        switch agg {
        case let q where Quantile.parseName(String(q)) != nil:
            // p50, p99, ...: the whole series' quantile, from the library's chunk sketches.
            guard
                let v = try? store.quantiles(
                    info.id, s.key.metric, labels: Dictionary(s.key.labels.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                    levels: [Quantile.parseName(String(q))!], lineage: lineage
                ).values[0]
            else { return nil }
            return .number(v, display: short(v))
        default:
            // mean, std, first, min_step, max_step: from the library's statistics of the series.
            guard
                let stats = try? store.aggregate(
                    info.id, s.key.metric, labels: Dictionary(s.key.labels.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                    lineage: lineage)
            else { return nil }
            return stats.value(named: String(agg)).map(ColumnValue.param)
        }
    }

    /// `METRIC.STAT` (also `metric("METRIC").STAT`, `metrics.METRIC.STAT`) → metric and statistic.
    static func metricKey(_ key: String) -> (metric: String, stat: String)? {
        guard let dot = key.lastIndex(of: "."), dot > key.startIndex else { return nil }
        var metric = String(key[..<dot])
        if metric.hasPrefix("metric(\""), metric.hasSuffix("\")") { metric = String(metric.dropFirst(8).dropLast(2)) }
        if metric.hasPrefix("metrics.") { metric = String(metric.dropFirst(8)) }
        return (metric, String(key[key.index(after: dot)...]))
    }

    /// Statistics a `METRIC.STAT` key may name: every statistic of the library (``Stats/names``)
    /// and `step` (= `last_step`).
    static let metricStats: [String] = Stats.names + ["step"]
    static let plainKeys = ["name", "id", "project", "status", "created", "ended", "tags", "parent"]

    /// Throws a usage error (exit 2) with a suggestion when `key` (of `option`) names nothing that
    /// a run of `rows` — or, failing that, of `allRows()` — has: a mistyped key is an error, not
    /// a column of `-` or an unsorted table.
    static func checkKey(_ key: String, option: String, rows: [RunRow], allRows: () throws -> [RunRow]) throws {
        if plainKeys.contains(key) { return }
        func fail(_ what: String, _ suggestion: String) -> CLIError {
            CLIError("\(option) \(jsonString(key)): \(what)\(suggestion)", exitCode: 2)
        }
        func known(_ names: ([RunRow]) -> Set<String>, _ name: String) throws -> Set<String>? {
            let here = names(rows)
            if here.contains(name) { return nil }
            let everyRun = try allRows()
            if everyRun.isEmpty { return nil }  // an empty store: nothing to check against
            let all = names(everyRun)
            return all.contains(name) ? nil : all.union(here)
        }
        for (prefix, noun) in [("params.", "param"), ("meta.", "metadata key")] where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            let keys: ([RunRow]) -> Set<String> = { rs in
                Set(rs.flatMap { prefix == "params." ? Array($0.info.params.keys) : Array($0.info.metadata.keys) })
            }
            if let have = try known(keys, name) {
                throw fail(
                    "no run has \(noun) \(jsonString(name))",
                    Suggest.closest(to: name, in: have.sorted()).map { " (did you mean \(prefix)\($0)?)" } ?? "")
            }
            return
        }
        guard let (metric, stat) = metricKey(key) else {
            throw fail(
                "unknown key",
                Suggest.closest(to: key, in: plainKeys).map { " (did you mean \($0)?)" }
                    ?? " (keys are \(plainKeys.joined(separator: ", ")), params.KEY, meta.KEY and METRIC.STAT)")
        }
        if !metricStats.contains(stat) && Quantile.parseName(stat) == nil {
            let hint = Suggest.closest(to: stat, in: metricStats).map { "did you mean \(metric).\($0)? " } ?? ""
            throw fail(
                "unknown statistic \(jsonString(stat))",
                " (\(hint)statistics are \(metricStats.joined(separator: ", ")), and quantiles p50, p90, p99, p999)")
        }
        // A metric some row has is known (without listing every row's series).
        if rows.contains(where: { $0.metricSeries(metric) != nil }) { return }
        let metricNames: ([RunRow]) -> Set<String> = { rs in Set(rs.flatMap { $0.series.map(\.key.canonical) }) }
        if let have = try known(metricNames, metric) {
            let hint = Suggest.closest(to: metric, in: have.sorted()).map { " (did you mean \($0).\(stat)?)" } ?? ""
            throw fail("no run has metric \(jsonString(metric))", hint)
        }
    }
}

extension Store.SeriesInfo {
    /// A summary's min or max as table text: `all NaN` when the series holds no number at all.
    func extremeText(_ v: Double) -> String { allNaN ? "all NaN" : short(v) }
}

enum ColumnValue {
    case text(String)
    case number(Double, display: String)

    static func param(_ p: ParamValue) -> ColumnValue {
        switch p {
        case .int(let i): return .number(Double(i), display: String(i))
        case .double(let d): return .number(d, display: short(d))
        case .bool(let b): return .text(b ? "true" : "false")
        case .string(let s): return .text(s)
        case .text(let t):
            // shown as written; sorted as the number it spells, if it spells one
            if let n = p.number { return .number(n, display: t) }
            return .text(t)
        case .bigInt(let t): return .number(p.number ?? 0, display: t)
        case .null, .list, .object: return .text(p.json)
        }
    }

    var display: String {
        switch self {
        case .text(let s): return s
        case .number(_, let d): return d
        }
    }
    var number: Double? { if case .number(let d, _) = self { return d }; return nil }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

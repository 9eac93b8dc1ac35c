import Foundation
import Strata

/// The `trials` dataset (QUERIES.md Q8–Q10): many short runs. Q8 and Q9 are timed warm in one
/// process (median); Q10 opens the store in a fresh process (`--trials-open`).
enum Trials {
    static let q8Filter = #"params.optimizer.name == "adam" and params.lr < 1e-3"#

    /// Q8: the ten runs with the smallest `val/loss` among adam runs with lr < 1e-3.
    static func q8(_ store: Store) throws -> [[String: Any]] {
        let f = try Filter(q8Filter)
        return try store.rank("val/loss", by: .min, ascending: true, where: f, limit: 10).filter { $0.value.isFinite }.map {
            ["run": $0.run.name, "min": $0.value, "step": $0.step ?? 0] as [String: Any]
        }
    }

    /// Q9: every series' value at its largest step, by run name and metric.
    static func q9(_ store: Store) throws -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        for r in try store.summary() { out[r.run.name] = r.metrics.mapValues(\.last) }
        return out
    }

    /// Q10: runs, series and points of the store.
    static func q10(_ store: Store) throws -> [String: Int] {
        let c = try store.counts()
        return ["runs": c.runs, "series": c.series, "points": c.points]
    }

    /// `strata-bench --trials-open STORE`: Q10 in this (fresh) process; prints seconds and counts.
    static func openChild(_ path: String) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let store = try Store.open(at: path, options: .init(create: false))
        let counts = try q10(store)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try store.close()
        var obj: [String: Double] = counts.mapValues(Double.init)
        obj["seconds"] = seconds
        obj["peak_rss"] = Double(peakRSSBytes())
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Answers in reference.py's shapes and the timings (seconds).
    static func run(store path: String, repeats: Int) throws -> (answers: [String: Any], timings: [String: Double]) {
        var answers: [String: Any] = [:], timings: [String: Double] = [:]
        let store = try Store.open(at: path, options: .init(create: false))
        defer { try? store.close() }
        for (key, name, body) in [
            ("Q8_trials_best", "Q8", { () throws -> Any in try q8(store) }), ("Q9_trials_last", "Q9", { () throws -> Any in try q9(store) })
        ] {
            var times: [Double] = []
            for _ in 0..<max(1, repeats) + 1 {  // the first (cold caches) is not counted
                let start = DispatchTime.now().uptimeNanoseconds
                answers[key] = try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            timings[name + "_warm_s"] = median(Array(times.dropFirst()))
            log(String(format: "  %@ warm %.2f ms (first %.2f ms)", name, timings[name + "_warm_s"]! * 1000, times[0] * 1000))
        }
        var opens: [Double] = []
        for _ in 0..<max(1, repeats) {
            let r = try runSelf(["--trials-open", path])
            opens.append(r["seconds"]!)
            answers["Q10_trials_count"] = ["runs": Int(r["runs"]!), "series": Int(r["series"]!), "points": Int(r["points"]!)]
        }
        timings["Q10_fresh_s"] = median(opens)
        log(String(format: "  Q10 fresh process %.2f ms", timings["Q10_fresh_s"]! * 1000))
        return (answers, timings)
    }

    /// Where the bytes of a store go, by structure (`StorageStats.structure`: columns per codec,
    /// tiers, chunk headers, statistics, directories, catalog log and checkpoint, other files),
    /// in bytes and bytes a point; and the catalog's bytes a run beyond its params and tags.
    /// The parts add up to the store's file bytes (checked here too).
    static func structure(_ path: String, points: Int) throws -> [String: Any] {
        let store = try Store.open(at: path, options: .init(create: false))
        let st = try store.storageStats()
        try store.close()
        let p = Double(points)
        let sum = st.structure.reduce(0) { $0 + $1.bytes }
        if sum != st.fileBytes { log("  WARNING: structure parts add up to \(sum) bytes, the files hold \(st.fileBytes)") }
        log(String(format: "  bytes by structure (%d bytes, %.3f bytes/point):", st.fileBytes, Double(st.fileBytes) / p))
        var rows: [[String: Any]] = []
        var groups: [String: Int] = [:]
        for part in st.structure {
            let label = part.group.padding(toLength: 9, withPad: " ", startingAt: 0) + part.name.padding(toLength: 34, withPad: " ", startingAt: 0)
            log(label + String(format: " %12d bytes  %7.3f B/pt", part.bytes, Double(part.bytes) / p))
            rows.append(["group": part.group, "name": part.name, "bytes": part.bytes, "bytes_per_point": Double(part.bytes) / p])
            groups[Self.summaryGroup(part), default: 0] += part.bytes
        }
        let order = ["columns", "tiers", "chunk headers", "statistics", "directories", "catalog", "other"]
        log("  bytes/point: " + order.map { String(format: "%@ %.3f", $0, Double(groups[$0] ?? 0) / p) }.joined(separator: ", "))
        let c = st.catalog
        log(
            String(
                format:
                    "  catalog: %d runs; catalog.ckpt %d bytes = %.1f bytes/run, %.1f beyond params+tags (%.1f bytes/run); with catalog.log (%d bytes = %.1f bytes/run): %.1f bytes/run beyond params+tags",
                c.runs, c.checkpointBytes, Double(c.checkpointBytes) / Double(max(1, c.checkpointRuns)), c.checkpointOverheadPerRun,
                Double(c.checkpointParamsAndTags) / Double(max(1, c.checkpointRuns)), c.logBytes, Double(c.logBytes) / Double(max(1, c.runs)),
                c.overheadPerRun))
        return [
            "total_bytes": st.fileBytes, "total_bytes_per_point": Double(st.fileBytes) / p, "parts": rows,
            "groups_bytes_per_point": groups.mapValues { Double($0) / p },
            "catalog": [
                "runs": c.runs, "log_bytes": c.logBytes, "checkpoint_bytes": c.checkpointBytes, "checkpoint_runs": c.checkpointRuns,
                "checkpoint_params_and_tags_bytes": c.checkpointParamsAndTags,
                "checkpoint_bytes_per_run_beyond_params_and_tags": c.checkpointOverheadPerRun,
                "catalog_bytes_per_run_beyond_params_and_tags": c.overheadPerRun
            ] as [String: Any]
        ]
    }

    /// The issue's headings: columns, tiers, chunk headers, statistics, directories, catalog, other.
    static func summaryGroup(_ part: StorageStats.Part) -> String {
        switch (part.group, part.name) {
        case ("columns", _): return "columns"
        case ("segments", "tier blocks"), ("segments", "quantile sketches"): return "tiers"
        case ("segments", "chunk headers"): return "chunk headers"
        case ("segments", "series statistics"), ("segments", "packed statistics"): return "statistics"
        case ("segments", _): return "directories"
        case ("catalog", _): return "catalog"
        default: return "other"
        }
    }

    /// JSON text of `answers`, with NaN written as `NaN` (as Python's json module reads and writes it).
    static func json(_ answers: [String: Any]) throws -> Data {
        func clean(_ x: Any) -> Any {
            switch x {
            case let d as Double: return d.isNaN ? "__NaN__" : d
            case let o as [String: Any]: return o.mapValues(clean)
            case let a as [Any]: return a.map(clean)
            default: return x
            }
        }
        let data = try JSONSerialization.data(withJSONObject: clean(answers), options: [.prettyPrinted, .sortedKeys])
        return Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"__NaN__\"", with: "NaN").utf8)
    }
}

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

    /// Where the bytes of a store go: catalog, segment column data, segment structure (chunk
    /// tables, directories, packs' tables, headers), logs and the rest.
    static func structure(_ path: String, points: Int) throws -> [String: Double] {
        let store = try Store.open(at: path, options: .init(create: false))
        let st = try store.storageStats()
        try store.close()
        let total = Double(directoryBytes(path))
        let catalog = Double(directoryBytes(path + "/catalog.log") + fileBytes(path + "/catalog.log"))
        let segments = Double(directoryBytes(path + "/segments"))
        let columns = Double(st.codecs.reduce(0) { $0 + $1.bytes } + st.tierBytes)
        let p = Double(points)
        let out = [
            "total": total / p, "catalog": catalog / p, "segment_columns": columns / p, "segment_structure": (segments - columns) / p,
            "other": (total - catalog - segments) / p
        ]
        log(
            String(
                format: "  bytes/point: total %.3f = catalog %.3f + segment columns %.3f + segment structure %.3f + other %.3f", out["total"]!,
                out["catalog"]!, out["segment_columns"]!, out["segment_structure"]!, out["other"]!))
        return out
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

    static func fileBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}

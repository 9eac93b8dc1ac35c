import Foundation
import Strata

/// Q1–Q7 of QUERIES.md: answers in reference.py's shapes, warm timings (same process, median)
/// and cold timings (a fresh process that opens the store and answers one query).
enum Queries {
    static let names = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]
    static let keys = ["Q1": "Q1_history", "Q2": "Q2_window", "Q3": "Q3_curve", "Q4": "Q4_zoom", "Q5": "Q5_best", "Q6": "Q6_band", "Q7": "Q7_last"]

    /// The stores a query needs (a cold process opens only its own).
    struct Stores {
        let longStore: Store?
        let sweepStore: Store?
        let longRun: RunID?
        var long: Store { longStore! }
        var sweep: Store { sweepStore! }
    }

    static func open(long: String?, sweep: String?) throws -> Stores {
        let l = try long.map { try Store.open(at: $0, options: .init(create: false)) }
        let s = try sweep.map { try Store.open(at: $0, options: .init(create: false)) }
        return Stores(longStore: l, sweepStore: s, longRun: try l?.run("run-0000").id)
    }

    static func usesLong(_ q: String) -> Bool { ["Q1", "Q2", "Q3", "Q4"].contains(q) }

    /// Sum with eight independent accumulators in four SIMD2 registers, so the adds pipeline and
    /// vectorise (the order differs from a plain loop; QUERIES.md allows 1e-9 relative). A plain
    /// `Span` loop with four scalar accumulators was a fifth of Q1's time, more than decoding the
    /// steps.
    static func fastSum(_ v: Span<Double>) -> Double {
        v.withUnsafeBufferPointer { b in
            guard let p = b.baseAddress else { return 0 }
            let n = b.count
            let r = UnsafeRawPointer(p)
            var a = SIMD2<Double>(), c = SIMD2<Double>(), d = SIMD2<Double>(), e = SIMD2<Double>()
            var i = 0
            while i + 8 <= n {
                a += r.loadUnaligned(fromByteOffset: i * 8, as: SIMD2<Double>.self)
                c += r.loadUnaligned(fromByteOffset: i * 8 + 16, as: SIMD2<Double>.self)
                d += r.loadUnaligned(fromByteOffset: i * 8 + 32, as: SIMD2<Double>.self)
                e += r.loadUnaligned(fromByteOffset: i * 8 + 48, as: SIMD2<Double>.self)
                i += 8
            }
            var s = ((a + c) + (d + e)).sum()
            while i < n { s += p[i]; i += 1 }
            return s
        }
    }

    static func curveJSON(_ rows: [CurveBucket]) -> [[String: Any]] {
        rows.map {
            [
                "bucket": $0.bucket, "count": $0.stats.count, "min": $0.stats.min, "max": $0.stats.max,
                "mean": $0.stats.mean, "first": $0.stats.first, "last": $0.stats.last
            ]
        }
    }

    /// Answers one query in the library's own types (what is timed).
    static func compute(_ q: String, _ s: Stores) throws -> Any {
        switch q {
        case "Q1":
            var count = 0, sum = 0.0, first: Int64 = 0, last: Int64 = 0
            try s.long.scan(s.longRun!, "train/loss") { steps, values in
                if count == 0 { first = steps[0] }
                count += steps.count
                last = steps[steps.count - 1]
                sum += fastSum(values)
            }
            return ["count": count, "sum": sum, "first_step": first, "last_step": last] as [String: Any]
        case "Q2":
            var count = 0, sum = 0.0
            try s.long.scan(s.longRun!, "train/loss", steps: 1_000_000..<1_010_000) { steps, values in
                count += steps.count
                sum += fastSum(values)
            }
            return ["count": count, "sum": sum] as [String: Any]
        case "Q3":
            return try s.long.curve(s.longRun!, "train/loss", steps: 0..<2_000_000, buckets: 1000)
        case "Q4":
            return try s.long.curve(s.longRun!, "train/loss", steps: 500_000..<600_000, buckets: 1000)
        case "Q5":
            let f = try Filter("params.lr < 1e-3 and params.dropout >= 0.1")
            return try s.sweep.rank("val/loss", by: .min, where: f, limit: 10)
        case "Q6":
            return try s.sweep.band("train/loss", groupBy: "model", bucketWidth: 100)
        case "Q7":
            return try s.sweep.summary()
        default:
            throw BenchError("unknown query \(q)")
        }
    }

    /// The answer in reference.py's JSON shape.
    static func json(_ q: String, _ result: Any) -> Any {
        switch result {
        case let rows as [CurveBucket]:
            return curveJSON(rows)
        case let ranked as [RankedRun]:
            return ranked.map { ["run": $0.run.name, "min": $0.value, "step": $0.step ?? 0] as [String: Any] }
        case let band as [BandRow]:
            var out: [String: [[String: Any]]] = [:]
            for r in band {
                out[r.group, default: []].append(["bucket": r.bucket, "count": r.count, "mean": r.mean, "std": r.std, "min": r.min, "max": r.max])
            }
            return out
        case let summary as [RunSummary]:
            var out: [String: [String: Double]] = [:]
            for r in summary { out[r.run.name] = r.metrics.mapValues(\.last) }
            return out
        default:
            return result
        }
    }

    static func answer(_ q: String, _ s: Stores) throws -> Any { json(q, try compute(q, s)) }

    static func run(long: String, sweep: String, repeats: Int) throws -> ([String: Any], [String: Double]) {
        var answers: [String: Any] = [:]
        var timings: [String: Double] = [:]
        let stores = try open(long: long, sweep: sweep)
        for q in names {
            answers[keys[q]!] = try answer(q, stores)  // warm-up and the answer
            var ms: [Double] = []
            for _ in 0..<max(9, repeats) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try compute(q, stores)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            timings["\(q)_warm_ms"] = median(ms)
            var cold: [Double] = [], inside: [Double] = [], rss: [Double] = []
            for _ in 0..<max(3, repeats) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let r = try coldChild(q, long: long, sweep: sweep)
                cold.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                inside.append(r["ms"]!)
                rss.append(r["peak_rss"]! / 1_048_576)
            }
            timings["\(q)_cold_ms"] = median(inside)
            timings["\(q)_cold_process_ms"] = median(cold)
            timings["\(q)_cold_peak_rss_mib"] = rss.max() ?? 0
            log(
                String(
                    format: "  %@ warm %.3f ms, cold %.2f ms (open+query inside the process; %.1f ms with process start), peak RSS %.1f MiB",
                    q, timings["\(q)_warm_ms"]!, timings["\(q)_cold_ms"]!, timings["\(q)_cold_process_ms"]!, timings["\(q)_cold_peak_rss_mib"]!))
        }
        timings["Q1_points_per_s"] = 2_000_000 / (timings["Q1_warm_ms"]! / 1000)
        try scaling(long: long, timings: &timings)
        return (answers, timings)
    }

    static func coldChild(_ q: String, long: String, sweep: String) throws -> [String: Double] {
        try runSelf(["--cold", q, long, sweep])
    }

    /// In the child: open the store the query needs and answer it, timing both.
    static func cold(_ q: String, long: String, sweep: String) throws {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let s = try open(long: usesLong(q) ? long : nil, sweep: usesLong(q) ? nil : sweep)
        _ = try compute(q, s)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        print("{\"ms\": \(ms), \"peak_rss\": \(peakRSSBytes())}")
    }

    /// Cost grows with the bucket count, not run length: a 1000-bucket curve over whole runs of
    /// `long` at other scales, when `$STRATA_BENCH_SCALES` names workload dirs (comma-separated).
    static func scaling(long: String, timings: inout [String: Double]) throws {
        guard let env = ProcessInfo.processInfo.environment["STRATA_BENCH_SCALES"] else { return }
        for dir in env.split(separator: ",").map(String.init) {
            let w = try Workload(dir)
            let store = NSTemporaryDirectory() + "strata-scale-\(getpid())"
            try? FileManager.default.removeItem(atPath: store)
            _ = try child("stream", dir, store)
            let s = try Store.open(at: store, options: .init(create: false))
            let id = try s.run("run-0000").id
            let n = Int64(w.runs[0].series[0].count)
            _ = try s.curve(id, "train/loss", steps: 0..<n, buckets: 1000)
            var ms: [Double] = []
            for _ in 0..<9 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try s.curve(id, "train/loss", steps: 0..<n, buckets: 1000)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            timings["curve1000_ms_\(n)_steps"] = median(ms)
            log(String(format: "  curve of 1000 buckets over %lld steps: %.3f ms", n, median(ms)))
            try s.close()
            try? FileManager.default.removeItem(atPath: store)
        }
    }
}

import Foundation
import Strata

/// `strata-bench --quantiles LONG SWEEP --out FILE [--repeat N]`: the benchmark of issue 16.
///
/// - Ingest of `long` (I1, streamed) and `sweep` (I2, bulk) with and without quantile sketches
///   (`STRATA_BENCH_NO_SKETCHES` in the child), interleaved, medians over N; sketch bytes/point.
/// - On the stores with sketches: p99 of `train/grad_norm` over the whole long run (sketches and
///   `exact: true`), the 1000-bucket curve of that series with p99 per bucket, and `rank` by p90
///   of `train/grad_norm` over the 500 sweep runs. Warm medians; the answers go to the output so
///   that `Benchmarks/quantiles_vs_duckdb.py` can set them beside DuckDB's `quantile_cont`.
enum QuantileBench {
    static func child(_ mode: String, _ dir: String, _ store: String, sketches: Bool) throws -> [String: Double] {
        var env = ProcessInfo.processInfo.environment
        if sketches { env.removeValue(forKey: "STRATA_BENCH_NO_SKETCHES") } else { env["STRATA_BENCH_NO_SKETCHES"] = "1" }
        return try runSelf(["--child", mode, dir, store], environment: env)
    }

    static func time(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var xs: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            xs.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return median(xs)
    }

    static func run(long: String, sweep: String, scratch: String, repeats: Int) throws -> [String: Any] {
        var results: [String: Any] = [:]
        var stores: [String: String] = [:]
        for (name, mode, dir) in [("long", "stream", long), ("sweep", "bulk", sweep)] {
            var secs: [Bool: [Double]] = [true: [], false: []], bpp: [Bool: [Double]] = [true: [], false: []]
            for i in 0..<repeats {
                for sk in [false, true] {
                    let store = scratch + "/q-\(name)-\(sk ? "sketch" : "plain")"
                    try? FileManager.default.removeItem(atPath: store)
                    let r = try child(mode, dir, store, sketches: sk)
                    secs[sk]!.append(r["seconds"]!)
                    bpp[sk]!.append(Double(directoryBytes(store)) / r["points"]!)
                    log(
                        String(
                            format: "  %@ %@ run %d: %.2f s, %.4f bytes/point", name, sk ? "with sketches" : "without", i, r["seconds"]!,
                            bpp[sk]!.last!))
                    if sk && i == repeats - 1 { stores[name] = store } else { try? FileManager.default.removeItem(atPath: store) }
                }
            }
            results["\(name)_ingest_s_with"] = median(secs[true]!)
            results["\(name)_ingest_s_without"] = median(secs[false]!)
            results["\(name)_ingest_ratio"] = median(secs[true]!) / median(secs[false]!)
            results["\(name)_bytes_per_point_with"] = median(bpp[true]!)
            results["\(name)_bytes_per_point_without"] = median(bpp[false]!)
            let s = try Store.open(at: stores[name]!, options: .init(create: false))
            let st = try s.storageStats()
            results["\(name)_sketch_bytes"] = st.sketchBytes
            results["\(name)_sketch_bytes_per_point"] = Double(st.sketchBytes) / Double(st.points)
            try s.close()
        }
        let warm = max(5, repeats * 3)
        // Long: p99 of train/grad_norm, whole run, and the 1000-bucket curve.
        let ls = try Store.open(at: stores["long"]!, options: .init(create: false))
        let run = try ls.runs(where: nil)[0].id
        let metric = "train/grad_norm"
        var sketchP99 = 0.0, exactP99 = 0.0
        results["q_p99_whole_sketch_s"] = try time(warm) { sketchP99 = try ls.quantiles(run, metric, levels: [0.99]).values[0] }
        results["q_p99_whole_exact_s"] = try time(max(3, repeats)) { exactP99 = try ls.quantiles(run, metric, levels: [0.99], exact: true).values[0] }
        results["p99_whole_sketch"] = sketchP99
        results["p99_whole_exact"] = exactP99
        let range = try ls.curveRange(run, metric, x: .step)!
        var curve: [CurveBucket] = []
        results["q_curve1000_p99_s"] = try time(warm) { curve = try ls.curve(run, metric, steps: range, buckets: 1000, quantiles: [0.99]) }
        results["q_curve1000_plain_s"] = try time(warm) { _ = try ls.curve(run, metric, steps: range, buckets: 1000) }
        results["curve1000_p99"] = curve.map { ["bucket": $0.bucket, "from": $0.range.lowerBound, "to": $0.range.upperBound, "p99": $0.quantiles[0]] }
        results["curve1000_exact_buckets"] = curve.filter(\.quantilesExact).count
        try ls.close()
        // Sweep: rank by p90 of train/grad_norm (all 500 runs).
        let ss = try Store.open(at: stores["sweep"]!, options: .init(create: false))
        var ranked: [RankedRun] = []
        results["q_rank_p90_s"] = try time(warm) { ranked = try ss.rank(metric, quantile: 0.9, limit: 500) }
        results["rank_p90"] = ranked.map { ["name": $0.run.name, "p90": $0.value] }
        try ss.close()
        for name in ["long", "sweep"] { try? FileManager.default.removeItem(atPath: stores[name]!) }
        return results
    }
}

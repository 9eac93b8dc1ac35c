import Foundation
import Strata

/// Issue 17: curve cost against run length, and the billion-point run.
///
///   strata-bench --scaling OUT.json [--scales 200000,2000000,10000000,100000000] [--scratch DIR]
///   strata-bench --scale-profile STORE METRIC STEPS ITERATIONS   (a curve loop for `perf`)
///   strata-bench --billion DIR [--metrics 200] [--steps 5000000] [--out OUT.json]
///
/// The billion-point run is queried as ingested (log-cut segments); with `STRATA_BENCH_COMPACT=1`
/// it is then compacted (`compact`) and queried again (keys `compacted_*`). Off by default:
/// compacting a billion points took far longer than the rest of the run when last tried.
/// Every series is generated here (a float32-origin loss with noise, wall times 137 ms apart
/// with jitter), ingested by a child process (its peak RSS is its own), then queried by another
/// fresh child (open and first query cold, then warm medians of 9).
enum Scaling {
    /// Value of metric `m` at `step`: a decaying loss rounded to float32, with deterministic noise.
    @inline(__always) static func value(_ m: Int, _ step: Int64, _ noise: inout UInt64) -> Double {
        noise = noise &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let u = Double(noise >> 11) / Double(1 << 53)
        let scale = 1.0 + Double(m % 7) * 0.37
        return Double(Float(scale * 2.0 / (1.0 + Double(step) / 50_000) + 0.05 * (u - 0.5) + 0.1))
    }

    @inline(__always) static func time(_ step: Int64, _ noise: UInt64) -> Int64 {
        1_700_000_000_000 + step * 137 + Int64(noise >> 60)
    }

    static func ms(_ t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }

    static func directoryBytes(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        for case let f as String in e {
            if let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + f), (a[.type] as? FileAttributeType) == .typeRegular {
                total += (a[.size] as? Int) ?? 0
            }
        }
        return total
    }

    // MARK: children

    /// `--scale-ingest N STORE`: one series of N points, appended a million at a time.
    static func ingestOne(points n: Int, store path: String) throws -> [String: Double] {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let store = try Store.open(at: path)
        let run = try store.createRun(name: "scale")
        var noise: UInt64 = 42
        var at: Int64 = 0
        let batch = 1 << 20
        while at < Int64(n) {
            let k = min(batch, n - Int(at))
            var steps = [Int64](), values = [Double](), times = [Int64]()
            steps.reserveCapacity(k); values.reserveCapacity(k); times.reserveCapacity(k)
            for s in at..<(at + Int64(k)) {
                steps.append(s)
                values.append(value(0, s, &noise))
                times.append(time(s, noise))
            }
            try run.append("train/loss", steps: steps, values: values, times: times)
            at += Int64(k)
        }
        try run.finish()
        try store.close()
        return ["seconds": ms(t0) / 1000, "peak_rss": Double(peakRSSBytes())]
    }

    /// `--billion-ingest METRICS STEPS STORE`: a training loop logging every metric each step.
    static func ingestMany(metrics: Int, steps: Int, store path: String) throws -> [String: Double] {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let store = try Store.open(at: path)
        let run = try store.createRun(name: "billion")
        let group = try run.metrics((0..<metrics).map { "m\($0 / 20)/metric_\($0)" })
        var noise: UInt64 = 7
        var values = [Double](repeating: 0, count: metrics)
        for s in 0..<Int64(steps) {
            for m in 0..<metrics { values[m] = value(m, s, &noise) }
            try run.log(group, step: s, values: values, time: time(s, noise))
        }
        try run.finish()
        try store.close()
        return ["seconds": ms(t0) / 1000, "peak_rss": Double(peakRSSBytes())]
    }

    /// `--scale-query STORE METRIC STEPS [N_METRICS]`: open, curves, zoom, summaries, timed in a
    /// fresh process.
    static func query(store path: String, metric: String, steps n: Int64, metrics: Int) throws -> [String: Double] {
        var out: [String: Double] = [:]
        var t0 = DispatchTime.now().uptimeNanoseconds
        let store = try Store.open(at: path, options: .init(create: false))
        let id = try store.runs().first!.id
        out["open_ms"] = ms(t0)
        t0 = DispatchTime.now().uptimeNanoseconds
        _ = try store.curve(id, metric, steps: 0..<n, buckets: 1000)
        out["curve_first_ms"] = ms(t0)
        func warm(_ body: () throws -> Void) rethrows -> Double {
            try body()
            var xs: [Double] = []
            for _ in 0..<9 {
                let t = DispatchTime.now().uptimeNanoseconds
                try body()
                xs.append(ms(t))
            }
            return median(xs)
        }
        out["curve_ms"] = try warm { _ = try store.curve(id, metric, steps: 0..<n, buckets: 1000) }
        let z0 = n / 2 + 12_345
        out["zoom_ms"] = try warm { _ = try store.curve(id, metric, steps: z0..<(z0 + max(1000, n / 100)), buckets: 1000) }
        out["window_aggregate_ms"] = try warm { _ = try store.aggregate(id, metric, steps: (n / 3)...(2 * n / 3 + 77)) }
        if metrics > 1 {
            // A curve of every metric once (first use of each series in this process).
            t0 = DispatchTime.now().uptimeNanoseconds
            let names = (0..<metrics).map { "m\($0 / 20)/metric_\($0)" }
            for name in names { _ = try store.curve(id, name, steps: 0..<n, buckets: 1000) }
            out["curve_each_metric_first_ms_avg"] = ms(t0) / Double(metrics)
            out["curve_each_metric_warm_ms_avg"] =
                try warm { for name in names { _ = try store.curve(id, name, steps: 0..<n, buckets: 1000) } } / Double(metrics)
        }
        out["summary_all_metrics_ms"] = try warm { _ = try store.summary() }
        out["last_all_metrics_ms"] = try warm {
            let last = try store.series(of: id).map(\.lastValue)
            if last.count != metrics { throw BenchError("\(last.count) series, expected \(metrics)") }
        }
        out["peak_rss"] = Double(peakRSSBytes())
        try store.close()
        return out
    }

    // MARK: parents

    static func scaling(out: String, scales: [Int], scratch: String) throws {
        var rows: [[String: Double]] = []
        for n in scales {
            let store = scratch + "/scale-\(n)"
            try? FileManager.default.removeItem(atPath: store)
            let ingest = try runSelf(["--scale-ingest", String(n), store])
            let bytes = directoryBytes(store)
            var q = try runSelf(["--scale-query", store, "train/loss", String(n), "1"])
            q["points"] = Double(n)
            q["ingest_seconds"] = ingest["seconds"]!
            q["ingest_peak_rss_mib"] = ingest["peak_rss"]! / 1_048_576
            q["query_peak_rss_mib"] = q.removeValue(forKey: "peak_rss")! / 1_048_576
            q["bytes_per_point"] = Double(bytes) / Double(n)
            rows.append(q)
            log(
                String(
                    format: "  %11d points: curve(1000) %.3f ms warm, %.2f ms first; zoom %.3f ms; open %.2f ms; %.3f bytes/point",
                    n, q["curve_ms"]!, q["curve_first_ms"]!, q["zoom_ms"]!, q["open_ms"]!, q["bytes_per_point"]!))
            try? FileManager.default.removeItem(atPath: store)
        }
        let data = try JSONSerialization.data(withJSONObject: ["scaling": rows], options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: out))
    }

    static func billion(dir: String, metrics: Int, steps: Int, out: String?) throws {
        try? FileManager.default.removeItem(atPath: dir)
        let ingest = try runSelf(["--billion-ingest", String(metrics), String(steps), dir])
        let points = Double(metrics) * Double(steps)
        var q = try runSelf(["--scale-query", dir, "m0/metric_0", String(steps), String(metrics)])
        q["points"] = points
        q["ingest_seconds"] = ingest["seconds"]!
        q["ingest_points_per_s"] = points / ingest["seconds"]!
        q["ingest_peak_rss_mib"] = ingest["peak_rss"]! / 1_048_576
        q["query_peak_rss_mib"] = q.removeValue(forKey: "peak_rss")! / 1_048_576
        q["bytes_per_point"] = Double(directoryBytes(dir)) / points
        // Optionally, as a user would after a long run: compact the log-cut segments, then query again.
        if ProcessInfo.processInfo.environment["STRATA_BENCH_COMPACT"] == "1" {
            let c = try runSelf(["--billion-compact", dir])
            q["compact_seconds"] = c["seconds"]!
            q["compact_peak_rss_mib"] = c["peak_rss"]! / 1_048_576
            let qc = try runSelf(["--scale-query", dir, "m0/metric_0", String(steps), String(metrics)])
            for (k, v) in qc where k != "peak_rss" { q["compacted_" + k] = v }
            q["compacted_bytes_per_point"] = Double(directoryBytes(dir)) / points
        }
        for (k, v) in q.sorted(by: { $0.key < $1.key }) { log(String(format: "  %-34@ %.3f", k, v)) }
        let data = try JSONSerialization.data(withJSONObject: ["billion": q], options: [.prettyPrinted, .sortedKeys])
        if let out { try data.write(to: URL(fileURLWithPath: out)) } else { print(String(decoding: data, as: UTF8.self)) }
    }

    /// Handles the scaling and billion modes; false when the arguments name neither.
    static func main() -> Bool {
        let a = CommandLine.arguments
        guard a.count >= 2 else { return false }
        do {
            switch a[1] {
            case "--scale-ingest" where a.count >= 4:
                try printJSON(try ingestOne(points: Int(a[2])!, store: a[3]))
            case "--billion-ingest" where a.count >= 5:
                try printJSON(try ingestMany(metrics: Int(a[2])!, steps: Int(a[3])!, store: a[4]))
            case "--billion-compact" where a.count >= 3:
                let t0 = DispatchTime.now().uptimeNanoseconds
                let store = try Store.open(at: a[2], options: .init(create: false))
                _ = try store.compact(graceSeconds: 0)
                try store.close()
                try printJSON(["seconds": ms(t0) / 1000, "peak_rss": Double(peakRSSBytes())])
            case "--scale-profile" where a.count >= 6:
                // A loop of warm whole-run curves over a kept store, for `perf record` (not timed here).
                let store = try Store.open(at: a[2], options: .init(create: false))
                let id = try store.runs().first!.id
                let n = Int64(a[4])!
                var t0 = DispatchTime.now().uptimeNanoseconds
                _ = try store.curve(id, a[3], steps: 0..<n, buckets: 1000)
                log(String(format: "first curve %.2f ms", ms(t0)))
                t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<Int(a[5])! { _ = try store.curve(id, a[3], steps: 0..<n, buckets: 1000) }
                log(String(format: "warm curve %.4f ms (mean)", ms(t0) / Double(Int(a[5])!)))
                try store.close()
            case "--scale-query" where a.count >= 6:
                try printJSON(try query(store: a[2], metric: a[3], steps: Int64(a[4])!, metrics: Int(a[5])!))
            case "--scaling" where a.count >= 3:
                let scales = (arg("--scales") ?? "200000,2000000,10000000,100000000").split(separator: ",").compactMap { Int($0) }
                let scratch = arg("--scratch") ?? NSTemporaryDirectory()
                try scaling(out: a[2], scales: scales, scratch: scratch)
            case "--billion" where a.count >= 3:
                try billion(
                    dir: a[2], metrics: Int(arg("--metrics") ?? "200") ?? 200, steps: Int(arg("--steps") ?? "5000000") ?? 5_000_000,
                    out: arg("--out"))
            default:
                return false
            }
            exit(0)
        } catch {
            log("strata-bench: \(error)")
            exit(1)
        }
    }

    static func printJSON(_ d: [String: Double]) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), as: UTF8.self))
    }
}

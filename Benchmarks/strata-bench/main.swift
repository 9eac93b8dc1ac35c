// strata-bench: the standard benchmark of shared/bench/QUERIES.md.
//
//   swift run -c release strata-bench --long DIR --sweep DIR --out results.json [--answers answers.json] [--repeat N]
//       [--duckdb PYTHON]   (DuckDB's bulk load of `long` after each I1 run, DuckDBPeer.swift)
//   swift run -c release strata-bench --dataset DIR --out results.json [--repeat N]
//   swift run -c release strata-bench --trials DIR --out results.json [--answers trials-answers.json] [--repeat N]
//   swift run -c release strata-bench --quantiles LONG SWEEP --out q.json [--repeat N]   (QuantileBench.swift)
//   swift run -c release strata-bench --compare LONG_STORE SWEEP_STORE [--repeat N]   (issue 16: hist, p99, compare)
//   swift run -c release strata-bench --scaling OUT.json [--scales 200000,2000000,…]   (issue 17: curve cost against run length)
//   swift run -c release strata-bench --billion DIR [--metrics 200] [--steps 5000000] [--out OUT.json]   (issue 17)
//   swift run -c release strata-bench --forks DIR [--repeat 9]   (issue 15: curve through a 3-level fork, ForkBench.swift)
//
// Each ingest runs in a fresh child process (this executable with --child) so its peak memory is
// its own; figures are medians over --repeat runs (default 3).
import Foundation
import Strata

func arg(_ name: String) -> String? {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count else { return nil }
    return a[i + 1]
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func selfPath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Runs this executable with `arguments` (and `environment`, else this process's) in a fresh process
/// and returns the JSON object it prints.
func runSelf(_ arguments: [String], environment: [String: String]? = nil) throws -> [String: Double] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: selfPath())
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let obj = try JSONSerialization.jsonObject(with: data) as? [String: Double] else {
        throw BenchError("\(arguments.joined(separator: " ")) failed: \(String(decoding: data, as: UTF8.self))")
    }
    return obj
}

/// Runs `strata-bench --child MODE DIR STORE` (one ingest in its own process).
func child(_ mode: String, _ dir: String, _ store: String) throws -> [String: Double] {
    try runSelf(["--child", mode, dir, store])
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

// strata-bench --scaling OUT.json / --billion DIR (issue 17, Scaling.swift) and their children.
_ = Scaling.main()
_ = ForkBench.main()

if CommandLine.arguments.count >= 6 && CommandLine.arguments[1] == "--profile" {
    // strata-bench --profile Qn LONG SWEEP N: answers Qn N times in one process (for perf).
    do {
        let s = try Queries.open(long: CommandLine.arguments[3], sweep: CommandLine.arguments[4])
        for _ in 0..<(Int(CommandLine.arguments[5]) ?? 100) { _ = try Queries.compute(CommandLine.arguments[2], s) }
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 4 && CommandLine.arguments[1] == "--compare" {
    // strata-bench --compare LONG_STORE SWEEP_STORE [--repeat N]: issue 16's comparisons and histograms.
    do {
        let r = try CompareBench.run(long: CommandLine.arguments[2], sweep: CommandLine.arguments[3], repeats: Int(arg("--repeat") ?? "5") ?? 5)
        print(String(decoding: try JSONSerialization.data(withJSONObject: r, options: [.sortedKeys]), as: UTF8.self))
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 5 && CommandLine.arguments[1] == "--cold" {
    do {
        try Queries.cold(CommandLine.arguments[2], long: CommandLine.arguments[3], sweep: CommandLine.arguments[4])
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 3 && CommandLine.arguments[1] == "--trials-open" {
    do {
        try Trials.openChild(CommandLine.arguments[2])
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 5 && CommandLine.arguments[1] == "--trials-profile" {
    // strata-bench --trials-profile Q8|Q9 STORE N: answers Q8 or Q9 N times in one process (for perf).
    do {
        let store = try Store.open(at: CommandLine.arguments[3], options: .init(create: false))
        for _ in 0..<(Int(CommandLine.arguments[4]) ?? 100) {
            if CommandLine.arguments[2] == "Q8" { _ = try Trials.q8(store) } else { _ = try Trials.q9(store) }
        }
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 3 && CommandLine.arguments[1] == "--catalog" {
    // strata-bench --catalog SCRATCH …: catalog open/list at 1k/20k/100k runs (CatalogBench.swift).
    do {
        try CatalogBench.main()
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

if CommandLine.arguments.count >= 2 && CommandLine.arguments[1] == "--codecs" {
    // strata-bench --codecs [SECONDS]: per-codec decode rates (points/s) as JSON.
    let rates = CodecRates.run(seconds: Double(CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "0.5") ?? 0.5)
    for (k, v) in rates.sorted(by: { $0.key < $1.key }) { log(String(format: "  %-28@ %8.0f M points/s", k, v / 1e6)) }
    let data = try! JSONSerialization.data(withJSONObject: rates, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    exit(0)
}

if CommandLine.arguments.count >= 5 && CommandLine.arguments[1] == "--child" {
    let mode = CommandLine.arguments[2], dir = CommandLine.arguments[3], store = CommandLine.arguments[4]
    do {
        let w = try Workload(dir)
        let seconds: Double
        switch mode {
        case "stream": seconds = try Ingest.stream(w, store: store, dictionary: false)
        case "dict": seconds = try Ingest.stream(w, store: store, dictionary: true)
        case "bulk": seconds = try Ingest.bulk(w, store: store)
        default: throw BenchError("unknown child mode \(mode)")
        }
        print("{\"seconds\": \(seconds), \"points\": \(w.points), \"peak_rss\": \(peakRSSBytes())}")
        exit(0)
    } catch {
        log("strata-bench: \(error)")
        exit(1)
    }
}

let repeats = Int(arg("--repeat") ?? "3") ?? 3
guard let out = arg("--out") else {
    log(
        "usage: strata-bench --long DIR --sweep DIR --out results.json [--answers answers.json] [--repeat N]\n       strata-bench --dataset DIR --out results.json"
    )
    exit(2)
}
let scratch = arg("--scratch") ?? NSTemporaryDirectory() + "strata-bench-\(getpid())"
try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
var results: [String: Any] = [:]

/// Ingests `dir` `repeats` times with `mode`; keeps the last store at `keep`.
/// `between`, when given, runs after each ingest (the DuckDB peer's load, alternated with Strata's).
func ingest(
    _ mode: String, _ dir: String, keep: String, between: (() throws -> Void)? = nil
) throws -> (pps: Double, bpp: Double, rss: Double, store: String) {
    var rates: [Double] = [], sizes: [Double] = [], rss: [Double] = []
    for i in 0..<repeats {
        let store = scratch + "/\(mode)-\(i)"
        try? FileManager.default.removeItem(atPath: store)
        let r = try child(mode, dir, store)
        let points = r["points"]!
        rates.append(points / r["seconds"]!)
        sizes.append(Double(directoryBytes(store)) / points)
        rss.append(r["peak_rss"]! / 1_048_576)
        log(String(format: "  %@ run %d: %.2f M points/s, %.3f bytes/point, peak RSS %.0f MiB", mode, i, rates.last! / 1e6, sizes.last!, rss.last!))
        try between?()
        if i < repeats - 1 {
            try? FileManager.default.removeItem(atPath: store)
        } else {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.moveItem(atPath: store, toPath: keep)
        }
    }
    return (median(rates), median(sizes), rss.max() ?? 0, keep)
}

func codecBreakdown(_ store: String, points: Int) throws -> [[String: Any]] {
    let s = try Store.open(at: store, options: .init(create: false))
    defer { try? s.close() }
    let st = try s.storageStats()
    log("  codec breakdown (bytes per point of the whole store's points):")
    var rows: [[String: Any]] = []
    for c in st.codecs {
        let bpp = Double(c.bytes) / Double(points)
        log(
            String(
                format: "    %-7@ %-14@ %10d values %12d bytes  %.3f B/pt (%.2f B/value)", c.column, c.codec, c.values, c.bytes, bpp,
                Double(c.bytes) / Double(max(1, c.values))))
        rows.append(["column": c.column, "codec": c.codec, "values": c.values, "bytes": c.bytes])
    }
    log(
        String(
            format: "    tier    %d bytes  %.3f B/pt;  files %d bytes; shared columns %d bytes", st.tierBytes, Double(st.tierBytes) / Double(points),
            st.fileBytes, st.sharedColumnBytes))
    return rows
}

do {
    if let i = CommandLine.arguments.firstIndex(of: "--quantiles"), i + 2 < CommandLine.arguments.count {
        // Issue 16: quantile sketches (ingest and size with and without, p99/curve/rank queries).
        let q = try QuantileBench.run(
            long: CommandLine.arguments[i + 1], sweep: CommandLine.arguments[i + 2], scratch: scratch, repeats: repeats)
        for (k, v) in q { results[k] = v }
    } else if let long = arg("--long"), let sweep = arg("--sweep") {
        let wl = try Workload(long), ws = try Workload(sweep)
        var peer = try arg("--duckdb").map { try DuckDBPeer(python: $0, scratch: scratch) }
        log("I1 stream (long, metric groups)" + (peer == nil ? ":" : ", each run followed by DuckDB's bulk load of the same files:"))
        let i1 = try ingest("stream", long, keep: scratch + "/long") { try peer?.loadOnce(long: long) }
        results["I1_points_per_s"] = i1.pps
        results["bytes_per_point_long"] = i1.bpp
        results["I1_peak_rss_mib"] = i1.rss
        results["codecs_long"] = try codecBreakdown(i1.store, points: wl.points)
        results["structure_long"] = try Trials.structure(i1.store, points: wl.points)
        log("I1 stream (long, dictionary log call):")
        let i1d = try ingest("dict", long, keep: scratch + "/long-dict")
        results["I1_dict_points_per_s"] = i1d.pps
        if let peer {
            for (k, v) in peer.results(strataI1: i1.pps, dictionary: i1d.pps) { results[k] = v }
            let load = median(peer.load)
            log(
                String(
                    format: "I1 against DuckDB's bulk load (medians, same run): metric groups %.1f×, dictionary log %.1f×"
                        + " (DuckDB %.2f M points/s load only)", i1.pps / load, i1d.pps / load, load / 1e6))
        }
        try? FileManager.default.removeItem(atPath: i1d.store)
        log("I2 bulk (sweep):")
        let i2 = try ingest("bulk", sweep, keep: scratch + "/sweep")
        results["I2_points_per_s"] = i2.pps
        results["bytes_per_point_sweep"] = i2.bpp
        results["I2_peak_rss_mib"] = i2.rss
        results["codecs_sweep"] = try codecBreakdown(i2.store, points: ws.points)
        results["structure_sweep"] = try Trials.structure(i2.store, points: ws.points)
        log("Decode rate per codec (one 65,536-value column, in cache):")
        results["decode_points_per_s"] = CodecRates.run(seconds: 0.3)
        for (k, v) in (results["decode_points_per_s"] as! [String: Double]).sorted(by: { $0.key < $1.key }) {
            log(String(format: "  %-28@ %8.0f M points/s", k, v / 1e6))
        }
        if let answersPath = arg("--answers") {
            let (answers, timings) = try Queries.run(long: i1.store, sweep: i2.store, repeats: max(5, repeats))
            let data = try JSONSerialization.data(withJSONObject: answers, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: answersPath))
            for (k, v) in timings { results[k] = v }
        }
    } else if let trials = arg("--trials") {
        let w = try Workload(trials)
        log("I3 bulk (trials):")
        let i3 = try ingest("bulk", trials, keep: scratch + "/trials")
        results["I3_points_per_s"] = i3.pps
        results["bytes_per_point_trials"] = i3.bpp
        results["I3_peak_rss_mib"] = i3.rss
        results["codecs_trials"] = try codecBreakdown(i3.store, points: w.points)
        results["structure_trials"] = try Trials.structure(i3.store, points: w.points)
        let (answers, timings) = try Trials.run(store: i3.store, repeats: max(5, repeats))
        for (k, v) in timings { results[k] = v }
        if let answersPath = arg("--answers") { try Trials.json(answers).write(to: URL(fileURLWithPath: answersPath)) }
    } else if let dataset = arg("--dataset") {
        let w = try Workload(dataset)
        let r = try ingest("bulk", dataset, keep: scratch + "/dataset")
        results["points_per_s"] = r.pps
        results["bytes_per_point"] = r.bpp
        results["peak_rss_mib"] = r.rss
        results["codecs"] = try codecBreakdown(r.store, points: w.points)
    } else {
        log("strata-bench: give --long and --sweep, --trials, or --dataset")
        exit(2)
    }
    results["repeats"] = repeats
    let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: out))
    log("wrote \(out)")
} catch {
    log("strata-bench: \(error)")
    exit(1)
}

// strata-bench --catalog SCRATCH [--sizes 1000,20000,100000] [--strata PATH] [--repeat N] [--duckdb PYTHON]
//
// The catalog at scale (issue 10): builds stores of 1,000 / 20,000 / 100,000 runs through the
// library (params, three series of 10 points each), reporting the bulk creation rate, then times
// whole `strata` processes (median of --repeat, default 7, after one warm-up) with their peak RSS:
//   strata runs --limit 5
//   strata runs --where 'params.lr < 0.001' --sort train/loss.min --limit 5
// With --duckdb PYTHON (a Python with the duckdb module), the same two questions are timed as
// whole `PYTHON -c …` processes on a DuckDB file holding the same runs (params and loss minimum),
// as a peer measured in the same session. Prints one JSON object.
//
// Unsafe pointer code: `timeProcess` only (C strings for posix_spawn, freed before it returns).
import Foundation
import Strata

#if canImport(Glibc)
import Glibc
#endif

enum CatalogBench {
    /// Runs `argv` with stdout and stderr to /dev/null; returns wall seconds and peak RSS (bytes).
    static func timeProcess(_ argv: [String], env: [String: String] = [:]) throws -> (seconds: Double, rss: Double) {
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        guard posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv) == 0 else { throw BenchError("cannot run \(argv[0])") }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")) exited with status \(status)") }
        return (seconds, Double(usage.ru_maxrss) * 1024)
    }

    /// Median wall time over `repeats` runs (after a warm-up), and the peak RSS as `/usr/bin/time`
    /// reports it (a child's own `ru_maxrss` would start from this large process's, which spawns it).
    static func timed(_ argv: [String], repeats: Int) throws -> (ms: Double, rssMiB: Double) {
        _ = try timeProcess(argv)  // warm-up (page cache)
        var ts: [Double] = []
        for _ in 0..<repeats { ts.append(try timeProcess(argv).seconds * 1000) }
        let out = NSTemporaryDirectory() + "strata-bench-rss-\(getpid())"
        _ = try timeProcess(["/usr/bin/time", "-f", "%M", "-o", out] + argv)
        let kib = Double((try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? "") ?? .nan
        try? FileManager.default.removeItem(atPath: out)
        return (median(ts), kib / 1024)
    }

    /// Builds a store of `n` runs; returns the creation rate (runs/s, creation only, durable at
    /// flush) and the whole build's seconds.
    static func build(_ path: String, runs n: Int, csv: String) throws -> (
        createRate: Double, seconds: Double, catalogBytes: Int, catalog: StorageStats.CatalogBytes
    ) {
        try? FileManager.default.removeItem(atPath: path)
        let store = try Store.open(at: path)
        var rows = "id,name,lr,batch,loss_min\n"
        let t0 = Date()
        var runs: [Run] = []
        runs.reserveCapacity(n)
        for k in 0..<n {
            let lr = [1e-4, 3e-4, 1e-3, 3e-3][k % 4]
            runs.append(
                try store.createRun(
                    name: "trial-\(k)", project: "sweep",
                    params: [
                        "lr": .double(lr), "batch": .int(Int64(32 << (k % 3))), "optimizer": .string(k % 2 == 0 ? "adam" : "sgd"),
                        "seed": .int(Int64(k))
                    ],
                    tags: ["sweep"]))
        }
        try store.flush()
        let createSeconds = Date().timeIntervalSince(t0)
        for (k, run) in runs.enumerated() {
            let group = try run.metrics(["train/loss", "val/loss", "val/acc"])
            var lossMin = Double.infinity
            for step in 0..<10 {
                let loss = 2.0 / Double(step + 1) + Double(k % 97) * 1e-3
                lossMin = min(lossMin, loss)
                try run.log(group, step: Int64(step), values: [loss, loss * 1.1, 1 - loss / 3], time: 1_700_000_000_000 + Int64(step))
            }
            rows += "\(run.id.text),trial-\(k),\([1e-4, 3e-4, 1e-3, 3e-3][k % 4]),\(32 << (k % 3)),\(lossMin)\n"
        }
        try store.close()  // finishes every run (one catalog write)
        try rows.write(toFile: csv, atomically: true, encoding: .utf8)
        let seconds = Date().timeIntervalSince(t0)
        // A reader's close checkpoints the catalog when the tail is long (the writer's close did already).
        let reader = try Store.open(at: path, options: .init(create: false))
        try reader.close()
        let catalogBytes = ["catalog.log", "catalog.ckpt"].reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: path + "/" + $1)[.size] as? Int) ?? 0)
        }
        // The catalog's bytes a run beyond its params and tags (`StorageStats.catalog`).
        let stats = try Store.open(at: path, options: .init(create: false))
        let catalog = try stats.storageStats().catalog
        try stats.close()
        return (Double(n) / createSeconds, seconds, catalogBytes, catalog)
    }

    /// Runs/s creating `n` runs with params, batched (written at flush) or written one by one as
    /// before batching (`writeCreatedRuns` after each), durable at the end (flush) either way.
    static func createRate(_ path: String, runs n: Int, writeEach: Bool) throws -> Double {
        try? FileManager.default.removeItem(atPath: path)
        let store = try Store.open(at: path)
        let t0 = Date()
        for k in 0..<n {
            _ = try store.createRun(name: "r\(k)", params: ["lr": .double(1e-4 * Double(k % 7)), "batch": .int(64), "seed": .int(Int64(k))])
            if writeEach { try store.writeCreatedRuns() }
        }
        try store.flush()
        let rate = Double(n) / Date().timeIntervalSince(t0)
        try store.close()
        try? FileManager.default.removeItem(atPath: path)
        return rate
    }

    static func main() throws {
        let scratch = CommandLine.arguments[2]
        let sizes = (arg("--sizes") ?? "1000,20000,100000").split(separator: ",").compactMap { Int($0) }
        let repeats = Int(arg("--repeat") ?? "7") ?? 7
        let strata = arg("--strata") ?? (URL(fileURLWithPath: selfPath()).deletingLastPathComponent().path + "/strata")
        let python = arg("--duckdb")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var results: [String: Any] = ["repeats": repeats]
        let batched = try createRate(scratch + "/create", runs: 10_000, writeEach: false)
        let oneByOne = try createRate(scratch + "/create", runs: 10_000, writeEach: true)
        log(String(format: "creating 10,000 runs with params: batched %.0f runs/s, one write each %.0f runs/s", batched, oneByOne))
        results["create_10k_batched_runs_per_s"] = batched
        results["create_10k_one_write_each_runs_per_s"] = oneByOne
        for n in sizes {
            let store = scratch + "/runs-\(n)", csv = scratch + "/runs-\(n).csv"
            log("building \(n) runs…")
            let b = try build(store, runs: n, csv: csv)
            let ckpt = (try? FileManager.default.attributesOfItem(atPath: store + "/catalog.ckpt")[.size] as? Int) ?? 0
            log(
                String(
                    format: "  created %.0f runs/s; whole build %.1f s; catalog.ckpt %d bytes (%.1f a run)", b.createRate, b.seconds, ckpt,
                    Double(ckpt) / Double(n)))
            log(
                String(
                    format: "  catalog a run beyond params and tags: checkpoint %.1f bytes, with catalog.log (%.1f bytes a run) %.1f bytes",
                    b.catalog.checkpointOverheadPerRun, Double(b.catalog.logBytes) / Double(n), b.catalog.overheadPerRun))
            let list = try timed([strata, "runs", "--store", store, "--limit", "5"], repeats: repeats)
            let whereSort = try timed(
                [strata, "runs", "--store", store, "--where", "params.lr < 0.001", "--sort", "train/loss.min", "--limit", "5"], repeats: repeats)
            log(
                String(
                    format: "  strata runs --limit 5: %.1f ms, %.0f MiB; --where --sort: %.1f ms, %.0f MiB", list.ms, list.rssMiB, whereSort.ms,
                    whereSort.rssMiB))
            // The same store without its segments: what the catalog alone costs a whole process.
            let bare = scratch + "/runs-\(n)-catalog-only"
            try? FileManager.default.removeItem(atPath: bare)
            try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
            for f in ["STRATA", "catalog.log", "catalog.ckpt"] { try FileManager.default.copyItem(atPath: store + "/" + f, toPath: bare + "/" + f) }
            let bareList = try timed([strata, "runs", "--store", bare, "--limit", "5"], repeats: repeats)
            let bareWhere = try timed([strata, "runs", "--store", bare, "--where", "params.lr < 0.001", "--limit", "5"], repeats: repeats)
            log(
                String(
                    format: "  catalog only (segments removed): --limit 5 %.1f ms, %.0f MiB; --where %.1f ms, %.0f MiB", bareList.ms, bareList.rssMiB,
                    bareWhere.ms, bareWhere.rssMiB))
            var row: [String: Any] = [
                "catalog_only_limit5_ms": bareList.ms, "catalog_only_limit5_rss_mib": bareList.rssMiB,
                "catalog_only_where_ms": bareWhere.ms, "catalog_only_where_rss_mib": bareWhere.rssMiB,
                "create_runs_per_s": b.createRate, "build_s": b.seconds, "checkpoint_bytes": ckpt, "catalog_bytes": b.catalogBytes,
                "checkpoint_bytes_per_run_beyond_params_and_tags": b.catalog.checkpointOverheadPerRun,
                "catalog_bytes_per_run_beyond_params_and_tags": b.catalog.overheadPerRun, "catalog_log_bytes": b.catalog.logBytes,
                "runs_limit5_ms": list.ms, "runs_limit5_rss_mib": list.rssMiB, "where_sort_ms": whereSort.ms, "where_sort_rss_mib": whereSort.rssMiB
            ]
            if let python {
                let db = scratch + "/runs-\(n).duckdb"
                try? FileManager.default.removeItem(atPath: db)
                _ = try timeProcess([
                    python, "-c", "import duckdb; c = duckdb.connect('\(db)'); c.sql(\"create table runs as select * from read_csv('\(csv)')\")"
                ])
                let q1 = "import duckdb; print(duckdb.connect('\(db)', read_only=True).sql('select * from runs order by id limit 5').fetchall())"
                let q2 =
                    "import duckdb; print(duckdb.connect('\(db)', read_only=True).sql('select * from runs where lr < 0.001 order by loss_min limit 5').fetchall())"
                let d1 = try timed([python, "-c", q1], repeats: repeats), d2 = try timed([python, "-c", q2], repeats: repeats)
                log(
                    String(
                        format: "  duckdb (python, whole process): list %.1f ms, %.0f MiB; where+sort %.1f ms, %.0f MiB", d1.ms, d1.rssMiB, d2.ms,
                        d2.rssMiB))
                row["duckdb_list_ms"] = d1.ms
                row["duckdb_list_rss_mib"] = d1.rssMiB
                row["duckdb_where_sort_ms"] = d2.ms
                row["duckdb_where_sort_rss_mib"] = d2.rssMiB
            }
            results["runs_\(n)"] = row
        }
        let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

import Foundation

/// DuckDB beside Strata in the same run (issue 17: "I1 beside DuckDB in the same run").
///
/// `strata-bench --long DIR --sweep DIR --out F --duckdb PYTHON` runs, after each of its own I1
/// ingests, one bulk load of the same `long` files into DuckDB: `PYTHON
/// Benchmarks/peer/duckdb_bench.py --long DIR --ingest-only --repeat 1` (PYTHON must import
/// duckdb, pyarrow and numpy; the script is found from the working directory, the repository root,
/// or from `--duckdb-script PATH`). The two alternate, so both see the same machine load, and the
/// medians are set side by side: DuckDB's load alone (Arrow table already built, `CREATE TABLE AS`
/// plus `CHECKPOINT`: its fastest path), from arrays (building the Arrow table too), and whole
/// (reading the workload files too). Strata's I1 is the per-step call of a training loop, so the
/// ratio against DuckDB's load alone is the one the target (≥ 5×) is read against.
struct DuckDBPeer {
    let python: String
    let script: String
    let workdir: String
    private(set) var load: [Double] = []
    private(set) var fromArrays: [Double] = []
    private(set) var whole: [Double] = []
    private(set) var bytesPerPoint: Double = .nan

    init(python: String, scratch: String) throws {
        self.python = python
        let s = arg("--duckdb-script") ?? FileManager.default.currentDirectoryPath + "/Benchmarks/peer/duckdb_bench.py"
        guard FileManager.default.fileExists(atPath: s) else {
            throw BenchError("--duckdb: no peer script at \(s) (run from the repository root, or give --duckdb-script PATH)")
        }
        script = s
        workdir = scratch + "/duckdb"
        try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
    }

    /// One bulk load of `long` in a fresh Python process; appends its rates (points/s).
    mutating func loadOnce(long dir: String) throws {
        let out = workdir + "/ingest.json"
        try? FileManager.default.removeItem(atPath: out)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, "--long", dir, "--out", out, "--repeat", "1", "--ingest-only", "--workdir", workdir]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let data = FileManager.default.contents(atPath: out),
            let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let l = obj["I1_load_points_per_s"] as? Double, let a = obj["I1_from_arrays_points_per_s"] as? Double,
            let w = obj["I1_points_per_s"] as? Double
        else {
            throw BenchError("--duckdb: \(python) \(script) failed (exit \(p.terminationStatus)): \(text.suffix(2000))")
        }
        load.append(l)
        fromArrays.append(a)
        whole.append(w)
        bytesPerPoint = (obj["bytes_per_point_long"] as? Double) ?? .nan
        log(String(format: "  duckdb bulk load: %.2f M points/s load only, %.2f M from arrays, %.2f M whole", l / 1e6, a / 1e6, w / 1e6))
    }

    /// The medians and the ratios of Strata's rates against DuckDB's load alone, as result keys.
    func results(strataI1 i1: Double, dictionary: Double) -> [String: Double] {
        let l = median(load)
        return [
            "duckdb_I1_load_points_per_s": l,
            "duckdb_I1_from_arrays_points_per_s": median(fromArrays),
            "duckdb_I1_points_per_s": median(whole),
            "duckdb_bytes_per_point_long": bytesPerPoint,
            "I1_over_duckdb_load": i1 / l,
            "I1_dict_over_duckdb_load": dictionary / l
        ]
    }
}

import Foundation
import Testing

/// `strata curve --quantiles`, `runs --where ...p99`, `--sort METRIC.p50` and their usage errors.
@Suite("CLI quantiles")
struct QuantileCLITests {
    static func ingest(_ store: String) throws {
        var lines = ""
        // r0: step times around 300; r1: a slow tail; 5,000 points each (one full chunk).
        for run in ["r0", "r1"] {
            for s in 0..<5000 {
                let tail = run == "r1" && s % 10 == 0
                let v = tail ? 450.0 + Double(s % 7) : 300.0 + Double((s * 37) % 11)
                lines += "{\"run\": \"\(run)\", \"step\": \(s), \"metrics\": {\"train/step_ms\": \(v)}}\n"
            }
        }
        let r = try strata(["ingest", "--quiet"], input: lines, store: store)
        #expect(r.code == 0, "\(r.err)")
    }

    @Test func curveWhereAndSortWithQuantiles() throws {
        let dir = Scratch()
        let store = dir.sub("s")
        try Self.ingest(store)
        // p99 per bucket: r1 buckets hold the 450+ tail.
        let c = try strata(["curve", "r1", "train/step_ms", "--buckets", "1", "--quantiles", "0.5,0.99", "--json"], store: store)
        #expect(c.code == 0, "\(c.err)")
        let line = try #require(c.out.split(separator: "\n").first)
        let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let q = obj["quantiles"] as! [String: Double]
        #expect(Set(q.keys) == ["p50", "p99"])
        #expect(q["p99"]! >= 450 * (1 - 0.0099) && q["p99"]! <= 456 * (1 + 0.0099))
        #expect(q["p50"]! >= 300 * (1 - 0.0099) && q["p50"]! <= 310 * (1 + 0.0099))
        #expect(obj["quantiles_exact"] as? Bool == false)
        let e = try strata(["curve", "r1", "train/step_ms", "--buckets", "2", "--quantiles", "p50,p99", "--exact"], store: store)
        #expect(e.code == 0 && e.out.contains("quantiles: exact") && e.out.contains("p99"), "\(e.out)\(e.err)")
        // runs --where on p99, --sort on p50.
        let w = try strata(["runs", "--where", #"metric("train/step_ms").p99 < 350"#, "--columns", "name,train/step_ms.p99"], store: store)
        #expect(w.code == 0, "\(w.err)")
        #expect(w.out.contains("r0") && !w.out.contains("r1"))
        let s = try strata(["runs", "--sort", "-train/step_ms.p99", "--columns", "name"], store: store)
        #expect(s.code == 0, "\(s.err)")
        let names = s.out.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(names.first == "r1")
    }

    @Test func badQuantilesAreUsageErrors() throws {
        let dir = Scratch()
        let store = dir.sub("s")
        try Self.ingest(store)
        for bad in ["1.5", "0", "1", "x", "0.5,", "p100"] {
            let r = try strata(["curve", "r0", "train/step_ms", "--quantiles", bad], store: store)
            #expect(r.code == 2, "\(bad): \(r.err)")
            #expect(r.err.contains("--quantiles"), "\(bad): \(r.err)")
        }
        let x = try strata(["curve", "r0", "train/step_ms", "--exact"], store: store)
        #expect(x.code == 2)
        let f = try strata(["runs", "--where", #"metric("train/step_ms").p100 < 3"#], store: store)
        #expect(f.code == 2, "\(f.err)")
        let k = try strata(["runs", "--sort", "train/step_ms.p500"], store: store)
        #expect(k.code == 2 && k.err.contains("quantiles"), "\(k.err)")
    }
}

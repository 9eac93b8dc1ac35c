import Foundation
import Testing

// The CLI's JSON uses the HTTP API's names for the same things, and the same limits.

@Suite struct CLIAndAPIAgree {
    @Test func runJSONUsesTheAPINames() throws {
        let s = Scratch()
        let input = """
            {"run": "r", "step": 1, "time": 1760000000000, "metrics": {"loss": NaN}}
            {"run": "r", "step": 2, "time": 1760000001000, "metrics": {"loss": 0.5}}
            {"run": "r", "status": "finished"}

            """
        #expect(try strata(["ingest"], input: input, store: s.store).code == 0)
        for args in [["runs", "--json"], ["show", "r", "--json"]] {
            let r = try strata(args, store: s.store)
            #expect(r.code == 0, "\(r.err)")
            #expect(r.out.contains("\"created\": ") && r.out.contains("\"ended\": "), "\(args): \(r.out)")
            #expect(r.out.contains("\"nan\": 1"), "\(args): \(r.out)")
            #expect(!r.out.contains("_ms\"") && !r.out.contains("nan_count"), "\(args): \(r.out)")
        }
        let curve = try strata(["curve", "r", "loss", "--json", "--buckets", "1"], store: s.store)
        #expect(curve.out.contains("\"nan\": 1") && !curve.out.contains("nan_count"), "\(curve.out)")
    }

    @Test func curveBucketsHaveTheAPILimit() throws {
        let s = Scratch()
        #expect(try strata(["log", "r", "--create", "--step", "1", "loss=1"], store: s.store).code == 0)
        #expect(try strata(["curve", "r", "loss", "--buckets", "100000"], store: s.store).code == 0)
        let svg = s.sub("p.svg")
        for command in [["curve", "r", "loss"], ["plot", "r", "--metric", "loss", "--out", svg]] {
            for n in ["100001", "1000000", "0"] {
                let r = try strata(command + ["--buckets", n], store: s.store)
                #expect(r.code == 2, "\(command[0]) \(n): \(r.err)")
                #expect(r.err == "strata: --buckets must be 1 to 100,000, got \(n)\n", "\(r.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: svg))
    }
}

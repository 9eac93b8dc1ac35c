import Foundation
import Testing

// Artifacts and deployments through `strata export --format parquet` and `strata import parquet`
// (the built binary; issue 15).

@Suite struct ArtifactExportCLITests {
    static let digest = String(repeating: "5e", count: 32), data = String(repeating: "d4", count: 32)

    /// `strata artifacts --json` / `deployments --json` lines with each run id replaced by the run's
    /// name (ids differ between stores).
    func listed(_ store: String) throws -> [String] {
        let runs = try strata(["runs", "--json"], store: store)
        #expect(runs.code == 0, "\(runs.err)")
        var names: [String: String] = [:]
        for o in try JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as! [[String: Any]] {
            names[o["id"] as! String] = o["name"] as? String
        }
        var out: [String] = []
        for command in ["artifacts", "deployments"] {
            let r = try strata([command, "--json"], store: store)
            #expect(r.code == 0, "\(r.err)")
            for line in r.out.split(separator: "\n") {
                var text = String(line)
                for (id, name) in names { text = text.replacingOccurrences(of: "\"run\": \"\(id)\"", with: "\"run\": \"\(name)\"") }
                out.append(text)
            }
        }
        return out
    }

    @Test func exportAndImportBringArtifactsAndDeploymentsBack() throws {
        let s = Scratch()
        let lines =
            "{\"run\": \"high\", \"step\": 1, \"params\": {\"lr\": 0.01}, \"metrics\": {\"loss\": 0.5}}\n"
            + "{\"run\": \"low\", \"step\": 1, \"params\": {\"lr\": 0.0001}, \"metrics\": {\"loss\": 0.7}}\n"
        #expect(try strata(["ingest"], input: lines, store: s.store).code == 0)
        for args in [
            ["artifact", "high", "model", "--uri", "s3://b/m.pt", "--digest", Self.digest, "--size", "42", "--step", "7"],
            ["artifact", "high", "train", "--uri", "file:///d", "--digest", Self.data, "--size", "9", "--kind", "dataset", "--input"],
            ["artifact", "low", "model", "--uri", "s3://b/low.pt", "--digest", Self.data, "--size", "1", "--kind", "eval-report"],
            ["deploy", "high:model", "--env", "prod", "--at", "2026-11-03"],
            ["deploy", "low:model", "--env", "staging", "--at", "2026-11-04T12:00:00Z"]
        ] {
            let r = try strata(args, store: s.store)
            #expect(r.code == 0, "\(args): \(r.err)")
        }
        let want = try listed(s.store)
        #expect(want.count == 5, "\(want)")

        let export = try strata(["export", "--format", "parquet", "--out", s.sub("out")], store: s.store)
        #expect(export.code == 0, "\(export.err)")
        for table in ["artifacts", "deployments"] {
            #expect(FileManager.default.fileExists(atPath: s.sub("out/\(table)/project=default/part-00000.parquet")), "\(table)")
        }
        let target = s.sub("target")
        let first = try strata(["import", "parquet", s.sub("out")], store: target)
        #expect(first.code == 0 && first.err.contains("3 artifacts, 2 deployments"), "\(first.err)")
        #expect(try listed(target) == want)
        // Again: nothing is repeated.
        let second = try strata(["import", "parquet", s.sub("out")], store: target)
        #expect(second.code == 0 && second.err.contains("imported 0 runs") && !second.err.contains("artifacts,"), "\(second.err)")
        #expect(try listed(target) == want)
        #expect(try strata(["verify"], store: target).code == 0)
    }
}

import Foundation
import Testing

// Run management, artifacts and deployments through the built binary (issue 15).

@Suite struct ManageCLITests {
    static let digest = String(repeating: "c3", count: 32)

    func ingest(_ s: Scratch, _ run: String, lr: Double) throws {
        let line = "{\"run\": \"\(run)\", \"step\": 1, \"params\": {\"lr\": \(lr)}, \"metrics\": {\"loss\": 0.5}}\n"
        let r = try strata(["ingest"], input: line, store: s.store)
        #expect(r.code == 0, "\(r.err)")
    }

    @Test func deleteRestoreRenameTagNoteThroughTheBinary() throws {
        let s = Scratch()
        try ingest(s, "a", lr: 0.1)
        try ingest(s, "b", lr: 0.001)
        #expect(try strata(["run", "delete", "a"], store: s.store).code == 0)
        let listed = try strata(["runs", "--json"], store: s.store)
        #expect(!listed.out.contains("\"name\": \"a\"") && listed.out.contains("\"name\": \"b\""), "\(listed.out)")
        let hidden = try strata(["show", "a"], store: s.store)
        #expect(hidden.code != 0)
        let curve = try strata(["curve", "a", "loss"], store: s.store)
        #expect(curve.code != 0)
        #expect(try strata(["run", "restore", "a"], store: s.store).code == 0)
        #expect(try strata(["show", "a"], store: s.store).code == 0)
        #expect(try strata(["run", "rename", "a", "alpha"], store: s.store).code == 0)
        #expect(try strata(["run", "move", "alpha", "vision"], store: s.store).code == 0)
        #expect(try strata(["run", "tag", "alpha", "best", "keep"], store: s.store).code == 0)
        #expect(try strata(["run", "untag", "alpha", "keep"], store: s.store).code == 0)
        #expect(try strata(["run", "note", "alpha", "looks good"], store: s.store).code == 0)
        #expect(try strata(["run", "note", "alpha", "--purpose", "try a high lr"], store: s.store).code == 0)
        let show = try strata(["show", "alpha"], store: s.store)
        #expect(show.code == 0, "\(show.err)")
        for text in [
            "project   vision", "best", "history", "deleted", "restored", "name alpha", "tag- keep", "note looks good", "purpose try a high lr"
        ] {
            #expect(show.out.contains(text), "\(text): \(show.out)")
        }
        let bad = try strata(["run", "delete", "nope"], store: s.store)
        #expect(bad.code != 0 && bad.err.contains("nope"), "\(bad.err)")
    }

    @Test func artifactsAndDeploymentsThroughTheBinary() throws {
        let s = Scratch()
        try ingest(s, "low", lr: 0.0001)
        try ingest(s, "high", lr: 0.01)
        let add = try strata(
            ["artifact", "high", "model", "--uri", "s3://b/m.pt", "--digest", Self.digest, "--size", "42", "--step", "7"], store: s.store)
        #expect(add.code == 0, "\(add.err)")
        // Idempotent on the same digest.
        #expect(try strata(["artifact", "high", "model", "--uri", "s3://b/m.pt", "--digest", Self.digest, "--size", "42"], store: s.store).code == 0)
        let list = try strata(["artifacts", "--run", "high", "--json"], store: s.store)
        #expect(list.out.split(separator: "\n").count == 1 && list.out.contains("\"size\": 42") && list.out.contains("\"step\": 7"), "\(list.out)")
        #expect(try strata(["artifacts", "--digest", Self.digest], store: s.store).out.contains("s3://b/m.pt"))
        let dep = try strata(["deploy", Self.digest, "--env", "prod", "--at", "2026-11-03"], store: s.store)
        #expect(dep.code == 0, "\(dep.err)")
        let at = try strata(["deployments", "--env", "prod", "--at", "2026-11-03T18:00:00Z", "--json"], store: s.store)
        #expect(at.out.contains("\"environment\": \"prod\"") && at.out.contains("\"at\": 1793664000000"), "\(at.out) \(at.err)")
        let before = try strata(["deployments", "--env", "prod", "--at", "2026-11-02", "--json"], store: s.store)
        #expect(before.code == 0 && before.out.isEmpty, "\(before.out)")
        let lr = try strata(["deployments", "--where", "params.lr > 1e-3", "--json"], store: s.store)
        #expect(lr.out.split(separator: "\n").count == 1, "\(lr.out) \(lr.err)")
        #expect(try strata(["deployments", "--where", "params.lr < 1e-3", "--json"], store: s.store).out.isEmpty)
        let show = try strata(["show", "high"], store: s.store)
        #expect(show.out.contains("artifacts") && show.out.contains(Self.digest) && show.out.contains("prod"), "\(show.out)")
        let filtered = try strata(["runs", "--where", "artifact(\"model\").digest == \"\(Self.digest)\"", "--json"], store: s.store)
        #expect(filtered.out.contains("\"name\": \"high\"") && !filtered.out.contains("\"name\": \"low\""), "\(filtered.out) \(filtered.err)")
        // Bad input: clear errors naming the thing, nothing stored.
        let short = try strata(["artifact", "low", "model", "--uri", "s3://x", "--digest", "abc", "--size", "1"], store: s.store)
        #expect(short.code != 0 && short.err.contains("abc") && short.err.contains("64 hexadecimal"), "\(short.err)")
        let env = try strata(["deploy", Self.digest, "--env", ""], store: s.store)
        #expect(env.code != 0 && env.err.contains("environment"), "\(env.err)")
        let unknown = try strata(["deploy", "low:model", "--env", "prod"], store: s.store)
        #expect(unknown.code != 0 && unknown.err.contains("model"), "\(unknown.err)")
        #expect(try strata(["artifacts", "--run", "low", "--json"], store: s.store).out.isEmpty)
    }
}

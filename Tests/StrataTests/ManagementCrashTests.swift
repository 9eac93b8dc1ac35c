import Foundation
import Testing

@testable import Strata

/// SIGKILL during run management (issue 15): a writer process tags, annotates, logs artifacts,
/// deploys, renames, deletes and restores runs in a loop while another process checkpoints the
/// catalog; both are killed at random moments, several rounds. Every acknowledged change is there
/// exactly once, no change is torn or out of order, the checkpoint agrees with the log, and the
/// store verifies.
@Suite("Run management under SIGKILL (real processes)", .serialized)
struct ManagementCrashTests {
    /// The changes the writer makes to run C, in order (`strata-test-writer … manage`).
    static func sequence(_ c: Int) -> [String] {
        ["tag", "note", "artifact", "artifact", "deploy", "rename"] + (c % 2 == 0 ? ["delete"] : []) + (c % 4 == 0 ? ["restore"] : [])
    }

    @Test func killedManagementWritesKeepEveryAcknowledgedChangeExactlyOnce() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        // Per round: run index → id, and run index → the changes acknowledged (in order).
        var ids: [(round: Int, c: Int, id: String)] = []
        var acked: [String: [String]] = [:]
        let rounds = 6
        for round in 0..<rounds {
            let writer = try ProcessTests.Child([path, "m\(round)", "\(round)", "manage"])
            let checkpointer = try ProcessTests.Child([path, "-", "-", "checkpoints"])
            let deadline = Date().addingTimeInterval(Double.random(in: 0.3...1.5, using: &rng))
            while Date() < deadline {
                writer.pump(until: Date().addingTimeInterval(0.01))
                checkpointer.pump(until: Date().addingTimeInterval(0.01))
            }
            if round == rounds - 1 {
                // A loaded machine may not have started the writer yet: make sure the last round
                // acknowledged a few runs' changes.
                let wait = Date().addingTimeInterval(60)
                while writer.lines.filter({ $0.hasPrefix("run ") }).count < 3 && Date() < wait {
                    writer.pump(until: Date().addingTimeInterval(0.05))
                }
            }
            for c in [writer, checkpointer].shuffled(using: &rng) { c.kill() }
            for line in writer.lines {
                let parts = line.split(separator: " ").map(String.init)
                if parts.count == 3, parts[0] == "run", let c = Int(parts[1]) { ids.append((round, c, parts[2])) }
                if parts.count == 3, parts[0] == "op", let c = Int(parts[2]) { acked["\(round)/\(c)", default: []].append(parts[1]) }
            }
        }
        #expect(acked.values.reduce(0) { $0 + $1.count } > 0, "seed \(seed): no change was acknowledged")

        let store = try Store.open(at: path)
        defer { try? store.close() }
        let all = try store.runs() + store.deletedRuns()
        var byID: [String: RunInfo] = [:]
        for r in all {
            #expect(byID[r.id.text] == nil, "seed \(seed): run \(r.id) listed twice")
            byID[r.id.text] = r
        }
        for (round, c, id) in ids {
            let done = acked["\(round)/\(c)"] ?? []
            let expected = Self.sequence(c)
            #expect(Array(expected.prefix(done.count)) == done, "seed \(seed): acknowledged out of order: \(done)")
            guard let r = byID[id] else {
                #expect(done.isEmpty, "seed \(seed): run m\(round)-\(c) lost with acknowledged changes \(done)")
                continue
            }
            // The changes found, in the writer's order: must be a prefix of its sequence, at least
            // as long as what was acknowledged (every acknowledged change there, each once).
            var found: [String] = []
            let fields = r.history.map(\.field)
            #expect(r.artifacts.count <= 1 && r.deployments.count <= 1, "seed \(seed): \(r.name): \(r.artifacts) \(r.deployments)")
            #expect(fields.count <= 5, "seed \(seed): \(r.name) history \(r.history)")
            if fields.first == .tagAdded { found.append("tag") }
            if fields.count > 1 && fields[1] == .note { found.append("note") }
            if found == ["tag", "note"] && r.artifacts.count == 1 { found += ["artifact", "artifact"] }
            if found.count == 4 && r.deployments.count == 1 { found.append("deploy") }
            if found.count == 5 && fields.count > 2 && fields[2] == .name { found.append("rename") }
            if found.count == 6 && fields.count > 3 && fields[3] == .deleted { found.append("delete") }
            if found.count == 7 && fields.count > 4 && fields[4] == .restored { found.append("restore") }
            // Nothing beyond what the prefix explains (no duplicate, no torn or stray change).
            let explained = found.filter { ["tag", "note", "rename", "delete", "restore"].contains($0) }.count
            #expect(fields.count == explained, "seed \(seed): \(r.name) history \(fields) found \(found)")
            #expect(found.filter { $0 == "artifact" }.count / 2 == r.artifacts.count, "seed \(seed): \(r.name) artifacts \(r.artifacts)")
            #expect(found.contains("deploy") == (r.deployments.count == 1), "seed \(seed): \(r.name) deployments \(r.deployments)")
            #expect(Array(expected.prefix(found.count)) == found, "seed \(seed): \(r.name) found \(found)")
            #expect(found.count >= done.count, "seed \(seed): \(r.name) acknowledged \(done), found \(found)")
            // And the values are the ones written.
            if found.contains("tag") { #expect(r.tags.contains("t\(c)")) }
            if found.contains("note") { #expect(r.note == "note \(c)", "seed \(seed)") }
            if let a = r.artifacts.first {
                #expect(a.name == "model" && a.uri == "s3://b/\(c)" && a.size == Int64(c) && a.step == Int64(c) && a.role == .output)
                #expect(a.digest.hasSuffix(String(c, radix: 16)) && a.digest.utf8.count == 64)
            }
            if let d = r.deployments.first { #expect(d.environment == "prod" && d.atMs == Int64(c) && d.artifact == "model") }
            #expect(r.name == (found.contains("rename") ? "m\(round)-\(c)-renamed" : "m\(round)-\(c)"), "seed \(seed)")
            #expect(r.isDeleted == (found.contains("delete") && !found.contains("restore")), "seed \(seed): \(r.name) \(found)")
        }
        // The checkpoint agrees with the log read alone.
        let fromLog = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try fromLog.refresh()
        let logRuns = fromLog.allRuns(includingDeleted: true).sorted { $0.id < $1.id }
        #expect(all.filter { $0.metadata["catalog.missing"] == nil }.sorted { $0.id < $1.id } == logRuns, "seed \(seed)")
        let report = try store.verify()
        #expect(report.problems.isEmpty, "seed \(seed): \(report.problems)")
    }
}

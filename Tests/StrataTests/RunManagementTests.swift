import Foundation
import Testing

@testable import Strata

/// Run management and artifacts (issue 15): tombstones hide a run everywhere, restore brings it
/// back, compaction reclaims it (bytes on disk go down), edits keep their history; artifacts and
/// deployments round trip; all of it survives close/reopen and the catalog checkpoint.
@Suite("Run management, artifacts and deployments")
struct RunManagementTests {
    static let d1 = String(repeating: "ab", count: 32)
    static let d2 = String(repeating: "0f", count: 32)

    /// Writes `catalog.ckpt` now.
    static func checkpointCatalog(_ store: Store) {
        store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
    }

    /// Bytes of every file under `path`.
    static func bytesOnDisk(_ path: String) -> Int {
        let fm = FileManager.default
        var total = 0
        for case let f as String in fm.enumerator(atPath: path) ?? NSEnumerator() {
            if let size = (try? fm.attributesOfItem(atPath: path + "/" + f))?[.size] as? Int,
                (try? fm.attributesOfItem(atPath: path + "/" + f))?[.type] as? FileAttributeType == .typeRegular
            {
                total += size
            }
        }
        return total
    }

    @Test func deleteHidesEverywhereAndRestoreBringsBack() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let keep = try store.createRun(name: "keep", params: ["lr": .double(1e-4)])
        let gone = try store.createRun(name: "gone", params: ["lr": .double(1e-2)])
        for s in 0..<50 {
            try keep.log(["loss": 1.0 / Double(s + 1)], step: Int64(s))
            try gone.log(["loss": 0.5 / Double(s + 1)], step: Int64(s))
        }
        try store.flush()
        try store.deleteRun("gone")
        #expect(try store.runs().map(\.name) == ["keep"])
        #expect(try store.runs(limit: 5).map(\.name) == ["keep"])
        #expect(try store.runs(where: Filter("params.lr > 0")).map(\.name) == ["keep"])
        #expect(try store.rank("loss", by: .min).map(\.run.name) == ["keep"])
        #expect(throws: StrataError.self) { try store.run("gone") }
        #expect(throws: StrataError.self) { try store.run(gone.id.text) }
        #expect(throws: StrataError.self) { try store.points(gone.id, "loss") }
        #expect(throws: StrataError.self) { try store.curve(gone.id, "loss", steps: 0..<50, buckets: 5) }
        #expect(try store.deletedRuns().map(\.name) == ["gone"])
        // Deleting twice: it is already hidden.
        #expect(throws: StrataError.self) { try store.deleteRun("gone") }
        let back = try store.restoreRun("gone")
        #expect(back.deletedMs == nil)
        #expect(back.history.map(\.field) == [.deleted, .restored])
        #expect(try store.runs().map(\.name) == ["keep", "gone"])
        #expect(try store.points(gone.id, "loss").count == 50)
        #expect(throws: StrataError.self) { try store.restoreRun("gone") }
    }

    @Test func editsKeepHistoryAndSurviveReopenAndCheckpoint() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var id: RunID
        do {
            let store = try Store.open(at: path)
            let run = try store.createRun(name: "r", tags: ["a"])
            id = run.id
            try store.renameRun("r", to: "r2")
            try store.moveRun("r2", toProject: "vision")
            try store.tagRun("r2", add: ["best"], remove: ["a"])
            try store.annotateRun("r2", "first note")
            try store.annotateRun("r2", "second note")
            try store.annotateRun("r2", "find the best lr", purpose: true)
            try store.close()
        }
        func check(_ info: RunInfo, _ when: String) {
            #expect(info.name == "r2", "\(when)")
            #expect(info.project == "vision", "\(when)")
            #expect(info.tags == ["best"], "\(when)")
            #expect(info.note == "second note", "\(when)")
            #expect(info.metadata["purpose"] == .string("find the best lr"), "\(when)")
            #expect(
                info.history.map { "\($0.field.rawValue)=\($0.value)" }
                    == ["name=r2", "project=vision", "tag+=best", "tag-=a", "note=first note", "note=second note", "purpose=find the best lr"],
                "\(when)")
        }
        var store = try Store.open(at: path)
        check(try store.run(id.text), "reopened (log)")
        #expect(throws: StrataError.self) { try store.run("r") }  // the old name no longer answers
        Self.checkpointCatalog(store)
        try store.close()
        store = try Store.open(at: path)
        #expect(store.catalog.base != nil && store.catalog.tailRecords == 0, "\(store.catalog.checkpointProblem ?? "")")
        check(try store.run("r2"), "reopened (checkpoint)")
        #expect(try store.verify().problems.isEmpty)
        try store.close()
    }

    @Test func artifactsAndDeploymentsRoundTrip() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        do {
            let store = try Store.open(at: path)
            let lowLR = try store.createRun(name: "low", params: ["lr": .double(1e-4)])
            let highLR = try store.createRun(name: "high", params: ["lr": .double(1e-2)])
            let a = try lowLR.logArtifact(
                name: "model", uri: "s3://b/low.pt", digest: Self.d1.uppercased(), size: 10, kind: "model", step: 100, metadata: ["fmt": "pt"])
            #expect(a.digest == Self.d1)
            // The same digest again: idempotent (one artifact, one record).
            let before = try FileManager.default.attributesOfItem(atPath: path + "/catalog.log")[.size] as! Int
            _ = try lowLR.logArtifact(name: "model", uri: "s3://b/low.pt", digest: Self.d1, size: 10)
            #expect(try FileManager.default.attributesOfItem(atPath: path + "/catalog.log")[.size] as! Int == before)
            try highLR.logArtifact(name: "model", uri: "s3://b/high.pt", digest: Self.d2, size: 20)
            try highLR.logInput(name: "train-set", uri: "s3://b/data", digest: Self.d1, size: 99)
            try store.deploy(artifact: Self.d1, environment: "prod", at: 1_000)
            try store.deploy(artifact: "high:model", environment: "prod", at: 2_000)
            try store.deploy(artifact: "low:model", environment: "staging", at: 1_500)
            try store.close()
        }
        for pass in ["log", "checkpoint"] {
            let store = try Store.open(at: path)
            #expect(try store.artifacts(run: "low").map(\.uri) == ["s3://b/low.pt"], "\(pass)")
            #expect(try store.artifacts(run: "low").first?.metadata["fmt"] == .string("pt"), "\(pass)")
            #expect(try store.artifacts(run: "low").first?.step == 100, "\(pass)")
            // By digest: the low run's output and the high run's input.
            let byDigest = try store.artifacts(digest: Self.d1)
            let lowID = try store.run("low").id
            #expect(byDigest.map { "\($0.run == lowID ? "low" : "high"):\($0.role.rawValue)" } == ["low:output", "high:input"], "\(pass)")
            // Which run produced the model in prod at a time.
            #expect(try store.deployment(environment: "prod", at: 1_200)?.run == store.run("low").id, "\(pass)")
            #expect(try store.deployment(environment: "prod", at: 5_000)?.run == store.run("high").id, "\(pass)")
            #expect(try store.deployment(environment: "prod", at: 999) == nil, "\(pass)")
            // Every deployment of artifacts from runs with params.lr > 1e-3.
            #expect(try store.deployments(where: Filter("params.lr > 1e-3")).map(\.atMs) == [2_000], "\(pass)")
            #expect(try store.deployments().map(\.environment) == ["prod", "staging", "prod"], "\(pass)")
            // The filter language tests artifacts.
            #expect(try store.runs(where: Filter("artifact(\"model\").digest == \"\(Self.d2)\"")).map(\.name) == ["high"], "\(pass)")
            #expect(try store.runs(where: Filter("artifact(\"model\").kind == \"model\"")).count == 2, "\(pass)")
            #expect(try store.runs(where: Filter("not artifact(\"weights\").digest == \"\(Self.d2)\"")).count == 2, "\(pass)")
            if pass == "log" { Self.checkpointCatalog(store) } else { #expect(store.catalog.base != nil && store.catalog.tailRecords == 0) }
            try store.close()
        }
    }

    @Test func badArtifactInputIsRefusedByName() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let run = try store.createRun(name: "r")
        let short = #expect(throws: StrataError.self) { try run.logArtifact(name: "model", uri: "s3://x", digest: "abc123", size: 1) }
        #expect(short?.code == .invalidArgument && short!.message.contains("abc123") && short!.message.contains("64 hexadecimal"))
        let nonHex = #expect(throws: StrataError.self) {
            try run.logArtifact(name: "m", uri: "s3://x", digest: String(repeating: "g", count: 64), size: 1)
        }
        #expect(nonHex?.message.contains("digest") == true)
        let env = #expect(throws: StrataError.self) { try store.deploy(artifact: Self.d1, environment: "") }
        #expect(env?.message.contains("environment") == true)
        let unknown = #expect(throws: StrataError.self) { try store.deploy(artifact: Self.d1, environment: "prod") }
        #expect(unknown?.code == .notFound && unknown!.message.contains(Self.d1))
        let unknownName = #expect(throws: StrataError.self) { try store.deploy(artifact: "r:weights", environment: "prod") }
        #expect(unknownName?.code == .notFound && unknownName!.message.contains("weights"))
        let unknownRun = #expect(throws: StrataError.self) { try store.artifacts(run: "nope") }
        #expect(unknownRun?.code == .notFound && unknownRun!.message.contains("nope"))
        #expect(try store.run("r").artifacts.isEmpty)  // nothing stored by the refused calls
    }

    @Test func compactionReclaimsDeletedRunsButKeepsParents() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let first = try Store.open(at: path)
        let keep = try first.createRun(name: "keep")
        let gone = try first.createRun(name: "gone")
        let parent = try first.createRun(name: "parent")
        let child = try first.createRun(name: "child", parent: parent.id)
        for s in 0..<20_000 {
            try keep.log(["loss": Double(s).squareRoot()], step: Int64(s))
            try gone.log(["loss": Double.random(in: 0..<1)], step: Int64(s))  // incompressible: about 8 bytes a point
            try parent.log(["loss": Double(s) * 0.3], step: Int64(s))
        }
        try child.log(["loss": 1], step: 0)
        try first.close()  // the log is cut into a segment
        let store = try Store.open(at: path)
        defer { try? store.close() }
        _ = try store.compact(graceSeconds: 0)
        let before = Self.bytesOnDisk(path)
        try store.deleteRun("gone")
        try store.deleteRun("parent")
        // Within the grace period nothing is reclaimed: restore still works.
        let early = try store.compact(graceSeconds: 0, reclaimingDeletedAfter: 3600)
        #expect(early.reclaimedRuns.isEmpty)
        let r = try store.compact(graceSeconds: 0, reclaimingDeletedAfter: 0)
        #expect(r.reclaimedRuns == [gone.id])  // the parent stays: its child may read through it
        let after = Self.bytesOnDisk(path)
        #expect(after < before - 100_000, "bytes on disk \(before) -> \(after)")
        #expect(throws: StrataError.self) { try store.restoreRun("gone") }
        #expect(try store.deletedRuns().map(\.name) == ["parent"])
        #expect(try store.points(keep.id, "loss").count == 20_000)
        #expect(try store.points(child.id, "loss").count == 1)
        #expect(try store.restoreRun("parent").name == "parent")
        #expect(try store.points(parent.id, "loss").count == 20_000)
        #expect(try store.runs().map(\.name) == ["keep", "parent", "child"])
        #expect(try store.verify().problems.isEmpty)
        // Reopened from the checkpoint the purge wrote, and from the log alone.
        let again = try Store.open(at: path)
        #expect(try again.runs().map(\.name) == ["keep", "parent", "child"])
        #expect(again.catalog.checkpointProblems().isEmpty)
        try again.close()
        let fromLog = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try fromLog.refresh()
        #expect(fromLog.allRuns(includingDeleted: true).map(\.name) == ["keep", "parent", "child"])
    }

    @Test func versionTwoCheckpointStillReads() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var store = try Store.open(at: path)
        for k in 0..<5 { _ = try store.createRun(name: "r\(k)", params: ["k": .int(Int64(k))]) }
        try store.close()
        // Write the checkpoint as the previous release did (version 2, no management fields).
        let catalog = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try catalog.refresh()
        let length = try FileManager.default.attributesOfItem(atPath: path + "/catalog.log")[.size] as! Int
        let bytes = CatalogCheckpoint.encode(
            catalog.allRuns(), logLength: length, logProbeHash: try Catalog.probeHash(path + "/catalog.log", length), format: 2)!
        #expect(bytes[8] == 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/catalog.ckpt"))
        store = try Store.open(at: path)
        #expect(store.catalog.base != nil && store.catalog.checkpointProblem == nil)
        #expect(try store.runs().map(\.name) == ["r0", "r1", "r2", "r3", "r4"])
        // Management records on top of a version-2 checkpoint, then a version-3 checkpoint.
        try store.deleteRun("r1")
        try store.tagRun("r2", add: ["x"])
        #expect(try store.runs().map(\.name) == ["r0", "r2", "r3", "r4"])
        Self.checkpointCatalog(store)
        try store.close()
        store = try Store.open(at: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/catalog.ckpt"))[8] == 3)
        #expect(try store.runs().map(\.name) == ["r0", "r2", "r3", "r4"])
        #expect(try store.deletedRuns().map(\.name) == ["r1"])
        #expect(try store.run("r2").history.map(\.value) == ["x"])
        try store.close()
    }
}

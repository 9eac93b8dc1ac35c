import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataInterop
import StrataParquet
import StrataTestSupport
import Testing

@testable import StrataServer

/// Artifacts and deployments in the Parquet export (issue 15): library → `writeDataset` → import
/// into a fresh store → library gives the same artifacts and deployments, every field; importing
/// twice (or into the store the export came from) adds nothing; `/api/export?table=artifacts|deployments`.
@Suite struct ArtifactExportTests {
    static let d1 = String(repeating: "ab", count: 32), d2 = String(repeating: "0f", count: 32), d3 = String(repeating: "9c", count: 32)

    /// Two projects; run `a` with an output (step, metadata of every shape), an input dataset and
    /// a second model deployed twice; run `b` with a checkpoint deployed once; run `c` with none.
    static func fill(_ store: Store) throws {
        let a = try store.createRun(name: "a", project: "vision", params: ["lr": 0.01])
        try a.append("loss", steps: [0, 1], values: [1, 0.5], times: [10, 20])
        try a.logArtifact(
            name: "model", uri: "s3://bucket/a/model.pt", digest: d1.uppercased(), size: 123_456_789, kind: "model", step: 40_000,
            metadata: ["framework": "torch", "epochs": 3, "acc": 0.91, "ok": true, "shape": .list([.int(2), .int(3)]), "none": .null])
        try a.logInput(name: "train-set", uri: "file:///data/train \"v2\".tar", digest: d2, size: 0)
        try a.logArtifact(name: "model-small", uri: "s3://bucket/a/small.pt", digest: d3, size: 7, kind: "custom kind ✓")
        let b = try store.createRun(name: "b", project: "nlp/x", params: ["lr": 0.001])
        try b.logArtifact(name: "ckpt", uri: "s3://bucket/b/ckpt", digest: d3, size: 99, kind: "checkpoint", step: -5)
        _ = try store.createRun(name: "c", project: "vision")
        try store.deploy(artifact: "a:model", environment: "prod", at: 1_793_664_000_000)
        try store.deploy(artifact: "a:model", environment: "staging", at: -1)
        try store.deploy(artifact: "b:ckpt", environment: "prod", at: 1_793_700_000_000)
        try store.deploy(artifact: "a:model-small", environment: "canary ✓", at: nil)
        try store.flush()
    }

    /// Artifacts and deployments of the runs by run name, the run ids left out (ids differ between stores).
    static func byName(_ store: Store) throws -> [String: ([Artifact], [Deployment])] {
        var out: [String: ([Artifact], [Deployment])] = [:]
        for r in try store.runs() {
            let zero = RunID("00000000000000000000000000")!
            out[r.name] = (
                r.artifacts.map {
                    var a = $0; a.run = zero; return a
                },
                r.deployments.map {
                    var d = $0; d.run = zero; return d
                }
            )
        }
        return out
    }

    static func compare(_ got: [String: ([Artifact], [Deployment])], _ want: [String: ([Artifact], [Deployment])]) {
        #expect(got.keys.sorted() == want.keys.sorted())
        for (name, (wa, wd)) in want {
            #expect(got[name]?.0 == wa, "artifacts of \(name)")
            #expect(got[name]?.1 == wd, "deployments of \(name)")
        }
    }

    static func importDir(_ store: Store, _ dir: String) throws -> ImportSummary {
        let session = try ImportSession(store: store, skipBad: false, again: false)
        try ParquetImporter(session: session).importFiles(try ParquetImporter.findFiles([dir]))
        return session.summary
    }

    @Test func roundTripThroughTheDatasetGivesEqualArtifactsAndDeployments() throws {
        let dir = TempDir("pq-artifacts")
        let source = try Store.open(at: dir.sub("source"))
        defer { try? source.close() }
        try Self.fill(source)
        let want = try Self.byName(source)
        #expect(want["a"]?.0.count == 3 && want["a"]?.1.count == 3 && want["b"]?.1.count == 1)
        let summary = try ParquetExport(store: source, runs: try source.runs()).writeDataset(to: dir.sub("out"))
        #expect(summary.artifacts == 4 && summary.deployments == 4)
        #expect(summary.files.contains("artifacts/project=vision/part-00000.parquet"))
        #expect(summary.files.contains("deployments/project=nlp%2Fx/part-00000.parquet"))

        let target = try Store.open(at: dir.sub("target"))
        defer { try? target.close() }
        let first = try Self.importDir(target, dir.sub("out"))
        #expect(first.runs == 3 && first.artifacts == 4 && first.deployments == 4)
        Self.compare(try Self.byName(target), want)
        // The deployment points at the run that produced the artifact, in the new store.
        let deployed = try #require(try target.deployment(environment: "prod", at: 1_793_664_000_000))
        #expect(try target.runs().first { $0.id == deployed.run }?.name == "a")

        // Twice: nothing more (runs left alone, artifacts and deployments not repeated).
        let second = try Self.importDir(target, dir.sub("out"))
        #expect(second.runs == 0 && second.artifacts == 0 && second.deployments == 0 && second.alreadyImported == 3)
        Self.compare(try Self.byName(target), want)
        // Reopened: the catalog holds each once.
        try target.close()
        let reopened = try Store.open(at: dir.sub("target"))
        defer { try? reopened.close() }
        Self.compare(try Self.byName(reopened), want)

        // Into the store it came from: nothing is added.
        let back = try Self.importDir(source, dir.sub("out"))
        #expect(back.runs == 0 && back.artifacts == 0 && back.deployments == 0)
        Self.compare(try Self.byName(source), want)
    }

    @Test func anInterruptedImportGetsItsArtifactsOnTheNextRun() throws {
        // Runs imported before their artifacts (an import stopped between the two): running the
        // import again gives the runs their artifacts and deployments, once.
        let dir = TempDir("pq-artifacts-resume")
        let source = try Store.open(at: dir.sub("source"))
        defer { try? source.close() }
        try Self.fill(source)
        _ = try ParquetExport(store: source, runs: try source.runs()).writeDataset(to: dir.sub("out"))
        let target = try Store.open(at: dir.sub("target"))
        defer { try? target.close() }
        let runsOnly = try ParquetImporter.findFiles([dir.sub("out/runs"), dir.sub("out/points")])
        let session = try ImportSession(store: target, skipBad: false, again: false)
        try ParquetImporter(session: session).importFiles(runsOnly)
        #expect(try target.artifacts().isEmpty)
        let again = try Self.importDir(target, dir.sub("out"))
        #expect(again.runs == 0 && again.artifacts == 4 && again.deployments == 4)
        Self.compare(try Self.byName(target), try Self.byName(source))
    }

    @Test func badArtifactRowsAreNamedAndNothingStoredIsLost() throws {
        let dir = TempDir("pq-artifacts-bad")
        let source = try Store.open(at: dir.sub("source"))
        defer { try? source.close() }
        try Self.fill(source)
        let export = try ParquetExport(store: source, runs: try source.runs())
        var bytes: [UInt8] = []
        try export.writeArtifacts { bytes += $0 }
        // A file naming runs the target store does not hold.
        try Data(bytes).write(to: URL(fileURLWithPath: dir.sub("artifacts.parquet")))
        let target = try Store.open(at: dir.sub("target"))
        defer { try? target.close() }
        let keep = try target.createRun(name: "keep")
        try keep.logArtifact(name: "m", uri: "s3://k", digest: Self.d1, size: 1)
        let session = try ImportSession(store: target, skipBad: false, again: false)
        #expect {
            try ParquetImporter(session: session).importFiles([dir.sub("artifacts.parquet")])
        } throws: { "\($0)".contains("artifacts.parquet") && "\($0)".contains("row 0") && "\($0)".contains("not in the import") }
        let skipping = try ImportSession(store: target, skipBad: true, again: false)
        try ParquetImporter(session: skipping).importFiles([dir.sub("artifacts.parquet")])
        #expect(skipping.summary.skippedTotal == 4 && skipping.summary.artifacts == 0)
        #expect(try target.artifacts().map(\.name) == ["m"])
    }

    @Test func exportRouteServesArtifactsAndDeploymentsTables() async throws {
        let t = try TempStore()
        try Self.fill(t.store)
        // Rows come by project (name order), then store order, then logging order.
        let runs = try t.store.runs().enumerated().sorted { ($0.element.project, $0.offset) < ($1.element.project, $1.offset) }.map(\.element)
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/export?format=parquet&table=artifacts", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentDisposition]?.contains("strata-artifacts.parquet") == true)
                let bytes = Array(r.body.readableBytesView)
                #expect(try ParquetReader(bytes: bytes, name: "a").metadata[ParquetTables.tableKey] == "artifacts")
                let cols = try ExportRouteTests.table(bytes)
                let all = runs.flatMap(\.artifacts)
                #expect(ExportRouteTests.strings(cols["run_id"]) == all.map(\.run.text))
                #expect(ExportRouteTests.strings(cols["run_name"]) == ["b", "a", "a", "a"])
                #expect(ExportRouteTests.strings(cols["project"]) == ["nlp/x", "vision", "vision", "vision"])
                #expect(ExportRouteTests.strings(cols["name"]) == all.map(\.name))
                #expect(ExportRouteTests.strings(cols["uri"]) == all.map(\.uri))
                #expect(ExportRouteTests.strings(cols["digest"]) == [Self.d3, Self.d1, Self.d2, Self.d3])
                #expect(ExportRouteTests.strings(cols["kind"]) == ["checkpoint", "model", "dataset", "custom kind ✓"])
                #expect(ExportRouteTests.strings(cols["role"]) == ["output", "output", "input", "output"])
                guard case .int64(let size)? = cols["size"]?.values, case .int64(let step)? = cols["step"]?.values,
                    case .int64(let logged)? = cols["logged"]?.values
                else { Issue.record("no size, step or logged column"); return }
                #expect(size == [99, 123_456_789, 0, 7])
                #expect(step[0] == -5 && step[1] == 40_000 && cols["step"]?.valid == [true, true, false, false])
                #expect(logged == all.map(\.loggedMs))
                let meta = ExportRouteTests.strings(cols["metadata"])
                #expect(meta[2] == "{}")
                guard case .object(let kv) = try JSONValue.parse(line: Array((meta[1] ?? "").utf8)[...], exactIntegers: true) else {
                    Issue.record("metadata is not a JSON object: \(meta)"); return
                }
                #expect(Dictionary(uniqueKeysWithValues: kv.map { ($0.0, $0.1.paramValue) }) == all[1].metadata)
            }
            try await client.execute(uri: "/api/export?format=parquet&table=deployments&project=vision", method: .get) { r in
                #expect(r.status == .ok)
                let cols = try ExportRouteTests.table(Array(r.body.readableBytesView))
                let all = runs.filter { $0.project == "vision" }.flatMap(\.deployments)
                #expect(all.count == 3)
                #expect(ExportRouteTests.strings(cols["run_name"]) == ["a", "a", "a"])
                #expect(ExportRouteTests.strings(cols["run_id"]) == all.map(\.run.text))
                #expect(ExportRouteTests.strings(cols["artifact"]) == ["model", "model", "model-small"])
                #expect(ExportRouteTests.strings(cols["digest"]) == [Self.d1, Self.d1, Self.d3])
                #expect(ExportRouteTests.strings(cols["environment"]) == ["prod", "staging", "canary ✓"])
                guard case .int64(let at)? = cols["deployed_at"]?.values, case .int64(let recorded)? = cols["recorded"]?.values else {
                    Issue.record("no deployed_at or recorded column"); return
                }
                #expect(at == all.map(\.atMs) && at[0] == 1_793_664_000_000 && at[1] == -1)
                #expect(recorded == all.map(\.recordedMs))
            }
            // A selection without any: a valid file with no rows.
            try await client.execute(uri: "/api/export?format=parquet&table=deployments&where=params.lr%20%3E%201", method: .get) { r in
                #expect(r.status == .ok)
                let reader = try ParquetReader(bytes: Array(r.body.readableBytesView), name: "empty")
                #expect(reader.rowCount == 0 && reader.columns.map(\.name).contains("environment"))
            }
            try await client.execute(uri: "/api/export?format=parquet&table=artifact", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains("artifacts or deployments"))
            }
        }
    }
}

import Foundation
import Testing

@testable import Strata

/// The catalog checkpoint (version 3) records the segments whose runs all have catalog records,
/// so opening a store does not read their run tables again looking for stand-in runs; segments
/// written later are still checked, and a run without a record is still listed.
@Suite("Checked segments in the catalog checkpoint")
struct StandInCheckTests {
    /// `runs` runs with a few points each, cut into several segments, then a checkpoint.
    static func build(_ root: String, runs: Int, prefix: String) throws -> [RunID] {
        let store = try Store.open(at: root)
        var ids: [RunID] = []
        for i in 0..<runs {
            let run = try store.createRun(name: "\(prefix)\(i)")
            ids.append(run.id)
            try run.log(["m": Double(i)], step: 0)
            if i % 4 == 3 { try store.checkpoint() }
        }
        try store.flush()
        // The checkpoint records the segments its writer's reader lists: list them first.
        store.lock.withLock {
            try? store.reader.refresh()
            store.checkpointCatalogIfLong(force: true)
        }
        try store.close()
        return ids
    }

    @Test func checkedSegmentsAreNotScannedAgain() throws {
        let dir = TempDir()
        let root = dir.sub("a"), other = dir.sub("b")
        let ids = try Self.build(root, runs: 12, prefix: "r")
        let segments = try FileManager.default.contentsOfDirectory(atPath: root + "/segments").filter { $0.hasSuffix(".seg") }
        #expect(segments.count >= 3)
        let ck = try #require(try CatalogCheckpoint(path: root + "/catalog.ckpt", logPath: root + "/catalog.log"))
        #expect(Set(segments).isSubset(of: ck.checkedSegments), "every segment written before the checkpoint is recorded as checked")
        do {
            let store = try Store.open(at: root, options: .init(create: false))
            defer { try? store.close() }
            #expect(try store.runs(limit: 5).map(\.id) == Array(ids.sorted().prefix(5)))
            #expect(Set(try store.runs().map(\.id)) == Set(ids))
            #expect(store.reader.runTablesScanned == 0, "no run table read in search of stand-ins")
        }
        // A segment holding a run the catalog does not know (copied from another store): it is
        // not in the checked list, so its run is found and listed as a stand-in.
        let stranger = try Self.build(other, runs: 1, prefix: "s")[0]
        for name in try FileManager.default.contentsOfDirectory(atPath: other + "/segments") where name.hasSuffix(".seg") {
            try FileManager.default.copyItem(atPath: other + "/segments/" + name, toPath: root + "/segments/" + name)
        }
        let store = try Store.open(at: root, options: .init(create: false))
        defer { try? store.close() }
        #expect(try store.runs(limit: 1).map(\.id) == [ids.min()!])
        #expect(store.reader.runTablesScanned == 1, "only the segment not recorded as checked is read")
        let all = try store.runs()
        #expect(Set(all.map(\.id)) == Set(ids + [stranger]))
        #expect(all.first { $0.id == stranger }?.metadata["catalog.missing"] == .bool(true))
        #expect(try store.runs(limit: 100).contains { $0.id == stranger })
    }

    /// The checkpoint a writer's close writes lists the segment that close cut from its log, and a
    /// compaction's checkpoint lists the merged segment: a store opened afterwards reads no run
    /// table in search of stand-ins (both used to be left out: the checkpoint listed the segments
    /// its reader had seen before the cut).
    @Test func segmentsCutAtCloseAndByCompactionAreChecked() throws {
        let dir = TempDir()
        let root = dir.sub("a")
        var ids: [RunID] = []
        do {
            let store = try Store.open(at: root)
            for i in 0..<(Store.checkpointTail + 50) {
                let run = try store.createRun(name: "r\(i)")
                ids.append(run.id)
                try run.log(["m": Double(i)], step: 0)
                if i == 500 { try store.checkpoint() }  // two segments, for the compaction below
            }
            try store.close()
        }
        do {
            let store = try Store.open(at: root, options: .init(create: false))
            defer { try? store.close() }
            #expect(try store.runs(limit: 3).map(\.id) == Array(ids.sorted().prefix(3)))
            #expect(store.reader.runTablesScanned == 0, "the segment cut at close is recorded as checked")
            #expect(Set(try store.runs().map(\.id)) == Set(ids))
            let report = try store.compact(graceSeconds: 0)
            #expect(report.outputSegment != nil)
        }
        let store = try Store.open(at: root, options: .init(create: false))
        defer { try? store.close() }
        #expect(try store.runs(limit: 3).map(\.id) == Array(ids.sorted().prefix(3)))
        #expect(store.reader.runTablesScanned == 0, "the merged segment is recorded as checked")
        #expect(Set(try store.runs().map(\.id)) == Set(ids))
        #expect(try store.verify().isHealthy)
    }

    /// Version 2 checkpoints (no checked segments) still read: every segment is checked.
    @Test func versionTwoCheckpointStillReads() throws {
        let dir = TempDir()
        let root = dir.sub("a")
        let ids = try Self.build(root, runs: 6, prefix: "r")
        let log = root + "/catalog.log"
        let whole = Catalog(path: log, useCheckpoint: false)
        try whole.refresh()
        let length = Int(try FileManager.default.attributesOfItem(atPath: log)[.size] as! UInt64)
        let bytes = try #require(
            CatalogCheckpoint.encode(whole.allRuns(), logLength: length, logProbeHash: try Catalog.probeHash(log, length), format: 2))
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/catalog.ckpt"))
        let ck = try #require(try CatalogCheckpoint(path: root + "/catalog.ckpt", logPath: log))
        #expect(ck.checkedSegments.isEmpty)
        let store = try Store.open(at: root, options: .init(create: false))
        defer { try? store.close() }
        #expect(Set(try store.runs().map(\.id)) == Set(ids))
        #expect(store.reader.runTablesScanned > 0)
        #expect(try store.verify().isHealthy)
    }
}

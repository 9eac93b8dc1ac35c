import Foundation
import Testing

@testable import Strata

/// `Store.storageStats().structure`: every byte of a store by structure (issue 10's breakdown),
/// adding up to the files' sizes, and the catalog's bytes a run beyond params and tags.
@Suite("Store bytes by structure")
struct StorageBytesTests {
    /// The sizes of every file under `root`, summed (FileManager, not the library's walk).
    static func filesBytes(_ root: String) throws -> Int {
        var total = 0
        let e = FileManager.default.enumerator(atPath: root)!
        while let name = e.nextObject() as? String {
            let a = try FileManager.default.attributesOfItem(atPath: root + "/" + name)
            if a[.type] as? FileAttributeType == .typeRegular { total += (a[.size] as! NSNumber).intValue }
        }
        return total
    }

    /// Runs with params of several shapes and tags; short series (packed) and one long series a
    /// run every tenth run (full chunks with tiers and sketches, and a chunk table).
    static func build(_ root: String, runs: Int) throws {
        var rng = SeededRandom(seed: 28)
        let store = try Store.open(at: root)
        for i in 0..<runs {
            let params: [String: ParamValue] = [
                "lr": .double(Double.random(in: 1e-5...1e-2, using: &rng)), "optimizer.name": .string(i % 2 == 0 ? "adam" : "sgd"),
                "layers": .int(Int64(i % 7)), "dataset.augment": .list([.string("flip"), .string("crop")])
            ]
            let tags: Set<String> = i % 3 == 0 ? ["sweep-a", "baseline"] : ["sweep-a"]
            let run = try store.createRun(name: "trial-\(i)", project: "bytes", params: params, tags: tags)
            for step in 0..<Int64(12) {
                try run.log(
                    ["train/loss": Double.random(in: 0...2, using: &rng), "val/acc": Double(step) / 12, "lr": 1e-3], step: step,
                    time: 1_700_000_000_000 + step * 1000)
            }
            if i % 10 == 0 {
                let n = 5000
                try run.append("grad_norm", steps: (0..<Int64(n)).map { $0 }, values: (0..<n).map { _ in Double.random(in: 0...1, using: &rng) })
            }
        }
        try store.close()
    }

    /// Checks the parts against independent counts of the same store; returns them by name.
    static func checkParts(_ root: String, _ st: StorageStats) throws -> [String: Int] {
        var parts: [String: Int] = [:]
        for p in st.structure {
            #expect(parts[p.name] == nil, "part \(p.name) twice")
            #expect(p.bytes > 0, "part \(p.name) of \(p.bytes) bytes")
            parts[p.name] = p.bytes
        }
        let total = try filesBytes(root)
        #expect(st.fileBytes == total)
        #expect(st.structure.reduce(0) { $0 + $1.bytes } == total, "parts add up to \(st.structure.reduce(0) { $0 + $1.bytes }) of \(total) bytes")
        for bad in ["unattributed", "unreadable segments", "catalog.log unread", "catalog.ckpt unusable"] {
            #expect(parts[bad] == nil, "\(bad): \(parts[bad] ?? 0) bytes")
        }
        // Independent counts from the segments' entries.
        var segments = 0, chunkHeaders = 0, columns = 0, tiers = 0, fullChunks = 0
        for seg in try PackedSeriesTests.segments(root) {
            segments += 1
            var seen = Set<Int>(), seenTiers = Set<Int>()
            for s in seg.series {
                if case .table(let n, _, _, _, _, _) = s.layout { chunkHeaders += n * SegmentFormat.chunkEntrySize }
                for e in try s.chunks() {
                    for ref in [e.steps, e.values, e.times] where seen.insert(ref.offset).inserted { columns += ref.length }
                    if e.tier.length > 0 && seenTiers.insert(e.tier.offset).inserted {
                        tiers += e.tier.length
                        fullChunks += 1
                    }
                }
            }
        }
        #expect(parts["headers and trailers"] == segments * 56)
        #expect(parts["chunk headers"] == chunkHeaders)
        #expect(st.structure.filter { $0.group == "columns" }.reduce(0) { $0 + $1.bytes } == columns)
        #expect(parts["tier blocks"] == fullChunks * ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize)
        #expect((parts["tier blocks"] ?? 0) + (parts["quantile sketches"] ?? 0) == tiers)
        let log = try FileManager.default.attributesOfItem(atPath: root + "/catalog.log")[.size] as! NSNumber
        let catalogLog = st.structure.filter { $0.name.hasPrefix("catalog.log") }.reduce(0) { $0 + $1.bytes }
        #expect(catalogLog == log.intValue)
        #expect(st.catalog.logBytes == log.intValue)
        let ckpt = st.structure.filter { $0.name.hasPrefix("catalog.ckpt") }.reduce(0) { $0 + $1.bytes }
        #expect(ckpt == st.catalog.checkpointBytes)
        #expect(st.catalog.checkpointParamsAndTags == (parts["catalog.ckpt params"] ?? 0) + (parts["catalog.ckpt tags"] ?? 0))
        return parts
    }

    @Test func partsAddUpToTheFilesAfterACheckpointAndAfterCompaction() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let runs = 300
        try Self.build(root, runs: runs)
        do {
            // A catalog checkpoint now (the close wrote none: its tail was under 1,000 records).
            let store = try Store.open(at: root)
            #expect(store.catalog.base == nil)
            store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
            try store.close()
        }
        let store = try Store.open(at: root, options: .init(create: false))
        defer { try? store.close() }
        let st = try store.storageStats()
        let parts = try Self.checkParts(root, st)
        for name in [
            "tier blocks", "quantile sketches", "chunk headers", "series statistics", "packed statistics", "packed-series tables",
            "series entries", "run and name tables", "descriptive fields", "run index", "headers and trailers", "catalog.log record headers",
            "catalog.ckpt params", "catalog.ckpt tags", "catalog.ckpt run tables", "catalog.ckpt pool offsets", "catalog.ckpt pooled values",
            "catalog.ckpt run records", "catalog.ckpt header and sections", "STRATA"
        ] {
            #expect((parts[name] ?? 0) > 0, "no bytes of \(name): \(parts)")
        }
        #expect(st.structure.contains { $0.group == "columns" && $0.name.hasPrefix("values/") })
        #expect(st.structure.contains { $0.group == "columns" && $0.name.hasPrefix("steps/") })
        #expect(st.structure.contains { $0.group == "columns" && $0.name.hasPrefix("times/") })
        #expect(st.catalog.checkpointRuns == runs)
        #expect(st.catalog.runs == runs)
        // The catalog a run beyond its params and tags, from the same accounting (issue 10: at most 64).
        print(
            String(
                format:
                    "catalog: %d runs; checkpoint %d bytes (params+tags %d): %.1f bytes a run beyond params and tags; with catalog.log (%d bytes): %.1f",
                runs, st.catalog.checkpointBytes, st.catalog.checkpointParamsAndTags, st.catalog.checkpointOverheadPerRun, st.catalog.logBytes,
                st.catalog.overheadPerRun))
        for p in st.structure where p.group == "catalog" {
            print(
                "  " + p.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + String(format: "%8d bytes  %.1f a run", p.bytes, Double(p.bytes) / Double(runs)))
        }
        #expect(st.catalog.checkpointOverheadPerRun <= 64, "checkpoint: \(st.catalog.checkpointOverheadPerRun) bytes a run beyond params and tags")

        // Compaction merges packed and unpacked series into one segment: still every byte.
        _ = try store.compact(graceSeconds: 0)
        let after = try store.storageStats()
        let merged = try Self.checkParts(root, after)
        #expect(merged["headers and trailers"] == 56)
    }
}

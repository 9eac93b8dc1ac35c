import Foundation
import Testing

@testable import Strata

/// The catalog checkpoint (`catalog.ckpt`, docs/FORMAT.md "Catalog checkpoint") and batched run
/// creation: a checkpoint plus the log's tail reads as the whole log does; damage in a checkpoint
/// is reported and the log read instead; old stores (a log only) stay readable.
@Suite("Catalog checkpoint and batched creation")
struct CatalogCheckpointTests {
    /// Random catalog records over a small set of runs: creates (and re-creates, renamed),
    /// params, metadata, tags, status, rewinds, and records for runs never created.
    static func randomRecords(_ rng: inout SeededRandom, ids: [RunID], count: Int) -> [CatalogRecord] {
        var out: [CatalogRecord] = []
        let names = ["a", "b", "c", "d"]
        for _ in 0..<count {
            let id = ids[Int.random(in: 0..<ids.count, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1:
                var info = RunInfo(
                    id: id, name: names.randomElement(using: &rng)!, project: ["p", "q"].randomElement(using: &rng)!,
                    status: .running, createdMs: Int64.random(in: -5...1_800_000_000_000, using: &rng), endedMs: nil,
                    params: ["lr": .double(Double.random(in: 0..<1, using: &rng)), "k": .int(Int64.random(in: .min ... .max, using: &rng))],
                    tags: Bool.random(using: &rng) ? ["x"] : ["x", "y"], metadata: ["host": .string(["h1", "h2"].randomElement(using: &rng)!)],
                    parent: Bool.random(using: &rng) ? ids.randomElement(using: &rng) : nil, rewinds: [])
                info.owner = ["W1", "W2"].randomElement(using: &rng)!
                out.append(Catalog.createRecord(info))
            case 2:
                out.append(Catalog.paramsRecord(id, ["p\(Int.random(in: 0..<3, using: &rng))": .string("v\(Int.random(in: 0..<9, using: &rng))")]))
            case 3: out.append(Catalog.paramsRecord(id, ["m": .bool(Bool.random(using: &rng))], metadata: true))
            case 4: out.append(Catalog.tagsRecord(id, add: ["t\(Int.random(in: 0..<3, using: &rng))"], remove: Bool.random(using: &rng) ? ["x"] : []))
            case 5, 6:
                let status = RunStatus.allCases.randomElement(using: &rng)!
                out.append(
                    Catalog.statusRecord(
                        id, status, at: Int64.random(in: 0...1_900_000_000_000, using: &rng), owner: Bool.random(using: &rng) ? "W3" : nil))
            default:
                out.append(
                    Catalog.rewindRecord(id, step: Int64.random(in: -3...1000, using: &rng), sequence: Int64.random(in: 0 ... .max, using: &rng)))
            }
        }
        return out
    }

    static func expectSame(_ a: Catalog, _ b: Catalog, _ context: String) {
        #expect(a.allRuns() == b.allRuns(), "\(context)")
        #expect(a.count == b.count, "\(context)")
        #expect(a.ids() == b.ids(), "\(context)")
        for name in ["a", "b", "c", "d", "zz"] {
            #expect(a.newest(named: name) == b.newest(named: name), "\(context) newest \(name)")
        }
        for id in b.ids() {
            #expect(a.rewinds(of: id) == b.rewinds(of: id), "\(context) rewinds")
            #expect(a.contains(id))
        }
        #expect(Set(a.runningRuns().map(\.id)) == Set(b.allRuns().filter { $0.status == .running }.map(\.id)), "\(context) running")
    }

    @Test(arguments: 0..<12) func checkpointPlusTailEqualsFullReplay(seed: UInt64) throws {
        let dir = TempDir()
        let log = dir.sub("catalog.log")
        var rng = SeededRandom(seed: 0xC0FFEE + seed)
        // Ids of any first digit (a 26-digit id holds 130 bits), the largest included.
        let ids =
            (0..<12).map { _ in RunID.generate(milliseconds: Int64.random(in: 0..<4, using: &rng) * 1_000_000_000_000) }
            + ["ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "80000000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "00000000000000000000000000"].map {
                RunID($0)!
            }
        // Two writers, each packing records against its own reference (docs/FORMAT.md "Packed
        // records"), so the tail holds packed records referring to offsets before the checkpoint.
        let writers = [Catalog(path: log), Catalog(path: log)]
        for round in 0..<6 {
            let writer = writers[Int.random(in: 0..<2, using: &rng)]
            try writer.append(Self.randomRecords(&rng, ids: ids, count: Int.random(in: 1...40, using: &rng)), sync: false)
            if round % 2 == seed % 2 { try writer.writeCheckpoint(tmpDir: dir.path) }
            // A reader that starts from whatever checkpoint there is, and one that replays the log.
            let fromCheckpoint = Catalog(path: log)
            try fromCheckpoint.refresh()
            let fromLog = Catalog(path: log, useCheckpoint: false)
            try fromLog.refresh()
            #expect(fromLog.base == nil)
            if round > 0 || seed % 2 == 0 { #expect(fromCheckpoint.base != nil, "seed \(seed) round \(round)") }
            Self.expectSame(fromCheckpoint, fromLog, "seed \(seed) round \(round)")
            Self.expectSame(writer, fromLog, "writer, seed \(seed) round \(round)")
            // What log cuts read: rewinds only.
            let rewinds = Catalog(path: log, rewindsOnly: true)
            try rewinds.refresh()
            for id in ids { #expect(rewinds.rewinds(of: id) == fromLog.rewinds(of: id), "seed \(seed) rewinds-only") }
            #expect(fromCheckpoint.checkpointProblems().isEmpty)
            #expect(fromLog.damaged.isEmpty)
        }
        #expect(try CatalogPackedTests.records(log).contains { $0.kind == Catalog.packedKind }, "seed \(seed)")
    }

    /// A version 1 checkpoint (params inline, as written before version 2 pooled their keys)
    /// still reads, equal to the log; a version 2 one is smaller on runs sharing their keys.
    @Test func versionOneCheckpointReadsAndVersionTwoPoolsParamKeys() throws {
        let dir = TempDir()
        let log = dir.sub("catalog.log")
        let writer = Catalog(path: log)
        var records: [CatalogRecord] = []
        for k in 0..<50 {
            var info = RunInfo(
                id: RunID.generate(), name: "r\(k)", project: "p", status: .running, createdMs: Int64(k), endedMs: nil,
                params: CatalogPackedTests.params(k), tags: [], metadata: [:], parent: nil, rewinds: [])
            info.owner = "W"
            records.append(Catalog.createRecord(info))
        }
        records.append(Catalog.paramsRecord(records[3].run, [:]))
        try writer.append(records, sync: false)
        let fromLog = Catalog(path: log, useCheckpoint: false)
        try fromLog.refresh()
        let length = try FileManager.default.attributesOfItem(atPath: log)[.size] as! Int
        var sizes: [UInt32: Int] = [:]
        for format: UInt32 in [1, 2] {
            let bytes = CatalogCheckpoint.encode(
                fromLog.allRuns(), logLength: length, logProbeHash: try Catalog.probeHash(log, length), format: format)!
            sizes[format] = bytes.count
            try Data(bytes).write(to: URL(fileURLWithPath: dir.sub("catalog.ckpt")))
            let reader = Catalog(path: log)
            try reader.refresh()
            #expect(reader.base != nil, "version \(format)")
            Self.expectSame(reader, fromLog, "version \(format)")
            #expect(reader.checkpointProblems().isEmpty)
        }
        #expect(sizes[2]! < sizes[1]!)
    }

    /// A store of `n` runs written with a checkpoint (compaction writes one).
    static func checkpointedStore(_ path: String, runs n: Int) throws -> [RunInfo] {
        let store = try Store.open(at: path)
        for k in 0..<n {
            let run = try store.createRun(name: "r\(k)", params: ["k": .int(Int64(k))], tags: k % 2 == 0 ? ["even"] : [])
            if k % 3 == 0 { try run.log(["loss": Double(k)], step: 1) }
            if k % 4 == 0 { try run.finish() }
        }
        _ = try store.compact()
        #expect(Sys.kind(path + "/catalog.ckpt") == .file)
        let runs = try store.runs()
        try store.close()
        return runs
    }

    @Test(arguments: ["header", "index", "record", "pool", "truncated"])
    func damagedCheckpointIsReportedAndTheLogIsRead(place: String) throws {
        let dir = TempDir()
        let path = dir.sub("s")
        _ = try Self.checkpointedStore(path, runs: 40)
        let log = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try log.refresh()
        let runs = log.allRuns()
        #expect(runs.count == 40)
        let ckpt = path + "/catalog.ckpt"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ckpt)))
        let n = Int(bytes[32]) | Int(bytes[33]) << 8
        let tables = CatalogCheckpoint.headerSize + n * (CatalogCheckpoint.entrySize + CatalogCheckpoint.nameEntrySize)
        switch place {
        case "header": bytes[20] ^= 0x01
        case "index": bytes[CatalogCheckpoint.headerSize + 3] ^= 0x40
        case "record": bytes[bytes.count - 3] ^= 0x10
        case "pool":
            // The first pool bytes follow the running table and the pool offsets.
            let running = Int(bytes[40]) | Int(bytes[41]) << 8
            let pools = Int(bytes[36]) | Int(bytes[37]) << 8
            bytes[tables + running * 4 + (pools + 1) * 4] ^= 0x20
        default: bytes.removeLast(7)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: ckpt))
        let store = try Store.open(at: path, options: .init(create: false))
        #expect(try store.runs() == runs, "\(place)")
        #expect(try store.run("r7").params["k"] == .int(7))
        let report = try store.verify()
        #expect(report.problems.contains { $0.path == ckpt && $0.message.contains("checkpoint") }, "\(place): \(report.problems)")
        #expect(!report.problems.contains { $0.path.hasSuffix("catalog.log") }, "\(place)")
        try store.close()
    }

    @Test func firstPageEqualsTheStartOfTheWholeListing() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        _ = try Self.checkpointedStore(path, runs: 30)
        let store = try Store.open(at: path)
        defer { try? store.close() }
        #expect(store.catalog.base != nil)
        // Tail records over checkpointed runs, written runs after it, and runs not written yet.
        try store.resumeRun("r0").setParams(["extra": .bool(true)])
        for k in 0..<3 { _ = try store.createRun(name: "late\(k)") }
        try store.writeCreatedRuns()
        for k in 0..<2 { _ = try store.createRun(name: "pending\(k)") }
        let all = try store.runs()
        #expect(all.count == 35)
        for limit in [1, 5, 31, 34, 35, 100] {
            #expect(try store.runs(limit: limit) == Array(all.prefix(limit)), "limit \(limit)")
        }
        #expect(try store.runs(limit: 1).first?.params["extra"] == .bool(true))
    }

    @Test func aStoreWithoutCheckpointIsReadAndGetsOne() throws {
        // A store as the previous release wrote it: catalog.log only.
        let dir = TempDir()
        let path = dir.sub("s")
        let n = Store.checkpointTail + 200
        do {
            let store = try Store.open(at: path)
            for k in 0..<n { _ = try store.createRun(name: "r\(k)", params: ["k": .int(Int64(k))]) }
            try store.close()
        }
        try? FileManager.default.removeItem(atPath: path + "/catalog.ckpt")
        let log = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try log.refresh()
        let store = try Store.open(at: path)
        #expect(store.catalog.base == nil)
        #expect(try store.runs().count == n)
        #expect(try store.run("r\(n - 1)").params["k"] == .int(Int64(n - 1)))
        try store.close()  // the tail is long: closing writes a checkpoint
        #expect(Sys.kind(path + "/catalog.ckpt") == .file)
        let again = try Store.open(at: path)
        #expect(again.catalog.base?.count == n)
        #expect(again.catalog.tailRecords == 0)
        #expect(try again.runs() == log.allRuns())
        #expect(try again.verify().isHealthy)
        try again.close()
    }

    @Test func createdRunsAreWrittenInBatchesDurableAtFlushAndClose() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let store = try Store.open(at: path)
        let logPath = path + "/catalog.log"
        func logSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0 }
        let before = logSize()
        var made: [RunID] = []
        for k in 0..<100 { made.append(try store.createRun(name: "b\(k)", params: ["k": .int(Int64(k))]).id) }
        // Visible here at once, not written yet.
        #expect(logSize() == before)
        #expect(try store.run("b42").params["k"] == .int(42))
        #expect(try store.runs().count == 100)
        let other = Catalog(path: logPath)
        try other.refresh()
        #expect(other.count == 0)
        try store.flush()
        try other.refresh()
        #expect(other.count == 100)
        #expect(Set(other.ids()) == Set(made))
        // A point logged to a run writes its batch first.
        let late = try store.createRun(name: "late")
        try late.log(["m": 1], step: 0)
        try other.refresh()
        #expect(other.info(late.id)?.name == "late")
        // Close writes the rest.
        for k in 0..<10 { _ = try store.createRun(name: "c\(k)") }
        try store.close()
        try other.refresh()
        #expect(other.count == 111)
        #expect(other.allRuns().allSatisfy { $0.status == .finished })
        // The full batch writes itself without flush.
        let big = try Store.open(at: path)
        for k in 0..<Store.createBatchSize { _ = try big.createRun(name: "d\(k)") }
        try other.refresh()
        #expect(other.count == 111 + Store.createBatchSize)
        try big.close()
    }

    @Test func hundredThousandRunsOpenAndAnswer() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let n = 100_000
        do {
            let store = try Store.open(at: path)
            for k in 0..<n {
                _ = try store.createRun(name: "t\(k)", params: ["lr": .double(Double(k % 1000) * 1e-6), "k": .int(Int64(k))])
            }
            try store.close()
        }
        let ckpt = path + "/catalog.ckpt"
        #expect(Sys.kind(ckpt) == .file)
        let store = try Store.open(at: path)
        #expect(store.catalog.base?.count == n)
        #expect(store.catalog.tailRecords == 0)
        #expect(try store.run("t99999").params["k"] == .int(99_999))
        #expect(try store.run("t5").params["lr"] == .double(Double(5) * 1e-6))
        let matching = try store.runs(where: try Filter("params.lr < 0.000002"))
        #expect(matching.count == n / 1000 * 2)
        // Size: at most 64 bytes a run beyond its params and tags (and the shared pool).
        let size = try FileManager.default.attributesOfItem(atPath: ckpt)[.size] as! Int
        var paramBytes = 0
        for k in [0, n / 2, n - 1] {
            var w = ByteWriter()
            ParamCoding.write(try store.run("t\(k)").params, into: &w)
            paramBytes = max(paramBytes, w.count + 1)  // + empty tags set reference
        }
        let perRun = Double(size) / Double(n) - Double(paramBytes)
        #expect(perRun <= 64, "\(perRun) bytes a run beyond params")
        // The same from the store's byte accounting (params and tags as the checkpoint stores them).
        let catalog = try store.storageStats().catalog
        #expect(catalog.checkpointRuns == n)
        #expect(catalog.checkpointOverheadPerRun <= 64, "\(catalog.checkpointOverheadPerRun) bytes a run beyond params and tags")
        print(
            "100,000 runs: catalog.ckpt \(catalog.checkpointOverheadPerRun) bytes a run beyond params and tags; "
                + "with catalog.log \(catalog.overheadPerRun)")
        try store.close()
    }
}

/// SIGKILL of writers creating runs and of a process checkpointing the catalog, at random moments.
@Suite("Catalog checkpoint under SIGKILL (real processes)", .serialized)
struct CatalogCheckpointProcessTests {
    @Test func killedWritersAndCheckpointerLoseNoAcknowledgedRun() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        var acked: [String: Int] = [:]
        for round in 0..<6 {
            var writers: [(String, ProcessTests.Child)] = []
            for w in 0..<3 {
                let name = "w\(round)x\(w)"
                writers.append(
                    (name, try ProcessTests.Child([path, name, "-", "runs", "1000000", "--batch", "\(Int.random(in: 1...300, using: &rng))"])))
            }
            let checkpointer = try ProcessTests.Child([path, "-", "-", "checkpoints"])
            let everyone = writers.map(\.1) + [checkpointer]
            ProcessTests.Child.pumpAll(everyone, until: Date().addingTimeInterval(Double.random(in: 0.2...1.2, using: &rng)))
            ProcessTests.Child.killAll(everyone, using: &rng)
            for (name, c) in writers { acked[name] = Int(c.lastAck) }
        }
        let store = try Store.open(at: path)
        var byName: [String: Int] = [:]
        for run in try store.runs() { byName[run.name, default: 0] += 1 }
        for (name, last) in acked.sorted(by: { $0.key < $1.key }) where last >= 0 {
            for k in 0...last {
                #expect(byName["\(name)-\(k)"] == 1, "seed \(seed): run \(name)-\(k) acknowledged, found \(byName["\(name)-\(k)"] ?? 0) times")
            }
        }
        #expect(byName.values.allSatisfy { $0 == 1 }, "seed \(seed): a run created twice")
        let fromLog = Catalog(path: path + "/catalog.log", useCheckpoint: false)
        try fromLog.refresh()
        #expect(try store.runs().filter { $0.metadata["catalog.missing"] == nil } == fromLog.allRuns(), "seed \(seed)")
        let report = try store.verify()
        #expect(!report.problems.contains { $0.path.hasSuffix("catalog.ckpt") }, "seed \(seed): \(report.problems)")
        try store.close()
    }
}

import Foundation
import Testing

@testable import Strata

/// Packed catalog records (kind 7, docs/FORMAT.md "Catalog", "Packed records"): plain record
/// bodies compressed together against a reference (an earlier plain create record), so metadata
/// and param keys repeated by every run cost almost nothing; damage, torn tails and old stores.
@Suite("Catalog packed records")
struct CatalogPackedTests {
    /// Every record of a catalog log: offset, kind byte, body.
    static func records(_ path: String) throws -> [(offset: Int, kind: UInt8, body: [UInt8])] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var out: [(Int, UInt8, [UInt8])] = []
        var pos = 0
        while pos + 16 <= bytes.count {
            let len = Int(bytes[pos + 4]) | Int(bytes[pos + 5]) << 8 | Int(bytes[pos + 6]) << 16 | Int(bytes[pos + 7]) << 24
            guard pos + 16 + len <= bytes.count else { break }
            out.append((pos, bytes[pos + 16], Array(bytes[(pos + 16)..<(pos + 16 + len)])))
            pos += 16 + len
        }
        return out
    }

    /// A trials-like run: nested params flattened, lists, null.
    static func params(_ k: Int) -> [String: ParamValue] {
        [
            "lr": .double(1e-4 * Double(k % 97 + 1)), "optimizer.name": .string(["adam", "adamw", "sgd"][k % 3]),
            "optimizer.betas": .list([.double(0.9), .double(0.999)]), "optimizer.momentum": .null,
            "optimizer.weight_decay": .double(0.01), "hidden_sizes": .list([.int(256), .int(128)]),
            "activation": .string("gelu"), "batch_norm": .bool(k % 2 == 0), "scheduler.name": .string("cosine"),
            "scheduler.warmup_epochs": .int(Int64(k % 5)), "dataset.name": .string("cifar10"),
            "dataset.augment": .list([.string("flip"), .string("crop")]), "seed": .int(Int64(k))
        ]
    }

    @Test func runsRoundTripThroughPackedRecordsAndTheLogShrinks() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var expected: [RunID: RunInfo] = [:]
        do {
            let store = try Store.open(at: path)
            // The bulk pattern: create a run, log to it (its create is written alone), next run.
            for k in 0..<300 {
                let run = try store.createRun(name: "trial-\(k)", params: Self.params(k), tags: k % 7 == 0 ? ["best"] : [])
                try run.append("loss", steps: [0, 1], values: [1, 0.5])
            }
            // Batched creation: many creates in one write.
            for k in 300..<600 { _ = try store.createRun(name: "trial-\(k)", params: Self.params(k)) }
            try store.writeCreatedRuns()
            let run = try store.run("trial-5")
            try Run(store: store, id: run.id, name: run.name).setParams(["extra": .string("x")])
            for info in try store.runs() { expected[info.id] = info }
            try store.close()
        }
        let log = path + "/catalog.log"
        let recs = try Self.records(log)
        let packed = recs.filter { $0.kind == Catalog.packedKind }
        #expect(!packed.isEmpty)
        #expect(recs.contains { $0.kind == CatalogRecord.Kind.create.rawValue })  // the reference
        // A replay of the whole log (no checkpoint) reads every run as it was written.
        let fromLog = Catalog(path: log, useCheckpoint: false)
        try fromLog.refresh()
        #expect(fromLog.damaged.isEmpty)
        #expect(fromLog.count == 600)
        for info in fromLog.allRuns() {
            var want = expected[info.id]
            want?.status = info.status  // close finished them
            want?.endedMs = info.endedMs
            #expect(info == want, "run \(info.name)")
            #expect(info.status == .finished)
        }
        // The same records written plain (the format before packed records) take far more bytes.
        let plain = Catalog(path: dir.sub("plain.log"))
        plain.writesPackedRecords = false
        let sorted = fromLog.allRuns()
        try plain.append(sorted.map(Catalog.createRecord), sync: false)
        try plain.append(sorted.map { Catalog.statusRecord($0.id, .finished, at: $0.endedMs ?? 0) }, sync: false)
        let packedSize = try FileManager.default.attributesOfItem(atPath: log)[.size] as! Int
        let plainSize = try FileManager.default.attributesOfItem(atPath: dir.sub("plain.log"))[.size] as! Int
        #expect(packedSize * 3 < plainSize, "packed \(packedSize) bytes, plain \(plainSize)")
        let store = try Store.open(at: path)
        #expect(try store.verify().problems.isEmpty)
        try store.close()
    }

    /// Two writers (each its own reference) interleaved; a damaged reference loses only the
    /// records packed against it, and each is reported.
    @Test func damagedReferenceLosesOnlyItsDependents() throws {
        let dir = TempDir()
        let log = dir.sub("catalog.log")
        func info(_ name: String, owner: String) -> RunInfo {
            var i = RunInfo(
                id: RunID.generate(), name: name, project: "p", status: .running, createdMs: 1_700_000_000_000, endedMs: nil,
                params: Self.params(name.count), tags: [], metadata: ["command": .string("train.py --config sweep.yaml \(owner)")],
                parent: nil, rewinds: [])
            i.owner = owner
            return i
        }
        let a = Catalog(path: log), b = Catalog(path: log)
        var runsA: [RunInfo] = [], runsB: [RunInfo] = []
        for k in 0..<5 {
            runsA.append(info("a\(k)", owner: "WA"))
            try a.append([Catalog.createRecord(runsA.last!)], sync: false)
            runsB.append(info("b\(k)", owner: "WB"))
            try b.append([Catalog.createRecord(runsB.last!)], sync: false)
        }
        let recs = try Self.records(log)
        #expect(recs.map(\.kind) == [1, 1] + Array(repeating: Catalog.packedKind, count: 8))
        let whole = Catalog(path: log)
        try whole.refresh()
        #expect(whole.allRuns().map(\.name).sorted() == (runsA + runsB).map(\.name).sorted())
        // Damage a's reference (its first record).
        var bytes = try Data(contentsOf: URL(fileURLWithPath: log))
        bytes[recs[0].offset + 20] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: log))
        let damaged = Catalog(path: log)
        try damaged.refresh()
        #expect(Set(damaged.allRuns().map(\.name)) == Set(runsB.map(\.name)))
        #expect(damaged.damaged.count == 5)  // the reference and the 4 packed against it
        #expect(damaged.damaged.dropFirst().allSatisfy { $0.reason.contains("refers to offset 0") })
    }

    @Test func tornPackedTailIsRetriedNotDamage() throws {
        let dir = TempDir()
        let log = dir.sub("catalog.log")
        let writer = Catalog(path: log)
        var infos: [RunInfo] = []
        for k in 0..<40 {
            var i = RunInfo(
                id: RunID.generate(), name: "r\(k)", project: "p", status: .running, createdMs: Int64(k), endedMs: nil,
                params: Self.params(k), tags: [], metadata: [:], parent: nil, rewinds: [])
            i.owner = "W"
            infos.append(i)
        }
        try writer.append([Catalog.createRecord(infos[0])], sync: false)
        try writer.append(infos[1...].map(Catalog.createRecord), sync: false)
        let full = try Data(contentsOf: URL(fileURLWithPath: log))
        let recs = try Self.records(log)
        #expect(recs.count == 2 && recs[1].kind == Catalog.packedKind)
        // Cut anywhere in the packed record: the reader stops before it, without damage, and reads
        // it once it is whole.
        for cut in [recs[1].offset + 3, recs[1].offset + 20, full.count - 1] {
            try full.prefix(cut).write(to: URL(fileURLWithPath: log))
            let reader = Catalog(path: log)
            try reader.refresh()
            #expect(reader.allRuns().map(\.name) == ["r0"])
            #expect(reader.damaged.isEmpty)
            try full.write(to: URL(fileURLWithPath: log))
            try reader.refresh()
            #expect(reader.allRuns().count == 40)
            #expect(reader.damaged.isEmpty)
        }
    }

    /// A record of the largest body accepted, compressible, is never packed into a record whose
    /// unpacked size a reader refuses (over 16 MiB with its length prefix).
    @Test func largestRecordStaysReadable() throws {
        let dir = TempDir()
        let log = dir.sub("catalog.log")
        let writer = Catalog(path: log)
        var info = RunInfo(
            id: RunID.generate(), name: "r", project: "p", status: .running, createdMs: 0, endedMs: nil,
            params: [:], tags: [], metadata: [:], parent: nil, rewinds: [])
        info.owner = "W"
        try writer.append([Catalog.createRecord(info)], sync: false)  // the reference
        var params: [String: ParamValue] = [:]
        for k in 0..<16 { params["k\(k)"] = .string(String(repeating: "a", count: 1_000_000)) }
        func size(_ p: [String: ParamValue]) -> Int {
            let rec = Catalog.paramsRecord(info.id, p)
            return 1 + 1 + rec.run.text.utf8.count + rec.body.count
        }
        params["z"] = .string("")
        let base = size(params)
        // A string of over 16,383 bytes takes 2 more bytes of length than the empty one.
        params["z"] = .string(String(repeating: "b", count: Catalog.maxBodyLength - base - 2))
        #expect(size(params) == Catalog.maxBodyLength)
        try writer.append([Catalog.paramsRecord(info.id, params)], sync: false)
        let reader = Catalog(path: log)
        try reader.refresh()
        #expect(reader.damaged.isEmpty)
        #expect(reader.info(info.id)?.params == params)
    }

    /// A log written by releases before packed records (plain records only) reads as before,
    /// and a new writer appends packed records after it.
    @Test func olderPlainLogReadsAndTakesPackedRecords() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        do {
            let old = try Store.open(at: path)
            old.catalog.writesPackedRecords = false
            for k in 0..<20 { _ = try old.createRun(name: "old\(k)", params: Self.params(k)) }
            try old.close()
        }
        #expect(try Self.records(path + "/catalog.log").allSatisfy { $0.kind != Catalog.packedKind })
        let store = try Store.open(at: path)
        #expect(try store.runs().map(\.name).sorted() == (0..<20).map { "old\($0)" }.sorted())
        for k in 0..<20 { _ = try store.createRun(name: "new\(k)", params: Self.params(k)) }
        try store.close()
        #expect(try Self.records(path + "/catalog.log").contains { $0.kind == Catalog.packedKind })
        let again = try Store.open(at: path)
        #expect(try again.runs().count == 40)
        #expect(try again.run("old3").params == Self.params(3))
        #expect(try again.run("new7").params == Self.params(7))
        #expect(try again.verify().problems.isEmpty)
        try again.close()
    }
}

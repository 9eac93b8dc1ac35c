import Foundation
import Testing

@testable import Strata

/// Damaged files never crash the process, never take the rest of the store down, and are named
/// by `verify`. Every test damages real files written by Strata.
@Suite("Damaged files")
struct CorruptionTests {
    /// A store with two runs in two segments; returns the segment file of run "a".
    static func makeStore(_ path: String) throws -> (segmentA: String, expectedB: [Point]) {
        var expectedB: [Point] = []
        do {
            let s = try Store.open(at: path)
            let a = try s.createRun(name: "a")
            for i in 0..<6_000 { try a.log(["x": Double(i) * 0.25, "y": sin(Double(i))], step: Int64(i), time: 1_000 + Int64(i)) }
            try s.close()
        }
        let segA = try FileManager.default.contentsOfDirectory(atPath: path + "/segments").filter { $0.hasSuffix(".seg") }
        #expect(segA.count == 1)
        do {
            let s = try Store.open(at: path)
            let b = try s.createRun(name: "b")
            for i in 0..<3_000 {
                try b.log("x", Double(i) / 3, step: Int64(i), time: 5_000 + Int64(i))
                expectedB.append(Point(step: Int64(i), value: Double(i) / 3, time: 5_000 + Int64(i)))
            }
            try s.close()
        }
        return (path + "/segments/" + segA[0], expectedB)
    }

    static func readEverything(_ store: Store) -> (ok: Int, errors: [StrataError]) {
        var ok = 0
        var errors: [StrataError] = []
        for run in (try? store.runs()) ?? [] {
            for metric in ["x", "y"] {
                do {
                    ok += try store.points(run.id, metric).count
                    _ = try store.curve(run.id, metric, steps: 0..<6_000, buckets: 37)
                } catch { errors.append(error) }
            }
        }
        return (ok, errors)
    }

    @Test func truncatedSegmentIsReportedAndOtherRunsStillRead() throws {
        let dir = TempDir()
        let (segA, expectedB) = try Self.makeStore(dir.sub("s"))
        let original = try Data(contentsOf: URL(fileURLWithPath: segA))
        for cut in [0, 7, 16, 100, original.count / 2, original.count - 41, original.count - 1] {
            try original.prefix(cut).write(to: URL(fileURLWithPath: segA))
            let store = try Store.open(at: dir.sub("s"))
            let b = try store.run("b")
            #expect(try store.points(b.id, "x") == expectedB, "cut \(cut)")
            let report = try store.verify()
            #expect(report.problems.contains { $0.path == segA }, "cut \(cut): \(report.problems)")
            #expect(report.problems.first { $0.path == segA }?.message.isEmpty == false)
            _ = Self.readEverything(store)
        }
    }

    @Test func flippedBytesNeverCrashAndNeverGoUnnoticed() throws {
        let dir = TempDir()
        let (segA, expectedB) = try Self.makeStore(dir.sub("s"))
        let original = try Data(contentsOf: URL(fileURLWithPath: segA))
        let clean = try Store.open(at: dir.sub("s"))
        let cleanA = try clean.points(try clean.run("a").id, "x")
        try clean.close()
        var rng = SeededRandom(seed: 7)
        for trial in 0..<60 {
            var damaged = original
            let at = Int.random(in: 0..<damaged.count, using: &rng)
            damaged[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            try damaged.write(to: URL(fileURLWithPath: segA))
            let store = try Store.open(at: dir.sub("s"))
            #expect(try store.points(try store.run("b").id, "x") == expectedB, "trial \(trial) byte \(at)")
            let report = try store.verify()
            let readA = try? store.points(try store.run("a").id, "x")
            // Either the damage is detected, or what is read is exactly the original.
            if readA != nil && readA! != cleanA {
                #expect(!report.isHealthy, "trial \(trial): byte \(at) changed data silently")
            }
            _ = Self.readEverything(store)
        }
        try original.write(to: URL(fileURLWithPath: segA))
        #expect(try Store.open(at: dir.sub("s")).verify().isHealthy)
    }

    @Test func segmentOfNewerVersionIsReported() throws {
        let dir = TempDir()
        let (segA, _) = try Self.makeStore(dir.sub("s"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segA))
        bytes[8] = 99
        try bytes.write(to: URL(fileURLWithPath: segA))
        let store = try Store.open(at: dir.sub("s"))
        let p = try store.verify().problems.first { $0.path == segA }
        #expect(p?.message.contains("version 99") == true)
        #expect(try store.points(try store.run("b").id, "x").count == 3_000)
    }

    /// A dead writer's log, damaged in the middle: its valid prefix is recovered, the file set
    /// aside in damaged/, and verify says so.
    @Test func damagedLogOfDeadWriterIsRecoveredUpToTheDamage() throws {
        let dir = TempDir()
        let live = dir.sub("live"), copy = dir.sub("copy")
        let store = try Store.open(at: live)
        let run = try store.createRun(name: "w")
        for i in 0..<2_000 { try run.log("x", Double(i), step: Int64(i)) }
        // Copy the store while its writer lives: the copy's log is unlocked, like a dead writer's.
        try FileManager.default.copyItem(atPath: live, toPath: copy)
        let logs = try FileManager.default.contentsOfDirectory(atPath: copy + "/wal")
        #expect(logs.count == 1)
        let logPath = copy + "/wal/" + logs[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: logPath))
        // Damage a record in the middle: the first 1,000 steps' records come before it.
        let recordBytes = 48  // header 16 + payload 32 (step, time, n, one pair), padded to 8
        let middle = 64 + 32 * 1000 + 1_000 * recordBytes
        bytes[middle + 20] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: logPath))
        let recovered = try Store.open(at: copy)
        #expect(recovered.recoveredLogs == [logs[0]])
        let pts = try recovered.points(try recovered.run("w").id, "x")
        #expect(pts.count > 900 && pts.count < 2_000, "\(pts.count) points recovered")
        #expect(pts.enumerated().allSatisfy { $0.element.step == Int64($0.offset) })
        let report = try recovered.verify()
        #expect(report.problems.contains { $0.path.contains("/damaged/") })
        try store.close()
    }

    @Test func damagedCatalogRecordIsReported() throws {
        let dir = TempDir()
        _ = try Self.makeStore(dir.sub("s"))
        let path = dir.sub("s/catalog.log")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[20] ^= 0x55  // inside the first record's body
        try bytes.write(to: URL(fileURLWithPath: path))
        let store = try Store.open(at: dir.sub("s"))
        let report = try store.verify()
        #expect(report.problems.contains { $0.path == path && $0.message.contains("checksum") })
        #expect(try store.run("b").name == "b")
        // Run "a" lost its catalog record, not its points: it is listed by id, flagged.
        let orphans = try store.runs().filter { $0.metadata["catalog.missing"] == .bool(true) }
        #expect(orphans.count == 1)
        if let a = orphans.first {
            #expect(try store.points(a.id, "x").count == 6_000)
            #expect(try store.run(a.id.text).id == a.id)
        }
    }
}

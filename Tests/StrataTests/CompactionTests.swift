import Foundation
import Testing

@testable import Strata

@Suite("Compaction and rewind", .serialized)
struct CompactionTests {
    /// Writes `rounds` segments of interleaved, partly overlapping points for three runs.
    static func fill(_ path: String, round: Int, expected: inout [String: [(Int64, Double)]]) throws {
        let store = try Store.open(at: path, options: .init(logCapacity: 1 << 18))
        for r in 0..<3 {
            let name = "run-\(r)"
            let run: Run
            if let existing = try? store.resumeRun(name) { run = existing } else { run = try store.createRun(name: name) }
            var steps: [Int64] = [], values: [Double] = []
            for i in 0..<7_000 {
                // Overlap with earlier rounds: steps go back by 2,000 every round.
                let s = Int64(round * 5_000 + i - 2_000)
                steps.append(s); values.append(Double(round * 100_000 + i) + Double(r) / 10)
            }
            try run.append("loss", steps: steps, values: values)
            expected[name, default: []] += zip(steps, values).map { ($0, $1) }
        }
        try store.close()
    }

    static func check(_ store: Store, _ expected: [String: [(Int64, Double)]]) throws {
        for (name, pts) in expected {
            let id = try store.run(name).id
            let got = try store.read(id, "loss")
            // Arrival order is the order of `expected` (rounds appended in order).
            let want: [(Int64, Double)] = pts.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            let wantSteps: [Int64] = want.map(\.0)
            let wantValues: [Double] = want.map(\.1)
            #expect(got.count == want.count, "\(name): \(got.count) points, want \(want.count)")
            #expect(got.steps == wantSteps, "\(name) steps")
            #expect(got.values == wantValues, "\(name) values")
        }
    }

    @Test func compactionMergesEverythingOnceInOrder() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var expected: [String: [(Int64, Double)]] = [:]
        for round in 0..<4 { try Self.fill(path, round: round, expected: &expected) }
        let store = try Store.open(at: path)
        let before = try store.storageStats()
        #expect(before.segments > 1)
        try Self.check(store, expected)
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments == before.segments)
        let total: Int = expected.values.map(\.count).reduce(0, +)
        #expect(report.points == total)
        #expect(report.deletedSegments == before.segments)
        try Self.check(store, expected)
        let after = try store.storageStats()
        #expect(after.segments == 1)
        // Full chunks after compaction: fewer chunks than before.
        #expect(after.chunks < before.chunks)
        #expect(try store.verify().isHealthy)
        try store.close()
        let again = try Store.open(at: path)
        try Self.check(again, expected)
    }

    @Test func compactionKilledMidwayLeavesEveryPointOnce() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var expected: [String: [(Int64, Double)]] = [:]
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        for round in 0..<8 {
            try Self.fill(path, round: round, expected: &expected)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: builtProduct("strata-test-writer"))
            p.arguments = [path, "-", "-", "compact"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 1_000...80_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = try Store.open(at: path)
            try Self.check(store, expected)
            try store.close()
        }
        let store = try Store.open(at: path)
        _ = try store.compact(graceSeconds: 0)
        try Self.check(store, expected)
        #expect(try store.verify().isHealthy, "seed \(seed)")
    }

    @Test func compactionWhileAnotherProcessWritesLosesNothing() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let steps = 60_000
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtProduct("strata-test-writer"))
        p.arguments = [path, "live", "m", "\(steps)", "--capacity", "\(1 << 18)"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var compactions = 0
        while p.isRunning {
            if let store = try? Store.open(at: path) {
                if let r = try? store.compact(graceSeconds: 0), r.inputSegments > 0 { compactions += 1 }
                // A reader during all this sees each visible step once.
                if let run = try? store.run("live"), let d = try? store.read(run.id, "ma") {
                    #expect(Set(d.steps).count == d.count, "a step seen twice while compacting")
                }
                try? store.close()
            }
            usleep(20_000)
        }
        #expect(p.terminationStatus == 0)
        let store = try Store.open(at: path)
        _ = try store.compact(graceSeconds: 0)
        let id = try store.run("live").id
        for (k, m) in ["ma", "mb", "mc"].enumerated() {
            let d = try store.read(id, m)
            #expect(d.steps == (0..<Int64(steps)).map { $0 })
            #expect(d.values == (0..<steps).map { Double($0) * 0.5 + Double(k) })
        }
        #expect(compactions > 0)
        #expect(try store.verify().isHealthy)
    }

    @Test func rewindHidesLaterPointsAndCompactionDropsThem() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "resumed")
        for s in 0..<1_000 { try run.log("loss", Double(s), step: Int64(s)) }
        try run.rewind(to: 499)
        for s in 500..<800 { try run.log("loss", Double(s) + 0.5, step: Int64(s)) }
        func check() throws {
            let d = try store.read(run.id, "loss")
            #expect(d.count == 800)
            let wantSteps: [Int64] = (0..<800).map { Int64($0) }
            let wantValues: [Double] = (0..<800).map { (i: Int) -> Double in i < 500 ? Double(i) : Double(i) + 0.5 }
            #expect(d.steps == wantSteps)
            #expect(d.values == wantValues)
            let a = try store.aggregate(run.id, "loss")
            #expect(a?.count == 800)
            #expect(a?.last == 799.5)
            #expect(a?.lastStep == 799)
            let s = try store.series(of: run.id)
            #expect(s.first?.count == 800)
        }
        try check()
        try store.checkpoint()
        try check()
        _ = try store.compact(graceSeconds: 0)
        try check()
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        let d = try again.read(run.id, "loss")
        #expect(d.count == 800)
        #expect(d.values.last == 799.5)
    }
}

import Foundation
import Testing

@testable import Strata

/// Bulk ingest of many small runs (issue 10, I3): what creating a run and appending its series
/// costs in checks and memory, and that batching creation keeps every acknowledged run.
@Suite("Bulk ingest of many small runs")
struct BulkIngestTests {
    /// A random param value, nested up to `depth` more levels.
    static func randomValue(_ rng: inout SeededRandom, depth: Int) -> ParamValue {
        let text = String(repeating: "é", count: Int.random(in: 0..<3, using: &rng)) + String(Int.random(in: 0..<1_000_000, using: &rng))
        switch Int.random(in: 0..<(depth > 0 ? 10 : 8), using: &rng) {
        case 0: return .string(text + String(repeating: "x", count: Int.random(in: 0..<200, using: &rng)))
        case 1: return .int(Int64.random(in: .min ... .max, using: &rng))
        case 2: return .double(Double.random(in: -1e9...1e9, using: &rng))
        case 3: return .bool(Bool.random(using: &rng))
        case 4: return .text(text)
        case 5: return .null
        case 6: return ParamValue.bigInteger("123456789012345678901234567890\(Int.random(in: 0..<10, using: &rng))")!
        case 7: return .list([])
        case 8: return .list((0..<Int.random(in: 0..<(depth == 3 ? 150 : 5), using: &rng)).map { _ in randomValue(&rng, depth: depth - 1) })
        default:
            var kv: [String: ParamValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &rng) { kv["k\(Int.random(in: 0..<300, using: &rng))"] = randomValue(&rng, depth: depth - 1) }
            return .object(kv)
        }
    }

    /// The size counted for the record-size limit is the size `ParamCoding.write` writes, for
    /// params of every shape (long strings and lists cross the one-byte varint lengths).
    @Test func paramSizeCountedEqualsWritten() {
        var rng = SeededRandom(seed: 10_003)
        for _ in 0..<60 {
            var params: [String: ParamValue] = [:]
            for k in 0..<Int.random(in: 0..<140, using: &rng) {
                params["p\(k).\(Int.random(in: 0..<9, using: &rng))"] = Self.randomValue(&rng, depth: 3)
            }
            var w = ByteWriter()
            ParamCoding.write(params, into: &w)
            #expect(ParamCoding.encodedSize(params) == w.count)
        }
    }

    /// Keys with an empty path segment are refused wherever the segment is; others pass, and the
    /// depth counts the segments.
    @Test func keySegmentsCheckedWithoutSplitting() {
        for bad in [".a", "a.", "a..b", ".", "..", "a.b.", "x...y"] {
            #expect(throws: StrataError.self, "\(bad)") { try Limits.check(key: bad, value: .int(1), what: "param") }
        }
        for good in ["a", "a.b", "optimizer.adam.beta1", "é.ü"] {
            #expect(throws: Never.self, "\(good)") { try Limits.check(key: good, value: .int(1), what: "param") }
        }
        let deep = (0..<Limits.maxParamDepth).map { "k\($0)" }.joined(separator: ".")
        #expect(throws: Never.self) { try Limits.check(key: deep, value: .int(1), what: "param") }
        #expect(throws: StrataError.self) { try Limits.check(key: deep, value: .list([.int(1)]), what: "param") }
        #expect(throws: StrataError.self) { try Limits.check(key: deep + ".x", value: .int(1), what: "param") }
    }

    /// Series that only receive whole arrays (`append`) hold no raw point buffers: 50,000 short
    /// series used to hold 1.5 KiB of empty buffers each until the store closed.
    @Test func appendedSeriesHoldNoRawBuffers() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        for r in 0..<50 {
            let run = try store.createRun(name: "t\(r)", params: ["lr": .double(1e-3)])
            for m in ["a", "b", "c"] {
                let steps = (0..<Int64(20 + r)).map { $0 }
                try run.append(m, steps: steps, values: steps.map { Double($0) }, times: steps)
            }
        }
        let held = try store.withWriter { w in w.buffers.series.reduce(0) { $0 + $1.capacity } }
        #expect(held == 0)
        // A series logged step by step still gets its buffer.
        let run = try store.createRun(name: "live")
        try run.log("x", 1, step: 0)
        let live = try store.withWriter { w in w.buffers.series.map(\.capacity).max() ?? 0 }
        #expect(live > 0)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        #expect(try again.points(try again.run("t7").id, "b").count == 27)
        #expect(try again.points(run.id, "x").map(\.value) == [1])
        try again.close()
    }

    static func fileSize(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }

    /// Options whose creation batch is written only by flush, close or a full batch (not by the
    /// timer), so what each call writes is deterministic.
    static var noTimer: Store.Options {
        var o = Store.Options()
        o.createdRunsWriteDelayMs = 3_600_000
        return o
    }

    /// Creating runs and appending their series does not write the catalog once a run: the
    /// creations wait in their batch (logged ahead in the write-ahead log) and are written
    /// together by `flush()`, where another process then sees them with their params.
    @Test func bulkCreationDoesNotWriteTheCatalogPerRun() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let store = try Store.open(at: path, options: Self.noTimer)
        let before = Self.fileSize(path + "/catalog.log")
        for r in 0..<100 {
            let run = try store.createRun(name: "t\(r)", params: ["lr": .double(Double(r) * 1e-4), "opt.name": "adam"])
            for m in ["a", "b"] { try run.append(m, steps: [0, 1, 2], values: [1, 2, Double(r)], times: [0, 1, 2]) }
        }
        #expect(Self.fileSize(path + "/catalog.log") == before, "a catalog write per run")
        #expect(try store.runs().count == 100)  // this process sees them at once
        try store.flush()
        #expect(Self.fileSize(path + "/catalog.log") > before)
        let other = try Store.open(at: path)
        let runs = try other.runs()
        #expect(runs.count == 100)
        let t42 = try #require(runs.first { $0.name == "t42" })
        #expect(t42.params["lr"] == .double(Double(42) * 1e-4))
        #expect(try other.points(t42.id, "b").map(\.value) == [1, 2, 42])
        try other.close()
        try store.close()
    }

    /// Copies a store whose writer is alive: the copy of its log is unlocked, so opening the copy
    /// recovers it as a dead writer's log, as after `kill -9` at this moment.
    static func copyAsCrashed(_ from: String, _ to: String) throws {
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// A writer that dies with created runs only logged ahead (not in the catalog): recovery
    /// writes their creation, params included, and their points are there once.
    @Test func recoveryWritesTheCreationOfLoggedRuns() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: Self.noTimer)
        for r in 0..<30 {
            let run = try store.createRun(name: "t\(r)", params: ["k": .int(Int64(r)), "aug": .list(["flip", .null])], tags: ["x"])
            try run.append("loss", steps: [0, 1], values: [Double(r), 0.5], times: [0, 1])
        }
        _ = try store.createRun(name: "no-points")  // never logged: may be lost, as a run not yet written
        try Self.copyAsCrashed(dir.sub("s"), dir.sub("copy"))
        try store.close()
        let copy = try Store.open(at: dir.sub("copy"))
        #expect(copy.recoveredLogs.count == 1)
        let runs = try copy.runs().filter { $0.metadata["catalog.missing"] == nil }
        #expect(Set(runs.map(\.name)) == Set((0..<30).map { "t\($0)" }))
        for info in runs {
            let r = Int(info.name.dropFirst())!
            #expect(info.params == ["k": .int(Int64(r)), "aug": .list(["flip", .null])])
            #expect(info.tags == ["x"])
            #expect(info.status == .crashed)
            #expect(try copy.points(info.id, "loss").map(\.value) == [Double(r), 0.5])
        }
        #expect(try copy.verify().isHealthy)
        try copy.close()
    }

    /// A run logged ahead whose log is cut (full) before its batch is written: the new log
    /// carries its creation again, so the old log's deletion loses nothing.
    @Test func aCutLogsWaitingCreationsAgain() throws {
        let dir = TempDir()
        var options = Self.noTimer
        options.logCapacity = 1 << 18
        let store = try Store.open(at: dir.sub("s"), options: options)
        let run = try store.createRun(name: "long", params: ["lr": 0.5])
        try run.append("x", steps: [0], values: [0], times: [0])
        // Enough points to fill several 256 KiB logs, then wait for the last cut.
        for piece in 0..<40 {
            let steps = (0..<Int64(4096)).map { Int64(piece) * 4096 + $0 + 1 }
            try run.append("x", steps: steps, values: steps.map { Double($0).squareRoot() }, times: steps)
        }
        try store.checkpoint()
        let catalogBytes = Self.fileSize(dir.sub("s") + "/catalog.log")
        try Self.copyAsCrashed(dir.sub("s"), dir.sub("copy"))
        #expect(Self.fileSize(dir.sub("s") + "/catalog.log") == catalogBytes)
        try store.close()
        let copy = try Store.open(at: dir.sub("copy"))
        let info = try copy.run("long")
        #expect(info.params["lr"] == .double(0.5))
        #expect(try copy.points(info.id, "x").count == 1 + 40 * 4096)
        try copy.close()
    }
}

/// Writer processes killed during bulk ingest of many short runs.
@Suite("Bulk ingest killed (real processes)", .serialized)
struct BulkIngestProcessTests {
    /// SIGKILL at random moments of a bulk ingest (create a run with params, append three short
    /// series, next run), with the default log and with small logs that are cut often: every
    /// run whose appends returned is there once, with its params and every point once.
    @Test func sigkillDuringBulkIngestLosesNoAcknowledgedRun() throws {
        let dir = TempDir()
        let storePath = dir.sub("s")
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        var acked: [String: Int] = [:]
        for round in 0..<6 {
            let small = round % 2 == 1
            let child = try ProcessTests.Child(
                [storePath, "r\(round)", "-", "trials", "1000000"] + (small ? ["--capacity", "\(1 << 18)"] : []))
            let deadline = Date().addingTimeInterval(30)
            while child.lastAck < 0 && Date() < deadline { child.pump(until: Date().addingTimeInterval(0.05)) }
            child.pump(until: Date().addingTimeInterval(Double.random(in: 0.05...0.8, using: &rng)))
            child.kill()
            acked["r\(round)"] = Int(child.lastAck)
        }
        try Self.checkTrials(storePath, acked: acked, note: "seed \(seed)")
    }

    /// Two bulk writers and a process checkpointing the catalog (through `compact`, which also
    /// rewrites segments) at once, all killed at random moments in a random order: every run whose
    /// appends returned is there once, with its params and every point once.
    @Test func bulkWritersAndCheckpointerKilledLoseNoAcknowledgedPoint() throws {
        let dir = TempDir()
        let storePath = dir.sub("s")
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        var acked: [String: Int] = [:]
        for round in 0..<5 {
            let writers = try ["a", "b"].map { w in
                let name = "\(w)\(round)"
                let small = Bool.random(using: &rng)
                return (name, try ProcessTests.Child([storePath, name, "-", "trials", "1000000"] + (small ? ["--capacity", "\(1 << 18)"] : [])))
            }
            let checkpointer = try ProcessTests.Child([storePath, "-", "-", "checkpoints"])
            let everyone = writers.map(\.1) + [checkpointer]
            ProcessTests.Child.pumpAll(everyone, until: Date().addingTimeInterval(30)) { writers.contains { $0.1.lastAck < 0 } }
            ProcessTests.Child.pumpAll(everyone, until: Date().addingTimeInterval(Double.random(in: 0.1...1.0, using: &rng)))
            ProcessTests.Child.killAll(everyone, using: &rng)
            for (name, c) in writers { acked[name] = Int(c.lastAck) }
        }
        try Self.checkTrials(storePath, acked: acked, note: "seed \(seed)")
    }

    /// Checks a store written by `strata-test-writer … trials` writers killed mid-way: `acked` maps
    /// each writer's run prefix to the last run it acknowledged. Every acknowledged run is there
    /// once with its params and points; an unacknowledged one has each point at most once.
    static func checkTrials(_ storePath: String, acked: [String: Int], note: String) throws {
        let store = try Store.open(at: storePath)
        var byName: [String: [RunInfo]] = [:]
        for info in try store.runs() { byName[info.name, default: []].append(info) }
        #expect(byName.values.allSatisfy { $0.count == 1 }, "\(note): a run created twice")
        #expect(!byName.keys.contains { $0.hasPrefix("0") }, "\(note): stand-ins for runs whose creation was lost")
        for (prefix, last) in acked.sorted(by: { $0.key < $1.key }) {
            #expect(last >= 0, "\(note) \(prefix): nothing acknowledged")
            var k = 0
            while true {
                guard let info = byName["\(prefix)-\(k)"]?.first else {
                    #expect(k > last, "\(note): run \(prefix)-\(k) acknowledged (last \(last)) but missing")
                    break
                }
                #expect(info.params["k"] == .int(Int64(k)), "\(note) \(prefix)-\(k)")
                #expect(info.params["opt.name"] == .string(k % 2 == 0 ? "adam" : "sgd"))
                #expect(info.params["tags"] == .list([.int(1), .null]))
                #expect(info.status == .crashed)
                for (m, metric) in ["a", "b", "c"].enumerated() {
                    let pts = try store.points(info.id, metric)
                    let expected = (0..<Int64(3 + k % 7)).map { Double($0) * 0.5 + Double(m + k) }
                    if k <= last {
                        #expect(pts.map(\.value) == expected, "\(note) \(prefix)-\(k) \(metric)")
                    } else {
                        // Not acknowledged: whatever is there is there once.
                        #expect(Set(pts.map(\.step)).count == pts.count, "\(note) \(prefix)-\(k) \(metric) duplicated")
                    }
                }
                k += 1
            }
        }
        let report = try store.verify()
        #expect(report.isHealthy, "\(note): \(report.problems)")
        try store.close()
    }
}

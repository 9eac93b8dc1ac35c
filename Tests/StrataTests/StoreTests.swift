import Foundation
import Testing

@testable import Strata

@Suite("Store: write, read back, reopen")
struct StoreTests {
    @Test func logAndReadBackAcrossReopen() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r1", params: ["lr": 3e-4, "layers": 12, "model": "base", "amp": true], tags: ["baseline"])
        for step in 0..<10_000 {
            try run.log(["train/loss": 1.0 / Double(step + 1), "lr": Double(step) * 1e-6], step: Int64(step), time: 1_000 + Int64(step))
        }
        // Visible before close: still only in the log.
        let live = try store.points(run.id, "train/loss")
        #expect(live.count == 10_000)
        try run.finish()
        try store.close()

        let again = try Store.open(at: dir.sub("s"))
        let info = try again.run("r1")
        #expect(info.status == .finished)
        #expect(info.params["lr"] == .double(3e-4))
        #expect(info.params["layers"] == .int(12))
        #expect(info.params["amp"] == .bool(true))
        #expect(info.tags == ["baseline"])
        let pts = try again.points(info.id, "train/loss")
        #expect(pts.count == 10_000)
        for (i, p) in pts.enumerated() {
            #expect(p.step == Int64(i))
            #expect(sameBits(p.value, 1.0 / Double(i + 1)))
            #expect(p.time == 1_000 + Int64(i))
        }
        let window = try again.points(info.id, "lr", steps: 5_000..<5_010)
        #expect(window.map(\.step) == Array(5_000..<5_010))
        let series = try again.series(of: info.id)
        #expect(series.map(\.key.metric) == ["lr", "train/loss"])
        #expect(series[1].count == 10_000 && series[1].lastStep == 9_999 && sameBits(series[1].lastValue, 1.0 / 10_000))
    }

    @Test func specialValuesAndExtremeStepsRoundTripBitExactly() throws {
        let dir = TempDir()
        let nanPayload = Double(bitPattern: 0x7FF0_0000_0000_1234)
        let negNaN = Double(bitPattern: 0xFFF8_0000_0000_0001)
        let values: [Double] = [
            .nan, nanPayload, negNaN, .infinity, -.infinity, -0.0, 0.0, .leastNonzeroMagnitude,
            -.leastNormalMagnitude / 3, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1.5
        ]
        let steps: [Int64] = [.max, .min, 0, -1, 5, 5, 5, 3, .max, .min, 7, 2]
        do {
            let store = try Store.open(at: dir.sub("s"))
            let run = try store.createRun(name: "special")
            for (s, v) in zip(steps, values) { try run.log("m", v, step: s, time: s) }
            try run.append("bulk", steps: steps, values: values, times: steps)
            try store.close()
        }
        let store = try Store.open(at: dir.sub("s"))
        let id = try store.run("special").id
        // Expected: ordered by step, stable by arrival.
        let expected = zip(steps, values).enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map { $0.element }
        for metric in ["m", "bulk"] {
            let pts = try store.points(id, metric)
            #expect(pts.count == expected.count)
            for (p, e) in zip(pts, expected) {
                #expect(p.step == e.0)
                #expect(sameBits(p.value, e.1), "\(metric) step \(p.step): \(p.value.bitPattern) vs \(e.1.bitPattern)")
                #expect(p.time == e.0)
            }
        }
    }

    @Test func outOfOrderAndRepeatedStepsAcrossChunksAndSegments() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 42)
        var log: [(Int64, Double)] = []
        do {
            let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 16))  // many segments
            let run = try store.createRun(name: "shuffled")
            for i in 0..<20_000 {
                let s = Int64.random(in: 0..<3_000, using: &rng)
                log.append((s, Double(i)))
                try run.log("x", Double(i), step: s)
            }
            try store.close()
        }
        let store = try Store.open(at: dir.sub("s"))
        let pts = try store.points(try store.run("shuffled").id, "x")
        let expected = log.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map { $0.element }
        #expect(pts.map(\.step) == expected.map(\.0))
        #expect(pts.map(\.value) == expected.map(\.1))
    }

    @Test func badNamesAreRejectedWithClearErrors() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let cases: [(String, String)] = [
            ("", "metric name is empty"),
            (String(repeating: "a", count: 201), "the limit is 200"),
            ("a{b", "forbidden '{'"),
            ("tab\there", "control character U+9"),
            (" lead", "begins or ends with a space")
        ]
        for (name, fragment) in cases {
            let error = #expect(throws: StrataError.self) { try run.log(name, 1, step: 0) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "") lacks \(fragment)")
        }
        #expect(throws: StrataError.self) { try store.createRun(name: "") }
        #expect(throws: StrataError.self) { try run.log("ok", 1, step: 0, labels: ["bad key": "v"]) }
        // Nothing stored was lost by the rejected calls.
        try run.log("ok", 2, step: 1)
        #expect(try store.points(run.id, "ok").count == 1)
    }

    @Test func storePathProblemsAreNamed() throws {
        let dir = TempDir()
        _ = FileManager.default.createFile(atPath: dir.sub("file"), contents: Data("x".utf8))
        let e1 = #expect(throws: StrataError.self) { try Store.open(at: dir.sub("file")) }
        #expect(e1?.code == .notAStore)
        #expect(e1?.description.contains(dir.sub("file")) == true)

        try FileManager.default.createDirectory(atPath: dir.sub("foreign"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.sub("foreign/notes.txt"), contents: Data())
        #expect((#expect(throws: StrataError.self) { try Store.open(at: dir.sub("foreign")) })?.code == .notAStore)

        let e3 = #expect(throws: StrataError.self) { try Store.open(at: dir.sub("missing"), options: .init(create: false)) }
        #expect(e3?.code == .notFound)

        // A store of a newer format version.
        let s = try Store.open(at: dir.sub("newer"))
        try s.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.sub("newer/STRATA")))
        bytes[8] = 99
        try bytes.write(to: URL(fileURLWithPath: dir.sub("newer/STRATA")))
        let e4 = #expect(throws: StrataError.self) { try Store.open(at: dir.sub("newer")) }
        #expect(e4?.code == .unsupportedVersion)
        #expect(e4?.description.contains("version 99") == true)
    }

    @Test func runLookupAndMetadata() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let parent = try store.createRun(name: "base", project: "p1", metadata: ["purpose": "check the lr sweep", "git.commit": "abc123"])
        let child = try store.createRun(name: "resumed", project: "p1", parent: parent.id)
        try child.setParams(["lr": 0.1])
        try child.tag(add: ["x", "y"], remove: [])
        try child.tag(remove: ["x"])
        try child.setMetadata(["seed.torch": 7])
        let info = try store.run(child.id.text)
        #expect(info.parent == parent.id)
        #expect(info.tags == ["y"])
        #expect(info.metadata["seed.torch"] == .int(7))
        #expect(info.metadata["host"] != nil)
        #expect(try store.run("base").metadata["purpose"] == .string("check the lr sweep"))
        #expect((#expect(throws: StrataError.self) { try store.run("nope") })?.code == .notFound)
        #expect(throws: StrataError.self) { try store.createRun(name: "orphan", parent: RunID.generate()) }
    }

    @Test func closedStoreRefusesWork() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        try store.close()
        #expect((#expect(throws: StrataError.self) { try run.log("m", 1, step: 0) })?.code == .closed)
    }
}

import Foundation
import Testing

@testable import Strata

/// The public scans (`Store.scan`, `Store.scanPoints`) hand out blocks as spans over buffers the
/// store decodes into (Storage/Unsafe/PointBlocks.swift): every point must arrive once, in order,
/// with the bits stored.
@Suite("Scans: blocks as spans")
struct ScanTests {
    /// Copies every block out of a scan with times.
    static func collect(_ store: Store, _ key: SeriesKey, steps: Range<Int64>? = nil) throws -> (points: [Point], blocks: [Int]) {
        var points: [Point] = []
        var blocks: [Int] = []
        try store.scanPoints(key, steps: steps) { s, v, t in
            #expect(s.count == v.count && s.count == t.count)
            blocks.append(s.count)
            for i in s.indices { points.append(Point(step: s[i], value: v[i], time: t[i])) }
        }
        return (points, blocks)
    }

    @Test func scanVisitsEveryPointInOrderAcrossChunksAndReopen() throws {
        let dir = TempDir()
        var store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        // More than two chunks, in the log and then in segments after reopening and compacting;
        // a second pass rewrites some steps so that chunks overlap (the merging path).
        var rng = SeededRandom(seed: 9)
        for step in 0..<10_000 { try run.log("loss", Double(rng.next() % 1000) / 7, step: Int64(step), time: 5_000 + Int64(step)) }
        for step in stride(from: 3, to: 10_000, by: 97) { try run.log("loss", -Double(step), step: Int64(step), time: 1) }
        let key = try SeriesKey(run: run.id, metric: "loss")
        for pass in 0..<2 {
            let expected = try store.points(run.id, "loss")
            #expect(expected.count == 10_000 + Array(stride(from: 3, to: 10_000, by: 97)).count)
            let (all, blocks) = try Self.collect(store, key)
            #expect(all == expected, "pass \(pass)")
            #expect(blocks.reduce(0, +) == expected.count)
            let (window, _) = try Self.collect(store, key, steps: 4_000..<4_500)
            #expect(window == expected.filter { (4_000..<4_500).contains($0.step) }, "pass \(pass)")

            // `scan`: steps and values only; the same points.
            var steps: [Int64] = []
            var values: [Double] = []
            try store.scan(run.id, "loss") { s, v in
                for i in s.indices {
                    steps.append(s[i])
                    values.append(v[i])
                }
            }
            #expect(steps == expected.map(\.step))
            #expect(zip(values, expected).allSatisfy { sameBits($0, $1.value) })

            try store.close()
            store = try Store.open(at: dir.sub("s"))
            _ = try store.compact(graceSeconds: 0)
        }
        try store.close()
    }

    @Test func scanOfAMissingSeriesVisitsNothingAndErrorsFromTheBodyPropagate() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        for step in 0..<100 { try run.log("loss", Double(step), step: Int64(step)) }
        var calls = 0
        try store.scan(run.id, "absent") { _, _ in calls += 1 }
        #expect(calls == 0)
        struct Stop: Error {}
        #expect(throws: StrataError.self) {
            try store.scan(run.id, "loss") { _, _ in throw Stop() }
        }
        try store.close()
    }
}

import Foundation
import Testing

@testable import Strata

/// Issue 17 (billion-point run): summaries and last values of a run whose series are spread over
/// many segments merge each series' segment parts once, until the segments change.
@Suite("Summaries of series spread over many segments")
struct SummaryCacheTests {
    typealias Raw = QueryExactnessTests.Raw

    /// Several metrics cut into a new segment after every batch: `summary()` and `series(of:)`
    /// equal the brute force after each cut (a new segment, then a compaction, is seen at once);
    /// a repeated summary merges no segment part again.
    @Test func manySegmentsMatchBruteForceAndMergeOnce() throws {
        var rng = SeededRandom(seed: 171)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let metrics = ["a", "b/c", "d"]
        var raw: [String: [Raw]] = [:]
        var arrival = 0
        func check(_ ctx: String) throws {
            let summary = try #require(try store.summary().first { $0.run.id == run.id })
            let infos = try store.series(of: run.id)
            for m in metrics {
                let b = try #require(QueryExactnessTests.bruteStats(raw[m]!))
                let s = try #require(summary.metrics[m], "\(ctx): \(m) missing")
                QueryExactnessTests.check(s, b, "\(ctx) summary of \(m)")
                let info = try #require(infos.first { $0.key.metric == m })
                #expect(info.count == b.count, "\(ctx) count of \(m)")
                #expect(sameBits(info.lastValue, b.last), "\(ctx) last value of \(m)")
            }
        }
        for batch in 0..<6 {
            for m in metrics {
                let n = Int.random(in: 1...3_000, using: &rng)
                let first = Int64.random(in: -500...Int64(batch * 3_000), using: &rng)  // overlapping, out of order across cuts
                let pts = (0..<n).map { i -> Raw in
                    arrival += 1
                    var v = Double.random(in: -5...5, using: &rng)
                    if i % 997 == 13 { v = .nan }
                    return Raw(step: first + Int64(i), value: v, arrival: arrival)
                }
                try run.append(m, steps: pts.map(\.step), values: pts.map(\.value))
                raw[m, default: []] += pts
            }
            try store.checkpoint()  // a new segment per batch
            try check("after cut \(batch)")
            let merged = store.reader.mergedPartCount
            try check("again after cut \(batch)")
            #expect(store.reader.mergedPartCount == merged, "a repeated summary merged segment parts again")
        }
        _ = try store.compact(graceSeconds: 0)
        try check("compacted")
        // Points still only in the log are added to the cached segment summary.
        let tail = [Raw(step: 1_000_000, value: 42, arrival: arrival + 1)]
        try run.append("a", steps: tail.map(\.step), values: tail.map(\.value))
        raw["a"]! += tail
        try check("with a log tail")
        try store.close()
    }
}

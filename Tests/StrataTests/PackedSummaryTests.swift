import Foundation
import Testing

@testable import Strata

/// Segment format version 3 stores the statistics of packed series: summaries, ranks and run
/// listings sorted by a metric answer from them without decoding a pack, and every answer equals
/// the one derived from the columns (a version 2 segment) and brute force.
@Suite("Stored statistics of packed series")
struct PackedSummaryTests {
    typealias Raw = QueryExactnessTests.Raw
    typealias P = PackedSeriesTests

    /// A store of `runs` runs with a few short series each (random values: NaN, ±Inf, −0.0,
    /// subnormals, repeated and backward steps), closed; returns the model and the groups.
    static func build(_ root: String, runs: Int, seed: UInt64) throws -> (P.Model, [RunID: String]) {
        var rng = SeededRandom(seed: seed)
        var model: P.Model = [:]
        var groups: [RunID: String] = [:]
        let store = try Store.open(at: root)
        var arrival = 0
        for i in 0..<runs {
            let g = "g\(i % 3)"
            let run = try store.createRun(name: "r\(i)", params: ["g": .string(g)])
            groups[run.id] = g
            for metric in ["loss", "acc", "lr"] where Int.random(in: 0..<5, using: &rng) > 0 {
                let n = Int.random(in: 0..<8, using: &rng) == 0 ? Int.random(in: 1...3, using: &rng) : Int.random(in: 1...60, using: &rng)
                let pts = P.randomPoints(n, &rng, from: arrival, step: Int64.random(in: -5...5, using: &rng))
                arrival += pts.count
                try P.log(store, run.id, metric, pts, bulk: Bool.random(using: &rng))
                model[run.id, default: [:]][metric] = pts
            }
            if i % 17 == 16 { try store.checkpoint() }  // several segments
        }
        try store.close()
        return (model, groups)
    }

    /// Summaries, ranks, filters and sorts by metric statistics read no pack (checked by counting
    /// the packs each segment verified); their answers equal brute force.
    @Test func summariesAndRanksDecodeNoPack() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let (model, _) = try Self.build(root, runs: 60, seed: 21)
        let store = try Store.open(at: root)
        defer { try? store.close() }
        let q = QueryExactnessTests.self
        let rows = try store.summary()
        let ranked = try store.rank("loss", by: .min, limit: 1000)
        let sorted = try store.runs(where: try Filter(#"metric("acc").last > -2 and metric("loss").count >= 1"#))
        let segments = store.reader.liveSegments
        #expect(segments.count > 1 && segments.allSatisfy { $0.storesPackedSummaries }, "every segment is version 3 with statistics")
        #expect(segments.allSatisfy { $0.series.allSatisfy(\.isPacked) })
        #expect(segments.map(\.readPacks).reduce(0, +) == 0, "no pack was decoded for summaries, ranks and metric filters")
        for row in rows {
            for (metric, stats) in row.metrics {
                guard let raw = model[row.run.id]?[metric], let b = q.bruteStats(raw) else {
                    Issue.record("unexpected series \(metric)"); continue
                }
                q.check(stats, b, "summary \(row.run.name) \(metric)")
            }
            #expect(row.metrics.count == (model[row.run.id] ?? [:]).count, "\(row.run.name) metric count")
        }
        let losses = model.compactMapValues { $0["loss"].flatMap { q.bruteStats($0) } }
        #expect(ranked.count == losses.count)
        for r in ranked { #expect(sameBits(r.value, losses[r.run.id]!.min) || r.value == losses[r.run.id]!.min, "rank min") }
        let want = model.filter { m in
            guard let acc = m.value["acc"].flatMap({ q.bruteStats($0) }), m.value["loss"] != nil else { return false }
            return acc.last > -2
        }
        #expect(Set(sorted.map(\.id)) == Set(want.keys), "metric filter")
    }

    /// The same store with its segments rewritten in version 2 (statistics derived from the
    /// columns) gives the same answers to every query as with the stored statistics; each stored
    /// entry equals the derived one bit for bit; verify is clean on both.
    @Test(arguments: [1 as UInt64, 2])
    func storedAndDerivedStatisticsAgree(seed: UInt64) throws {
        let dir = TempDir()
        let root = dir.sub("v3"), old = dir.sub("v2")
        let (model, groups) = try Self.build(root, runs: 40, seed: seed)
        try FileManager.default.copyItem(atPath: root, toPath: old)
        for s in try P.segments(old) { try rewriteSegment(s.path, version: 2) }
        for s in try P.segments(old) { #expect(!s.storesPackedSummaries) }
        // Entry by entry: stored (version 3) against derived from the columns.
        for seg in try P.segments(root) {
            #expect(seg.storesPackedSummaries)
            for s in seg.series {
                guard case .packed(let n, let st, let v, let t, let ordinal) = s.layout else { continue }
                let stored = try #require(seg.storedPackedSummary(ordinal))
                let d = try seg.packedEntry(s, count: n, steps: st, values: v, times: t)
                #expect(stored == .init(stats: d.stats, minTime: d.minTime, maxTime: d.maxTime, linearSteps: d.linearSteps), "\(s.key)")
            }
        }
        let a = try Store.open(at: root), b = try Store.open(at: old)
        defer { try? a.close(); try? b.close() }
        #expect(try a.verify().isHealthy && b.verify().isHealthy)
        let sa = try a.summary(), sb = try b.summary()
        #expect(sa.map(\.run.id) == sb.map(\.run.id))
        for (x, y) in zip(sa, sb) {
            #expect(x.metrics == y.metrics, "\(x.run.name) summaries")
            #expect(
                x.metrics.mapValues(\.minStep) == y.metrics.mapValues(\.minStep) && x.metrics.mapValues(\.maxStep) == y.metrics.mapValues(\.maxStep))
            #expect(x.metrics.mapValues(\.std).mapValues(\.bitPattern) == y.metrics.mapValues(\.std).mapValues(\.bitPattern))
        }
        for statistic in [RankStatistic.last, .min, .max, .first, .count] {
            let ra = try a.rank("lr", by: statistic, limit: 1000), rb = try b.rank("lr", by: statistic, limit: 1000)
            #expect(ra.map(\.run.id) == rb.map(\.run.id) && zip(ra, rb).allSatisfy { sameBits($0.value, $1.value) && $0.step == $1.step })
        }
        var rng = SeededRandom(seed: seed + 100)
        for store in [a, b] {
            for (run, m) in model { for (metric, raw) in m { try P.checkSeries(store, run, metric, raw, &rng, "seed \(seed) \(metric)") } }
            try P.checkCrossRun(store, model, "loss", groups, "seed \(seed)")
        }
        // Compaction over version 2 and version 3 segments writes statistics for every packed series.
        let c = try Store.open(at: old)
        _ = try c.compact(graceSeconds: 0)
        try c.close()
        let compacted = try P.segments(old)
        #expect(compacted.count == 1 && compacted[0].storesPackedSummaries)
        let d = try Store.open(at: old)
        defer { try? d.close() }
        #expect(try d.verify().isHealthy)
        let sd = try d.summary()
        for (x, y) in zip(sa, sd) { #expect(x.metrics == y.metrics, "\(x.run.name) compacted summaries") }
    }

    /// A damaged group of stored statistics is reported by verify; readers fall back to deriving
    /// the statistics from the columns, so every answer stays exact.
    @Test func damagedStatisticsAreReportedAndDerived() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let (model, _) = try Self.build(root, runs: 10, seed: 5)
        let seg = try P.segments(root)[0]
        let raw = try Array(Data(contentsOf: URL(fileURLWithPath: seg.path)))
        // The group's frame lies right before the directory (written last).
        let n = raw.count
        let dirAt = Int(raw[(n - 40)..<(n - 32)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var bad = raw
        bad[dirAt - 3] ^= 0x44
        try Data(bad).write(to: URL(fileURLWithPath: seg.path))
        let store = try Store.open(at: root)
        defer { try? store.close() }
        let report = try store.verify()
        #expect(report.problems.contains { $0.path == seg.path && $0.message.contains("statistics of packed series") }, "\(report.problems)")
        let q = QueryExactnessTests.self
        for row in try store.summary() {
            for (metric, stats) in row.metrics { q.check(stats, q.bruteStats(model[row.run.id]![metric]!)!, "\(row.run.name) \(metric)") }
        }
    }
}

import Foundation
import Testing

@testable import Strata

/// `summary()`, `rank` and `counts()` merge the statistics of every run from one walk over each
/// segment directory (`StoreReader.metricSummaries(ofRuns:rewound:)`, `seriesAndPoints`). They
/// must answer exactly what the per-run path (`lineageMetricSummariesLocked(_:_:)` of one run)
/// and listing each run's series answer, whatever state the runs are in.
@Suite("Whole-store summaries, ranks and counts")
struct BulkSummaryTests {
    /// Aggregates compared field by field, NaN equal to NaN.
    static func same(_ a: [String: Aggregate], _ b: [String: Aggregate]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { k, v in "\(v)" == "\(b[k]!)" }
    }

    static func check(_ store: Store, _ note: String) throws {
        for lineage in [Lineage.full, .own] {
            let rows = try store.summary(lineage: lineage)
            let runs = try store.runs()
            #expect(rows.map(\.run.id) == runs.map(\.id), "\(note): runs of summary")
            for row in rows {
                let one = try store.lock.withLock { () throws(StrataError) in try store.lineageMetricSummariesLocked(row.run.id, lineage) }
                let bulk = try store.lock.withLock { () throws(StrataError) in try store.lineageMetricSummariesLocked([row.run], lineage)[0] }
                #expect(same(one, bulk), "\(note): \(lineage) summaries of \(row.run.name)")
                #expect(row.metrics.keys.sorted() == one.keys.sorted(), "\(note): metrics of \(row.run.name)")
            }
            // rank against the per-run summaries, ties by name then id.
            for stat in [RankStatistic.min, .last, .count] {
                let ranked = try store.rank("loss", by: stat, limit: 1_000, lineage: lineage)
                var brute: [(RunInfo, Double)] = []
                for run in runs {
                    let s = try store.lock.withLock { () throws(StrataError) in try store.lineageMetricSummariesLocked(run.id, lineage) }
                    guard let a = s["loss"] else { continue }
                    let st = Stats(a)
                    brute.append((run, stat == .min ? st.min : stat == .last ? st.last : Double(st.count)))
                }
                let order = Store.best(brute.map { RankedRun(run: $0.0, value: $0.1, step: nil) }, ascending: stat.defaultAscending, limit: 1_000)
                #expect(ranked.map(\.run.id) == order.map(\.run.id), "\(note): rank by \(stat) (\(lineage))")
                #expect(zip(ranked, order).allSatisfy { $0.value.bitPattern == $1.value.bitPattern }, "\(note): rank values by \(stat)")
            }
        }
        // counts: every run, each of its series (own points) once, and their points.
        let counts = try store.counts()
        let runs = try store.runs()
        let series = try store.series(ofRuns: runs.map(\.id), lineage: .own)
        #expect(counts.runs == runs.count, "\(note): run count")
        #expect(counts.series == series.values.reduce(0) { $0 + $1.count }, "\(note): series count")
        #expect(counts.points == series.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }, "\(note): point count")
    }

    @Test func bulkPathsEqualPerRunPaths() throws {
        var rng = SeededRandom(seed: 2_412)
        let dir = TempDir()
        let root = dir.sub("s")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        var runs: [Run] = []
        func logSome(_ run: Run, _ i: Int, from: Int64) throws {
            let n = [3, 40, 5_000][i % 3]  // packed, packed, chunked
            let steps = (0..<n).map { from + Int64($0) }
            try run.append("loss", steps: steps, values: steps.map { _ in i % 7 == 6 ? .nan : Double.random(in: 0...1, using: &rng) })
            if i % 2 == 0 { try run.append("acc", steps: steps, values: steps.map { Double($0 % 10) }) }
            if i % 5 == 0 { try run.append("loss", labels: ["rank": "1"], steps: steps, values: steps.map { -Double($0) }) }
        }
        for i in 0..<48 {
            let run = try store.createRun(name: "r\(i % 20)", params: ["i": .int(Int64(i))])
            runs.append(run)
            if i % 8 != 7 { try logSome(run, i, from: 0) }
            if i % 16 == 15 { try store.checkpoint() }  // several segments
        }
        try store.checkpoint()
        try Self.check(store, "segments")
        // Series spread over segments, with overlapping steps (equal steps across segments).
        for i in stride(from: 0, to: 48, by: 3) { try logSome(runs[i], i + 1, from: 20) }
        try store.checkpoint()
        try Self.check(store, "spread over segments")
        // Rewinds, deletions, forks, and points only in the live log.
        try runs[3].rewind(to: 10)
        _ = try store.deleteRun(runs[6].id.text)
        let fork = try store.fork(runs[9].id, atStep: 15, name: "fork")
        try fork.append("loss", steps: [16, 17, 18], values: [0.5, .nan, -3])
        try runs[12].append("loss", steps: [1, 99_999], values: [-7, 7])
        try runs[1].append("new/metric", steps: [0], values: [1])
        try Self.check(store, "rewinds, deletions, forks and a live log")
        _ = try store.compact(graceSeconds: 0)
        try Self.check(store, "compacted")
        try store.close()
        let again = try Store.open(at: root, options: .init(create: false))
        defer { try? again.close() }
        try Self.check(again, "reopened")
    }
}

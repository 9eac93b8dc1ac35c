import Foundation
import Testing

@testable import Strata

/// Listing many runs: segment run tables searched by key without making every run id, and one
/// metric of many runs merged in one walk of each segment directory. Every answer must equal the
/// run-by-run path and brute force.
@Suite("Listing at scale")
struct ListingScaleTests {
    typealias Raw = QueryExactnessTests.Raw

    /// The fields of a series summary, doubles compared by their bits.
    static func same(_ a: Store.SeriesInfo?, _ b: Store.SeriesInfo?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.key == b.key && a.count == b.count && a.nanCount == b.nanCount && a.firstStep == b.firstStep && a.lastStep == b.lastStep
            && sameBits(a.lastValue, b.lastValue) && sameBits(a.min, b.min) && sameBits(a.max, b.max) && a.minTime == b.minTime
            && a.maxTime == b.maxTime
    }

    /// `series(ofRuns:metric:)` over many runs (the directory walk) equals asking run by run, for
    /// both lineages, on a store with several segments, a version 1 and a version 2 segment, live
    /// logs, compaction, rewound, forked and deleted runs; plain runs also equal brute force.
    @Test(arguments: [1 as UInt64, 2])
    func metricOfManyRunsEqualsRunByRun(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let root = dir.sub("s")
        var store = try Store.open(at: root)
        defer { try? store.close() }
        var model: [RunID: [String: [Raw]]] = [:]
        var runs: [RunID] = []
        var special = Set<RunID>()
        for i in 0..<(Store.bulkSummaryRuns + 40) { runs.append(try store.createRun(name: "r\(i)").id) }
        var arrival = 0
        func logRound(_ round: Int) throws {
            for run in runs where Int.random(in: 0..<3, using: &rng) > 0 {
                for metric in ["loss", "acc", "loss{split=val}"] where Bool.random(using: &rng) || round == 0 {
                    let n = Int.random(in: 0..<12, using: &rng) == 0 ? 4_200 : Int.random(in: 1...12, using: &rng)
                    let start = (model[run]?[metric]?.last?.step ?? 0) - 1
                    let pts = PackedSeriesTests.randomPoints(n, &rng, from: arrival, step: start)
                    arrival += n
                    if metric.contains("{") {
                        let r = try store.openRun(id: run.text, name: nil).run
                        try r.append("loss", labels: ["split": "val"], steps: pts.map(\.step), values: pts.map(\.value))
                    } else {
                        try PackedSeriesTests.log(store, run, metric, pts, bulk: true)
                    }
                    model[run, default: [:]][metric, default: []] += pts
                }
            }
        }
        func check(_ ctx: String) throws {
            for lineage in [Lineage.full, .own] {
                for metric in ["loss", "acc", "loss{split=val}", "absent"] {
                    let asked = runs.shuffled(using: &rng) + [runs[0], runs[1]]
                    let bulk = try store.series(ofRuns: asked, metric: metric, lineage: lineage)
                    var expected = 0
                    for run in runs {
                        let one = try store.series(ofRuns: [run], metric: metric, lineage: lineage)[run]
                        if one != nil { expected += 1 }
                        #expect(
                            Self.same(bulk[run], one),
                            "\(ctx) \(lineage) \(metric) \(run): \(String(describing: bulk[run])) vs \(String(describing: one))")
                        if !special.contains(run), let b = bulk[run] {
                            FlatOpenTests.checkInfos([b], [metric: model[run]?[metric] ?? []], "\(ctx) \(metric) brute")
                        }
                    }
                    #expect(bulk.count == expected, "\(ctx) \(lineage) \(metric) runs with the series")
                }
            }
        }
        try logRound(0)
        try store.checkpoint()
        try logRound(1)
        try store.checkpoint()
        try check("two segments")
        // A rewound run, a deleted run and forks (their own points and their ancestors').
        try store.openRun(id: runs[3].text, name: nil).run.rewind(to: 3)
        special.insert(runs[3])
        _ = try store.deleteRun(runs[4].text)
        special.insert(runs[4])
        for parent in [runs[5], runs[6]] {
            let pts = [
                Raw(step: 0, value: 1, arrival: arrival), Raw(step: 1, value: 2, arrival: arrival + 1), Raw(step: 2, value: 3, arrival: arrival + 2)
            ]
            arrival += 3
            try PackedSeriesTests.log(store, parent, "acc", pts, bulk: true)
            model[parent, default: [:]]["acc", default: []] += pts
            let fork = try store.fork(parent, atStep: 2)
            runs.append(fork.id)
            special.insert(fork.id)
            try fork.append("loss", steps: [3, 4, 5], values: [0.5, -1, .nan])
        }
        try logRound(2)
        try check("rewind, delete, forks and a live log")
        try store.checkpoint()
        try store.close()
        // Older segment versions beside version 3.
        let segs = try PackedSeriesTests.segments(root)
        #expect(segs.count >= 3)
        try rewriteSegmentAsVersion1(segs[0].path)
        try rewriteSegment(segs[1].path, version: 2)
        store = try Store.open(at: root)
        try check("version 1 and 2 segments")
        _ = try store.compact(graceSeconds: 0)
        try logRound(3)
        try check("compacted and a live log")
        try store.checkpoint()
        try check("compacted and cut")
    }

    /// A segment whose run table is not in id order (any writer may store it so) is searched
    /// through an index: every run's series are found, and the same as in id order.
    @Test func runTableOutOfOrder() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        var runs: [RunID] = []
        do {
            let store = try Store.open(at: root)
            for i in 0..<30 {
                let run = try store.createRun(name: "r\(i)")
                runs.append(run.id)
                try run.append("loss", steps: [0, 1, 2], values: [1, 2, Double(i)])
                if i % 3 == 0 { try run.append("acc", steps: [Int64(i)], values: [0.5]) }
            }
            try store.close()
        }
        let path = try PackedSeriesTests.segments(root)[0].path
        let before = try Segment(path: path, name: (path as NSString).lastPathComponent)
        let expected = runs.map { run in before.series(of: run).map { "\($0.key) \($0.summary.count) \($0.summary.sum)" } }
        // Rewritten with the runs in reverse order.
        let tmp = dir.sub("t")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var writer = try SegmentWriter(path: tmp + "/x.seg", tmpDir: tmp)
        for s in before.series.sorted(by: { ($0.key.run, $0.key.canonical) > ($1.key.run, $1.key.canonical) }) {
            let chunks = try s.chunks().map { e in ChunkEncoder.encode(try ChunkColumns(ChunkHandle(segment: before, entry: e, rankBase: 0))) }
            try writer.add(series: s.key, chunks: chunks)
        }
        try writer.finish(meta: before.meta)
        let after = try Segment(path: tmp + "/x.seg", name: "x.seg")
        #expect(after.runTable == runs.reversed(), "the rewritten table is in reverse id order")
        let found = runs.map { run in after.series(of: run).map { "\($0.key) \($0.summary.count) \($0.summary.sum)" } }
        #expect(found.map { Set($0) } == expected.map { Set($0) })
        #expect(after.series(of: RunID.generate()).isEmpty)
        var summed = [Int](repeating: 0, count: runs.count)
        after.eachSummary(named: "loss", runs: runs.map(RunKey.init)) { p, s, _, _ in summed[p] += s.count }
        #expect(summed == [Int](repeating: 3, count: runs.count))
    }

    /// Finding a few runs' series in a segment makes no run id of its run table (an open that lists
    /// five runs of 100,000 must not make 100,000 ids); the table, once asked for, is the runs in
    /// the order their series were written.
    @Test func fewRunsFoundWithoutTheRunTable() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        var runs: [RunID] = []
        do {
            let store = try Store.open(at: root)
            for i in 0..<50 {
                let run = try store.createRun(name: "r\(i)")
                runs.append(run.id)
                try run.append("loss", steps: [0, 1], values: [Double(i), 1])
            }
            try store.close()
        }
        let path = try PackedSeriesTests.segments(root)[0].path
        let seg = try Segment(path: path, name: (path as NSString).lastPathComponent)
        for run in runs.prefix(5) {
            let found = seg.series(of: run)
            #expect(found.map(\.key) == [SeriesKey(run: run, canonical: "loss")])
            #expect(found.first?.summary.firstValue == Double(runs.firstIndex(of: run)!))
        }
        #expect(!seg.runTableIsMade, "no run id made for the table")
        #expect(seg.runTable == runs)
        #expect(seg.runTableIsMade)
        // Keys order as the ids' text does.
        let keys = runs.map(RunKey.init)
        #expect(keys == keys.sorted() && runs == runs.sorted())
        #expect(RunKey(bytes: Array("01ARZ3NDEKTSV4RRFFQ69G5FAV".lowercased().utf8)) == RunKey(bytes: Array("01ARZ3NDEKTSV4RRFFQ69G5FAV".utf8)))
        #expect(RunKey(bytes: Array("01ARZ3NDEKTSV4RRFFQ69G5FAU".utf8)) == nil, "U is not in the alphabet")
        #expect(RunKey(bytes: Array("01ARZ3NDEKTSV4RRFFQ69G5FA".utf8)) == nil, "25 characters")
        #expect(RunKey(bytes: Array("81ARZ3NDEKTSV4RRFFQ69G5FAV".utf8))! != RunKey(bytes: Array("01ARZ3NDEKTSV4RRFFQ69G5FAV".utf8))!)
    }
}

import Foundation
import Testing

@testable import Strata

/// Issue 17: curves and windows answered through the coarse tier (pyramids over groups of
/// chunks) must equal a brute-force scan, and their cost must not grow with the series.
@Suite("Coarse tier: exact curves whose cost does not grow with the run")
struct CoarseTierTests {
    typealias Raw = QueryExactnessTests.Raw

    /// Curves and aggregates of `run`'s series `m` over random windows (edges inside blocks,
    /// outside the data, whole run) against the brute force.
    static func checkAgainstBruteForce(_ store: Store, _ run: RunID, _ raw: [Raw], rng: inout SeededRandom, trials: Int, ctx: String) throws {
        let sorted = raw.map(\.step).sorted()
        let lo = (sorted.first ?? 0) - 10, hi = (sorted.last ?? 0) + 10
        for trial in 0..<trials {
            var a = Int64.random(in: lo...hi, using: &rng), b = Int64.random(in: lo...hi, using: &rng)
            if a > b { swap(&a, &b) }
            if trial == 0 { a = lo - 100; b = hi + 100 }
            if trial == 1 { a = hi + 5; b = hi + 50 }
            if trial == 2 { a = lo + 1; b = a + 300 }  // a zoom, edges inside blocks
            if a == b { b += 1 }
            let inRange = raw.filter { $0.step >= a && $0.step < b }
            let agg = try store.aggregate(run, "m", steps: a...(b - 1))
            if let bs = QueryExactnessTests.bruteStats(inRange) {
                #expect(agg != nil, "\(ctx) aggregate [\(a),\(b)) missing")
                if let agg { QueryExactnessTests.check(agg, bs, "\(ctx) aggregate [\(a),\(b))") }
            } else {
                #expect(agg == nil, "\(ctx) aggregate [\(a),\(b)) of nothing")
            }
            let buckets = [1, 7, 100, 1000, 3][trial % 5]
            let curve = try store.curve(run, "m", steps: a..<b, buckets: buckets)
            var groups: [Int: [Raw]] = [:]
            for p in inRange { groups[Int((p.step - a) * Int64(buckets) / (b - a)), default: []].append(p) }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(ctx) buckets of [\(a),\(b))/\(buckets)")
            for c in curve {
                guard let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) else { continue }
                QueryExactnessTests.check(c.stats, bs, "\(ctx) bucket \(c.bucket)/\(buckets) of [\(a),\(b))")
                let finite = g.map(\.value).filter(\.isFinite)
                #expect(c.positiveInfinityCount == g.filter { $0.value == .infinity }.count, "\(ctx) +Inf count of bucket \(c.bucket)")
                #expect(c.negativeInfinityCount == g.filter { $0.value == -.infinity }.count, "\(ctx) -Inf count of bucket \(c.bucket)")
                #expect(
                    finite.isEmpty || (c.finiteMin == finite.min()! && c.finiteMax == finite.max()!), "\(ctx) finite extremes of bucket \(c.bucket)")
            }
        }
    }

    /// A long series in many segments (a small log), with gaps, repeated steps, steps back,
    /// NaN and ±Inf, partly still in the log: every part has a pyramid of several levels.
    @Test(arguments: [11 as UInt64, 12, 13])
    func manySegmentsMatchBruteForce(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 21))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        var step: Int64 = Int64.random(in: -1000...1000, using: &rng)
        let n = 400_000
        raw.reserveCapacity(n)
        for i in 0..<n {
            switch Int.random(in: 0..<1000, using: &rng) {
            case 0..<900: step += 1
            case 900..<960: step += Int64.random(in: 2...50, using: &rng)
            case 960..<990: break
            default: step -= Int64.random(in: 1...30, using: &rng)  // rewinds of the step counter
            }
            var v = Double.random(in: -5...5, using: &rng)
            let r = Int.random(in: 0..<100_000, using: &rng)
            if r < 20 { v = .nan } else if r < 25 { v = .infinity } else if r < 30 { v = -.infinity }
            raw.append(Raw(step: step, value: v, arrival: i))
        }
        var at = 0
        while at < n {
            let k = min(n - at, Int.random(in: 1...30_000, using: &rng))
            try run.append("m", steps: raw[at..<(at + k)].map(\.step), values: raw[at..<(at + k)].map(\.value))
            at += k
        }
        if seed == 12 { _ = try store.compact(graceSeconds: 0) }
        try Self.checkAgainstBruteForce(store, run.id, raw, rng: &rng, trials: 20, ctx: "seed \(seed)")
        try store.close()
    }

    /// A rewind hides the later points of the segments written before it; the answers are those
    /// of the visible points, before and after compaction.
    @Test func rewoundRunMatchesBruteForce() throws {
        var rng = SeededRandom(seed: 21)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 21))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        let first = (0..<200_000).map { Raw(step: Int64($0), value: Double.random(in: 0...1, using: &rng), arrival: $0) }
        try run.append("m", steps: first.map(\.step), values: first.map(\.value))
        try store.checkpoint()
        try run.rewind(to: 150_000)
        raw = first.filter { $0.step <= 150_000 }
        let second = (150_001..<260_000).map { Raw(step: Int64($0), value: Double.random(in: 2...3, using: &rng), arrival: 200_000 + $0) }
        try run.append("m", steps: second.map(\.step), values: second.map(\.value))
        raw += second
        try Self.checkAgainstBruteForce(store, run.id, raw, rng: &rng, trials: 12, ctx: "rewound")
        _ = try store.compact(graceSeconds: 0)
        try Self.checkAgainstBruteForce(store, run.id, raw, rng: &rng, trials: 12, ctx: "rewound, compacted")
        try store.close()
    }

    /// The coarse view answers exactly what the chunk-by-chunk query answers, bucket for bucket.
    @Test func sameAnswerAsEveryChunk() throws {
        var rng = SeededRandom(seed: 31)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 21))
        let run = try store.createRun(name: "r")
        let n = 300_000
        let steps = (0..<Int64(n)).map { $0 * 3 }
        try run.append("m", steps: steps, values: (0..<n).map { _ in Double.random(in: -1...1, using: &rng) })
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        for (lo, hi, count) in [(Int64(0), Int64(3 * n), 1000), (1_001, 500_003, 77), (299_999, 300_100, 1000), (-50, 10, 4)] {
            let b = Buckets(lo...hi, count: count)
            let every = try store.withChunks(key) { q throws(StrataError) in try q.curve(b) }
            let coarse = try store.withCoarse(key) { q throws(StrataError) in try q.curve(b) }
            #expect(every.map(\.bucket) == coarse.map(\.bucket))
            for (x, y) in zip(every, coarse) {
                #expect(x.stats.count == y.stats.count && x.stats.min == y.stats.min && x.stats.max == y.stats.max)
                #expect(sameBits(x.stats.firstValue, y.stats.firstValue) && sameBits(x.stats.lastValue, y.stats.lastValue))
                #expect(x.stats.firstStep == y.stats.firstStep && x.stats.lastStep == y.stats.lastStep)
                #expect(QueryExactnessTests.close(x.stats.sum, y.stats.sum))
            }
        }
        try store.close()
    }

    /// The cost measure: tier entries and chunks looked at by a 20-bucket curve over the whole
    /// series and by a narrow zoom grow with the buckets and the depth of the pyramid, not with
    /// the number of chunks (every chunk was looked at before the coarse tier).
    @Test func costDoesNotGrowWithTheSeries() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        var touched: [(chunks: Int, curve: Int, zoom: Int)] = []
        var total: Int64 = 0
        for target in [64 * 4096, 512 * 4096] {
            let more = Int64(target) - total
            try run.append("m", steps: Array(total..<(total + more)), values: (0..<Int(more)).map { Double($0 % 977) })
            total += more
            try store.checkpoint()  // into a segment (a second one the second time)
            let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
            let chunks = try store.withChunks(key) { q throws(StrataError) in q.chunks.count }
            let curve = try store.withCoarse(key) { q throws(StrataError) in
                _ = try q.curve(Buckets(0...(total - 1), count: 20))
                return q.touched
            }
            let zoom = try store.withCoarse(key) { q throws(StrataError) in
                _ = try q.curve(Buckets((total / 2)...(total / 2 + 5_000), count: 20))
                return q.touched
            }
            touched.append((chunks, curve, zoom))
            print("coarse tier cost: \(chunks) chunks, whole curve touched \(curve), zoom \(zoom)")
        }
        // 8 times the chunks (one more level): a whole curve looks at a fraction of the chunks
        // (a chunk-by-chunk curve looks at all), a zoom at one path down the pyramid.
        #expect(touched[1].chunks >= 8 * touched[0].chunks - 8)
        #expect(touched[1].curve < touched[1].chunks / 2, "curve touched \(touched[1].curve) of \(touched[1].chunks) chunks")
        #expect(touched[1].curve < 4 * touched[0].curve, "curve cost \(touched[0].curve) → \(touched[1].curve)")
        for t in touched {
            // One or two paths down: at most two entries opened per level, each with fanOut children.
            var levels = 1, n = t.chunks
            while n > CoarseTier.fanOut { n = (n + CoarseTier.fanOut - 1) / CoarseTier.fanOut; levels += 1 }
            #expect(t.zoom <= 2 * CoarseTier.fanOut * levels + CoarseTier.fanOut, "zoom touched \(t.zoom) of \(t.chunks) chunks")
        }
        #expect(touched[1].zoom <= touched[0].zoom + 2 * 8, "zoom cost \(touched[0].zoom) → \(touched[1].zoom)")
    }
}

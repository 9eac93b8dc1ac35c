import Foundation
import Testing

@testable import Strata

/// Issue 17: the tier over segments. A series logged in step order and cut into many segments is
/// walked part by part from bucket edge to bucket edge, the runs of parts inside one bucket merged
/// from a pyramid over the parts; the store keeps the segment side of a series between queries. Answers equal the brute
/// force; the cost of a zoom follows its buckets, not the number of segments or the window's width.
@Suite("Coarse tier over segments: exact, and zoom cost set by the buckets")
struct CoarseSegmentTierTests {
    typealias Raw = QueryExactnessTests.Raw

    /// A run whose series `m` is logged in step order over `segments` segments (a checkpoint after
    /// each `perSegment` points), with gaps between some steps; the raw points for the brute force.
    static func store(_ dir: TempDir, segments: Int, perSegment: Int, seed: UInt64) throws -> (Store, Run, [Raw]) {
        var rng = SeededRandom(seed: seed)
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        var step: Int64 = 0
        for _ in 0..<segments {
            var steps: [Int64] = [], values: [Double] = []
            for _ in 0..<perSegment {
                step += Int.random(in: 0..<50, using: &rng) == 0 ? Int64.random(in: 2...40, using: &rng) : 1
                let v = Double.random(in: -3...3, using: &rng) + Double(step % 997) / 100
                steps.append(step)
                values.append(v)
                raw.append(Raw(step: step, value: v, arrival: raw.count))
            }
            try run.append("m", steps: steps, values: values)
            try store.checkpoint()
        }
        return (store, run, raw)
    }

    static func touched(_ store: Store, _ run: Run, _ steps: Range<Int64>, buckets: Int) throws -> Int {
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        return try store.withCoarse(key) { q throws(StrataError) in
            _ = try q.curve(Buckets(steps.lowerBound...(steps.upperBound - 1), count: buckets))
            return q.touched
        }
    }

    /// Random windows, windows whose edges fall on part boundaries (parts merged whole), and
    /// queries after more segments arrive and after a rewind (the kept segment side is renewed).
    @Test(arguments: [21 as UInt64, 22])
    func partsInStepOrderMatchBruteForce(seed: UInt64) throws {
        let dir = TempDir()
        let (store, h, firstRaw) = try Self.store(dir, segments: 40, perSegment: 3_000 + Int(seed) * 7, seed: seed)
        let run = h.id
        var raw = firstRaw
        let key = try SeriesKey(run: run, metric: "m", labels: [:])
        let (parts, ordered) = try store.withCoarse(key) { q throws(StrataError) in (q.parts.count, q.segmentTier.ordered) }
        #expect(parts == 40 && ordered, "\(parts) parts, in step order: \(ordered)")
        var rng = SeededRandom(seed: seed &+ 100)
        try CoarseTierTests.checkAgainstBruteForce(store, run, raw, rng: &rng, trials: 30, ctx: "40 segments")
        // Bucket edges on part boundaries: each bucket holds whole parts, merged from their tops.
        let firsts = try store.withCoarse(key) { q throws(StrataError) in Array(q.segmentTier.firstSteps[0..<q.parts.count]) }
        for per in [1, 3, 8] {
            let lo = firsts[2], width = firsts[2 + per] - firsts[2]
            let buckets = (firsts.count - 3) / per
            let hi = lo + width * Int64(buckets)
            let curve = try store.curve(run, "m", steps: lo..<hi, buckets: buckets)
            var groups: [Int: [Raw]] = [:]
            for p in raw where p.step >= lo && p.step < hi { groups[Int((p.step - lo) / width), default: []].append(p) }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(per) parts a bucket")
            for c in curve {
                if let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) {
                    QueryExactnessTests.check(c.stats, bs, "\(per) parts a bucket, bucket \(c.bucket)")
                }
            }
        }
        // More segments after the series' segment side was kept, then a rewind.
        var next = raw.last!.step
        for batch in 0..<3 {
            var steps: [Int64] = [], values: [Double] = []
            for _ in 0..<(500 + batch * 2_000) {
                next += 1
                let v = Double.random(in: -10...10, using: &rng)
                steps.append(next)
                values.append(v)
                raw.append(Raw(step: next, value: v, arrival: raw.count))
            }
            try h.append("m", steps: steps, values: values)
            if batch < 2 { try store.checkpoint() }  // the last batch stays in the log
            try CoarseTierTests.checkAgainstBruteForce(store, run, raw, rng: &rng, trials: 6, ctx: "after batch \(batch)")
        }
        let cut = firsts[30] + 5
        try store.rewind(run, to: cut)
        raw.removeAll { $0.step > cut }
        try CoarseTierTests.checkAgainstBruteForce(store, run, raw, rng: &rng, trials: 10, ctx: "after the rewind")
        try store.close()
    }

    /// A zoom to a few hundred steps costs the same in a series of 8 segments or of 64: the parts
    /// it reaches are found by a search over the tier over segments (before it, every part was
    /// searched: the cost grew by one search a segment).
    @Test func zoomCostDoesNotGrowWithTheSegments() throws {
        var cost: [Int] = []
        for segments in [8, 64] {
            let dir = TempDir()
            let (store, run, raw) = try Self.store(dir, segments: segments, perSegment: 5_000, seed: 5)
            // A window inside the last-but-one segment, edges inside blocks.
            let lo = raw[raw.count - 7_500].step + 3
            let zoom = try Self.touched(store, run, lo..<(lo + 400), buckets: 50)
            // And the same with the window in the first segment.
            let early = try Self.touched(store, run, 2..<402, buckets: 50)
            print("\(segments) segments: zoom touched \(zoom) (early \(early))")
            cost.append(max(zoom, early))
            try store.close()
        }
        // log2(64) − log2(8) = 3 more probes of the binary search; nothing a segment.
        #expect(cost[1] <= cost[0] + 4, "zoom cost \(cost[0]) → \(cost[1]) from 8 to 64 segments")
        #expect(cost[1] < 64, "zoom touched \(cost[1]) with 64 segments")
    }

    /// What a curve looks at follows its buckets: at most a bounded number of entries and chunks a
    /// bucket, for a window of one segment or of all 64 (before the tier over segments, a curve of
    /// 8 buckets over 64 segments looked at 211, the bound here is 112).
    @Test func curveCostFollowsTheBucketsNotTheWindow() throws {
        let dir = TempDir()
        let (store, run, raw) = try Self.store(dir, segments: 64, perSegment: 5_000, seed: 6)
        let first = raw[0].step, last = raw[raw.count - 1].step
        var byWindow: [Int] = []
        for width in [Int64(4_000), 40_000, last - first + 1] {
            byWindow.append(try Self.touched(store, run, first..<(first + width), buckets: 32))
        }
        var byBuckets: [Int] = []
        for buckets in [8, 32, 128] {
            byBuckets.append(try Self.touched(store, run, first..<(last + 1), buckets: buckets))
        }
        print("32 buckets over 4,000 / 40,000 / all steps: touched \(byWindow); 8 / 32 / 128 buckets over all: \(byBuckets)")
        // The whole series has 64 parts and 128 chunks; a curve of 32 buckets reaches at most a
        // bounded number of entries per bucket whatever the window.
        for t in byWindow { #expect(t <= 32 * 12, "32 buckets touched \(t) (\(byWindow))") }
        for (b, t) in zip([8, 32, 128], byBuckets) { #expect(t <= b * 12 + 16, "\(b) buckets touched \(t)") }
        #expect(byBuckets[0] < byBuckets[2], "more buckets, more entries: \(byBuckets)")
        try store.close()
    }
}

/// The store's cache of coarse series: a hit needs the same rewinds and the same reader
/// generation; it stays within its series and chunk bounds.
@Suite("Coarse series cache: keys and bounds")
struct CoarseSeriesCacheTests {
    @Test func hitsOnlyWithTheSameRewindsAndGenerationWithinItsBounds() throws {
        let dir = TempDir()
        let (store, run, _) = try CoarseSegmentTierTests.store(dir, segments: 3, perSegment: 5_000, seed: 9)
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let series = try store.withCoarse(key) { q throws(StrataError) in q }
        let entry = CoarseSeriesCache.Entry(rewinds: [], series: series, parts: UInt64(series.parts.count))
        #expect(entry.chunks == series.parts.reduce(0) { $0 + $1.entries.count } && entry.chunks >= 3)
        var cache = CoarseSeriesCache()
        cache.insert(key, entry, generation: 7)
        #expect(cache.lookup(key, rewinds: [], generation: 7) != nil)
        #expect(cache.lookup(key, rewinds: [], generation: 8) == nil, "another reader generation")
        #expect(cache.lookup(key, rewinds: [RunInfo.Rewind(step: 10, sequence: 1)], generation: 7) == nil, "other rewinds")
        // Up to maxSeries series are kept; one more starts over.
        let keys = try (0..<CoarseSeriesCache.maxSeries).map { try SeriesKey(run: run.id, metric: "k\($0)", labels: [:]) }
        var fresh = CoarseSeriesCache()
        for k in keys { fresh.insert(k, entry, generation: 1) }
        #expect(keys.allSatisfy { fresh.lookup($0, rewinds: [], generation: 1) != nil })
        fresh.insert(key, entry, generation: 1)
        #expect(fresh.lookup(key, rewinds: [], generation: 1) != nil)
        #expect(fresh.lookup(keys[0], rewinds: [], generation: 1) == nil, "the cache started over past its series bound")
        // An entry from a new generation drops the old ones.
        fresh.insert(keys[1], entry, generation: 2)
        #expect(fresh.lookup(key, rewinds: [], generation: 2) == nil && fresh.lookup(keys[1], rewinds: [], generation: 2) != nil)
        try store.close()
    }
}

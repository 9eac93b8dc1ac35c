import Foundation
import Testing

@testable import Strata

/// Issue 17: a part whose chunks are in step order is walked from bucket edge to bucket edge
/// (`CoarseSeries.walk`), the whole chunks between two edges merged from the pyramid
/// (`CoarseTier.merged`, found by `CoarseTier.firstChunk`). Checked against brute force and
/// against the chunk-by-chunk query, with edges on chunk and block boundaries and inside blocks.
@Suite("Coarse tier: the edge-to-edge walk of parts in step order")
struct CoarseOrderedWalkTests {
    typealias Raw = QueryExactnessTests.Raw

    /// Every part of the series is in step order (so the new walk answers, not the old one).
    static func expectOrdered(_ store: Store, _ run: RunID, parts atLeast: Int) throws {
        let key = try SeriesKey(run: run, metric: "m", labels: [:])
        let (parts, ordered) = try store.withCoarse(key) { q throws(StrataError) in (q.parts.count, q.parts.allSatisfy(\.tier.ordered)) }
        #expect(parts >= atLeast, "\(parts) segment parts")
        #expect(ordered, "every part in step order")
    }

    /// `merged` over every range of a pyramid of several levels (a short last group at each
    /// level) equals merging the chunks one by one; `firstChunk` finds what a linear scan finds.
    @Test func mergedRangesAndSearchesMatchTheChunks() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 71 * 4096 + 5  // 72 chunks: levels of 72, 18, 5, 2 entries
        try run.append("m", steps: (0..<Int64(n)).map { $0 * 2 }, values: (0..<n).map { Double(($0 * 7919) % 1013) - 500 })
        try store.checkpoint()
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let tier = try store.withCoarse(key) { q throws(StrataError) in q.parts[0].tier }
        let chunks = tier.level(0).count
        #expect(chunks == 72 && tier.ordered && tier.levelCount >= 4)
        for a in 0..<chunks {
            for b in (a + 1)...chunks {
                var merges = 0
                let m = tier.merged(a..<b, merges: &merges)
                var e = Aggregate()
                for c in a..<b { e.merge(tier.entries[c]) }
                #expect(m.count == e.count && m.min == e.min && m.max == e.max && m.minStep == e.minStep && m.maxStep == e.maxStep)
                #expect(m.firstStep == e.firstStep && m.lastStep == e.lastStep && m.firstRank == e.firstRank && m.lastRank == e.lastRank)
                #expect(sameBits(m.firstValue, e.firstValue) && sameBits(m.lastValue, e.lastValue))
                #expect(QueryExactnessTests.close(m.sum, e.sum) && QueryExactnessTests.close(m.m2, e.m2))
                // Ragged ends at each level: at most 2 (fanOut - 1) a level, plus one top level.
                #expect(merges <= 2 * (CoarseTier.fanOut - 1) * tier.levelCount + CoarseTier.fanOut, "range \(a)..<\(b): \(merges) merges")
            }
        }
        for from in 0...chunks {
            for target in stride(from: Int64(-3), through: Int64(2 * n + 3), by: 997) {
                var probes = 0
                let found = tier.firstChunk(from: from, probes: &probes) { tier.lastSteps[$0] >= target }
                let linear = (from..<chunks).first { tier.lastSteps[$0] >= target } ?? chunks
                #expect(found == linear, "from \(from), step \(target)")
            }
        }
        try store.close()
    }

    /// Curves whose bucket edges fall exactly on chunk starts, on block starts, one step after
    /// them and inside blocks, over one part and over many segments, equal the brute force and
    /// the chunk-by-chunk query.
    @Test(arguments: [1 as Int, 9])
    func edgesOnChunkAndBlockBoundaries(segments: Int) throws {
        var rng = SeededRandom(seed: UInt64(40 + segments))
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 36 * 4096
        var raw: [Raw] = []
        for i in 0..<n {
            var v = Double.random(in: -3...3, using: &rng)
            let r = Int.random(in: 0..<10_000, using: &rng)
            if r < 5 { v = .nan } else if r < 7 { v = .infinity } else if r < 9 { v = -.infinity }
            raw.append(Raw(step: Int64(i), value: v, arrival: i))
        }
        let per = n / segments
        for s in 0..<segments {
            let part = raw[(s * per)..<(s == segments - 1 ? n : (s + 1) * per)]
            try run.append("m", steps: part.map(\.step), values: part.map(\.value))
            try store.checkpoint()
        }
        try Self.expectOrdered(store, run.id, parts: segments)
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        // (lo, buckets over [lo, lo + width)): edges every 4096 (chunk starts of one part), 128
        // (block starts), every 4096 shifted by 1, and every 1000 (inside blocks).
        let cases: [(Int64, Int64, Int)] = [
            (0, Int64(n), 36), (0, Int64(n), 36 * 32), (1, Int64(n) - 1, 36), (4096, 8 * 4096, 8), (128, 20 * 128, 20),
            (0, Int64(n), 147), (5_000, 100_003, 1000), (4095, 4097, 2), (12_345, 1, 1)
        ]
        for (lo, width, count) in cases {
            let b = Buckets(lo...(lo + width - 1), count: count)
            let coarse = try store.withCoarse(key) { q throws(StrataError) in try q.curve(b) }
            let every = try store.withChunks(key) { q throws(StrataError) in try q.curve(b) }
            #expect(coarse.map(\.bucket) == every.map(\.bucket), "[\(lo), +\(width))/\(count) buckets")
            for (x, y) in zip(coarse, every) {
                #expect(x.stats.count == y.stats.count && x.stats.nanCount == y.stats.nanCount)
                #expect(sameBits(x.stats.min, y.stats.min) && sameBits(x.stats.max, y.stats.max))
                #expect(sameBits(x.stats.firstValue, y.stats.firstValue) && sameBits(x.stats.lastValue, y.stats.lastValue))
                #expect(x.stats.firstStep == y.stats.firstStep && x.stats.lastStep == y.stats.lastStep)
            }
            let curve = try store.curve(run.id, "m", steps: lo..<(lo + width), buckets: count)
            var groups: [Int: [Raw]] = [:]
            for p in raw where p.step >= lo && p.step < lo + width { groups[b.index(p.step), default: []].append(p) }
            #expect(curve.map(\.bucket) == groups.keys.sorted())
            for c in curve {
                guard let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) else { continue }
                QueryExactnessTests.check(c.stats, bs, "bucket \(c.bucket) of [\(lo), +\(width))/\(count)")
                #expect(c.positiveInfinityCount == g.filter { $0.value == .infinity }.count)
                #expect(c.negativeInfinityCount == g.filter { $0.value == -.infinity }.count)
            }
        }
        try store.close()
    }

    /// Steps in order with gaps and repeats (a repeated step can end one chunk and begin the
    /// next), NaN and ±Inf, in many segments, some points still in the log, optionally
    /// compacted: random windows and bucket counts against the brute force.
    @Test(arguments: [51 as UInt64, 52, 53])
    func orderedSeriesOverManySegmentsMatchBruteForce(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        print("seed \(seed)")
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 21))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        var step = Int64.random(in: -5_000...5_000, using: &rng)
        let n = 250_000
        for i in 0..<n {
            switch Int.random(in: 0..<1000, using: &rng) {
            case 0..<850: step += 1
            case 850..<950: step += Int64.random(in: 2...400, using: &rng)
            default: break  // a repeated step
            }
            var v = Double.random(in: -5...5, using: &rng) * (i % 3 == 0 ? 1e6 : 1)
            let r = Int.random(in: 0..<100_000, using: &rng)
            if r < 30 { v = .nan } else if r < 35 { v = .infinity } else if r < 40 { v = -.infinity }
            raw.append(Raw(step: step, value: v, arrival: i))
        }
        var at = 0
        while at < n {
            let k = min(n - at, Int.random(in: 1...40_000, using: &rng))
            try run.append("m", steps: raw[at..<(at + k)].map(\.step), values: raw[at..<(at + k)].map(\.value))
            if Bool.random(using: &rng) { try store.checkpoint() }
            at += k
        }
        if seed == 53 { _ = try store.compact(graceSeconds: 0) }
        try Self.expectOrdered(store, run.id, parts: seed == 53 ? 1 : 2)
        try CoarseTierTests.checkAgainstBruteForce(store, run.id, raw, rng: &rng, trials: 25, ctx: "seed \(seed)")
        try store.close()
    }

    /// The block offsets a series keeps for the edge chunks a curve opened: the same curves
    /// asked cold (offsets found and kept), warm (chunks opened from the kept offsets) and again
    /// after the segments dropped their read state equal the brute force each time, and the
    /// warm pass really used kept offsets.
    @Test func keptEdgeOffsetsGiveTheSameCurvesColdAndWarm() throws {
        var rng = SeededRandom(seed: 71)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 20 * 4096 + 77
        var raw: [Raw] = []
        for i in 0..<n {
            var v = Double.random(in: -1...1, using: &rng) * (i % 5 == 0 ? 1e9 : 1)
            if i % 4999 == 3 { v = .nan }
            raw.append(Raw(step: Int64(i) * 3, value: v, arrival: i))
        }
        for s in 0..<3 {
            let part = raw[(s * n / 3)..<((s + 1) * n / 3)]
            try run.append("m", steps: part.map(\.step), values: part.map(\.value))
            try store.checkpoint()
        }
        try Self.expectOrdered(store, run.id, parts: 3)
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        func kept() throws -> Int {
            try store.withCoarse(key) { q throws(StrataError) in
                q.parts.reduce(0) {
                    $0 + $1.series.edgeOffsets.reduce(0) { $0 + ($1 == nil ? 0 : 1) } + $1.series.edgeSlots.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
                }
            }
        }
        let windows: [(Int64, Int64, Int)] = (0..<12).map { _ in
            let a = Int64.random(in: -50...Int64(3 * n), using: &rng)
            return (a, a + Int64.random(in: 1...Int64(3 * n), using: &rng), [3, 64, 1000][Int.random(in: 0..<3, using: &rng)])
        }
        func ask(_ pass: String) throws -> [[CurveBucket]] {
            var out: [[CurveBucket]] = []
            for (lo, hi, count) in windows {
                let curve = try store.curve(run.id, "m", steps: lo..<hi, buckets: count)
                let b = Buckets(lo...(hi - 1), count: count)
                var groups: [Int: [Raw]] = [:]
                for p in raw where p.step >= lo && p.step < hi { groups[b.index(p.step), default: []].append(p) }
                #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(pass) [\(lo), \(hi))/\(count)")
                for c in curve {
                    guard let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) else { continue }
                    QueryExactnessTests.check(c.stats, bs, "\(pass) bucket \(c.bucket) of [\(lo), \(hi))/\(count)")
                }
                out.append(curve)
            }
            return out
        }
        #expect(try kept() == 0, "nothing kept before the first curve")
        let cold = try ask("cold")
        let keptAfterCold = try kept()
        #expect(keptAfterCold > 0, "edge chunks' offsets kept")
        let warm = try ask("warm")
        #expect(try kept() == keptAfterCold, "the warm pass opened the same edge chunks from kept offsets")
        try store.withCoarse(key) { q throws(StrataError) in for p in q.parts { p.segment.releaseReadState() } }
        #expect(try kept() == 0, "dropped with the read state")
        let again = try ask("after release")
        // Bit for bit (descriptions, so that a NaN equals itself).
        #expect("\(cold)" == "\(warm)" && "\(warm)" == "\(again)")
        try store.close()
    }

    /// An edge chunk opened from its compact record (`EdgeCursor`) gives, bit for bit, what a
    /// `ChunkCursor` over its handle gives: statistics of ranges starting and ending on block
    /// boundaries, one past them and inside blocks, indexes of steps between and beyond the
    /// points. Chunks whose steps are not linear get no record (and are opened as before).
    @Test func edgeRecordsMatchTheChunkCursor() throws {
        var rng = SeededRandom(seed: 77)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 5 * 4096 + 300
        var values = (0..<n).map { _ in Double.random(in: -2...2, using: &rng) * (Bool.random(using: &rng) ? 1e6 : 1) }
        for k in stride(from: 17, to: n, by: 1201) { values[k] = [.nan, .infinity, -.infinity][k % 3] }
        // "m": stride 3 (linear); "g": a gap in every chunk (not linear).
        try run.append("m", steps: (0..<Int64(n)).map { 7 + 3 * $0 }, values: values)
        try run.append("g", steps: (0..<Int64(n)).map { $0 + ($0 % 4096 >= 2000 ? 5 : 0) + ($0 / 4096) * 10 }, values: values)
        try store.checkpoint()
        for (metric, linear) in [("m", true), ("g", false)] {
            let key = try SeriesKey(run: run.id, metric: metric, labels: [:])
            try store.withCoarse(key) { q throws(StrataError) in
                let scratch = ValueScratch(), other = ValueScratch()
                for p in q.parts {
                    for i in p.entries.indices {
                        let full = p.entries[i].count == ChunkLayout.chunkCapacity
                        guard let slot = try p.series.edgeSlot(i, of: p.entries) else {
                            #expect(!linear || !full, "\(metric) chunk \(i): no record")
                            continue
                        }
                        #expect(linear && full, "\(metric) chunk \(i): a record")
                        let h = p.handle(i)
                        var edge = EdgeCursor(p.series, slot: slot, rankBase: h.rankBase, scratch: scratch)
                        var cur = try ChunkCursor(h, scratch: other)
                        let c = h.count
                        #expect(edge.count == c && edge.firstStep == h.stats.firstStep && edge.lastStep == h.stats.lastStep)
                        var cuts = [0, 1, 127, 128, 129, 255, 256, 1000, 2047, 2048, c - 129, c - 128, c - 1, c]
                        for _ in 0..<12 { cuts.append(Int.random(in: 0...c, using: &rng)) }
                        cuts = Array(Set(cuts.filter { $0 >= 0 && $0 <= c })).sorted()
                        for a in cuts {
                            for b in cuts where b > a {
                                let x = try edge.aggregate(a..<b), y = try cur.aggregate(a..<b)
                                #expect("\(x)" == "\(y)", "\(metric) chunk \(i) points \(a)..<\(b)")
                            }
                        }
                        for s in stride(from: h.stats.firstStep - 4, through: h.stats.lastStep + 4, by: 5) {
                            #expect(edge.lowerBound(s) == (try cur.lowerBound(s)), "\(metric) chunk \(i) step \(s)")
                        }
                        for k in [0, 1, c / 2, c - 1] { #expect(edge.step(k) == (try cur.step(k))) }
                    }
                }
            }
        }
        // Curves of both series still equal the brute force (cold, then from the records).
        for metric in ["m", "g"] {
            let pts = try store.points(run.id, metric).enumerated().map { Raw(step: $1.step, value: $1.value, arrival: $0) }
            let hi = pts.last!.step + 1
            for pass in ["cold", "warm"] {
                for (lo, top, count) in [(Int64(0), hi, 97), (5000, hi - 3001, 13), (12_289, 12_290 + 3 * 4096, 1000)] {
                    let curve = try store.curve(run.id, metric, steps: lo..<top, buckets: count)
                    let b = Buckets(lo...(top - 1), count: count)
                    var groups: [Int: [Raw]] = [:]
                    for p in pts where p.step >= lo && p.step < top { groups[b.index(p.step), default: []].append(p) }
                    #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(metric) \(pass) [\(lo), \(top))/\(count)")
                    for c in curve {
                        if let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) {
                            QueryExactnessTests.check(c.stats, bs, "\(metric) \(pass) bucket \(c.bucket) of [\(lo), \(top))/\(count)")
                        }
                    }
                }
            }
        }
        try store.close()
    }

    /// A short (packed) series and a series of one partial chunk: one-chunk pyramids.
    @Test func shortSeries() throws {
        var rng = SeededRandom(seed: 61)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        for (name, n) in [("m", 37), ("long", 3000)] {
            let vals = (0..<n).map { _ in Double.random(in: 0...1, using: &rng) }
            try run.append(name, steps: (0..<Int64(n)).map { $0 * 5 }, values: vals)
        }
        try store.checkpoint()
        for (name, n) in [("m", 37), ("long", 3000)] {
            let all = try store.points(run.id, name)
            #expect(all.count == n)
            let pts = all.enumerated().map { Raw(step: $1.step, value: $1.value, arrival: $0) }
            for (lo, hi, count) in [(Int64(0), Int64(5 * n), 7), (3, 61, 4), (-10, 2, 3)] {
                let curve = try store.curve(run.id, name, steps: lo..<hi, buckets: count)
                let b = Buckets(lo...(hi - 1), count: count)
                var groups: [Int: [Raw]] = [:]
                for p in pts where p.step >= lo && p.step < hi { groups[b.index(p.step), default: []].append(p) }
                #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(name) [\(lo), \(hi))")
                for c in curve {
                    if let g = groups[c.bucket], let bs = QueryExactnessTests.bruteStats(g) {
                        QueryExactnessTests.check(c.stats, bs, "\(name) \(c.bucket)")
                    }
                }
            }
        }
        try store.close()
    }

    /// The walk's cost per bucket grows with the depth of a bucket's share of the pyramid, not
    /// with the series: 8 times the chunks, same 1000-bucket curve shape, at most a few more
    /// entries looked at per bucket.
    @Test func costPerBucketDoesNotGrowWithTheSeries() throws {
        var touched: [Int] = []
        for chunks in [64, 512] {
            let dir = TempDir()
            let store = try Store.open(at: dir.sub("s"))
            let run = try store.createRun(name: "r")
            let n = chunks * 4096
            try run.append("m", steps: Array(0..<Int64(n)), values: (0..<n).map { Double($0 % 977) })
            try store.checkpoint()
            let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
            let t = try store.withCoarse(key) { q throws(StrataError) in
                _ = try q.curve(Buckets(0...Int64(n - 1), count: 16))
                return q.touched
            }
            touched.append(t)
            print("\(chunks) chunks: 16-bucket curve touched \(t)")
            try store.close()
        }
        // 16 buckets: 4 chunks a bucket, then 32 — one more level of the pyramid (fanOut 4 is
        // 1.5 levels): a few more merges and search probes a bucket.
        #expect(touched[1] <= touched[0] + 16 * 16, "touched \(touched[0]) → \(touched[1])")
        #expect(touched[1] < 512 / 2)
    }
}

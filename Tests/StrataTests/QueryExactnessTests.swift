import Foundation
import Testing

@testable import Strata

/// Curves and aggregates must equal a brute-force scan of the raw points.
@Suite("Exact queries against a brute-force scan")
struct QueryExactnessTests {
    struct Raw { var step: Int64; var value: Double; var arrival: Int }

    static func bruteStats(_ pts: [Raw]) -> (count: Int, nan: Int, min: Double, max: Double, mean: Double, std: Double, first: Double, last: Double)?
    {
        guard !pts.isEmpty else { return nil }
        let ordered = pts.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
        let vals = ordered.map(\.value).filter { !$0.isNaN }
        let mean = vals.isEmpty ? Double.nan : vals.reduce(0, +) / Double(vals.count)
        let std = vals.isEmpty ? Double.nan : (vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count)).squareRoot()
        return (
            ordered.count, ordered.count - vals.count, vals.min() ?? .nan, vals.max() ?? .nan, mean, std,
            ordered.first!.value, ordered.last!.value
        )
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a == b { return true }
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    }

    static func check(
        _ s: Stats, _ b: (count: Int, nan: Int, min: Double, max: Double, mean: Double, std: Double, first: Double, last: Double), _ ctx: String
    ) {
        #expect(s.count == b.count, "\(ctx) count")
        #expect(s.nanCount == b.nan, "\(ctx) nan")
        #expect(sameBits(s.min, b.min) || s.min == b.min, "\(ctx) min \(s.min) vs \(b.min)")
        #expect(sameBits(s.max, b.max) || s.max == b.max, "\(ctx) max \(s.max) vs \(b.max)")
        #expect(sameBits(s.first, b.first), "\(ctx) first")
        #expect(sameBits(s.last, b.last), "\(ctx) last")
        #expect(close(s.mean, b.mean), "\(ctx) mean \(s.mean) vs \(b.mean)")
        if b.min.isFinite && b.max.isFinite { #expect(close(s.std, b.std) || abs(s.std - b.std) < 1e-12, "\(ctx) std \(s.std) vs \(b.std)") }
    }

    @Test(arguments: [1 as UInt64, 2, 3, 4, 5, 6])
    func randomSeriesMatchBruteForce(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        print("seed \(seed)")
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: [1 << 18, 1 << 20, 64 << 20][Int(seed % 3)]))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        let n = [0, 1, 5_000, 20_000, 50_000, 9_000][Int(seed - 1)]
        var step: Int64 = Int64.random(in: -1000...1000, using: &rng)
        for i in 0..<n {
            // Gaps, repeats, and occasional steps back.
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<70: step += 1
            case 70..<80: step += Int64.random(in: 2...50, using: &rng)
            case 80..<90: break
            default: step -= Int64.random(in: 1...30, using: &rng)
            }
            var v = Double.random(in: -5...5, using: &rng)
            let r = Int.random(in: 0..<1000, using: &rng)
            if r < 5 { v = .nan } else if r < 7 { v = .infinity } else if r < 9 { v = -.infinity } else if r < 30 { v *= 100 }
            raw.append(Raw(step: step, value: v, arrival: i))
        }
        // Half logged point by point, half appended in bulk.
        let half = raw.count / 2
        for p in raw[..<half] { try run.log("m", p.value, step: p.step) }
        try run.append("m", steps: raw[half...].map(\.step), values: raw[half...].map(\.value))
        if seed % 2 == 0 { try store.checkpoint() }  // some in segments, some still in the log
        let lo = (raw.map(\.step).min() ?? 0) - 10, hi = (raw.map(\.step).max() ?? 0) + 10
        for trial in 0..<25 {
            var a = Int64.random(in: lo...hi, using: &rng), b = Int64.random(in: lo...hi, using: &rng)
            if a > b { swap(&a, &b) }
            if trial == 0 { a = lo - 100; b = hi + 100 }
            if trial == 1 { a = hi + 5; b = hi + 50 }  // outside the data
            if a == b { b += 1 }
            let inRange = raw.filter { $0.step >= a && $0.step < b }
            let agg = try store.aggregate(run.id, "m", steps: a..<b)
            if let bs = Self.bruteStats(inRange) {
                #expect(agg != nil)
                if let agg { Self.check(agg, bs, "seed \(seed) aggregate [\(a),\(b))") }
            } else {
                #expect(agg == nil)
            }
            let buckets = [1, 7, 100, 1000][trial % 4]
            let curve = try store.curve(run.id, "m", steps: a..<b, buckets: buckets)
            var groups: [Int: [Raw]] = [:]
            for p in inRange {
                let bucket = Int((p.step - a) * Int64(buckets) / (b - a))
                groups[bucket, default: []].append(p)
            }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "seed \(seed) buckets")
            for c in curve {
                if let g = groups[c.bucket], let bs = Self.bruteStats(g) {
                    Self.check(c.stats, bs, "seed \(seed) bucket \(c.bucket)/\(buckets) of [\(a),\(b))")
                }
            }
            let pts = try store.points(run.id, "m", steps: a..<b)
            let expected = inRange.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
            #expect(pts.count == expected.count)
            #expect(zip(pts, expected).allSatisfy { $0.step == $1.step && sameBits($0.value, $1.value) }, "seed \(seed) points")
        }
        try store.close()
    }

    @Test func emptyAndMissingSeries() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        #expect(try store.aggregate(run.id, "none") == nil)
        #expect(try store.curve(run.id, "none", steps: 0..<10, buckets: 5).isEmpty)
        #expect(try store.points(run.id, "none").isEmpty)
        try run.log("one", 4.5, step: 3)
        let c = try store.curve(run.id, "one", steps: 0..<10, buckets: 5)
        #expect(c.count == 1 && c[0].bucket == 1 && c[0].stats.count == 1 && c[0].stats.first == 4.5)
        #expect(throws: StrataError.self) { try store.curve(run.id, "one", steps: 0..<10, buckets: 0) }
    }

    @Test func fullChunksUseTiersAndStayExact() throws {
        // Long linear series: whole chunks and tier blocks are used, edges decoded.
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "long")
        let n = 100_000
        var rng = SeededRandom(seed: 99)
        let values = (0..<n).map { i in Double(Float(2.0 * exp(-Double(i) / 30_000) * Double.random(in: 0.9...1.1, using: &rng))) }
        try run.append("loss", steps: (0..<Int64(n)).map { $0 }, values: values)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        let id = try again.run("long").id
        for (lo, hi, buckets) in [(0, n, 1000), (12_345, 67_891, 333), (0, n, 7), (50_000, 50_300, 1000), (-5, n + 5, 64)] {
            let curve = try again.curve(id, "loss", steps: Int64(lo)..<Int64(hi), buckets: buckets)
            var groups: [Int: [Raw]] = [:]
            for i in max(0, lo)..<min(n, hi) {
                groups[(i - lo) * buckets / (hi - lo), default: []].append(Raw(step: Int64(i), value: values[i], arrival: i))
            }
            #expect(curve.count == groups.count)
            for c in curve { Self.check(c.stats, Self.bruteStats(groups[c.bucket]!)!, "[\(lo),\(hi))/\(buckets) bucket \(c.bucket)") }
        }
    }
}

@Suite("Curves over wall time")
struct TimeCurveTests {
    @Test(arguments: [11 as UInt64, 12])
    func timeAndRelativeCurvesMatchBruteForce(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "t")
        var raw: [QueryExactnessTests.Raw] = []
        var times: [Int64] = []
        var t: Int64 = 1_700_000_000_000
        for i in 0..<30_000 {
            t += Int64.random(in: 0...400, using: &rng)
            let jitter = Int64.random(in: 0..<100, using: &rng) < 3 ? -Int64.random(in: 0...5_000, using: &rng) : 0  // clock steps back
            let v = Int.random(in: 0..<500, using: &rng) == 0 ? Double.nan : Double.random(in: 0...10, using: &rng)
            raw.append(.init(step: Int64(i), value: v, arrival: i))
            times.append(t + jitter)
        }
        try run.append("m", steps: raw.map(\.step), values: raw.map(\.value), times: times)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        let id = try again.run("t").id
        let t0 = times.min()!, t1 = times.max()!
        for (x, lo, hi, buckets) in [
            (Store.XAxis.time, t0, t1 + 1, 500), (.time, t0 + 1_000_000, t0 + 2_000_000, 77), (.relative, 0, t1 - t0 + 1, 100)
        ] {
            let off: Int64 = x == .relative ? -t0 : 0
            let curve = try again.curve(id, "m", x: x, range: lo..<hi, buckets: buckets)
            var groups: [Int: [QueryExactnessTests.Raw]] = [:]
            for (p, tm) in zip(raw, times) where tm + off >= lo && tm + off < hi {
                groups[Int((tm + off - lo) * Int64(buckets) / (hi - lo)), default: []].append(p)
            }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "seed \(seed) \(x)")
            for c in curve {
                QueryExactnessTests.check(c.stats, QueryExactnessTests.bruteStats(groups[c.bucket]!)!, "seed \(seed) \(x) bucket \(c.bucket)")
            }
        }
    }
}

@Suite("Relative time: one origin, bucket bounds")
struct RelativeCurveTests {
    /// On the relative axis x is ms since the run's first point (any series): a metric that starts
    /// later starts later on the axis. Each bucket carries its bounds, which tile the range exactly
    /// and hold the x of every point of the bucket (brute force).
    @Test(arguments: [21 as UInt64, 22])
    func relativeIsSinceTheRunsFirstPointAndBucketsCarryTheirBounds(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let runStart: Int64 = 1_700_000_000_000
        // "early" from the run's start, "late" from 10 minutes after it (an eval metric).
        try run.append("early", steps: [0, 1, 2], values: [3, 2, 1], times: [runStart, runStart + 1_000, runStart + 2_000])
        var steps: [Int64] = [], values: [Double] = [], times: [Int64] = []
        var t = runStart + 600_000
        for i in 0..<5_000 {
            t += Int64.random(in: 0...300, using: &rng)
            steps.append(Int64(i)); values.append(Double.random(in: -1...1, using: &rng)); times.append(t)
        }
        try run.append("late", steps: steps, values: values, times: times)
        let id = run.id
        #expect(try store.relativeOrigin(of: id) == runStart)
        let whole = try #require(try store.curveRange(id, "late", x: .relative))
        #expect(whole == (times.min()! - runStart)...(times.max()! - runStart))
        for (x, range, buckets) in [
            (Store.XAxis.relative, whole, 97), (.relative, 0...whole.upperBound, 10), (.time, times.min()!...times.max()!, 13),
            (.step, 0...4_999, 7)
        ] {
            let curve = try store.curve(id, "late", x: x, range: range, buckets: buckets)
            let b = Buckets(range, count: buckets)
            var groups: [Int: [QueryExactnessTests.Raw]] = [:]
            var xs: [Int: [Int64]] = [:]
            for i in 0..<steps.count {
                let xi = x == .relative ? times[i] - runStart : x == .time ? times[i] : steps[i]
                guard range.contains(xi) else { continue }
                groups[b.index(xi), default: []].append(.init(step: steps[i], value: values[i], arrival: i))
                xs[b.index(xi), default: []].append(xi)
            }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "seed \(seed) \(x)")
            for c in curve {
                QueryExactnessTests.check(c.stats, QueryExactnessTests.bruteStats(groups[c.bucket]!)!, "seed \(seed) \(x) bucket \(c.bucket)")
                #expect(c.range == b.start(c.bucket)...b.end(c.bucket), "seed \(seed) \(x) bucket \(c.bucket) bounds")
                #expect(xs[c.bucket]!.allSatisfy { c.range.contains($0) }, "seed \(seed) \(x) bucket \(c.bucket) holds its points")
            }
            // The bounds of consecutive buckets meet: bucket b + 1 starts right after bucket b ends.
            for (p, q) in zip(curve, curve.dropFirst()) where q.bucket == p.bucket + 1 {
                #expect(q.range.lowerBound == p.range.upperBound + 1, "seed \(seed) \(x) bounds tile")
            }
        }
        // The default origin is the run's first point, an explicit one is taken as given.
        let byRun = try store.curve(id, "late", x: .relative, range: whole, buckets: 50)
        let explicit = try store.curve(id, "late", x: .relative, range: whole, buckets: 50, origin: runStart)
        #expect(byRun == explicit && byRun.map(\.range) == explicit.map(\.range))
        try store.close()
    }
}

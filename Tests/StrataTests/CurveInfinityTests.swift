import Foundation
import Testing

@testable import Strata

/// Per-bucket counts of finite, NaN, +Inf and −Inf values in curves, and the finite extremes,
/// against a brute-force count of the raw points: windows that start and end inside tier blocks, rewinds, segments (full
/// chunks with tiers) and log tails, every axis, and `since` (a suffix of the same curve).
@Suite("Curve buckets count finite, NaN, +Inf and −Inf values and know their finite extremes exactly")
struct CurveInfinityTests {
    struct Raw {
        var step: Int64
        var value: Double
        var time: Int64
    }

    /// (finite, NaN, +Inf, −Inf counts, then the bit patterns of the finite min and max) of some values.
    static func kinds(_ vs: [Double]) -> [Int] {
        let finite = vs.filter(\.isFinite)
        return [
            finite.count, vs.filter(\.isNaN).count, vs.filter { $0 == .infinity }.count, vs.filter { $0 == -.infinity }.count,
            bits(finite.min() ?? .nan), bits(finite.max() ?? .nan)
        ]
    }

    static func kinds(_ c: CurveBucket) -> [Int] {
        [c.finiteCount, c.stats.nanCount, c.positiveInfinityCount, c.negativeInfinityCount, bits(c.finiteMin), bits(c.finiteMax)]
    }

    /// A double's bits as an Int, every NaN alike.
    static func bits(_ v: Double) -> Int { v.isNaN ? -1 : Int(truncatingIfNeeded: v.bitPattern) }

    /// A training-like series: mostly finite, scattered NaN/±Inf, and a divergence (runs of +Inf,
    /// −Inf and NaN); some of it rewound and logged again; half in segments (full chunks with
    /// tier blocks), the rest in the log when `checkpoint` is false.
    static func make(seed: UInt64, dir: TempDir, checkpoint: Bool) throws -> (Store, RunID, [Raw]) {
        var rng = SeededRandom(seed: seed)
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        let t0: Int64 = 1_760_000_000_000
        func value(_ i: Int) -> Double {
            let r = Int.random(in: 0..<10_000, using: &rng)
            if (20_000..<20_300).contains(i) { return [Double.infinity, -.infinity, .nan, 1e300][r % 4] }  // divergence
            if r < 3 { return .infinity }
            if r < 5 { return -.infinity }
            if r < 9 { return .nan }
            return Double.random(in: -3...3, using: &rng)
        }
        func log(_ range: Range<Int>) throws {
            var steps: [Int64] = [], values: [Double] = [], times: [Int64] = []
            for i in range {
                let p = Raw(step: Int64(i), value: value(i), time: t0 + Int64(i) * 50 + Int64.random(in: 0...20, using: &rng))
                steps.append(p.step); values.append(p.value); times.append(p.time)
                raw.append(p)
            }
            try run.append("loss", steps: steps, values: values, times: times)
        }
        try log(0..<30_000)
        if checkpoint { try store.checkpoint() }
        // Rewind into the middle of a chunk (a prefix stays in place, the rest is hidden) and log again.
        try run.rewind(to: 24_999)
        raw.removeAll { $0.step > 24_999 }
        try log(25_000..<33_000)
        if checkpoint { try store.checkpoint() }
        return (store, run.id, raw)
    }

    @Test(arguments: [(31 as UInt64, true), (32, false), (33, true)])
    func stepCurvesCountEveryKindOfValue(seed: UInt64, checkpoint: Bool) throws {
        let dir = TempDir()
        let (store, id, raw) = try Self.make(seed: seed, dir: dir, checkpoint: checkpoint)
        defer { try? store.close() }
        var rng = SeededRandom(seed: seed &+ 1000)
        var windows: [(Int64, Int64, Int)] = [(0, 33_000, 700), (-7, 40_000, 3), (19_950, 20_411, 61), (24_990, 25_013, 23)]
        for _ in 0..<12 {
            // Bounds off block (128) and chunk (4,096) edges.
            var a = Int64.random(in: -50...33_050, using: &rng), b = Int64.random(in: -50...33_050, using: &rng)
            if a > b { swap(&a, &b) }
            windows.append((a, b + 1, [1, 9, 128, 1000][Int.random(in: 0..<4, using: &rng)]))
        }
        var sawInf = false
        for (a, b, n) in windows {
            let curve = try store.curve(id, "loss", steps: a..<b, buckets: n)
            var groups: [Int: [Double]] = [:]
            for p in raw where p.step >= a && p.step < b { groups[Int((p.step - a) * Int64(n) / (b - a)), default: []].append(p.value) }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "seed \(seed) [\(a),\(b))/\(n)")
            for c in curve {
                let want = Self.kinds(groups[c.bucket] ?? [])
                #expect(Self.kinds(c) == want, "seed \(seed) [\(a),\(b))/\(n) bucket \(c.bucket)")
                sawInf = sawInf || c.positiveInfinityCount > 0
            }
            // `since`: exactly the buckets of the whole curve that end at or after it.
            for since in [a - 1, a, (a + b) / 2, b - 1, b + 5] {
                let tail = try store.curve(id, "loss", steps: a...(b - 1), buckets: n, since: since)
                let want = curve.filter { $0.range.upperBound >= since }
                #expect(tail == want, "seed \(seed) [\(a),\(b))/\(n) since \(since)")
            }
        }
        #expect(sawInf)
    }

    @Test(arguments: [(41 as UInt64, true), (42, false)])
    func timeAndRelativeCurvesCountEveryKindOfValue(seed: UInt64, checkpoint: Bool) throws {
        let dir = TempDir()
        let (store, id, raw) = try Self.make(seed: seed, dir: dir, checkpoint: checkpoint)
        defer { try? store.close() }
        let tMin = raw.map(\.time).min()!, tMax = raw.map(\.time).max()!
        for (x, lo, last, n) in [
            (Store.XAxis.time, tMin, tMax, 500), (.time, tMin + 1_000_003, tMin + 1_020_000, 37), (.relative, 0, tMax - tMin, 1),
            (.relative, 999_937, 1_001_111, 9)
        ] {
            let off = x == .relative ? tMin : 0
            let curve = try store.curve(id, "loss", x: x, range: lo...last, buckets: n)
            let b = Buckets(lo...last, count: n)
            var groups: [Int: [Double]] = [:]
            for p in raw where b.contains(p.time - off) { groups[b.index(p.time - off), default: []].append(p.value) }
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "seed \(seed) \(x) \(lo)...\(last)/\(n)")
            for c in curve { #expect(Self.kinds(c) == Self.kinds(groups[c.bucket] ?? []), "seed \(seed) \(x) bucket \(c.bucket)") }
            for since in [lo, lo + (last - lo) / 3, last] {
                let tail = try store.curve(id, "loss", x: x, range: lo...last, buckets: n, since: since)
                #expect(tail == curve.filter { $0.range.upperBound >= since }, "seed \(seed) \(x) since \(since)")
            }
        }
    }

    /// A healthy bucket (no infinite min or max) reports zero infinities and count − NaN finite values.
    @Test func healthyBucketsNeedNoDecoding() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "ok")
        try run.append("m", steps: (0..<10_000).map { Int64($0) }, values: (0..<10_000).map { $0 % 97 == 0 ? .nan : Double($0) })
        try store.checkpoint()
        for c in try store.curve(run.id, "m", steps: 0..<10_000, buckets: 13) {
            #expect(c.positiveInfinityCount == 0 && c.negativeInfinityCount == 0)
            #expect(c.finiteCount == c.stats.count - c.stats.nanCount && c.stats.nanCount > 0)
            #expect(c.finiteMin == c.stats.min && c.finiteMax == c.stats.max)
        }
        try store.close()
    }
}

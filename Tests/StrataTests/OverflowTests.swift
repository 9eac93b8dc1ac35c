import Foundation
import StrataTestSupport
import Testing

@testable import Strata

/// Every query over series whose steps and times sit at the Int64 extremes (spans of up to
/// 2^64 - 1) against a brute-force Int128 reference: nothing may trap, every answer exact.
@Suite("Queries at Int64.min/Int64.max steps and times")
struct OverflowTests {
    static func x(_ s: Stats) -> XStats {
        XStats(
            count: s.count, nan: s.nanCount, min: s.min, max: s.max, mean: s.mean, first: s.first, last: s.last,
            firstStep: s.firstStep, lastStep: s.lastStep)
    }

    static func rows(_ c: [CurveBucket]) -> [Int: XStats] {
        Dictionary(uniqueKeysWithValues: c.map { ($0.bucket, x($0.stats)) })
    }

    /// Logs `points` into a new run; `mode` 1 reopens the store (log tails become segments on
    /// recovery), 2 compacts, 0 reads the live log.
    static func fill(_ store: inout Store, path: String, name: String, params: [String: ParamValue], _ points: [XPoint], mode: Int) throws -> RunID {
        let run = try store.createRun(name: name, params: params)
        for p in points { try run.log("m", p.value, step: p.step, time: p.time) }
        try run.finish()
        return run.id
    }

    @Test(arguments: 0..<48 as Range<UInt64>)
    func singleSeriesQueries(seed: UInt64) throws {
        guard #available(macOS 15.0, *) else { return }
        let dir = TempDir()
        var store = try Store.open(at: dir.sub("s"))
        let pts = Extremes.series(seed: seed)
        let id = try Self.fill(&store, path: dir.sub("s"), name: "r", params: [:], pts, mode: Int(seed % 3))
        switch seed % 3 {
        case 1: try store.close(); store = try Store.open(at: dir.sub("s"))
        case 2: _ = try store.compact(graceSeconds: 0)
        default: break
        }
        defer { try? store.close() }
        let ctx = "seed \(seed): \(pts.map { "(\($0.step),\($0.time))" }.joined())"
        var rng = Extremes.Random(seed: seed &* 7919 &+ 1)

        // points / read: everything, then random closed and half-open ranges.
        let all = Extremes.ordered(pts)
        let got = try store.points(id, "m")
        #expect(
            got.map(\.step) == all.map(\.step) && got.map(\.time) == all.map(\.time)
                && got.map(\.value.bitPattern) == all.map(\.value.bitPattern), "\(ctx) points")
        for _ in 0..<6 {
            let (a, b) = Extremes.range(&rng)
            let want = all.filter { $0.step >= a && $0.step <= b }
            #expect(try store.points(id, "m", steps: a...b).map(\.step) == want.map(\.step), "\(ctx) points \(a)...\(b)")
            #expect(try store.read(id, "m", steps: a...b).times == want.map(\.time), "\(ctx) read \(a)...\(b)")
            #expect(try store.aggregate(id, "m", steps: a...b).map(Self.x) == Extremes.stats(want), "\(ctx) aggregate \(a)...\(b)")
            if a < b {
                let half = all.filter { $0.step >= a && $0.step < b }
                #expect(try store.points(id, "m", steps: a..<b).map(\.step) == half.map(\.step), "\(ctx) points \(a)..<\(b)")
            }
        }
        #expect(try store.aggregate(id, "m").map(Self.x) == Extremes.stats(pts), "\(ctx) aggregate")

        // Curves on every axis, over the whole series (Int64.max included) and random ranges.
        let t0 = pts.map(\.time).min()!
        let axes: [(Store.XAxis, (XPoint) -> Int128, ClosedRange<Int64>)] = [
            (.step, { Int128($0.step) }, all.first!.step...all.last!.step),
            (.time, { Int128($0.time) }, t0...pts.map(\.time).max()!),
            (.relative, { Int128($0.time) - Int128(t0) }, 0...Int64(min(Int128(Int64.max), Int128(pts.map(\.time).max()!) - Int128(t0))))
        ]
        for (axis, xOf, whole) in axes {
            var ranges = [whole, Int64.min...Int64.max]
            for _ in 0..<4 { let (a, b) = Extremes.range(&rng); ranges.append(a...b) }
            for r in ranges {
                for b in [1, 2, 3, 7, 1000] {
                    let want = Extremes.curve(pts, x: xOf, lo: Int128(r.lowerBound), last: Int128(r.upperBound), buckets: b)
                    let got = try store.curve(id, "m", x: axis, range: r, buckets: b)
                    #expect(Self.rows(got) == want, "\(ctx) \(axis) curve \(r) × \(b)")
                }
            }
            // The half-open API agrees with the closed one below Int64.max.
            if whole.lowerBound < whole.upperBound {
                let open = try store.curve(id, "m", x: axis, range: whole.lowerBound..<whole.upperBound, buckets: 5)
                let want = Extremes.curve(pts, x: xOf, lo: Int128(whole.lowerBound), last: Int128(whole.upperBound) - 1, buckets: 5)
                #expect(Self.rows(open) == want, "\(ctx) \(axis) half-open curve")
            }
        }
        // The default step curve holds every point, Int64.max included.
        let full = try store.curve(id, "m", steps: all.first!.step...all.last!.step, buckets: 3)
        #expect(full.map(\.stats.count).reduce(0, +) == pts.count, "\(ctx) full curve count")
    }

    @Test(arguments: 0..<12 as Range<UInt64>)
    func crossRunQueries(seed: UInt64) throws {
        guard #available(macOS 15.0, *) else { return }
        let dir = TempDir()
        var store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        var series: [String: [XPoint]] = [:]
        var groupOf: [String: String] = [:]
        for k in 0..<4 {
            let name = "r\(k)"
            series[name] = Extremes.series(seed: seed * 4 + UInt64(k) + 1)
            groupOf[name] = String(k % 2)
            _ = try Self.fill(&store, path: dir.sub("s"), name: name, params: ["g": .int(Int64(k % 2))], series[name]!, mode: 0)
        }
        if seed % 2 == 1 { _ = try store.compact(graceSeconds: 0) }
        let ctx = "seed \(seed)"

        // summary and rank come from series summaries.
        for s in try store.summary() {
            #expect(s.metrics["m"].map(Self.x) == Extremes.stats(series[s.run.name]!), "\(ctx) summary \(s.run.name)")
        }
        for by in RankStatistic.allCases {
            let ranked = try store.rank("m", by: by, limit: 10)
            #expect(ranked.count == 4, "\(ctx) rank \(by)")
            for r in ranked {
                let ref = Extremes.stats(series[r.run.name]!)!
                let want: Double =
                    switch by {
                    case .min: ref.min
                    case .max: ref.max
                    case .first: ref.first
                    case .last: ref.last
                    case .mean: ref.mean
                    case .count: Double(ref.count)
                    }
                #expect(
                    XStats(count: 0, nan: 0, min: r.value, max: 0, mean: 0, first: 0, last: 0, firstStep: 0, lastStep: 0)
                        == XStats(count: 0, nan: 0, min: want, max: 0, mean: 0, first: 0, last: 0, firstStep: 0, lastStep: 0)
                        || (by == .mean && abs(r.value - want) <= 1e-9 * max(1, abs(want))), "\(ctx) rank \(by) \(r.run.name)")
                if by == .first { #expect(r.step == ref.firstStep) }
                if by == .last { #expect(r.step == ref.lastStep) }
            }
        }

        // band: floor(step / width) for widths up to Int64.max.
        for width in [1, 2, 3, Int64.max - 1, Int64.max, Int64.max / 3] {
            var want: [String: [Int64: [XPoint]]] = [:]
            for (name, pts) in series {
                for (b, _) in Extremes.band(pts, width: width) {
                    let inBucket = pts.filter { Extremes.band([$0], width: width).keys.first == b }
                    want[groupOf[name]!, default: [:]][b, default: []].append(contentsOf: inBucket)
                }
            }
            let rows = try store.band("m", groupBy: "g", bucketWidth: width)
            var seen = 0
            for row in rows {
                guard let ref = want[row.group]?[row.bucket].flatMap(Extremes.stats) else {
                    Issue.record("\(ctx) band width \(width): unexpected row \(row.group)/\(row.bucket)"); continue
                }
                seen += 1
                let got = XStats(
                    count: row.count, nan: row.nanCount, min: row.min, max: row.max, mean: row.mean,
                    first: ref.first, last: ref.last, firstStep: ref.firstStep, lastStep: ref.lastStep)
                #expect(got == ref, "\(ctx) band width \(width) row \(row.group)/\(row.bucket)")
                let start = Store.bandStart(row.bucket, width: width)
                #expect(Int128(start) == max(Int128(Int64.min), Int128(row.bucket) * Int128(width)), "\(ctx) band start")
            }
            #expect(seen == want.values.map(\.count).reduce(0, +), "\(ctx) band width \(width) rows")
        }
    }

    /// Evenly spaced steps whose span exceeds Int64.max (the codecs' linear layout wraps): after
    /// compaction every point, curve and bound reads back exactly.
    @Test(arguments: [[Int64.min, -1, .max - 1], [Int64.min, 0], [Int64.min, .max], [-3, .max - 3, .max], [.max - 2, .max - 1, .max]] as [[Int64]])
    func linearStepsAcrossTheWholeRange(steps: [Int64]) throws {
        guard #available(macOS 15.0, *) else { return }
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let run = try store.createRun(name: "r")
        let pts = steps.enumerated().map { XPoint(step: $1, value: Double($0), time: $1, arrival: $0) }
        try run.append("m", steps: steps, values: pts.map(\.value), times: steps)
        try run.finish()
        _ = try store.compact(graceSeconds: 0)
        #expect(try store.points(run.id, "m").map(\.step) == steps)
        for b in [1, 2, 3, 5] {
            let got = Self.rows(try store.curve(run.id, "m", steps: steps.first!...steps.last!, buckets: b))
            #expect(
                got == Extremes.curve(pts, x: { Int128($0.step) }, lo: Int128(steps.first!), last: Int128(steps.last!), buckets: b), "\(steps) × \(b)"
            )
        }
        for s in steps {
            #expect(try store.points(run.id, "m", steps: s...s).map(\.step) == [s])
            #expect(try store.aggregate(run.id, "m", steps: s...Int64.max)?.count == steps.filter { $0 >= s }.count)
        }
    }

    @Test func bucketsAtTheExtremes() {
        let all = Buckets(Int64.min...Int64.max, count: 2)
        #expect(all.index(.min) == 0 && all.index(-1) == 0 && all.index(0) == 1 && all.index(.max) == 1)
        #expect(all.start(1) == 0 && all.end(0) == -1 && all.end(1) == .max)
        let one = Buckets(Int64.max...Int64.max, count: 3)
        #expect(one.index(.max) == 0 && one.end(2) == .max)
        #expect(Buckets.exclusiveText(.max) == "9223372036854775808")
        #expect(Buckets.lastValue(exclusiveEnd: "9223372036854775808") == .max)
        #expect(Buckets.lastValue(exclusiveEnd: "-9223372036854775808") == nil)
        #expect(Buckets.lastValue(exclusiveEnd: "9223372036854775809") == nil)
    }
}

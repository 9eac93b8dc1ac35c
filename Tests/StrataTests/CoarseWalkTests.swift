import Foundation
import Testing

@testable import Strata

/// The bucket walk inside a chunk, shared by curves and quantile curves (`SeriesQuery.walkBuckets`),
/// and the flat coarse tier (`CoarseTier`).
@Suite("Coarse walk: one bucket walk for curves and quantile curves, flat tier")
struct CoarseWalkTests {
    typealias Raw = QueryExactnessTests.Raw

    /// An exact quantile curve gives each bucket exactly the values of its points: a series with
    /// gaps (empty buckets inside a chunk), repeated steps and steps back, in several segments and
    /// the log, over windows whose edges fall inside blocks, from bucket 0 and from a later bucket.
    @Test(arguments: [41 as UInt64, 42])
    func exactQuantileCurveGivesEachBucketItsValues(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"), options: .init(logCapacity: 1 << 20))
        let run = try store.createRun(name: "r")
        var raw: [Raw] = []
        var step: Int64 = 0
        for i in 0..<60_000 {
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<85: step += 1
            case 85..<92: step += Int64.random(in: 2...400, using: &rng)  // gaps wider than a bucket
            case 92..<97: break
            default: step -= Int64.random(in: 1...20, using: &rng)
            }
            raw.append(Raw(step: step, value: Double.random(in: -3...3, using: &rng), arrival: i))
        }
        var at = 0
        while at < raw.count {
            let k = min(raw.count - at, Int.random(in: 1_000...9_000, using: &rng))
            try run.append("m", steps: raw[at..<(at + k)].map(\.step), values: raw[at..<(at + k)].map(\.value))
            at += k
        }
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let maxStep = raw.map(\.step).max()!
        for trial in 0..<12 {
            var a = Int64.random(in: -10...maxStep, using: &rng), b = Int64.random(in: -10...maxStep + 10, using: &rng)
            if a > b { swap(&a, &b) }
            if trial == 0 { a = 0; b = maxStep }
            let count = [1, 9, 250, 1000][trial % 4]
            let buckets = Buckets(a...b, count: count)
            let first = trial % 3 == 2 ? count / 3 : 0
            let accs = try store.withChunks(key) { q throws(StrataError) in try q.quantileCurve(buckets, from: first, exact: true) }
            var groups: [Int: [Double]] = [:]
            for p in raw where p.step >= a && p.step <= b {
                let k = buckets.index(p.step)
                if k >= first { groups[k, default: []].append(p.value) }
            }
            #expect(accs.keys.sorted() == groups.keys.sorted(), "seed \(seed) trial \(trial): buckets of [\(a),\(b)]/\(count) from \(first)")
            for (k, vals) in groups {
                #expect(accs[k]?.values.sorted() == vals.sorted(), "seed \(seed) trial \(trial): values of bucket \(k)")
            }
        }
        try store.close()
    }

    /// Every entry above level 0 is the merge of its children; the top level holds at most
    /// `fanOut` entries; the step spans are the entries'.
    @Test func tierLevelsAreMergesOfTheirChildren() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 70 * 4096 + 5
        try run.append("m", steps: (0..<Int64(n)).map { $0 * 2 }, values: (0..<n).map { Double($0 % 1013) - 500 })
        try store.checkpoint()
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let tier = try store.withCoarse(key) { q throws(StrataError) in q.parts[0].tier }
        #expect(tier.level(0).count == 71)
        #expect(tier.level(tier.levelCount - 1).count <= CoarseTier.fanOut)
        #expect(tier.levelCount >= 3)
        for at in tier.entries.indices {
            #expect(tier.firstSteps[at] == tier.entries[at].firstStep && tier.lastSteps[at] == tier.entries[at].lastStep)
        }
        for l in 1..<tier.levelCount {
            var covered = 0
            for at in tier.level(l) {
                var m = Aggregate()
                for c in tier.children(l, at) { m.merge(tier.entries[c]); covered += 1 }
                let e = tier.entries[at]
                #expect(e.count == m.count && e.min == m.min && e.max == m.max && e.firstStep == m.firstStep && e.lastStep == m.lastStep)
                #expect(e.firstRank == m.firstRank && e.lastRank == m.lastRank && e.sum == m.sum)
            }
            #expect(covered == tier.level(l - 1).count, "level \(l) covers every entry below once")
        }
        #expect(tier.level(tier.levelCount - 1).reduce(0) { $0 + tier.entries[$1].count } == n)
        try store.close()
    }
}

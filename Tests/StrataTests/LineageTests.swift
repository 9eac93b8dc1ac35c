import Foundation
import StrataTestSupport
import Testing

@testable import Strata

/// Reads of forked runs (three levels, rewinds before and after forks) against a brute-force
/// model of what each run's lineage holds: every query, in both lineage modes.
@Suite("Forks and lineage")
struct LineageTests {
    typealias Raw = QueryExactnessTests.Raw

    /// The model: each run's visible points in arrival order, its fork (parent, step) and rewinds.
    final class Model {
        var points: [RunID: [Raw]] = [:]
        var fork: [RunID: (parent: RunID, step: Int64)] = [:]
        var rewinds: [RunID: [Int64]] = [:]
        var arrival = 0

        func log(_ run: RunID, _ step: Int64, _ value: Double) {
            points[run, default: []].append(Raw(step: step, value: value, arrival: arrival))
            arrival += 1
        }
        func rewind(_ run: RunID, to step: Int64) {
            points[run] = (points[run] ?? []).filter { $0.step <= step }
            rewinds[run, default: []].append(step)
        }
        /// The documented rule (docs/QUERIES.md, "Lineage"): a fork at s whose own rewinds went
        /// back to r inherits its parent's lineage up to min(s, r), then its own points above it.
        func lineage(_ run: RunID, _ mode: Lineage, upTo upper: Int64 = .max) -> [Raw] {
            let own = (points[run] ?? []).filter { $0.step <= upper }
            guard mode == .full, let f = fork[run] else { return own }
            let cut = min(f.step, rewinds[run]?.min() ?? .max)
            return lineage(f.parent, .full, upTo: min(cut, upper)) + own.filter { $0.step > cut }
        }
    }

    static func sorted(_ p: [Raw]) -> [Raw] { p.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) } }

    static func value(_ rng: inout SeededRandom, _ i: Int) -> Double {
        switch Int.random(in: 0..<500, using: &rng) {
        case 0: return .nan
        case 1: return .infinity
        case 2: return -.infinity
        default: return Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1000 + Double(i % 7)
        }
    }

    /// Logs `count` points from `from` on (steps mostly ascending, some repeated), cutting
    /// segments now and then so that the series has segment chunks and a live tail.
    static func logPoints(_ store: Store, _ run: Run, _ model: Model, from: Int64, count: Int, rng: inout SeededRandom) throws {
        var step = from
        for i in 0..<count {
            if Int.random(in: 0..<20, using: &rng) != 0 { step += 1 }
            let v = value(&rng, i)
            try run.log("m", v, step: step)
            model.log(run.id, step, v)
            if i % 5_000 == 4_999 { try store.checkpoint() }
        }
    }

    /// Builds G ← P ← C with rewinds of each (one of G after P was forked from it).
    static func build(_ store: Store, seed: UInt64) throws -> (Model, [RunID]) {
        var rng = SeededRandom(seed: seed)
        let m = Model()
        let g = try store.createRun(name: "g", params: ["lr": 0.1])
        try logPoints(store, g, m, from: 0, count: 12_000, rng: &rng)
        try g.rewind(to: 9_000)
        m.rewind(g.id, to: 9_000)
        try logPoints(store, g, m, from: 8_500, count: 3_000, rng: &rng)
        let s1: Int64 = 8_000
        let p = try store.fork(g.id, atStep: s1, name: "p", params: ["lr": 0.05])
        m.fork[p.id] = (g.id, s1)
        try logPoints(store, p, m, from: s1, count: 9_000, rng: &rng)
        // G rewinds below P's fork step after the fork, then logs again: P sees the rewound history.
        try g.rewind(to: 7_000)
        m.rewind(g.id, to: 7_000)
        try logPoints(store, g, m, from: 6_990, count: 700, rng: &rng)
        try p.rewind(to: 15_000)
        m.rewind(p.id, to: 15_000)
        try logPoints(store, p, m, from: 14_000, count: 4_000, rng: &rng)
        let s2: Int64 = 16_000
        let c = try store.fork(p.id, atStep: s2, name: "c", params: ["lr": 0.01])
        m.fork[c.id] = (p.id, s2)
        try logPoints(store, c, m, from: s2 + 1, count: 6_000, rng: &rng)
        // P goes on past the fork (not C's), and C rewinds below its fork step and starts over.
        try logPoints(store, p, m, from: 18_000, count: 1_000, rng: &rng)
        try c.rewind(to: 15_500)
        m.rewind(c.id, to: 15_500)
        try logPoints(store, c, m, from: 15_400, count: 3_000, rng: &rng)
        return (m, [g.id, p.id, c.id])
    }

    /// Every query of every run in both modes against the model.
    static func checkAll(_ store: Store, _ m: Model, _ runs: [RunID], seed: UInt64) throws {
        var rng = SeededRandom(seed: seed &+ 99)
        var ranked: [Lineage: [RunID: Double]] = [:]
        var counts: [Lineage: [RunID: Int]] = [:]
        for run in runs {
            for mode in Lineage.allCases {
                let expected = sorted(m.lineage(run, mode))
                let ctx = "run \(store.runInfo(run)!.name) \(mode)"
                // points (whole and windows)
                let all = try store.points(run, "m", lineage: mode)
                #expect(all.map(\.step) == expected.map(\.step), "\(ctx) steps")
                #expect(all.map(\.value.bitPattern) == expected.map(\.value.bitPattern), "\(ctx) values")
                let lo = expected.first?.step ?? 0, hi = expected.last?.step ?? 0
                for _ in 0..<6 {
                    let a = Int64.random(in: (lo - 10)...(hi + 10), using: &rng)
                    let b = Int64.random(in: a...(hi + 20), using: &rng)
                    let want = expected.filter { $0.step >= a && $0.step <= b }
                    let got = try store.points(run, "m", steps: a...b, lineage: mode)
                    #expect(got.map(\.value.bitPattern) == want.map(\.value.bitPattern), "\(ctx) window \(a)...\(b)")
                    let d = try store.read(run, "m", steps: a...b, times: false, lineage: mode)
                    #expect(d.steps == want.map(\.step), "\(ctx) read \(a)...\(b)")
                    // aggregate
                    let agg = try store.aggregate(run, "m", steps: a...b, lineage: mode)
                    if let bs = QueryExactnessTests.bruteStats(want) {
                        if let agg { QueryExactnessTests.check(agg, bs, "\(ctx) aggregate \(a)...\(b)") } else { Issue.record("\(ctx) no aggregate") }
                    } else {
                        #expect(agg == nil, "\(ctx) empty aggregate")
                    }
                    // curve
                    let buckets = Int.random(in: 1...300, using: &rng)
                    let curve = try store.curve(run, "m", steps: a...b, buckets: buckets, lineage: mode)
                    let grid = Buckets(a...b, count: buckets)
                    var byBucket: [Int: [Raw]] = [:]
                    for p in want { byBucket[grid.index(p.step), default: []].append(p) }
                    #expect(curve.map(\.bucket) == byBucket.keys.sorted(), "\(ctx) curve buckets")
                    for cb in curve {
                        guard let pts = byBucket[cb.bucket], let bs = QueryExactnessTests.bruteStats(pts) else { continue }
                        QueryExactnessTests.check(cb.stats, bs, "\(ctx) curve bucket \(cb.bucket)")
                        #expect(cb.positiveInfinityCount == pts.filter { $0.value == .infinity }.count, "\(ctx) +inf")
                        let finite = pts.map(\.value).filter(\.isFinite)
                        #expect(sameBits(cb.finiteMin, finite.min() ?? .nan), "\(ctx) finite min")
                    }
                    // exact quantiles
                    if want.contains(where: { $0.value.isFinite }) {
                        let q = try store.quantiles(run, "m", steps: a...b, levels: [0.1, 0.5, 0.9], exact: true, lineage: mode)
                        let e = Quantile.exact(want.map(\.value), [0.1, 0.5, 0.9]).map { $0! }
                        #expect(q.values.map(\.bitPattern) == e.map(\.bitPattern), "\(ctx) quantiles")
                    }
                }
                // sketched quantiles stay within the documented bound
                let q = try store.quantiles(run, "m", levels: [0.5], lineage: mode)
                let e = Quantile.exact(expected.map(\.value), [0.5])[0]!
                #expect(abs(q.values[0] - e) <= abs(e) * 0.0100001 + 1e-300, "\(ctx) sketched median")
                // time curve covers every point
                let minT = try #require(try store.curveRange(run, "m", x: .time, lineage: mode))
                let tc = try store.curve(run, "m", x: .time, range: minT, buckets: 7, lineage: mode)
                #expect(tc.map(\.stats.count).reduce(0, +) == expected.count, "\(ctx) time curve")
                // series summary and last value
                let info = try #require(try store.series(of: run, lineage: mode).first { $0.key.metric == "m" })
                let bs = try #require(QueryExactnessTests.bruteStats(expected))
                #expect(info.count == bs.count && info.nanCount == bs.nan, "\(ctx) series count")
                #expect(info.firstStep == expected.first!.step && info.lastStep == expected.last!.step, "\(ctx) series steps")
                #expect(sameBits(info.lastValue, bs.last), "\(ctx) last value")
                #expect(sameBits(info.min, bs.min) && sameBits(info.max, bs.max), "\(ctx) series min/max")
                let summary = try #require(try store.summary(lineage: mode).first { $0.run.id == run }?.metrics["m"])
                QueryExactnessTests.check(summary, bs, "\(ctx) summary")
                ranked[mode, default: [:]][run] = bs.min
                counts[mode, default: [:]][run] = bs.count
            }
        }
        // rank, runs --where and band over the three runs
        for mode in Lineage.allCases {
            let want = ranked[mode]!
            let rows = try store.rank("m", by: .min, limit: 10, lineage: mode)
            #expect(Dictionary(uniqueKeysWithValues: rows.map { ($0.run.id, $0.value) }) == want, "rank \(mode)")
            let sortedCounts = counts[mode]!.values.sorted()
            let threshold = sortedCounts[min(1, sortedCounts.count - 1)]
            let matched = try store.runs(where: try Filter("metric(\"m\").count <= \(threshold)"), lineage: mode).map(\.id)
            #expect(Set(matched) == Set(counts[mode]!.filter { $0.value <= threshold }.keys), "runs --where \(mode)")
            let band = try store.band("m", groupBy: "lr", bucketWidth: 1000, lineage: mode)
            for run in runs {
                let lr = store.runInfo(run)!.params["lr"]!.description
                let expected = m.lineage(run, mode)
                var counts: [Int64: Int] = [:]
                for p in expected { counts[floorDiv(p.step, 1000), default: 0] += 1 }
                let got = Dictionary(uniqueKeysWithValues: band.filter { $0.group == lr }.map { ($0.bucket, $0.count) })
                #expect(got == counts, "band \(mode) \(lr)")
            }
        }
    }

    @Test func threeLevelForksWithRewindsMatchBruteForce() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var store = try Store.open(at: path, options: .init(logCapacity: 1 << 20))
        let (m, runs) = try Self.build(store, seed: 7)
        try Self.checkAll(store, m, runs, seed: 7)
        // Through close and reopen, then a catalog checkpoint (version 3) and a compaction.
        try store.close()
        store = try Store.open(at: path)
        #expect(try store.run(runs[2].text).forkStep == 16_000)
        try Self.checkAll(store, m, runs, seed: 8)
        store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
        try store.close()
        #expect(Sys.kind(path + "/catalog.ckpt") == .file)
        store = try Store.open(at: path)
        #expect(store.catalog.base != nil)
        // The cheap lookup lineage reads use agrees with the whole decoded record of every run.
        for id in runs {
            let link = store.lock.withLock { store.catalog.forkLink(of: id) }
            let info = store.lock.withLock { store.catalog.info(id) }
            #expect(link?.parent == info?.parent && link?.forkStep == info?.forkStep && link?.rewinds == info?.rewinds)
        }
        let c = try store.run(runs[2].text)
        #expect(c.forkStep == 16_000 && c.parent == runs[1])
        // verify compares the checkpoint (fork steps included) with a replay of the whole log.
        let problems = try store.verify().problems
        #expect(problems.isEmpty, "\(problems)")
        _ = try store.compact(graceSeconds: 0)
        try Self.checkAll(store, m, runs, seed: 9)
        let tree = try store.lineageTree(of: runs[1])
        #expect(tree.ancestors.map(\.run) == [runs[0]] && tree.ancestors.map(\.step) == [8_000])
        #expect(tree.children.map(\.run) == [runs[2]] && tree.children.map(\.step) == [16_000])
        try store.close()
    }

    /// Deleting the ancestors hides them, not what their forks inherited: the fork's reads are the
    /// same, through a reopen and a compaction that reclaims deleted runs (a parent is never
    /// reclaimed while a run names it).
    @Test func deletedAncestorsStayInTheirForksLineage() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var store = try Store.open(at: path, options: .init(logCapacity: 1 << 20))
        let (m, runs) = try Self.build(store, seed: 21)
        _ = try store.deleteRun(runs[0].text)
        _ = try store.deleteRun(runs[1].text)
        #expect(throws: StrataError.self) { _ = try store.curve(runs[1], "m", steps: 0...30_000, buckets: 10) }
        try Self.checkAll(store, m, [runs[2]], seed: 21)
        try store.close()
        store = try Store.open(at: path)
        let report = try store.compact(graceSeconds: 0, reclaimingDeletedAfter: 0)
        #expect(report.reclaimedRuns.isEmpty)
        try Self.checkAll(store, m, [runs[2]], seed: 22)
        _ = try store.restoreRun(runs[1].text)
        try Self.checkAll(store, m, [runs[1], runs[2]], seed: 23)
        try store.close()
    }

    @Test func badForksAreRefusedNamingRunAndStep() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let empty = try store.createRun(name: "empty")
        let base = try store.createRun(name: "base")
        for s in 0..<100 { try base.log("m", Double(s), step: Int64(s)) }
        let before = try store.runs(where: nil).count
        do {
            _ = try store.fork(base.id, atStep: 100)
            Issue.record("fork beyond the last step was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(base.id.text) && error.message.contains("step 100") && error.message.contains("last step 99"))
        }
        do {
            _ = try store.fork(empty.id, atStep: 0)
            Issue.record("fork of a run without points was accepted")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains(empty.id.text))
        }
        let unknown = RunID.generate()
        do {
            _ = try store.createRun(name: "x", forkOf: unknown, atStep: 3)
            Issue.record("fork of an unknown run was accepted")
        } catch {
            #expect(error.code == .notFound && error.message.contains(unknown.text))
        }
        #expect(try store.runs(where: nil).count == before)
        #expect(try store.points(base.id, "m").count == 100)
        // A fork record that would close a cycle (only a damaged or hand-made catalog has one) is
        // refused when read: the runs keep their lineage and every point reads.
        let child = try store.fork(base.id, atStep: 50, name: "child")
        try child.log("m", 1, step: 60)
        try store.appendCatalog([Catalog.forkRecord(base.id, parent: child.id, step: 55)])
        try store.appendCatalog([Catalog.forkRecord(child.id, parent: child.id, step: 1)])
        try store.refresh()
        #expect(store.runInfo(base.id)?.forkStep == nil)
        #expect(store.runInfo(child.id)?.parent == base.id && store.runInfo(child.id)?.forkStep == 50)
        #expect(try store.points(child.id, "m").count == 52)
        #expect(try store.points(base.id, "m").count == 100)
        #expect(store.catalog.damaged.contains { $0.reason.contains("cycle in lineage") })
        #expect(Catalog.parentCycle(base.id, parent: child.id, lookup: { store.runInfo($0)?.parent }) != nil)
        try store.close()
    }
}

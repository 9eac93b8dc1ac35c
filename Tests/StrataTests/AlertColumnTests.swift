import Foundation
import Testing

@testable import Strata

/// Alert evaluation over columns (``AlertEvaluator/observe(columns:)``, what `strata serve` feeds
/// it per batch) against the point-at-a-time evaluation, and rule changes taken at once
/// (``AlertEvaluator/reloadRules()``).
@Suite("Alerts: column evaluation, rule index")
struct AlertColumnTests {
    /// A store with run "r" (project "p", `train/loss` 1.0 at steps 0..<3) and a baseline run, and
    /// one rule of every point-driven kind (and a stalled one) on `train/loss`.
    static func store(_ dir: TempDir) throws -> (Store, RunID) {
        let (store, run) = try AlertTests.store(dir)
        let base = try store.createRun(name: "base", project: "q")
        for s in 0..<200 { try base.log(["train/loss": Double(s % 7)], step: Int64(s)) }
        try base.finish()
        try store.flush()
        let conditions: [AlertCondition] = [
            .above(2), .below(-1), .nonFinite, .noImprovement(steps: 5, mode: .min), .noImprovement(steps: 3, mode: .max),
            .baseline(run: base.id, percent: 20), .stalled(milliseconds: 60_000)
        ]
        for c in conditions { try store.addAlert(scope: .project("p"), metric: "train/loss", condition: c) }
        return (store, run)
    }

    /// Pseudo-random points: steps mostly rising, sometimes repeated or going back; values around
    /// the thresholds with NaN and ±∞ mixed in.
    static func points(seed: UInt64, count: Int) -> [(Int64, Double, Int64)] {
        var x = seed
        func next() -> UInt64 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return x >> 33
        }
        let special: [Double] = [.nan, .infinity, -.infinity, 2, -1, 0]
        var step: Int64 = 3
        var out: [(Int64, Double, Int64)] = []
        for i in 0..<count {
            switch next() % 10 {
            case 0: step -= Int64(next() % 4)
            case 1: break
            default: step += 1 + Int64(next() % 3)
            }
            let v = next() % 8 == 0 ? special[Int(next() % UInt64(special.count))] : Double(Int64(next() % 80) - 20) / 10
            out.append((step, v, 10_000 + Int64(i)))
        }
        return out
    }

    /// Each rule's events in firing order, comparable (values by bit pattern, so NaN compares).
    /// Within a batch a column is evaluated rule by rule, so only the order across rules differs.
    static func key(_ e: [AlertEvent]) -> [String: [String]] {
        Dictionary(grouping: e, by: \.rule).mapValues { $0.map { "\($0.series) \($0.step) \($0.value.bitPattern)" } }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func columnsFireExactlyLikePointsOneAtATime(seed: UInt64) throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        let data = Self.points(seed: seed, count: 3_000)
        let onePerPoint = try AlertEvaluator(store: store, persist: false)
        let byColumn = try AlertEvaluator(store: store, persist: false)
        let wp = try #require(onePerPoint.watch(run: run, metric: "train/loss"))
        let wc = try #require(byColumn.watch(run: run, metric: "train/loss"))
        var expected: [AlertEvent] = []
        for (s, v, t) in data { expected += try onePerPoint.observe([.init(wp, step: s, value: v, timeMs: t)]) }
        var got: [AlertEvent] = []
        var at = 0
        var size = 1
        while at < data.count {
            // Batches of growing sizes, some with one time for every point, split into two columns.
            let part = data[at..<min(data.count, at + size)]
            let sameTime = size % 2 == 0
            var column = AlertColumn(wc, time: part.first!.2)
            let half = part.count / 2
            column.append(
                steps: part.prefix(half).map(\.0), values: part.prefix(half).map(\.1), times: sameTime ? nil : part.prefix(half).map(\.2),
                time: part.first!.2)
            for p in part.dropFirst(half) { column.append(step: p.0, value: p.1, time: sameTime ? part.first!.2 : p.2) }
            if sameTime { #expect(column.times == nil) }
            got += try byColumn.observe(columns: [column])
            at += size
            size = size % 97 + 1
        }
        #expect(expected.count > 40, "the data crosses the thresholds often")
        #expect(Self.key(got) == Self.key(expected))
        // The stalled rule's view of the series is the same both ways (last step, value, time).
        #expect(try byColumn.tick(now: 10_000_000).map(\.step) == onePerPoint.tick(now: 10_000_000).map(\.step))
    }

    @Test func ruleChangesApplyAtOnceAfterReload() throws {
        let dir = TempDir()
        let (store, run) = try AlertTests.store(dir)
        defer { try? store.close() }
        let ev = try AlertEvaluator(store: store, persist: true)
        #expect(ev.watch(run: run, metric: "later") == nil)
        // A rule on a metric no run has logged yet: watched once reloaded, fires on its first points.
        let rule = try store.addAlert(scope: .project("p"), metric: "later", condition: .above(1), allowNewMetric: true)
        try ev.reloadRules()
        let w = try #require(ev.watch(run: run, metric: "later"))
        #expect(ev.watch(run: run, metric: "train/loss") == nil, "one hash lookup: no rule names it")
        let fired = try ev.observe(columns: [AlertColumn(w, steps: [0, 1, 2], values: [0, 5, 6], time: 1)])
        #expect(fired.map(\.step) == [1] && fired.map(\.rule) == [rule.id])
        // Removed: gone from the index, and a watch taken before the removal fires nothing more.
        try store.removeAlert(rule.id)
        try ev.reloadRules()
        #expect(ev.watch(run: run, metric: "later") == nil)
        #expect(try ev.observe(columns: [AlertColumn(w, steps: [3, 4], values: [0, 9], time: 1)]).isEmpty)
        #expect(try store.alertEvents().map(\.step) == [1])
    }

    /// A run moved to another project leaves its old project's rules and comes under the new
    /// one's from the first tick after the move.
    @Test func aMovedRunComesUnderItsNewProjectsRules() throws {
        let dir = TempDir()
        let (store, run) = try AlertTests.store(dir)
        defer { try? store.close() }
        let inP = try store.addAlert(scope: .project("p"), metric: "train/loss", condition: .above(2))
        let inQ = try store.addAlert(scope: .project("q"), metric: "train/loss", condition: .above(2), allowNewMetric: true)
        let ev = try AlertEvaluator(store: store, persist: false)
        let before = try #require(ev.watch(run: run, metric: "train/loss"))
        #expect(try ev.observe(columns: [AlertColumn(before, steps: [3], values: [5], time: 1)]).map(\.rule) == [inP.id])
        _ = try store.moveRun(run.text, toProject: "q")
        _ = try ev.tick(now: 2)
        let after = try #require(ev.watch(run: run, metric: "train/loss"))
        #expect(try ev.observe(columns: [AlertColumn(after, steps: [4, 5], values: [1, 6], time: 3)]).map(\.rule) == [inQ.id])
    }
}

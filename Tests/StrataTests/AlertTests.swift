import Foundation
import Testing

@testable import Strata

/// Alert rules (issue 15): each kind fires exactly once per crossing, re-arms, survives a restart
/// without firing again, and the alert files are crash-safe. Hand data, library level.
@Suite("Alerts: rules, incremental evaluation, events log")
struct AlertTests {
    /// A store with run "r" (project "p") holding `train/loss` at steps 0..<3.
    static func store(_ dir: TempDir) throws -> (Store, RunID) {
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r", project: "p")
        for s in 0..<3 { try run.log(["train/loss": 1.0, "val/acc": 0.5], step: Int64(s), time: 1_000 + Int64(s)) }
        return (store, run.id)
    }

    /// Feeds (step, value) points one batch each, returning the steps at which events fired.
    static func feed(_ ev: AlertEvaluator, _ w: AlertWatch, _ points: [(Int64, Double)], time: Int64 = 5_000) throws -> [Int64] {
        var fired: [Int64] = []
        for (s, v) in points {
            fired += try ev.observe([.init(w, step: s, value: v, timeMs: time + s)]).map(\.step)
        }
        return fired
    }

    @Test func thresholdFiresOncePerCrossingAndRearms() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .above(2))
        try store.addAlert(scope: .project("p"), metric: "train/loss", condition: .below(0.5))
        let ev = try AlertEvaluator(store: store, persist: true)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        #expect(ev.watch(run: run, metric: "other") == nil)
        let data: [(Int64, Double)] = [(3, 1), (4, 3), (5, 4), (6, 2), (7, 2.5), (8, .infinity), (9, .nan), (10, 0.4), (11, 0.3), (12, 1), (13, 0.1)]
        #expect(try Self.feed(ev, w, data) == [4, 7, 10, 13])
        let events = try store.alertEvents(run: run)
        #expect(events.map(\.step) == [4, 7, 10, 13])
        #expect(events[0].value == 3 && events[0].series == "train/loss" && events[0].deliveredMs == nil)
    }

    @Test func nonFiniteFiresOncePerCrossing() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .nonFinite)
        let ev = try AlertEvaluator(store: store, persist: true)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        let data: [(Int64, Double)] = [(3, 1), (4, .nan), (5, .infinity), (6, 1), (7, -.infinity), (8, 2)]
        #expect(try Self.feed(ev, w, data) == [4, 7])
    }

    @Test func noImprovementSeedsFromHistoryAndFiresOnce() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        // History: loss 1.0 at steps 0...2, so the best (1.0) is at step 0.
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .noImprovement(steps: 4, mode: .min))
        try store.addAlert(scope: .run(run), metric: "val/acc", condition: .noImprovement(steps: 2, mode: .max))
        let ev = try AlertEvaluator(store: store, persist: true)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        // Steps 3 (1.0, equal: not better) and 4 (4 steps after 0): fires at 4; improves at 5;
        // fires again at 9 (4 steps after 5); NaN never improves.
        let data: [(Int64, Double)] = [(3, 1.0), (4, 1.5), (5, 0.9), (6, 0.95), (7, .nan), (8, 0.91), (9, 0.92), (10, 0.99)]
        #expect(try Self.feed(ev, w, data) == [4, 9])
        let a = try #require(ev.watch(run: run, metric: "val/acc"))
        #expect(try Self.feed(ev, a, [(3, 0.6), (4, 0.6), (5, 0.55), (6, 0.7), (8, 0.1)]) == [5, 8])
    }

    @Test func baselineDepartureAtTheSameStep() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        let base = try store.createRun(name: "base", project: "p")
        for s in 0..<20 { try base.log(["train/loss": 10.0], step: Int64(s)) }
        try base.finish()
        try store.addAlert(scope: .project("p"), metric: "train/loss", condition: .baseline(run: base.id, percent: 10))
        let ev = try AlertEvaluator(store: store, persist: true)
        #expect(ev.watch(run: base.id, metric: "train/loss") == nil)  // not against itself
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        // 10 % of 10 is 1: 11.5 departs, 10.9 does not, 8.5 departs; step 30 has no baseline.
        let data: [(Int64, Double)] = [(3, 10.5), (4, 11.5), (5, 12), (6, 10.9), (7, 8.5), (30, 100), (8, 9.5)]
        #expect(try Self.feed(ev, w, data) == [4, 7])
    }

    @Test func stalledFiresByTimerOnceAndRearmsOnAPoint() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        try store.flush()
        try store.addAlert(scope: .project("p"), metric: "train/loss", condition: .stalled(milliseconds: 60_000))
        let ev = try AlertEvaluator(store: store, persist: true)
        // The last point is at time 1002 (ms since 1970): long stalled.
        let first = try ev.tick(now: 100_000)
        #expect(first.map(\.step) == [2])
        #expect(try ev.tick(now: 200_000).isEmpty)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        #expect(try ev.observe([.init(w, step: 3, value: 1, timeMs: 250_000)]).isEmpty)
        #expect(try ev.tick(now: 300_000).isEmpty)  // 50 s after the point
        #expect(try ev.tick(now: 320_000).map(\.step) == [3])
        // A finished run does not stall.
        _ = try ev.observe([.init(w, step: 4, value: 1, timeMs: 330_000)])
        try store.resumeRun(run.text).finish()
        ev.discoveryIntervalMs = 0
        #expect(try ev.tick(now: 900_000).isEmpty)
    }

    @Test func restartDoesNotFireAgainForTheSameCrossing() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .above(2))
        do {
            let ev = try AlertEvaluator(store: store, persist: true)
            let w = try #require(ev.watch(run: run, metric: "train/loss"))
            #expect(try Self.feed(ev, w, [(3, 3)]) == [3])
        }
        do {
            // A new evaluator (a restarted server): still above, no new firing.
            let ev = try AlertEvaluator(store: store, persist: true)
            let w = try #require(ev.watch(run: run, metric: "train/loss"))
            #expect(try Self.feed(ev, w, [(4, 3.5)]).isEmpty)
            #expect(try Self.feed(ev, w, [(5, 1)]).isEmpty)  // re-arms (recorded)
        }
        do {
            let ev = try AlertEvaluator(store: store, persist: true)
            let w = try #require(ev.watch(run: run, metric: "train/loss"))
            #expect(try Self.feed(ev, w, [(6, 5)]) == [6])  // a new crossing
        }
        // Without persistence (strata watch), current conditions fire at once.
        let watcher = try AlertEvaluator(store: store, persist: false)
        let w = try #require(watcher.watch(run: run, metric: "train/loss"))
        #expect(try Self.feed(watcher, w, [(7, 5)]) == [7])
        #expect(try store.alertEvents().map(\.step) == [3, 6])
        try store.close()
    }

    @Test func rulesAddListRemoveAndReloadByARunningEvaluator() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        let ev = try AlertEvaluator(store: store, persist: true)
        #expect(ev.watch(run: run, metric: "train/loss") == nil)
        let rule = try store.addAlert(
            scope: .project("p"), metric: "train/loss", condition: .noImprovement(steps: 5, mode: .max), webhook: "http://127.0.0.1:9/hook")
        let other = try store.addAlert(scope: .run(run), metric: "val/acc", condition: .below(0.1))
        #expect(try store.alertRules() == [rule, other])
        _ = try ev.tick()
        #expect(ev.watch(run: run, metric: "train/loss") != nil)
        #expect(try store.removeAlert(String(rule.id.suffix(6))) == rule)
        #expect(try store.alertRules() == [other])
        _ = try ev.tick()
        #expect(ev.watch(run: run, metric: "train/loss") == nil)
        #expect(throws: StrataError.self) { try store.removeAlert(rule.id) }
        // Reopened: the rules file round-trips every field.
        let again = try Store.open(at: dir.sub("s"))
        #expect(try again.alertRules() == [other])
        try again.close()
    }

    @Test func badInputIsRefusedWithAClearError() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        let typo = message { try store.addAlert(scope: .run(run), metric: "train/los", condition: .nonFinite) }
        #expect(typo.contains("unknown metric \"train/los\"") && typo.contains("train/loss"))
        let none = message { try store.addAlert(scope: .project("nope"), metric: "train/loss", condition: .nonFinite) }
        #expect(none.contains("project nope") && none.contains("no metrics yet"))
        #expect(
            message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .above(.nan)) }.contains(
                "threshold must be a finite number"))
        #expect(
            message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .noImprovement(steps: 0, mode: .min)) }.contains(
                "at least 1"))
        #expect(
            message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .stalled(milliseconds: 5)) }.contains("at least 1 second")
        )
        #expect(
            message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .baseline(run: run, percent: -1)) }.contains("percentage")
        )
        #expect(message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .nonFinite, webhook: "ftp://x") }.contains("http://"))
        #expect(
            message { try store.addAlert(scope: .run(run), metric: "train/loss", condition: .nonFinite, webhook: "http://h:99999/") }.contains(
                "bad port"))
        #expect(message { try store.addAlert(scope: .run(RunID.generate()), metric: "train/loss", condition: .nonFinite) }.contains("no such run"))
        #expect(message { try store.addAlert(scope: .run(run), metric: "", condition: .nonFinite) } != "no error")
        // Nothing was stored by the refusals; a new metric is accepted when asked for.
        #expect(try store.alertRules().isEmpty)
        try store.addAlert(scope: .project("nope"), metric: "later/metric", condition: .nonFinite, allowNewMetric: true)
        #expect(try store.alertRules().count == 1)
    }

    @Test func tornEventsTailIsIgnoredAndKeptAside() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .above(2))
        let ev = try AlertEvaluator(store: store, persist: true)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        #expect(try Self.feed(ev, w, [(3, 3), (4, 1)]) == [3])
        let file = dir.sub("s") + "/alerts/events"
        let whole = try Data(contentsOf: URL(fileURLWithPath: file))
        // A torn record: its length says 60 bytes, only 7 follow.
        var torn = whole
        torn.append(contentsOf: [60, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
        try torn.write(to: URL(fileURLWithPath: file))
        #expect(try store.alertEvents().map(\.step) == [3])
        // Every prefix of the file reads as a prefix of the events, without error.
        for n in stride(from: 0, through: whole.count, by: 1) {
            let records = try AlertFiles.decodeEvents(Array(whole.prefix(n)), path: file).records
            #expect(records.count <= 2)
        }
        // The next append cuts the torn tail (kept in damaged/) and is readable.
        let again = try AlertEvaluator(store: store, persist: true)
        #expect(try Self.feed(again, w, []).isEmpty)
        let w2 = try #require(again.watch(run: run, metric: "train/loss"))
        #expect(try Self.feed(again, w2, [(5, 9)]) == [5])
        #expect(try store.alertEvents().map(\.step) == [3, 5])
        let damaged = try FileManager.default.contentsOfDirectory(atPath: dir.sub("s") + "/damaged").filter { $0.hasPrefix("alerts-events-") }
        #expect(damaged.count == 1)
    }

    @Test func deliveryStateRoundTrips() throws {
        let dir = TempDir()
        let (store, run) = try Self.store(dir)
        defer { try? store.close() }
        try store.addAlert(scope: .run(run), metric: "train/loss", condition: .above(2), webhook: "http://127.0.0.1:1/x")
        let ev = try AlertEvaluator(store: store, persist: true)
        let w = try #require(ev.watch(run: run, metric: "train/loss"))
        _ = try Self.feed(ev, w, [(3, 3), (4, 1), (5, 3)])
        let pending = try store.undeliveredAlertEvents()
        #expect(pending.map(\.event.step) == [3, 5] && pending.allSatisfy { $0.webhook == "http://127.0.0.1:1/x" })
        try store.recordAlertDelivered(pending[0].event.id)
        #expect(try store.undeliveredAlertEvents().map(\.event.step) == [5])
        #expect(try store.alertEvents()[0].deliveredMs != nil)
    }
}

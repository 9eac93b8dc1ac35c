import Foundation
import Testing

@testable import Strata

/// Filters over the catalog checkpoint's runs are evaluated over one column per param
/// (`Catalog.matchingIDs`), and `rank` scores run ids from a kept column per metric, decoding only
/// the runs that can make the page. Both must answer exactly what testing each whole run and
/// summarising each of its series one by one gives, on random params and random filters, through
/// rewinds, deletes, forks, live points and compaction.
@Suite("Params as columns, ranking from metric columns")
struct ParamColumnTests {
    /// Values of every shape FILTERS.md speaks of: numbers of both kinds, big integers, strings
    /// that look like numbers, imported text, booleans, null, lists.
    static func value(_ rng: inout SplitMix64) -> ParamValue {
        switch Int.random(in: 0..<11, using: &rng) {
        case 0: return .int(Int64.random(in: -3...3, using: &rng))
        case 1: return .double([1e-4, 3e-4, 1e-3, 0.5, 1.0, .nan, -0.0][Int.random(in: 0..<7, using: &rng)])
        case 2: return .string(["adam", "sgd", "0.10", "007", "1", "ad"][Int.random(in: 0..<6, using: &rng)])
        case 3: return .text(["0.10", "1", "True", "adam"][Int.random(in: 0..<4, using: &rng)])
        case 4: return .bool(Bool.random(using: &rng))
        case 5: return .null
        case 6: return .bigInt(["123456789012345678901", "-98765432109876543210"][Int.random(in: 0..<2, using: &rng)])
        case 7: return .list((0..<Int.random(in: 0..<4, using: &rng)).map { _ in .int(Int64.random(in: 0...3, using: &rng)) })
        case 8: return .list([.string("flip"), .string(Bool.random(using: &rng) ? "crop" : "0.10")])
        default: return .double(Double(Int.random(in: -2...2, using: &rng)) / 4)
        }
    }

    static let keys = ["a", "b", "c.d", "e"]
    static let literals = ["1", "0", "-1", "0.5", "1e-3", "\"adam\"", "\"0.10\"", "\"1\"", "true", "123456789012345678901"]

    /// A random filter over params `keys` (and sometimes a metric), as text.
    static func filter(_ rng: inout SplitMix64, depth: Int = 0) -> String {
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        let k = pick(keys)
        if depth < 2 && Int.random(in: 0..<3, using: &rng) == 0 {
            let a = filter(&rng, depth: depth + 1), b = filter(&rng, depth: depth + 1)
            return pick(["(\(a)) and (\(b))", "(\(a)) or (\(b))", "not (\(a))"])
        }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            let lit = pick(literals)
            return "params.\(k) \(lit == "true" ? pick(["==", "!="]) : pick(["<", "<=", ">", ">=", "==", "!="])) \(lit)"
        case 1: return "params.\(k) in (\(pick(literals)), \(pick(literals)))"
        case 2: return "params.\(k) not in (\(pick(literals)))"
        case 3: return "params has \"\(k)\""
        case 4: return "params.\(k) is \(pick(["", "not "]))null"
        case 5: return "params.\(k) has \(pick(["\"flip\"", "1", "\"0.10\""]))"
        case 6: return "len(params.\(k)) \(pick(["==", ">"])) \(pick(["0", "1", "2"]))"
        case 7: return "params.\(k)[\(pick(["0", "-1", "1"]))] == \(pick(["0", "1", "\"crop\""]))"
        case 8: return "params.\(k) ~ \"\(pick(["ad", "0.", ""]))\""
        default: return "metric(\"loss\").\(pick(["min", "count", "last"])) \(pick(["<", ">="])) \(pick(["0.5", "3"]))"
        }
    }

    /// Every run of `runs()` the filter accepts seeing the whole run, oldest first.
    static func bruteForce(_ store: Store, _ filter: Filter?) throws -> [RunInfo] {
        try store.runs().filter { run in
            guard let filter else { return true }
            return store.lock.withLock {
                filter.matches(
                    FilterContext(run: run, metric: { store.summaryLocked(run.id, $0) }, quantile: { store.quantileLocked(run.id, $0, $1) }))
            }
        }
    }

    /// `rank` worked out from whole runs: each run's metric summary looked up alone, sorted by
    /// `Store.best`'s rule.
    static func bruteRank(_ store: Store, _ metric: String, _ stat: RankStatistic, _ filter: Filter?, limit: Int) throws -> [RankedRun] {
        var rows: [RankedRun] = []
        for run in try bruteForce(store, filter) {
            guard let s = store.lock.withLock({ store.summaryLocked(run.id, metric) }) else { continue }
            let (v, step) = stat.pick(s)
            rows.append(RankedRun(run: run, value: v, step: step))
        }
        return Store.best(rows, ascending: stat.defaultAscending, limit: limit)
    }

    static func same(_ a: [RankedRun], _ b: [RankedRun]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.run == y.run && (x.value == y.value || (x.value.isNaN && y.value.isNaN)) && x.step == y.step
            }
    }

    static func check(_ store: Store, _ rng: inout SplitMix64, _ note: String, filters: Int = 60) throws {
        // Every fast answer first: on a freshly opened store no run is decoded yet, so the param
        // columns are read from the checkpoint's records (`readParamValues`), not from decoded runs.
        var asked: [(text: String, filter: Filter, ids: [RunID])] = []
        for _ in 0..<filters {
            let text = filter(&rng)
            let f = try Filter(text)
            asked.append((text, f, try store.runIDs(where: f)))
        }
        for (text, f, ids) in asked {
            let slow = try bruteForce(store, f)
            #expect(ids == slow.map(\.id), "\(note): ids where \(text)")
            #expect(try store.runs(where: f) == slow, "\(note): runs where \(text)")
            let limit = [1, 3, 50][ids.count % 3]
            #expect(try store.runs(where: f, limit: limit) == Array(slow.prefix(limit)), "\(note): first \(limit) runs where \(text)")
        }
        for text in [nil, "params.a >= 0", "params has \"b\"", "metric(\"loss\").count > 2"] {
            let f = try text.map { try Filter($0) }
            for stat in RankStatistic.allCases {
                for limit in [1, 3, 1000] {
                    let fast = try store.rank("loss", by: stat, where: f, limit: limit)
                    let slow = try bruteRank(store, "loss", stat, f, limit: limit)
                    #expect(same(fast, slow), "\(note): rank loss by \(stat) where \(text ?? "-") limit \(limit)")
                }
            }
        }
    }

    @Test func columnsAndRankingEqualRunByRunEvaluation() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        print("ParamColumnTests seed \(seed)")
        let dir = TempDir()
        let root = dir.sub("s")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        var runs: [Run] = []
        for i in 0..<150 {
            var params: [String: ParamValue] = [:]
            for k in Self.keys where Int.random(in: 0..<5, using: &rng) > 0 { params[k] = Self.value(&rng) }
            // Names repeat so that ties in rank are broken by name, then id.
            let run = try store.createRun(name: "r\(i % 40)", params: params)
            runs.append(run)
            if i % 7 != 6 {
                // Few distinct values: ties; NaN sometimes, so NaN sorts last.
                for s in 0..<Int.random(in: 1...5, using: &rng) {
                    let v = Int.random(in: 0..<12, using: &rng) == 0 ? Double.nan : Double(Int.random(in: 0...4, using: &rng)) / 4
                    try run.log(["loss": v], step: Int64(s))
                }
            }
            if i % 50 == 49 { try store.checkpoint() }
        }
        try store.flush()
        store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
        #expect(store.catalog.base != nil)
        try Self.check(store, &rng, "checkpointed (seed \(seed))")
        // Over the checkpoint: changed params, deletes, forks, rewinds, new runs, live points.
        try runs[1].setParams(["a": .int(2), "b": .null])
        _ = try store.deleteRun(runs[5].id.text)
        _ = try store.fork(runs[10].id, atStep: 0, params: ["a": .double(0.5)])
        try store.rewind(runs[11].id, to: 0)
        try runs[11].log(["loss": 0.125], step: 1)
        for i in 0..<10 {
            let run = try store.createRun(name: "late\(i)", params: ["a": Self.value(&rng), "c.d": Self.value(&rng)])
            try run.log(["loss": Double(i % 3) / 4], step: 0)
        }
        try runs[0].log(["loss": -1], step: 100)
        try Self.check(store, &rng, "with a tail and live logs (seed \(seed))")
        try store.flush()
        _ = try store.compact(graceSeconds: 0)
        try Self.check(store, &rng, "compacted (seed \(seed))")
        try store.close()
        let again = try Store.open(at: root, options: .init(create: false))
        defer { try? again.close() }
        try Self.check(again, &rng, "reopened (seed \(seed))")
    }

    /// The kept columns are the checkpoint's and the segments': a run created after them, points
    /// logged after a rank, a segment written later are seen by the next query.
    @Test func keptColumnsFollowNewRecordsAndSegments() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        for i in 0..<80 {
            let run = try store.createRun(name: "r\(i)", params: ["lr": .double(Double(i) * 1e-4)])
            try run.log(["loss": Double(80 - i)], step: 0)
        }
        try store.flush()
        try store.checkpoint()
        store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
        let f = try Filter("params.lr < 0.004")
        #expect(try store.rank("loss", by: .min, where: f, limit: 1).first?.run.name == "r39")
        let late = try store.createRun(name: "late", params: ["lr": .double(0)])
        try late.log(["loss": 0.5], step: 0)
        #expect(try store.rank("loss", by: .min, where: f, limit: 1).first?.run.name == "late")
        try store.checkpoint()
        try late.log(["loss": 0.25], step: 1)
        try store.checkpoint()
        let best = try store.rank("loss", by: .min, where: f, limit: 1).first
        #expect(best?.run.name == "late" && best?.value == 0.25 && best?.step == 1)
        try late.setParams(["lr": .double(1)])
        #expect(try store.rank("loss", by: .min, where: f, limit: 1).first?.run.name == "r39")
    }
}

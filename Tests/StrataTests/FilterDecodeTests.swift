import Foundation
import Testing

@testable import Strata

/// `runs(where:)` tests runs read from the catalog checkpoint with only the params the filter
/// reads decoded, and decodes the whole record only of the runs it keeps; `series(ofRuns:metric:)`
/// summarises one series per run. Both must answer exactly what testing whole runs and listing
/// every series does, whatever state the runs are in.
@Suite("Filtering runs on the params a filter reads")
struct FilterDecodeTests {
    static let filters = [
        "params.lr < 0.001", "params.lr >= 0.001 and params.opt == \"adam\"", "params.opt in (\"sgd\", \"lion\")",
        "params has \"extra\"", "not params has \"extra\"", "params.layers has 64", "len(params.layers) == 3",
        "params.layers[0] == 32", "params.note is null", "params.note is not null",
        "params.opt ~ \"ad\"", "tags has \"a\" and params.lr < 0.001", "name ~ \"r1\" or params.batch == 64",
        "params.missing == 1", "status == \"finished\"", "metric(\"loss\").min < 0.5 and params.opt == \"adam\"",
        "params.lr < 0.001 or metric(\"loss\").count > 3"
    ]

    /// Every run of `runs()` that the filter accepts when it sees the whole run.
    static func bruteForce(_ store: Store, _ filter: Filter) throws -> [RunInfo] {
        try store.runs().filter { run in
            store.lock.withLock {
                filter.matches(
                    FilterContext(run: run, metric: { store.summaryLocked(run.id, $0) }, quantile: { store.quantileLocked(run.id, $0, $1) }))
            }
        }
    }

    static func check(_ store: Store, _ note: String) throws {
        for text in filters {
            let f = try Filter(text)
            let fast = try store.runs(where: f)
            let slow = try bruteForce(store, f)
            #expect(fast == slow, "\(note): \(text)")
        }
        let ids = try store.runs().map(\.id)
        let one = try store.series(ofRuns: ids, metric: "loss")
        let all = try store.series(ofRuns: ids)
        for id in ids {
            #expect(one[id] == all[id]?.first { $0.key.canonical == "loss" }, "\(note): series loss of \(id)")
        }
    }

    @Test func filteredRunsEqualWholeRunFiltering() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        var runs: [Run] = []
        let opts = ["adam", "sgd", "lion", "adamw"]
        for i in 0..<240 {
            var params: [String: ParamValue] = [
                "lr": .double([1e-4, 3e-4, 1e-3, 3e-3][i % 4]), "opt": .string(opts[i % 4]), "batch": .int(Int64(32 << (i % 3))),
                "layers": .list((0..<(i % 4)).map { .int(Int64(32 << $0)) }),
                "note": i % 5 == 0 ? .null : .text("n\(i)")
            ]
            if i % 3 == 0 { params["extra"] = .bool(i % 2 == 0) }
            let run = try store.createRun(name: "r\(i)", params: params, tags: i % 2 == 0 ? ["a"] : ["b"])
            runs.append(run)
            if i % 4 != 3 {
                for s in 0..<(1 + i % 5) { try run.log(["loss": 1.0 / Double(s + 1 + i % 3), "acc": Double(s)], step: Int64(s)) }
            }
            if i % 60 == 59 { try store.checkpoint() }
            if i % 2 == 1 { try run.finish() }
        }
        try store.flush()
        store.lock.withLock { store.checkpointCatalogIfLong(force: true) }
        try Self.check(store, "checkpointed")
        // A tail over the checkpoint: params changed, runs deleted, forks, new runs, live points.
        try runs[1].setParams(["lr": .double(5e-4), "extra": .int(1)])
        try runs[2].setParams(["opt": .string("sgd")])
        _ = try store.deleteRun(runs[4].id.text)
        _ = try store.deleteRun(runs[8].id.text)
        _ = try store.fork(runs[14].id, atStep: 2, params: ["lr": .double(1e-5)])
        _ = try store.fork(runs[13].id, atStep: 0, name: "fork-b")
        for i in 0..<20 {
            let run = try store.createRun(name: "late\(i)", params: ["lr": .double(i % 2 == 0 ? 1e-4 : 1e-2), "opt": .string("adam")])
            try run.log(["loss": 0.1 * Double(i)], step: 0)
        }
        try runs[0].log(["loss": 0.01], step: 100)
        try Self.check(store, "with a tail and live logs")
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments > 1)
        try Self.check(store, "compacted")
        // Reopened: the checkpoint written at compaction, read from the file.
        try store.close()
        let again = try Store.open(at: root, options: .init(create: false))
        defer { try? again.close() }
        #expect(again.catalog.base != nil)
        try Self.check(again, "reopened")
    }
}

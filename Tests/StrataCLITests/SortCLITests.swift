import Foundation
import Strata
import Testing

/// `strata runs --where … --sort METRIC.STAT` reads every row's series in one library call: its
/// order must equal brute force over runs spread across segments and a live log.
@Suite("runs --sort on a metric")
struct SortCLITests {
    @Test func sortByMetricEqualsBruteForce() throws {
        let s = Scratch()
        var mins: [String: Double] = [:]
        do {
            let store = try Store.open(at: s.store)
            for i in 0..<30 {
                let lr = i % 2 == 0 ? 1e-4 : 1e-2
                let run = try store.createRun(name: "t\(i)", params: ["lr": .double(lr)])
                let values = (0..<5).map { Double((i * 37 + $0 * 11) % 53) / 10 }
                try run.append("loss", steps: Array(0..<5), values: values)
                if lr < 1e-3 { mins["t\(i)"] = values.min()! }
                if i == 10 || i == 20 { try store.checkpoint() }
            }
            try store.flush()
            let r = try strata(["runs", "--where", "params.lr < 0.001", "--sort", "loss.min", "--columns", "name,loss.min"], store: s.store)
            #expect(r.code == 0, "\(r.err)")
            let names = r.out.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
            let expected = mins.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
            #expect(names.count == expected.count)
            // Ties may come in any order: compare the sorted values and the set of names.
            #expect(names.map { mins[$0] ?? .nan } == expected.map { mins[$0]! })
            #expect(Set(names) == Set(expected))
            try store.close()
        }
    }

    /// A filtered, unsorted page (`--where … --limit N`) decodes only its runs: its rows are the
    /// first N rows of the whole filtered listing, in the table and in JSON, across segments, the
    /// catalog tail and a live log.
    @Test func filteredPageEqualsTheWholeListing() throws {
        let s = Scratch()
        let store = try Store.open(at: s.store)
        for i in 0..<40 {
            let run = try store.createRun(name: "f\(i)", params: ["lr": .double(i % 3 == 0 ? 1e-4 : 1e-2), "i": .int(Int64(i))])
            try run.append("loss", steps: Array(0..<3), values: [Double(i), 1, 2])
            if i == 12 { try store.checkpoint() }
            if i == 25 { try store.flush() }
        }
        // Creations are written in batches: made visible to the CLI's processes now, while the
        // points stay in this process's live log.
        try store.flush()
        for filter in ["params.lr < 0.001", #"params.i >= 30 or metric("loss").min < 1"#, "params.i == -1"] {
            for json in [false, true] {
                let extra = json ? ["--json"] : []
                let whole = try strata(["runs", "--where", filter] + extra, store: s.store)
                #expect(whole.code == 0, "\(filter): \(whole.err)")
                for limit in [1, 4, 100] {
                    let page = try strata(["runs", "--where", filter, "--limit", String(limit)] + extra, store: s.store)
                    #expect(page.code == whole.code && page.err == whole.err, "\(filter) --limit \(limit): \(page.err)")
                    if json {
                        let all = (try? JSONSerialization.jsonObject(with: Data(whole.out.utf8))) as? [[String: Any]]
                        let got = (try? JSONSerialization.jsonObject(with: Data(page.out.utf8))) as? [[String: Any]]
                        #expect(all != nil && got != nil, "\(filter) --limit \(limit): \(whole.out.prefix(200)) / \(page.out.prefix(200))")
                        guard let all, let got else { continue }
                        #expect(got.map { $0["id"] as? String } == all.prefix(limit).map { $0["id"] as? String }, "\(filter) --limit \(limit)")
                    } else {
                        let names = { (out: String) in
                            out.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
                        }
                        #expect(names(page.out) == Array(names(whole.out).prefix(limit)), "\(filter) --limit \(limit)")
                    }
                }
            }
        }
        try store.close()
    }

    /// A page sorted by a summary statistic (`--sort METRIC.STAT --limit N`, no `--columns`) ranks
    /// the matching runs by that series alone and decodes only the page's runs: its rows must be
    /// the first N rows of the whole sorted listing (no `--limit`: every row decoded and sorted),
    /// with ties, NaN values, runs without the metric, a fork (both lineages) and a live log.
    @Test func sortedPageEqualsTheWholeListing() throws {
        let s = Scratch()
        let store = try Store.open(at: s.store)
        var runs: [RunID] = []
        for i in 0..<40 {
            let run = try store.createRun(name: "t\(i % 7)", params: ["lr": .double(i % 3 == 0 ? 1e-2 : 1e-4)])
            runs.append(run.id)
            if i % 9 == 4 { continue }  // no loss
            let n = 1 + i % 6
            var values: [Double] = []
            for k in 0..<n {
                let v: Double = Double((i * 13 + k * 7) % 5) / 4
                values.append(i % 11 == 3 && k == 1 ? .nan : v)
            }
            let steps: [Int64] = (0..<n).map { Int64($0 * (1 + i % 2)) }
            try run.append("loss", steps: steps, values: values)
            if i == 15 || i == 30 { try store.checkpoint() }
        }
        let fork = try store.fork(runs[5], atStep: 2)
        try fork.append("loss", steps: [3, 4], values: [-1, 7])
        try store.flush()
        for lineage in ["full", "own"] {
            for key in ["loss.min", "-loss.min", "loss.max", "-loss.last", "loss.count", "-loss.step", "loss.first_step", "loss.nans"] {
                for filter in [nil, "params.lr < 0.001"] {
                    let base = ["runs", "--sort", key, "--json", "--lineage", lineage] + (filter.map { ["--where", $0] } ?? [])
                    let whole = try strata(base, store: s.store), page = try strata(base + ["--limit", "6"], store: s.store)
                    #expect(whole.code == 0 && page.code == 0, "\(whole.err) \(page.err)")
                    func rows(_ out: String) -> [String] {
                        out.split(separator: "\n").filter { $0.hasPrefix("  {") }.map { String($0.hasSuffix(",") ? $0.dropLast() : $0) }
                    }
                    #expect(rows(page.out) == Array(rows(whole.out).prefix(6)), "\(key) \(filter ?? "-") \(lineage)")
                    #expect(rows(page.out).count == 6)
                }
            }
        }
        try store.close()
    }
}

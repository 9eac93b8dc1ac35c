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
}

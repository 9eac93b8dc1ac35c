import Foundation
import Testing

// Runs are named by name, full id, or a unique beginning or end of the id (what `runs` shows).

@Suite struct RunIdFragments {
    /// Two runs both named "dup" (ids from `runs --json`, oldest first).
    func duplicateRuns(_ s: Scratch) throws -> [String] {
        for v in 1...2 {
            let r = try strata(["ingest", "--new-runs"], input: "{\"run\": \"dup\", \"step\": 1, \"metrics\": {\"loss\": \(v)}}\n", store: s.store)
            #expect(r.code == 0, "\(r.err)")
        }
        let j = try strata(["runs", "--json"], store: s.store)
        let ids = j.out.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "\"id\": \"") else { return nil }
            return String(line[r.upperBound...].prefix(26))
        }
        try #require(ids.count == 2, "\(j.out)")
        return ids
    }

    @Test func theIdColumnNamesARun() throws {
        let s = Scratch()
        let ids = try duplicateRuns(s)
        let table = try strata(["runs", "--columns", "id"], store: s.store)
        let shown = table.out.split(separator: "\n").dropFirst().map(String.init)
        #expect(shown == ids.map { String($0.suffix(10)) }, "\(table.out)")
        for (id, cell) in zip(ids, shown) {
            // The shown end of the id, lower case too, and the full id name the run; so does the
            // id's beginning when it is unique.
            for text in [cell, cell.lowercased(), id] {
                let r = try strata(["show", text, "--json"], store: s.store)
                #expect(r.code == 0, "\(text): \(r.err)")
                #expect(r.out.contains("\"id\": \"\(id)\""), "\(text): \(r.out)")
            }
            let curve = try strata(["curve", cell, "loss", "--json"], store: s.store)
            #expect(curve.code == 0, "\(curve.err)")
        }
        // The name names the newest run of that name.
        #expect(try strata(["show", "dup", "--json"], store: s.store).out.contains("\"id\": \"\(ids[1])\""))
    }

    @Test func anAmbiguousFragmentListsTheRuns() throws {
        let s = Scratch()
        let ids = try duplicateRuns(s)
        let common = String(zip(ids[0], ids[1]).prefix { $0 == $1 }.map(\.0))
        try #require(common.count >= 4, "ids \(ids) share no 4-character beginning")
        let fragment = String(common.prefix(max(4, common.count - 1)))
        let r = try strata(["show", fragment], store: s.store)
        #expect(r.code == 1)
        #expect(
            r.err == "strata: id \"\(fragment)\" is ambiguous: it matches 2 runs: \(ids[0]) (dup), \(ids[1]) (dup); give more characters\n",
            "\(r.err)")
        // Too short to be a fragment: not found (names are not guessed from 3 characters).
        let short = try strata(["show", String(ids[0].suffix(3))], store: s.store)
        #expect(short.code == 1 && short.err.hasPrefix("strata: no run named"), "\(short.err)")
    }
}

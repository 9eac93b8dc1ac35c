import Foundation
import Testing

/// `strata fork`, `curve --lineage` and the lineage lines of `show`, through the built binary.
@Suite("strata fork")
struct ForkCLITests {
    func sumCounts(_ jsonLines: String) -> Int {
        jsonLines.split(separator: "\n").map { line -> Int in
            let obj = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return obj["count"] as! Int
        }.reduce(0, +)
    }

    @Test func forkCurveAndShowRoundTrip() throws {
        let dir = Scratch()
        let store = dir.sub("store")
        for s in 0..<10 { #expect(try strata(["log", "base", "--create", "--step", "\(s)", "loss=\(Double(10 - s))"], store: store).code == 0) }
        let bad = try strata(["fork", "base", "--at", "10"], store: store)
        #expect(bad.code == 1 && bad.err.contains("step 10") && bad.err.contains("beyond its last step 9"), "\(bad.err)")
        let missing = try strata(["fork", "nope", "--at", "1"], store: store)
        #expect(missing.code == 1 && missing.err.contains("nope"))
        let made = try strata(["fork", "base", "--at", "5", "--name", "child", "--param", "lr=0.001", "--json"], store: store)
        #expect(made.code == 0, "\(made.err)")
        #expect(made.out.contains("\"fork_step\": 5"))
        for s in 6..<9 { #expect(try strata(["log", "child", "--step", "\(s)", "loss=\(Double(s))"], store: store).code == 0) }
        let full = try strata(["curve", "child", "loss", "--buckets", "4", "--json"], store: store)
        #expect(full.code == 0, "\(full.err)")
        #expect(sumCounts(full.out) == 9)  // 0...5 of base, then 6...8 of its own
        let own = try strata(["curve", "child", "loss", "--buckets", "4", "--json", "--lineage", "own"], store: store)
        #expect(sumCounts(own.out) == 3)
        let show = try strata(["show", "child"], store: store)
        #expect(show.out.contains("(base) at step 5, forked"), "\(show.out)")
        let showParent = try strata(["show", "base"], store: store)
        #expect(showParent.out.contains("children") && showParent.out.contains("(child) at step 5"), "\(showParent.out)")
        let json = try strata(["show", "child", "--json"], store: store)
        #expect(json.out.contains("\"fork_step\": 5"))
        // Nothing stored was lost by the refused forks.
        let base = try strata(["curve", "base", "loss", "--buckets", "1", "--json"], store: store)
        #expect(sumCounts(base.out) == 10)
    }
}

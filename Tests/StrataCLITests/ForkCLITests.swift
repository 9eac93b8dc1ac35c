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

    /// `runs --lineage full|own`: metric columns, filters and sorts of a fork through its
    /// ancestors or over its own points; a bad value is refused naming the option.
    @Test func runsLineageOption() throws {
        let dir = Scratch()
        let store = dir.sub("store")
        for s in 0..<10 { #expect(try strata(["log", "base", "--create", "--step", "\(s)", "loss=\(Double(s))"], store: store).code == 0) }
        #expect(try strata(["fork", "base", "--at", "5", "--name", "child"], store: store).code == 0)
        for s in 6..<9 { #expect(try strata(["log", "child", "--step", "\(s)", "loss=\(Double(s))"], store: store).code == 0) }
        func childCount(_ extra: [String]) throws -> String {
            let r = try strata(["runs", "--where", "name == \"child\"", "--columns", "name,loss.count,loss.min"] + extra, store: store)
            #expect(r.code == 0, "\(r.err)")
            return r.out
        }
        let full = try childCount([]), fullExplicit = try childCount(["--lineage", "full"]), own = try childCount(["--lineage", "own"])
        #expect(full == fullExplicit)
        #expect(full.contains(" 9") && full.contains(" 0"), "\(full)")  // 0...5 of base, 6...8 its own; min 0
        #expect(own.contains(" 3") && own.contains(" 6") && !own.contains(" 9"), "\(own)")  // 6...8 only; min 6
        // A filter on a metric sees the chosen lineage too.
        let filtered = try strata(["runs", "--where", "metric(\"loss\").count == 3", "--columns", "name", "--lineage", "own"], store: store)
        #expect(filtered.code == 0 && filtered.out.contains("child") && !filtered.out.contains("base"), "\(filtered.out)\(filtered.err)")
        let bad = try strata(["runs", "--lineage", "mine"], store: store)
        #expect(bad.code == 2 && bad.err.contains("--lineage"), "\(bad.err)")
    }
}

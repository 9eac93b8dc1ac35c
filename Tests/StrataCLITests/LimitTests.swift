import Foundation
import Testing

/// `strata ingest` enforces the library's write limits before writing: one past a limit is an
/// error naming the line and the limit, and the store is unchanged; at the limit the line is
/// stored and reads back.
@Suite struct CLILimitTests {
    @Test func tagsAndParamsAtAndPastTheirLimits() throws {
        let s = Scratch()
        #expect(try strata(["ingest", "--run", "seed"], input: #"{"step": 0, "metrics": {"m": 1}}"# + "\n", store: s.store).code == 0)
        let before = try strata(["export"], store: s.store).out
        let tags = (0..<10_000).map { "\"t\($0)\"" }
        let params = (0..<100_000).map { "\"p\($0)\": \($0)" }
        let bad: [(String, String)] = [
            (#"{"run": "r", "tags": [\#((tags + ["\"x\""]).joined(separator: ","))]}"#, "10001 tags in one call; the limit is 10000"),
            (
                #"{"run": "r", "params": {\#((params + ["\"x\": 1"]).joined(separator: ","))}}"#,
                #"run "r": 100001 param entries in one call; the limit is 100000"#
            ),
            // The run is named even when its key comes after the params.
            (
                #"{"params": {\#((params + ["\"x\": 1"]).joined(separator: ","))}, "run": "late"}"#,
                #"run "late": 100001 param entries in one call; the limit is 100000"#
            ),
            (#"{"run": "r", "tags": ["a\u0007b"]}"#, "control character"),
            (#"{"run": "r", "meta": {"\#(String(repeating: "k", count: 257))": 1}}"#, "must be 1 to 256 bytes")
        ]
        for (line, message) in bad {
            let r = try strata(["ingest"], input: #"{"run": "r", "step": 1, "metrics": {"m": 1}}"# + "\n" + line + "\n", store: s.store)
            #expect(r.code != 0)
            #expect(r.err.contains("line 2: ") && r.err.contains(message), "\(r.err)")
            // Line 1 is kept (every line before a failure is); the refused line wrote nothing.
            let runs = try strata(["runs", "--json"], store: s.store)
            #expect(runs.out.contains("\"r\"") && !runs.out.contains("\"t0\"") && !runs.out.contains("\"p0\""), "refused line left params or tags")
        }
        let ok = #"{"run": "q", "tags": [\#(tags.joined(separator: ","))], "params": {\#(params.joined(separator: ","))}}"#
        let r = try strata(["ingest"], input: ok + "\n", store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let runs = try strata(["runs", "--json", "--where", "name == \"q\""], store: s.store)
        #expect(runs.out.contains("\"t9999\"") && runs.out.contains("\"p99999\""), "\(runs.out.prefix(300))")
        #expect(try strata(["verify"], store: s.store).code == 0)
        #expect(try strata(["export", "--run", "seed"], store: s.store).out == before)
    }
}

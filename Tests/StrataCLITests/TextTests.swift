import Foundation
import Testing

/// `strata ingest` refuses text it would otherwise repair (invalid UTF-8, lone surrogates) and
/// numeric spellings the server refuses; `show` and `runs` never send stored control characters
/// to the terminal, while `--json` keeps them exact.
@Suite struct CLITextTests {
    @Test func invalidTextAndSpellingsAreRefused() throws {
        let s = Scratch()
        func b(_ t: String) -> [UInt8] { Array(t.utf8) }
        let ok = b(#"{"run": "r", "step": 0, "metrics": {"m": 1}}"#) + [10]
        let cases: [([UInt8], String)] = [
            (b(#"{"run": "a\ud800", "step": 1, "metrics": {"m": 1}}"#), "lone surrogate"),
            (b(#"{"run": "r", "tags": ["\udc01"]}"#), "lone surrogate"),
            (b(#"{"run": "r", "params": {"k": "x\ud800y"}}"#), "lone surrogate"),
            (b(#"{"run": "r"#) + [0xff] + b(#"", "step": 1, "metrics": {"m": 1}}"#), "invalid UTF-8"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m"#) + [0xe0, 0x80, 0x80] + b(#"": 1}}"#), "invalid UTF-8"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m": "0x10"}}"#), "must be a number"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m": " 1"}}"#), "must be a number"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m": "1_000"}}"#), "must be a number"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m": "+0x1p3"}}"#), "must be a number"),
            (b(#"{"run": "r", "step": 1, "metrics": {"m": "+1"}}"#), "must be a number")
        ]
        for (line, message) in cases {
            let r = try strata(["ingest"], bytes: ok + line + [10], store: s.store)
            #expect(r.code != 0, "\(String(decoding: line, as: UTF8.self))")
            #expect(r.err.contains("line 2: ") && r.err.contains(message), "\(r.err)")
        }
        // Only run "r" (from the good first lines) exists, with no tags or params.
        let runs = try strata(["runs", "--json"], store: s.store)
        #expect(runs.out.components(separatedBy: "\"name\": ").count == 2, "\(runs.out)")
        #expect(!runs.out.contains("\u{FFFD}"))
        // CSV: a cell that is not UTF-8.
        let csv = try strata(["ingest", "--format", "csv", "--run", "c"], bytes: b("step,loss\n1,0.5\n2,") + [0xfe] + b("\n"), store: s.store)
        #expect(csv.code != 0 && csv.err.contains("line 3: ") && csv.err.contains("invalid UTF-8"), "\(csv.err)")
        // The accepted spellings, the same as the server's.
        let good = #"{"run": "g", "step": 1, "metrics": {"a": "1.5", "b": "-0", "c": "1e3", "d": "NaN", "e": "-inf", "f": 2}}"#
        #expect(try strata(["ingest"], input: good + "\n", store: s.store).code == 0)
    }

    @Test func argumentsThatAreNotUTF8AreRefused() throws {
        let s = Scratch()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // printf '\377' makes a byte that no UTF-8 text holds; the shell passes it through as is.
        p.arguments = ["-c", #""$0" --store "$1" log "$(printf 'r\377')" --step 1 m=1 --create"#, strataBinary(), s.store]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2 && text.contains("is not UTF-8"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: s.store + "/catalog.log"), "nothing written")
    }

    @Test func controlCharactersAreShownNotSent() throws {
        let s = Scratch()
        let evil = "\u{1b}]0;pwned\u{07}\u{1b}[2J\u{9b}31m\u{202e}x"
        let escaped = #"\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202ex"#
        let line = #"{"run": "r", "params": {"p": "\#(escaped)"}, "meta": {"note": "\#(escaped)"}, "tags": ["ok"]}"#
        #expect(try strata(["ingest"], input: line + "\n" + #"{"run": "r", "step": 1, "metrics": {"m": 1}}"# + "\n", store: s.store).code == 0)
        for args in [["show", "r"], ["runs"], ["runs", "--columns", "name,params.p,meta.note,tags"]] {
            let r = try strata(args, store: s.store)
            #expect(r.code == 0, "\(args): \(r.err)")
            for bad in ["\u{1b}", "\u{07}", "\u{9b}", "\u{202e}"] { #expect(!r.out.contains(bad), "\(args) printed a raw control character") }
            #expect(r.out.contains(#"\u{1b}]0;pwned\u{7}"#), "\(args): \(r.out)")
        }
        // JSON output keeps the exact value (and stays valid JSON).
        for args in [["runs", "--json"], ["show", "r", "--json"]] {
            let r = try strata(args, store: s.store)
            let data = Data(r.out.utf8)
            let obj = try JSONSerialization.jsonObject(with: data)
            let run = ((obj as? [[String: Any]])?.first ?? obj as? [String: Any]) ?? [:]
            #expect((run["params"] as? [String: Any])?["p"] as? String == evil, "\(args): \(r.out.prefix(300))")
        }
    }
}

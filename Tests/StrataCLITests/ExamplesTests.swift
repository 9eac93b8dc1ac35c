import Foundation
import Testing

// Every example in the help texts ("Example: strata …") and every complete command in the code
// blocks of docs/CLI.md (a `strata …` line without placeholders such as RUN, [--opt] or a|b) runs
// without error against a demo store that also holds the runs the examples name.

/// docs/CLI.md of this package (found from this file's path).
private func cliDoc() throws -> String {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<4 {
        let p = dir.appendingPathComponent("docs/CLI.md").path
        if FileManager.default.fileExists(atPath: p) { return try String(contentsOfFile: p, encoding: .utf8) }
        dir = dir.deletingLastPathComponent()
    }
    throw CLIExampleError.noDoc
}

private enum CLIExampleError: Error { case noDoc }

/// Shell-like words: spaces separate, single and double quotes group.
func shellWords(_ line: String) -> [String] {
    var words: [String] = [], word = "", quote: Character?, inWord = false
    for c in line {
        if let q = quote {
            if c == q { quote = nil } else { word.append(c) }
        } else if c == "'" || c == "\"" {
            quote = c; inWord = true
        } else if c == " " {
            if inWord { words.append(word); word = ""; inWord = false }
        } else {
            word.append(c); inWord = true
        }
    }
    if inWord { words.append(word) }
    return words
}

/// A `strata …` line that is a complete command, not a synopsis.
func isRunnableExample(_ line: String) -> Bool {
    guard line.hasPrefix("strata ") else { return false }
    if line.contains("[") || line.contains("|") || line.contains("...") || line.contains("…") { return false }
    // Placeholders are upper-case words (RUN, METRIC, FILE, NAME).
    for w in line.split(whereSeparator: { !$0.isLetter }) where w.count >= 2 && w.allSatisfy(\.isUppercase) { return false }
    return true
}

@Suite struct DocumentedExamples {
    /// The subcommand paths of the CLI, from `strata help` output (SUBCOMMANDS sections).
    func commandPaths(_ prefix: [String] = []) throws -> [[String]] {
        let help = try strata(prefix + ["--help"])
        var paths: [[String]] = [prefix]
        var inSubs = false
        for line in help.out.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSubs = true; continue }
            if inSubs {
                if line.isEmpty || !line.hasPrefix("  ") { inSubs = false; continue }
                let name = line.split(separator: " ").first.map(String.init) ?? ""
                if name.isEmpty || name == "help" || line.hasPrefix("   ") && !line.hasPrefix("  \(name)") { continue }
                paths += try commandPaths(prefix + [name])
            }
        }
        return paths
    }

    @Test func everyExampleRuns() throws {
        let s = Scratch()
        #expect(try strata(["demo"], store: s.store).code == 0)
        // Runs the examples name.
        var lines: [String] = []
        for name in ["run-a", "run-b", "baseline", "r1"] {
            lines.append(#"{"run": "\#(name)", "params": {"lr": 0.0003}, "tags": ["baseline"]}"#)
            for step in 0..<10 {
                lines.append(#"{"run": "\#(name)", "step": \#(step), "metrics": {"train/loss": \#(1.0 / Double(step + 1)), "val/loss": 1}}"#)
            }
        }
        #expect(try strata(["ingest"], input: lines.joined(separator: "\n") + "\n", store: s.store).code == 0)
        #expect(try strata(["token", "create", "--scope", "read", "--name", "viewer"], store: s.store).code == 0)

        var examples: [String] = []
        for path in try commandPaths() {
            let help = try strata(path + ["--help"])
            for line in help.out.split(separator: "\n") {
                guard let r = line.range(of: "Example: ") else { continue }
                examples.append(String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces))
            }
        }
        #expect(examples.contains { $0.hasPrefix("strata runs ") }, "no example found in `strata runs --help`")
        var inCode = false
        for line in try cliDoc().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle(); continue }
            let text = String(line.split(separator: "#", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
            if inCode, isRunnableExample(text) { examples.append(text) }
        }
        #expect(examples.count >= 5, "\(examples)")
        for example in examples {
            let args = Array(shellWords(example).dropFirst())
            let r = try strata(args, store: s.store)
            #expect(r.code == 0, "`\(example)`: \(r.err)")
        }
    }

    @Test func extractionSeesPlaceholders() {
        #expect(isRunnableExample("strata runs --where 'params.lr < 1e-3' --sort train/loss.min"))
        #expect(!isRunnableExample("strata curve RUN METRIC [--from A]"))
        #expect(!isRunnableExample("strata token revoke NAME|HASH-PREFIX"))
        #expect(shellWords(#"strata runs --where 'tags has "b"' --limit 1"#) == ["strata", "runs", "--where", #"tags has "b""#, "--limit", "1"])
    }
}

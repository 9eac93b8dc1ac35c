import ArgumentParser
import Strata
import StrataInterop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `strata` command line.
///
/// Exit codes: 0 ok, 1 error (one line on stderr), 2 usage.
@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "A metric store for machine-learning experiment tracking.",
        discussion: "Store: --store PATH, else $STRATA_STORE, else ./.strata. Docs: docs/CLI.md.",
        subcommands: [
            Demo.self, Ingest.self, Log.self, Runs.self, Show.self, Curve.self, Compare.self, Hist.self, ToleranceCommand.self, Plot.self,
            Export.self, Import.self, StatsCommand.self, Verify.self, Compact.self, Rewind.self, Serve.self, Token.self,
            Fork.self,
            RunCommand.self, ArtifactAdd.self, Artifacts.self, Deploy.self, Deployments.self,
            AlertCommand.self, AlertsCommand.self, Watch.self
        ]
    )

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        if let (_, msg) = invalidArgument() { warn("strata: \(msg)"); Glibc.exit(2) }
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        let command: ParsableCommand
        do {
            command = try parseAsRoot(args)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            if let unknown = unknownCommand(args) { warn("strata: \(unknown)"); Glibc.exit(2) }
            let msg = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            warn("strata: \(msg) (see `strata help`)")
            Glibc.exit(2)
        }
        do {
            var c = command
            try c.run()
            Glibc.exit(0)
        } catch let e as CLIError {
            warn("strata: \(e.message)")
            Glibc.exit(e.exitCode)
        } catch let e as InteropError {
            warn("strata: \(e.message)")
            Glibc.exit(1)
        } catch let e as StrataError {
            warn("strata: \(e.description)")
            Glibc.exit(1)
        } catch let e as ExitCode {
            Glibc.exit(e.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // A command group run without a subcommand asks for its help.
                let text = fullMessage(for: error)
                if !text.isEmpty { print(text) }
                Glibc.exit(0)
            }
            warn("strata: \(message(for: error))")
            Glibc.exit(code == .validationFailure ? 2 : 1)
        }
    }

    /// "unknown command …" with a suggestion when a word where a subcommand belongs names none
    /// (`strata rnus`, `strata token lst`); nil when the subcommand words are all right.
    static func unknownCommand(_ args: [String]) -> String? {
        var command: ParsableCommand.Type = StrataCommand.self
        var path = ["strata"]
        var words = args[...]
        while let word = words.popFirst() {
            if word == "--store" { _ = words.popFirst(); continue }
            if word.hasPrefix("--store=") { continue }
            let subs = command.configuration.subcommands
            if subs.isEmpty || word.hasPrefix("-") { return nil }
            guard let sub = subs.first(where: { $0._commandName == word }) else {
                if command.configuration.defaultSubcommand != nil { return nil }
                let names = subs.map { $0._commandName } + (path.count == 1 ? ["help"] : [])
                if word == "help" { return nil }
                let hint = Suggest.closest(to: word, in: names).map { "did you mean \($0)? " } ?? ""
                return "unknown command \(jsonString(path.joined(separator: " ") + " " + word)) (\(hint)commands: \(names.joined(separator: ", ")))"
            }
            command = sub
            path.append(word)
        }
        return nil
    }

    /// `strata --store P cmd ...` → `strata cmd ... --store P` (options live on subcommands).
    static func hoistGlobalOptions(_ args: [String]) -> [String] {
        var a = args
        var moved: [String] = []
        while let first = a.first {
            if first == "--store", a.count >= 2 {
                moved += [a[0], a[1]]; a.removeFirst(2)
            } else if first.hasPrefix("--store=") {
                moved.append(first); a.removeFirst()
            } else {
                break
            }
        }
        if moved.isEmpty { return args }
        // Insert after the words naming the subcommand (as deep as the command tree goes), before
        // its own options and arguments.
        var insertAt = 0
        var command: ParsableCommand.Type = StrataCommand.self
        while insertAt < a.count,
            let sub = command.configuration.subcommands.first(where: { $0._commandName == a[insertAt] })
        {
            command = sub
            insertAt += 1
        }
        a.insert(contentsOf: moved, at: insertAt)
        return a
    }
}

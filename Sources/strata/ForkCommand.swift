import ArgumentParser
import Strata
import StrataInterop

extension Lineage: ExpressibleByArgument {}

// MARK: fork

struct Fork: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fork a run at a step: a new run that inherits the parent's history up to and including that step.",
        discussion: """
            Example: strata fork baseline --at 50 --name lower-lr --param lr=1e-4
            The new run takes the parent's project and params (--param overrides), starts empty, and reads \
            through its lineage by default (curve --lineage own shows only its own points). Prints the new run's id.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Parent run name or id.", valueName: "parent")) var parentName: String
    @Option(name: .customLong("at"), help: "The parent's last inherited step (at most its last step).") var step: Int64
    @Option(help: "Name of the new run (default: <parent name>@<step>).") var name: String?
    @Option(name: .customLong("param"), help: "key=value param of the fork, over the parent's (repeatable).") var params: [String] = []
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let store = try global.openForWriting()
        defer { try? store.close() }
        let parent = try lookupRun(store, parentName)
        var given: [String: ParamValue] = [:]
        for pair in params {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw CLIError("\(jsonString(pair)) is not key=value", exitCode: 2)
            }
            let text = String(pair[pair.index(after: eq)...])
            given[String(pair[..<eq])] = parseNumberText(text).map { ParamValue.double($0) } ?? .string(text)
        }
        let run = try store.fork(parent.id, atStep: step, name: name, params: given)
        let out = Output()
        if json {
            out.line(
                "{\"id\": \(jsonString(run.id.text)), \"name\": \(jsonString(run.name)), \"parent\": \(jsonString(parent.id.text)), \"fork_step\": \(step)}"
            )
        } else {
            out.line("\(run.id.text) \(run.name)  forked from \(parent.name) at step \(step)")
        }
    }
}

/// The lineage lines of `strata show`: parent (with the fork step), further ancestors, children.
func showLineage(_ store: Store, _ info: RunInfo, _ out: Output) {
    guard let tree = try? store.lineageTree(of: info.id) else { return }
    func link(_ l: Store.LineageTree.Link) -> String { "\(l.run.text) (\(l.name))" + (l.step.map { " at step \($0)" } ?? "") }
    if let p = tree.ancestors.first { out.line("parent    " + link(p) + (p.step == nil ? "" : ", forked")) }
    if tree.ancestors.count > 1 { out.line("lineage   " + tree.ancestors.dropFirst().map(link).joined(separator: " ← ")) }
    if !tree.children.isEmpty { out.line("children  " + tree.children.map(link).joined(separator: ", ")) }
}

import ArgumentParser
import Foundation
import Strata
import StrataInterop

// Run management, artifacts and deployments (issue 15): thin commands over the library
// (docs/CLI.md, "Run management" and "Artifacts and deployments").

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Manage a run after the fact: delete, restore, rename, move, tag, untag, note.",
        subcommands: [RunDelete.self, RunRestore.self, RunRename.self, RunMove.self, RunTag.self, RunUntag.self, RunNote.self])
}

/// Prints what a management command left a run as.
private func report(_ verb: String, _ info: RunInfo) {
    print("\(verb) \(info.name) (\(info.id.text))")
}

struct RunDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a run (hidden at once; `strata run restore` brings it back until compaction reclaims it).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        report("deleted", try store.deleteRun(runName))
    }
}

struct RunRestore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Bring a deleted run back.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Deleted run's name or id.", valueName: "run")) var runName: String
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        report("restored", try store.restoreRun(runName))
    }
}

struct RunRename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a run.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "The new name.") var newName: String
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        report("renamed", try store.renameRun(runName, to: newName))
    }
}

struct RunMove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "move", abstract: "Move a run to another project.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "The new project.") var project: String
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let info = try store.moveRun(runName, toProject: project)
        report("moved to project \(info.project):", info)
    }
}

struct RunTag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Add tags to a run.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "Tags to add.") var tags: [String]
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let info = try store.tagRun(runName, add: tags)
        report("tagged (\(info.tags.sorted().joined(separator: ", ")))", info)
    }
}

struct RunUntag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "untag", abstract: "Remove tags from a run.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "Tags to remove.") var tags: [String]
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let info = try store.tagRun(runName, remove: tags)
        report("untagged (\(info.tags.isEmpty ? "no tags" : info.tags.sorted().joined(separator: ", ")))", info)
    }
}

struct RunNote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note", abstract: "Set a run's note (or, with --purpose, its purpose statement); earlier versions stay in its history.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "The text (empty clears it).") var text: String
    @Flag(help: "Set the purpose statement instead of the note.") var purpose = false
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        report(purpose ? "purpose set for" : "note set for", try store.annotateRun(runName, text, purpose: purpose))
    }
}

// MARK: artifacts and deployments

struct ArtifactAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifact", abstract: "Record an artifact of a run: a reference (URI, SHA-256 digest, size), not the file.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run name or id.", valueName: "run")) var runName: String
    @Argument(help: "The artifact's name in the run, such as model.") var name: String
    @Option(help: "Where the bytes are.") var uri: String
    @Option(help: "SHA-256 of the bytes, 64 hexadecimal characters.") var digest: String
    @Option(help: "Size in bytes.") var size: Int64
    @Option(help: "model, checkpoint, dataset, eval-report or any word.") var kind = "model"
    @Option(help: "The step it belongs to.") var step: Int64?
    @Flag(help: "The run used it (a dataset) rather than produced it.") var input = false
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let a = try store.logArtifact(
            run: runName, name: name, uri: uri, digest: digest, size: size, kind: kind, role: input ? .input : .output, step: step)
        print("\(a.role == .input ? "input" : "artifact") \(a.name) \(a.digest) of run \(a.run.text)")
    }
}

struct Artifacts: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List artifacts (of a run, or with a digest).")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Only this run's artifacts.") var runName: String?
    @Option(help: "Only artifacts with this SHA-256 digest.") var digest: String?
    @Flag(help: "JSON output (one object a line).") var json = false
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let list = try store.artifacts(run: runName, digest: digest)
        if json {
            for a in list { print(artifactJSON(a)) }
            return
        }
        let names = Dictionary(uniqueKeysWithValues: ((try? store.runs()) ?? []).map { ($0.id, $0.name) })
        let rows = list.map { a in
            [names[a.run] ?? a.run.text, a.name, a.role.rawValue, a.kind, a.digest, String(a.size), a.step.map(String.init) ?? "", a.uri]
        }
        for l in renderTable(header: ["run", "name", "role", "kind", "digest", "size", "step", "uri"], rows: rows, maxWidth: 80) { print(l) }
    }
}

struct Deploy: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record that an artifact went into service in an environment.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("A SHA-256 digest, or RUN:NAME.", valueName: "artifact")) var artifact: String
    @Option(help: "The environment, such as prod.") var env: String
    @Option(help: "When (2026-11-03, 2026-11-03T12:00:00Z or milliseconds since 1970; now when not given).") var at: String?
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let ms = try at.map(parseWhen)
        let d = try store.deploy(artifact: artifact, environment: env, at: ms)
        print("deployed \(d.artifact) \(d.digest) of run \(d.run.text) to \(d.environment) at \(formatTime(d.atMs))")
    }
}

struct Deployments: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deployments (of an environment, of runs matching a filter, or the one in service at a time).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this environment.") var env: String?
    @Option(name: .customLong("where"), help: "Only artifacts of runs matching this filter (docs/FILTERS.md).") var filter: String?
    @Option(help: "Only the deployment in service at this time (needs --env).") var at: String?
    @Flag(help: "JSON output (one object a line).") var json = false
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        var list: [Deployment]
        if let at {
            guard let env else { throw CLIError("--at needs --env (the deployment in service in which environment?)") }
            list = try store.deployment(environment: env, at: try parseWhen(at)).map { [$0] } ?? []
        } else {
            list = try store.deployments(environment: env, where: try filter.map { try Filter($0) })
        }
        if json {
            for d in list { print(deploymentJSON(d)) }
            return
        }
        let names = Dictionary(uniqueKeysWithValues: ((try? store.runs()) ?? []).map { ($0.id, $0.name) })
        let rows = list.map { d in [formatTime(d.atMs), d.environment, names[d.run] ?? d.run.text, d.run.text, d.artifact, d.digest] }
        for l in renderTable(header: ["at", "env", "run", "run id", "artifact", "digest"], rows: rows, maxWidth: 80) { print(l) }
    }
}

/// Milliseconds since 1970 from `2026-11-03`, `2026-11-03T12:00:00Z` (or with a space) or a number.
func parseWhen(_ text: String) throws -> Int64 {
    if let ms = Int64(text) { return ms }
    let parts = text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "").split(separator: " ")
    let date = parts.first.map { $0.split(separator: "-").compactMap { Int32($0) } } ?? []
    let clock = parts.count > 1 ? parts[1].split(separator: ":").compactMap { Int32($0) } : []
    guard parts.count <= 2, date.count == 3, clock.count <= 3, (1...12).contains(date[1]), (1...31).contains(date[2]) else {
        throw CLIError("time \(jsonString(text)) is not a date (2026-11-03), a UTC time (2026-11-03T12:00:00Z) or milliseconds since 1970")
    }
    var t = tm()
    t.tm_year = date[0] - 1900
    t.tm_mon = date[1] - 1
    t.tm_mday = date[2]
    t.tm_hour = clock.count > 0 ? clock[0] : 0
    t.tm_min = clock.count > 1 ? clock[1] : 0
    t.tm_sec = clock.count > 2 ? clock[2] : 0
    return Int64(timegm(&t)) * 1000
}

func artifactJSON(_ a: Artifact) -> String {
    "{\"run\": \(jsonString(a.run.text)), \"name\": \(jsonString(a.name)), \"uri\": \(jsonString(a.uri)), \"digest\": \(jsonString(a.digest)), "
        + "\"size\": \(a.size), \"kind\": \(jsonString(a.kind)), \"role\": \(jsonString(a.role.rawValue)), \"step\": \(a.step.map(String.init) ?? "null"), "
        + "\"logged\": \(a.loggedMs), \"metadata\": \(jsonObject(a.metadata))}"
}

func deploymentJSON(_ d: Deployment) -> String {
    "{\"run\": \(jsonString(d.run.text)), \"artifact\": \(jsonString(d.artifact)), \"digest\": \(jsonString(d.digest)), "
        + "\"environment\": \(jsonString(d.environment)), \"at\": \(d.atMs), \"recorded\": \(d.recordedMs)}"
}

/// The management part of `strata show`: artifacts, deployments and the edit history.
func showManagement(_ info: RunInfo, _ out: Output) {
    out.line("artifacts" + (info.artifacts.isEmpty ? " -" : ""))
    for a in info.artifacts {
        var line = "  \(a.role == .input ? "input " : "")\(a.name)  \(a.kind)  \(a.digest)  \(a.size) bytes  \(a.uri)"
        if let s = a.step { line += "  step \(s)" }
        out.line(line)
    }
    if !info.deployments.isEmpty {
        out.line("deployments")
        for d in info.deployments { out.line("  \(formatTime(d.atMs))  \(d.environment)  \(d.artifact)  \(d.digest)") }
    }
    if !info.history.isEmpty {
        out.line("history")
        for e in info.history { out.line("  \(formatTime(e.atMs))  \(e.field.rawValue)\(e.value.isEmpty ? "" : " " + e.value)") }
    }
}

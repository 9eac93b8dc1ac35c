import Foundation
import Testing

@testable import Strata

/// Run resolution and the run-name rule live in the library (`Store.openRun`, `Limits.check(runName:)`):
/// the CLI's ingest and the server's batches both call them.
@Suite("Store.openRun: resolve or create, validated")
struct OpenRunTests {
    @Test(arguments: [
        ("", "default", "run name is empty"),
        ("a\u{7}b", "default", "run name \"a\u{7}b\" has a control character"),
        (String(repeating: "x", count: 201), "default", "is 201 bytes; the limit is 200"),
        ("ok", "", "project name is empty"),
        ("ok", "p\u{1}", "project name \"p\u{1}\" has a control character")
    ])
    func badNamesAreRefusedAndCreateNothing(name: String, project: String, message: String) throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        for open in [
            { try store.openRun(name: name, project: project) },
            { try store.openRun(id: "FROM-ELSEWHERE", name: name, project: project) }
        ] {
            do {
                _ = try open()
                Issue.record("\(name.debugDescription)/\(project.debugDescription) was accepted")
            } catch let e as StrataError {
                #expect(e.code == .invalidArgument)
                #expect(e.message.contains(message), "\(e.message)")
            }
        }
        // The rule the decoders use says the same.
        #expect(throws: StrataError.self) {
            try Limits.check(runName: name)
            try Limits.check(runName: project, what: "project name")
        }
        #expect(try store.runs().isEmpty)
        try store.close()
    }

    @Test func aNameResolvesToTheNewestRunOfThatNameElseCreatesIt() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let (a, createdA) = try store.openRun(name: "r", project: "p")
        let (b, createdB) = try store.openRun(name: "r", project: "p")
        #expect(createdA && !createdB)
        #expect(a.id == b.id)
        let newer = try store.createRun(name: "r")
        let (c, createdC) = try store.openRun(name: "r")
        #expect(!createdC && c.id == newer.id)
        #expect(try store.run(a.id.text).project == "p")
        try store.close()
    }

    @Test func anIdOfTheStoreIsThatRunAnOtherIdCreatesARun() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let existing = try store.createRun(name: "first")
        try existing.finish()
        // This store's id, in any case: that run, resumed (its name stays).
        let (same, created) = try store.openRun(id: existing.id.text.lowercased(), name: "other name", project: "default")
        #expect(!created && same.id == existing.id)
        #expect(try store.run(existing.id.text).status == .running)
        #expect(try store.run(existing.id.text).name == "first")
        // An id from elsewhere (well-formed or not): a new run named `name`, else named by the id.
        let foreign = RunID.generate().text
        let (named, c1) = try store.openRun(id: foreign, name: "copied", project: "imports")
        #expect(c1 && named.id.text != foreign && named.name == "copied")
        #expect(try store.run(named.id.text).project == "imports")
        let (byId, c2) = try store.openRun(id: "not-a-run-id", name: nil)
        #expect(c2 && byId.name == "not-a-run-id")
        #expect(try store.runs().count == 3)
        try store.close()
    }
}

import Foundation
import Testing

@testable import Strata
@testable import StrataServer

/// Token files are written through the library's I/O layer: every write and sync (of the files
/// and of the store directory that names them) is checked, so a failing disk is an error, never a
/// token that may vanish after a crash.
@Suite(.serialized) struct TokenFileTests {
    /// `create` syncs the marker, the directory, the token file, the directory: each failure in turn.
    @Test(arguments: 1...4)
    func eachFailedSyncOfCreateIsAnError(nth: Int) throws {
        let t = try TempStore()
        let rule = FaultInjection.add(.init(.fsync, nth: nth, errno: EIO, pathContains: t.path))
        defer { FaultInjection.remove(rule) }
        do {
            _ = try Tokens.create(store: t.path, scope: .write, name: "ci")
            Issue.record("fsync \(nth) failed silently")
        } catch {
            #expect(error.status == 500)
            #expect(error.message.contains("cannot sync"), "\(error.message)")
            #expect(error.message.contains("Input/output error"), "\(error.message)")
        }
        #expect(FaultInjection.fired(rule) == 1)
        FaultInjection.remove(rule)
        // Once the disk works again, the same name can be created (or was, before the failure).
        let names = try Tokens.list(store: t.path).map(\.name)
        if !names.contains("ci") { _ = try Tokens.create(store: t.path, scope: .write, name: "ci") }
        #expect(try Tokens.list(store: t.path).map(\.name) == ["ci"])
    }

    @Test func aFullDiskWhileAppendingIsAnError() throws {
        let t = try TempStore()
        _ = try Tokens.create(store: t.path, scope: .read, name: "first")
        let rule = FaultInjection.add(.init(.write, errno: ENOSPC, pathContains: Tokens.path(store: t.path)))
        defer { FaultInjection.remove(rule) }
        #expect {
            _ = try Tokens.create(store: t.path, scope: .write, name: "second")
        } throws: { error in
            guard let e = error as? APIError else { return false }
            return e.status == 500 && e.message.contains("cannot write") && e.message.contains("No space left on device")
        }
    }

    @Test func revokeChecksTheSyncOfTheRewrittenFile() throws {
        let t = try TempStore()
        _ = try Tokens.create(store: t.path, scope: .read, name: "a")
        _ = try Tokens.create(store: t.path, scope: .read, name: "b")
        let rule = FaultInjection.add(.init(.fsync, errno: EIO, pathContains: ".tmp-"))
        defer { FaultInjection.remove(rule) }
        #expect(throws: APIError.self) { try Tokens.revoke(store: t.path, name: "a") }
        FaultInjection.remove(rule)
        #expect(try Tokens.list(store: t.path).map(\.name) == ["a", "b"], "the old file stays whole")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).allSatisfy { !$0.contains(".tmp-") })
    }
}

import Foundation
import Strata
import Testing

@testable import StrataServer

/// The key table behind `Idempotency-Key` (docs/API.md, "Retries and idempotency keys").
@Suite struct IdempotencyTests {
    static let a = [UInt8](repeating: 1, count: 32), b = [UInt8](repeating: 2, count: 32)

    @Test func inProgressOtherBodyReplayAndExpiry() throws {
        let t = try TempStore()
        let keys = IdempotencyKeys(store: t.store)
        let now: Int64 = 1_800_000_000_000
        guard case .apply = keys.start("k", digest: Self.a, nowMs: now) else { Issue.record("first use must apply"); return }
        guard case .inProgress = keys.start("k", digest: Self.a, nowMs: now) else { Issue.record("a retry while applying is 409"); return }
        guard case .otherBody = keys.start("k", digest: Self.b, nowMs: now) else { Issue.record("another body is 422"); return }
        keys.finish(BatchCommit(key: "k", digest: Self.a, committedMs: now, response: Array("x".utf8)))
        guard case .replay(let c) = keys.start("k", digest: Self.a, nowMs: now + 1000) else { Issue.record("a retry after commit replays"); return }
        #expect(c.response == Array("x".utf8))
        guard case .otherBody = keys.start("k", digest: Self.b, nowMs: now + 1000) else { Issue.record("another body after commit is 422"); return }
        // Forgotten after the documented age: applied again.
        guard case .apply = keys.start("k", digest: Self.a, nowMs: now + IdempotencyKeys.maxAgeMs + 1) else {
            Issue.record("an expired key applies again"); return
        }
        keys.abandon("k")
        guard case .apply = keys.start("k", digest: Self.b, nowMs: now + IdempotencyKeys.maxAgeMs + 1) else {
            Issue.record("an abandoned key is free"); return
        }
    }

    @Test func keepsTheNewestKeysUpToTheBound() throws {
        let t = try TempStore()
        let keys = IdempotencyKeys(store: t.store)
        let now: Int64 = 1_800_000_000_000
        for i in 0...IdempotencyKeys.maxKeys { keys.finish(BatchCommit(key: "k\(i)", digest: Self.a, committedMs: now, response: [])) }
        guard case .apply = keys.start("k0", digest: Self.a, nowMs: now) else { Issue.record("the oldest key beyond the bound is forgotten"); return }
        guard case .replay = keys.start("k1", digest: Self.a, nowMs: now) else { Issue.record("the newest keys are kept"); return }
        guard case .replay = keys.start("k\(IdempotencyKeys.maxKeys)", digest: Self.a, nowMs: now) else {
            Issue.record("the newest key is kept"); return
        }
    }

    @Test func keysSurviveAReopenedStore() throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "r")
        var batch = AtomicBatch()
        batch.log(try run.metrics(["loss"]), step: 1, values: [0.5])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try t.store.log(batch, commit: BatchCommit(key: "kept", digest: Self.a, committedMs: now, response: Array("{}".utf8)))
        try t.store.checkpoint()  // the log is cut: the key lives on in a key file
        let reopened = try Store.open(at: t.path)
        defer { try? reopened.close() }
        let keys = IdempotencyKeys(store: reopened)
        guard case .replay = keys.start("kept", digest: Self.a, nowMs: now) else { Issue.record("a committed key is loaded at start"); return }
        #expect(try reopened.points(run.id, "loss").count == 1)
    }
}

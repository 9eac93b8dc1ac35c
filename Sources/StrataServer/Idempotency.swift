import Foundation
import Strata

/// The idempotency keys of ingest batches this store committed recently, so a retried batch is
/// applied once (docs/API.md, "Retries and idempotency keys").
///
/// Committed keys are durable in the store (each batch's commit record, then the key files of cut
/// logs) and loaded when the server starts; this table adds the keys being applied right now.
/// Kept: the newest `maxKeys` keys of the last `maxAgeMs`. A key older than that is forgotten:
/// sent again, its batch is applied again.
final class IdempotencyKeys: @unchecked Sendable {
    // @unchecked Sendable: every field is touched only under `lock`.
    static let maxKeys = 100_000
    static let maxAgeMs: Int64 = 24 * 3600 * 1000
    static let maxKeyBytes = 200

    private let lock = Lock()
    private var committed: [String: BatchCommit] = [:]
    /// Keys in commit order, for dropping the oldest beyond `maxKeys`.
    private var order: [String] = []
    private var orderStart = 0
    private var inFlight: [String: [UInt8]] = [:]

    init(store: Store) {
        let since = Clock.milliseconds() - Self.maxAgeMs
        for c in (try? store.batchCommits(sinceMs: since)) ?? [] where !c.key.isEmpty { remember(c) }
    }

    enum Start {
        /// Apply the batch, then call `finish` (or `abandon` if it failed).
        case apply
        /// Already applied: answer this again.
        case replay(BatchCommit)
        /// The same key is being applied right now.
        case inProgress
        /// The key was used for a batch with another body.
        case otherBody
    }

    /// Checks a key in, or says why the batch must not be applied.
    func start(_ key: String, digest: [UInt8], nowMs: Int64) -> Start {
        lock.withLock {
            if let c = committed[key], c.committedMs >= nowMs - Self.maxAgeMs {
                return c.digest == digest ? .replay(c) : .otherBody
            }
            if let d = inFlight[key] { return d == digest ? .inProgress : .otherBody }
            inFlight[key] = digest
            return .apply
        }
    }

    func finish(_ commit: BatchCommit) {
        lock.withLock {
            inFlight[commit.key] = nil
            remember(commit)
        }
    }

    func abandon(_ key: String) {
        lock.withLock {
            inFlight[key] = nil
        }
    }

    /// Under the lock (or from `init`).
    private func remember(_ c: BatchCommit) {
        if committed.updateValue(c, forKey: c.key) == nil { order.append(c.key) }
        while order.count - orderStart > Self.maxKeys {
            committed[order[orderStart]] = nil
            orderStart += 1
        }
        if orderStart > 4096 && orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }

    /// The `Idempotency-Key` header: absent, or 1–200 visible ASCII characters.
    static func key(_ value: String?) throws(APIError) -> String? {
        guard let value else { return nil }
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= maxKeyBytes, bytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            throw APIError(400, "Idempotency-Key must be 1 to \(maxKeyBytes) visible ASCII characters (no spaces)", field: "Idempotency-Key")
        }
        return value
    }
}

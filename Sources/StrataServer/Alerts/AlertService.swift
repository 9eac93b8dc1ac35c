import Foundation
import NIOCore
import Strata
import StrataInterop

/// Alerts in `strata serve`: the evaluator fed by ingest, a one-second timer (rule changes,
/// stalled runs), and webhook delivery with retries and backoff (docs/API.md, "Alerts").
///
/// Delivery is at-least-once: an event is recorded (fsynced) before it is posted, and marked
/// delivered after a 2xx answer; events not marked delivered are posted again by a restarted
/// server. Receivers deduplicate by the event's `id`.
final class AlertService: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `running` are touched only under `lock`; the evaluator is thread-safe.
    let store: Store
    let evaluator: AlertEvaluator?
    private let lock = Lock()
    private var queue: [Pending] = []
    private var delivering = false

    struct Pending {
        var event: AlertEvent
        var url: String
        var attempts = 0
        var notBeforeNs: UInt64 = 0
    }

    /// First retry after this; doubled per attempt up to `maxBackoff`.
    static let firstBackoff: Double = 0.5
    static let maxBackoff: Double = 60

    init(store: Store) {
        self.store = store
        do {
            evaluator = try AlertEvaluator(store: store, persist: true)
        } catch {
            FileHandle.standardError.write(Data("strata: alerts are off: \(error)\n".utf8))
            evaluator = nil
        }
    }

    /// Starts the timer and posts the events a previous server left undelivered.
    func start() {
        guard evaluator != nil else { return }
        if let pending = try? store.undeliveredAlertEvents() {
            enqueue(pending.map { Pending(event: $0.event, url: $0.webhook) })
        }
        Task.detached { [weak self] in
            while true {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                guard let self else { return }
                self.tick()
            }
        }
    }

    func tick() {
        guard let evaluator else { return }
        do { deliver(try evaluator.tick()) } catch  where error.code == .closed {
        } catch {
            FileHandle.standardError.write(Data("strata: alert timer: \(error)\n".utf8))
        }
    }

    /// Evaluates points ingested (after they are stored) and queues the events for delivery.
    func observe(_ columns: [AlertColumn]) {
        guard let evaluator, !columns.isEmpty else { return }
        do { deliver(try evaluator.observe(columns: columns)) } catch {
            FileHandle.standardError.write(Data("strata: recording an alert event failed: \(error)\n".utf8))
        }
    }

    /// Takes a rule added or removed by this server into account at once (the next batch is
    /// evaluated with it); rules changed by other processes are read by the one-second timer.
    func rulesChanged() {
        do { try evaluator?.reloadRules() } catch {
            FileHandle.standardError.write(Data("strata: reading the alert rules failed: \(error)\n".utf8))
        }
    }

    /// Queues events whose rule has a webhook.
    func deliver(_ events: [AlertEvent]) {
        if events.isEmpty { return }
        let hooks = Dictionary((evaluator?.activeRules ?? []).compactMap { r in r.webhook.map { (r.id, $0) } }, uniquingKeysWith: { a, _ in a })
        enqueue(events.compactMap { e in hooks[e.rule].map { Pending(event: e, url: $0) } })
    }

    private func enqueue(_ items: [Pending]) {
        if items.isEmpty { return }
        let start = lock.withLock { () -> Bool in
            queue += items
            if delivering { return false }
            delivering = true
            return true
        }
        if start { Task.detached { [self] in await self.drain() } }
    }

    /// Posts queued events in order, each until a 2xx answer, with backoff between attempts.
    private func drain() async {
        while true {
            let next = lock.withLock { () -> Pending? in
                guard let first = queue.first else {
                    delivering = false
                    return nil
                }
                return first
            }
            guard var p = next else { return }
            let now = Clock.monotonicNanoseconds()
            if p.notBeforeNs > now { try? await Task.sleep(nanoseconds: p.notBeforeNs - now) }
            var body = JSONOut()
            let rule = evaluator?.activeRules.first { $0.id == p.event.rule }
            body.alertEvent(p.event, rule: rule)
            let ok: Bool
            do {
                let status = try await WebhookClient.post(p.url, body: body.bytes)
                ok = (200..<300).contains(status)
                if !ok { FileHandle.standardError.write(Data("strata: webhook \(p.url) answered \(status) for alert event \(p.event.id)\n".utf8)) }
            } catch {
                ok = false
                if p.attempts == 0 {
                    FileHandle.standardError.write(Data("strata: webhook \(p.url) failed for alert event \(p.event.id): \(error); retrying\n".utf8))
                }
            }
            if ok { try? store.recordAlertDelivered(p.event.id) }
            lock.withLock {
                guard !queue.isEmpty else { return }
                if ok {
                    queue.removeFirst()
                } else {
                    p.attempts += 1
                    let delay = min(Self.maxBackoff, Self.firstBackoff * pow(2, Double(min(p.attempts - 1, 20))))
                    p.notBeforeNs = Clock.monotonicNanoseconds() + UInt64(delay * 1e9)
                    // The next event goes first (one dead receiver does not hold back the others).
                    queue.removeFirst()
                    queue.append(p)
                }
            }
        }
    }
}

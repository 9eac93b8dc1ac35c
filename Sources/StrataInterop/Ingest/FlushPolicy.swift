import Strata

/// Keeps the input durable: flush every `everyLines` lines and whenever input pauses.
public final class FlushPolicy {
    /// The store flushed.
    public let store: Store
    /// Most lines between flushes.
    public let everyLines: Int
    /// Longest time between flushes while lines arrive, in milliseconds.
    public let everyMs: Int64
    /// Lines handled since the last flush.
    public private(set) var unflushed = 0
    private var last = monotonicMs()

    /// Flushes `store` every `everyLines` lines (at least 1) or `everyMs` milliseconds.
    public init(store: Store, everyLines: Int, everyMs: Int64) {
        self.store = store
        self.everyLines = max(1, everyLines)
        self.everyMs = everyMs
    }

    /// Counts a line; flushes when `everyLines` lines or `everyMs` passed since the last flush.
    public func lineDone() throws {
        unflushed += 1
        if unflushed >= everyLines || monotonicMs() - last >= everyMs { try flush() }
    }

    /// Makes every line so far durable.
    public func flush() throws {
        if unflushed == 0 { return }
        try store.flush()
        unflushed = 0
        last = monotonicMs()
    }
}

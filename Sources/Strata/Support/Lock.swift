import Synchronization

/// A mutual-exclusion lock guarding state that lives outside it (in the owning object), over the
/// standard library's `Synchronization.Mutex`. Where the guarded state can live inside the lock,
/// prefer a `Mutex<State>` itself.
package final class Lock: Sendable {
    private let mutex = Mutex(())

    package init() {}

    @inline(__always)
    package func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try mutex.withLock { (_: inout ()) throws(E) -> T in try body() }
    }
}

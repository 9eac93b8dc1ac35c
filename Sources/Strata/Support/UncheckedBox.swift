/// Carries a value that is not `Sendable` across a concurrency boundary whose safety the compiler
/// cannot see: a job handed to a worker thread that is the only one touching the value while it runs
/// (the log writer's background cut, the cross-run query workers over verified, read-only segments).
///
/// Each use site says in a comment why the hand-over is safe; prefer a `Sendable` type where one fits.
struct UncheckedBox<T>: @unchecked Sendable {
    // @unchecked Sendable: each user hands the value to exactly one other thread, or to workers
    // that only read it; see the comment at the use site.
    let value: T
    init(_ value: T) { self.value = value }
}

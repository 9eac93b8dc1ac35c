#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seam in `Sys` for tests: makes chosen calls of a file operation fail with a chosen `errno`
/// (a full disk, an I/O error) without touching the disk.
///
/// Off unless a test arms it (or the process starts with `STRATA_TEST_FAULTS`, for tests that run
/// the `strata` binary): each guarded call then costs one relaxed atomic load. Rules count only
/// calls whose path contains `pathContains`, so tests running in parallel in one process do not
/// consume each other's faults.
///
/// `STRATA_TEST_FAULTS` holds rules separated by `;`, each `OP:NTH:ERRNO[:TIMES[:PATH]]`, for
/// example `fallocate:1:ENOSPC:0:/tmp/s` (every fallocate under /tmp/s fails with ENOSPC; TIMES 0
/// means until the process ends).
enum FaultInjection {
    enum Operation: String, CaseIterable, Sendable {
        case write, pwrite, fsync, fallocate, ftruncate
    }

    struct Rule: Sendable {
        var operation: Operation
        /// The first failing call, counting from 1 the calls this rule matches.
        var nth: Int
        var errno: Int32
        /// How many calls fail from the `nth` on (nil: every later call, until cleared).
        var times: Int?
        /// Only calls whose path contains this count (nil: every call).
        var pathContains: String?
        fileprivate var seen = 0
        /// How many calls this rule made fail so far.
        fileprivate(set) var fired = 0

        init(_ operation: Operation, nth: Int = 1, errno: Int32 = ENOSPC, times: Int? = 1, pathContains: String? = nil) {
            self.operation = operation
            self.nth = nth
            self.errno = errno
            self.times = times
            self.pathContains = pathContains
        }
    }

    /// The single check on the hot path. Written only under `lock`; read without it (a stale
    /// read only delays a rule's first effect to the next call, which then takes the lock).
    nonisolated(unsafe) private static var armed = false
    private static let lock = Lock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private static var rules: [Int: Rule] = [:]
    nonisolated(unsafe) private static var nextId = 1

    @inline(__always)
    static var isArmed: Bool { armed }

    /// Adds a rule; returns its id (for `remove` and `fired`).
    @discardableResult
    static func add(_ rule: Rule) -> Int {
        lock.withLock {
            let id = nextId
            nextId += 1
            rules[id] = rule
            armed = true
            return id
        }
    }

    /// Removes a rule (the fault clears: later calls succeed).
    static func remove(_ id: Int) {
        lock.withLock {
            rules[id] = nil
            if rules.isEmpty { armed = false }
        }
    }

    /// How many calls a rule has made fail.
    static func fired(_ id: Int) -> Int { lock.withLock { rules[id]?.fired ?? 0 } }

    /// Whether this call fails, and with which errno. Called only when armed.
    static func fault(_ op: Operation, _ path: String) -> Int32? {
        lock.withLock { () -> Int32? in
            var result: Int32?
            for id in rules.keys.sorted() {
                var r = rules[id]!
                guard r.operation == op, r.pathContains.map({ path.contains($0) }) ?? true else { continue }
                r.seen += 1
                if result == nil, r.seen >= r.nth, r.times.map({ r.seen < r.nth + $0 }) ?? true {
                    r.fired += 1
                    result = r.errno
                }
                rules[id] = r
            }
            return result
        }
    }

    /// Guarded by `lock`.
    nonisolated(unsafe) private static var loadedEnvironment = false

    /// Reads `STRATA_TEST_FAULTS` once per process (called when a store is opened).
    static func loadEnvironment() {
        let first = lock.withLock { () -> Bool in
            defer { loadedEnvironment = true }
            return !loadedEnvironment
        }
        guard first else { return }
        guard let text = Sys.environment("STRATA_TEST_FAULTS"), !text.isEmpty else { return }
        for spec in text.split(separator: ";") {
            let parts = spec.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3, let op = Operation(rawValue: parts[0]), let nth = Int(parts[1]), nth >= 1,
                let err = errnoNamed(parts[2])
            else { continue }
            let times = parts.count > 3 ? Int(parts[3]) : 1
            add(Rule(op, nth: nth, errno: err, times: times == 0 ? nil : times, pathContains: parts.count > 4 ? parts[4] : nil))
        }
    }

    static func errnoNamed(_ name: String) -> Int32? {
        switch name {
        case "ENOSPC": return ENOSPC
        case "EIO": return EIO
        case "EDQUOT": return EDQUOT
        case "EROFS": return EROFS
        case "EOPNOTSUPP": return EOPNOTSUPP
        default: return Int32(name)
        }
    }
}

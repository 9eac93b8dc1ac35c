/// `catalog.lock`: orders the catalog changes that must be atomic across processes.
///
/// Held exclusively, briefly, by whoever resolves a run by name (read the catalog's newest
/// records, then create the run if it is missing) and by whoever records a rewind (take the
/// rewind's sequence, then append it). Held shared by whoever fixes a "rewind epoch" (a log cut,
/// recovery, compaction): the epoch is read from the clock and the catalog is read under the lock,
/// so every rewind with a sequence at or before the epoch is in what was read, and every rewind
/// recorded later has a larger sequence. See docs/FORMAT.md, "Rewinds".
enum CatalogLock {
    static func with<T>(_ paths: StorePaths, exclusive: Bool, _ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        let fd = try Sys.open(paths.catalogLock, .readWrite, .create)
        defer { Sys.close(fd) }
        if exclusive { try Sys.lockExclusive(fd, paths.catalogLock) } else { try Sys.lockShared(fd, paths.catalogLock) }
        defer { Sys.unlock(fd) }
        return try body()
    }

    /// A clock reading strictly later than every reading taken before this call returns: a
    /// sequence taken under the lock, then made unique so a reading taken after the lock is
    /// released is larger.
    static func uniqueNow() -> Int64 {
        let t = Clock.nanoseconds()
        while Clock.nanoseconds() <= t {}
        return t
    }
}

/// The "rewind epoch" of a segment being written: a time such that every rewind with a sequence at
/// or before it is in the catalog as read now, and every rewind recorded later has a larger
/// sequence. The writer of the segment applies the rewinds up to the epoch to its points; readers
/// apply later rewinds to the whole segment (its points were all logged before the epoch).
enum RewindEpoch {
    static func fix(_ paths: StorePaths, _ catalog: Catalog) throws(StrataError) -> Int64 {
        try CatalogLock.with(paths, exclusive: false) { () throws(StrataError) -> Int64 in
            let epoch = CatalogLock.uniqueNow()
            try catalog.refresh()
            return epoch
        }
    }
}

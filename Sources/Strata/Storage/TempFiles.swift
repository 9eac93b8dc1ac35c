/// Temporary files of writers that died: a segment, log or small file being written under
/// `tmp/` when its process was killed. Each is named `<pid>-<ns>-<random><suffix>` and stays
/// `flock`ed by its writer from creation until it is renamed into place, so a file is stale only
/// when its lock can be taken and its process is gone. A live writer between creating its file
/// and locking it is protected by the process check; a file of a process whose pid was reused is
/// left for a later open.
enum TempFiles {
    /// Removes the stale temporary files of `paths.tmp`; returns their names. Best effort: a file
    /// that cannot be checked or removed is left alone.
    @discardableResult
    static func removeStale(_ paths: StorePaths) -> [String] {
        var removed: [String] = []
        for name in (try? Sys.list(paths.tmp)) ?? [] where name.hasSuffix(".tmp") {
            guard let dash = name.firstIndex(of: "-"), let pid = Int32(name[..<dash]), pid > 0,
                !Sys.processExists(pid)
            else { continue }
            let path = paths.tmp + "/" + name
            guard let fd = try? Sys.open(path, .readOnly, .nonBlocking) else { continue }
            defer { Sys.close(fd) }
            guard (try? Sys.tryLockExclusive(fd, path)) == true else { continue }
            if (try? Sys.unlink(path)) != nil { removed.append(name) }
            Sys.unlock(fd)
        }
        return removed
    }
}

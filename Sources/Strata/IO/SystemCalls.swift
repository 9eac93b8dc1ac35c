#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the system calls Strata uses. Each retries on `EINTR`, captures `errno`
/// at once and throws a `StrataError` naming the path. No other file issues raw syscalls
/// except `MappedFile` and `LogMapping` (memory maps).
enum Sys {
    static func error(_ what: String, _ path: String, _ err: Int32 = errno) -> StrataError {
        let text = String(cString: strerror(err))
        return StrataError(.io, "\(what) failed: \(text)", path: path, errno: err)
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(StrataError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw error("open", path)
        }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    static func fileSize(_ fd: Int32, _ path: String) throws(StrataError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("fstat", path) }
        return Int(st.st_size)
    }

    /// Modification time in nanoseconds since 1970.
    static func modificationNs(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }

    /// Kind of the thing at `path`: nil when absent.
    enum Kind { case file, directory, other }
    static func kind(_ path: String) -> Kind? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String) throws(StrataError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += n
        }
    }

    static func pread(_ fd: Int32, _ dst: UnsafeMutableRawBufferPointer, at offset: Int, _ path: String) throws(StrataError) -> Int {
        var done = 0
        while done < dst.count {
            let n = Glibc.pread(fd, dst.baseAddress! + done, dst.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("read", path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func readFile(_ path: String) throws(StrataError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path)
        var out = [UInt8](repeating: 0, count: size)
        let n = try typed { try out.withUnsafeMutableBytes { buf in try pread(fd, buf, at: 0, path) } }
        if n < size { out.removeLast(size - n) }
        return out
    }

    static func fsync(_ fd: Int32, _ path: String) throws(StrataError) {
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw error("fsync", path)
        }
    }

    static func fsyncDirectory(_ path: String) throws(StrataError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path)
    }

    static func ftruncate(_ fd: Int32, _ size: Int, _ path: String) throws(StrataError) {
        while Glibc.ftruncate(fd, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw error("ftruncate", path)
        }
    }

    static func rename(_ from: String, _ to: String) throws(StrataError) {
        guard Glibc.rename(from, to) == 0 else { throw error("rename to \(to)", from) }
    }

    /// Removes a file; a file already gone is not an error.
    static func unlink(_ path: String) throws(StrataError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw error("unlink", path) }
    }

    static func mkdir(_ path: String) throws(StrataError) {
        if Glibc.mkdir(path, 0o755) != 0 && errno != EEXIST { throw error("mkdir", path) }
    }

    /// Creates `path` and its missing parents.
    static func mkdirs(_ path: String) throws(StrataError) {
        if kind(path) == .directory { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if kind(prefix) == nil { try mkdir(prefix) }
        }
    }

    /// Names in a directory, without "." and "..".
    static func list(_ path: String) throws(StrataError) -> [String] {
        guard let dir = opendir(path) else { throw error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Takes an advisory exclusive lock without waiting; false when another process holds it.
    static func tryLockExclusive(_ fd: Int32, _ path: String) throws(StrataError) -> Bool {
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw error("flock", path)
        }
    }

    /// Takes an advisory exclusive lock, waiting for it.
    static func lockExclusive(_ fd: Int32, _ path: String) throws(StrataError) {
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw error("flock", path)
        }
    }

    /// Takes an advisory shared lock, waiting for it.
    static func lockShared(_ fd: Int32, _ path: String) throws(StrataError) {
        while flock(fd, LOCK_SH) != 0 {
            if errno == EINTR { continue }
            throw error("flock", path)
        }
    }

    static func unlock(_ fd: Int32) { _ = flock(fd, LOCK_UN) }

    /// Writes a whole file atomically: temporary name, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String) throws(StrataError) {
        let tmp = tmpDir + "/" + uniqueName(suffix: ".tmp")
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_EXCL)
        do {
            try typed { try bytes.withUnsafeBytes { b in try writeAll(fd, b, tmp) } }
            try fsync(fd, tmp)
            close(fd)
            try rename(tmp, path)
            try fsyncDirectory(parent(of: path))
        } catch {
            close(fd)
            try? unlink(tmp)
            throw error
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static var pid: Int32 { getpid() }

    /// A name unique across processes and time: pid, nanoseconds and a random number.
    static func uniqueName(suffix: String) -> String {
        "\(getpid())-\(Clock.nanoseconds())-\(UInt32.random(in: 0 ... .max))\(suffix)"
    }
}

/// Wall and monotonic clocks.
enum Clock {
    static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
    static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

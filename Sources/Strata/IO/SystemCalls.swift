#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Thin wrappers over the system calls Strata uses. Each retries on `EINTR`, captures `errno`
/// at once and throws a `StrataError` naming the path. No other file issues raw syscalls
/// except `MappedFile` and `LogMapping` (memory maps).
enum Sys {
    static func error(_ what: String, _ path: String, _ err: Int32 = errno) -> StrataError {
        if err == ENOSPC || err == EDQUOT {
            // Said plainly (strerror says "No space left on device" / "Disk quota exceeded").
            let why = err == ENOSPC ? "no space left on device" : "disk quota exceeded"
            return StrataError(.noSpace, "\(why): \(what) failed", path: path, errno: err)
        }
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
            if FaultInjection.isArmed, let e = FaultInjection.fault(.write, path) {
                // As a disk that fills mid-write: half the bytes land, then the error.
                _ = Glibc.write(fd, bytes.baseAddress! + done, (bytes.count - done) / 2)
                throw error("write", path, e)
            }
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += n
        }
    }

    /// Writes all of `bytes` at `offset`.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, _ path: String) throws(StrataError) {
        var done = 0
        while done < bytes.count {
            if FaultInjection.isArmed, let e = FaultInjection.fault(.pwrite, path) {
                _ = Glibc.pwrite(fd, bytes.baseAddress! + done, (bytes.count - done) / 2, off_t(offset + done))
                throw error("write", path, e)
            }
            let n = Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += n
        }
    }

    /// Gives `offset..<offset+length` of a file real blocks, so that writing there (through a
    /// memory map too) never needs space the disk may not have: a full disk is an error here
    /// (`.noSpace`) instead of SIGBUS later. Where the filesystem cannot preallocate, the range is
    /// written with zeros, which allocates it just the same.
    static func allocate(_ fd: Int32, _ offset: Int, _ length: Int, _ path: String) throws(StrataError) {
        if length <= 0 { return }
        while true {
            // posix_fallocate returns the error number (it does not set errno).
            let injected = FaultInjection.isArmed ? FaultInjection.fault(.fallocate, path) : nil
            let r = injected ?? posix_fallocate(fd, off_t(offset), off_t(length))
            if r == 0 { return }
            if r == EINTR { continue }
            if r == EOPNOTSUPP || r == ENOSYS || r == EINVAL { break }
            throw error("fallocate", path, r)
        }
        let zeros = [UInt8](repeating: 0, count: min(length, 1 << 20))
        var at = offset
        while at < offset + length {
            let n = min(zeros.count, offset + length - at)
            try typed { try zeros.withUnsafeBytes { z in try pwriteAll(fd, UnsafeRawBufferPointer(rebasing: z[0..<n]), at: at, path) } }
            at += n
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
        if FaultInjection.isArmed, let e = FaultInjection.fault(.fsync, path) { throw error("fsync", path, e) }
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
        if FaultInjection.isArmed, let e = FaultInjection.fault(.ftruncate, path) { throw error("ftruncate", path, e) }
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

    /// Creates a temporary file under `dir`, locked (`flock`) for the life of the descriptor so that
    /// `TempFiles.removeStale` never takes a live writer's file: rename it into place before closing.
    static func createTemporary(in dir: String, suffix: String, flags: Int32 = O_WRONLY) throws(StrataError) -> (fd: Int32, path: String) {
        let path = dir + "/" + uniqueName(suffix: suffix)
        let fd = try open(path, flags | O_CREAT | O_EXCL)
        do throws(StrataError) {
            guard try tryLockExclusive(fd, path) else { throw StrataError(.io, "could not lock a new temporary file", path: path) }
        } catch {
            close(fd)
            try? unlink(path)
            throw error
        }
        return (fd, path)
    }

    /// Writes a whole file atomically: temporary name, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String) throws(StrataError) {
        let (fd, tmp) = try createTemporary(in: tmpDir, suffix: ".tmp")
        do {
            try typed { try bytes.withUnsafeBytes { b in try writeAll(fd, b, tmp) } }
            try fsync(fd, tmp)
            try rename(tmp, path)
        } catch {
            close(fd)
            try? unlink(tmp)
            throw error
        }
        close(fd)
        try fsyncDirectory(parent(of: path))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static var pid: Int32 { getpid() }

    /// The value of the environment variable `name`; nil when unset or not valid UTF-8.
    package static func environment(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(validatingCString: raw)
    }

    /// This machine's host name; nil when the system does not say.
    static func hostname() -> String? {
        var host = [CChar](repeating: 0, count: 256)
        guard gethostname(&host, host.count - 1) == 0 else { return nil }
        let bytes = host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

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

import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The one I/O layer of Strata, its CLI and its server: every system call goes through here.
///
/// Built on swift-system where it has the call (`FileDescriptor` open, read, write, positioned
/// read and write, resize, stat, close; `Errno`), with EINTR retried (`retryOnInterrupt`). Glibc is
/// called directly only for what swift-system lacks (fsync, posix_fallocate, flock, rename, unlink,
/// mkdir, directory listing, poll, gethostname, getenv, clocks), and only in this file; memory maps
/// live in `MappedFile` and `LogMapping`. Every failure throws a `StrataError` naming the path, with
/// the `Errno` as its `cause` and `errno`.
///
/// Descriptors are plain `Int32` (`FileDescriptor.rawValue`) so that callers need not import
/// swift-system; the open flags are the usual `O_*` constants.
package enum Sys {
    /// The error for a failed call: `.noSpace` for ENOSPC and EDQUOT, else `.io`.
    static func error(_ what: String, _ path: String, _ err: Int32 = errno) -> StrataError {
        error(what, path, Errno(rawValue: err))
    }

    static func error(_ what: String, _ path: String, _ err: Errno) -> StrataError {
        if err == .noSpace || err.rawValue == EDQUOT {
            // Said plainly (strerror says "No space left on device" / "Disk quota exceeded").
            let why = err == .noSpace ? "no space left on device" : "disk quota exceeded"
            return StrataError(.noSpace, "\(why): \(what) failed", path: path, errno: err.rawValue, cause: err)
        }
        return StrataError(.io, "\(what) failed: \(reason(err.rawValue))", path: path, errno: err.rawValue, cause: err)
    }

    /// The system's sentence for an error number ("No such file or directory").
    package static func reason(_ err: Int32) -> String { String(cString: strerror(err)) }

    /// Runs a swift-system call, turning the `Errno` it throws into a `StrataError`.
    @inline(__always)
    static func call<R>(_ what: String, _ path: String, _ body: () throws -> R) throws(StrataError) -> R {
        do {
            return try body()
        } catch let e as Errno {
            throw error(what, path, e)
        } catch {
            throw StrataError(.io, "\(what) failed: \(error)", path: path, cause: error)
        }
    }

    /// Opens `path` with `O_*` flags (close-on-exec always added); EINTR is retried.
    package static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(StrataError) -> Int32 {
        let access = FileDescriptor.AccessMode(rawValue: flags & O_ACCMODE)
        let options = FileDescriptor.OpenOptions(rawValue: (flags & ~O_ACCMODE) | O_CLOEXEC)
        return try call("open", path) {
            try FileDescriptor.open(FilePath(path), access, options: options, permissions: FilePermissions(rawValue: mode)).rawValue
        }
    }

    /// `open` with swift-system's access mode and options (close-on-exec always), so that callers
    /// need no libc constants: `Sys.open(path, .readWrite, [.create, .exclusiveCreate])`.
    package static func open(
        _ path: String, _ access: FileDescriptor.AccessMode, _ options: FileDescriptor.OpenOptions = [], permissions: mode_t = 0o644
    ) throws(StrataError) -> Int32 {
        try open(path, access.rawValue | options.rawValue, permissions)
    }

    /// Sleeps the calling thread for `microseconds`.
    package static func sleep(microseconds: UInt32) { usleep(microseconds) }

    /// Closes a descriptor. An error from close (after the data was synced where it matters) is not
    /// reported: the descriptor is gone either way.
    package static func close(_ fd: Int32) { try? FileDescriptor(rawValue: fd).close() }

    /// Size, kind and identity of an open file (`fstat`).
    package static func status(_ fd: Int32, _ path: String) throws(StrataError) -> FileStatus {
        FileStatus(try call("fstat", path) { try FileDescriptor(rawValue: fd).stat() })
    }

    /// Size, kind and identity of the thing at `path`; nil when nothing is there (ENOENT).
    /// With `followLinks: false` a symbolic link is described itself (`lstat`).
    package static func status(_ path: String, followLinks: Bool = true) throws(StrataError) -> FileStatus? {
        do throws(Errno) {
            return FileStatus(try FilePath(path).stat(followTargetSymlink: followLinks))
        } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw self.error(followLinks ? "stat" : "lstat", path, error)
        }
    }

    static func fileSize(_ fd: Int32, _ path: String) throws(StrataError) -> Int {
        try status(fd, path).size
    }

    /// Modification time in nanoseconds since 1970.
    static func modificationNs(_ path: String) -> Int64? {
        (try? status(path))??.modifiedNs
    }

    /// Kind of the thing at `path`: nil when absent.
    package enum Kind: Sendable { case file, directory, symbolicLink, other }
    /// Follows symbolic links (a link to a file is `.file`); any failure to look reads as absent.
    package static func kind(_ path: String) -> Kind? {
        (try? status(path))??.kind
    }

    /// Writes all of `bytes` at the descriptor's position (EINTR and short writes retried).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String) throws(StrataError) {
        let d = FileDescriptor(rawValue: fd)
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            if FaultInjection.isArmed, let e = FaultInjection.fault(.write, path) {
                // As a disk that fills mid-write: half the bytes land, then the error.
                _ = try? d.write(UnsafeRawBufferPointer(rebasing: rest[..<(rest.count / 2)]))
                throw error("write", path, e)
            }
            done += try call("write", path) { try d.write(rest) }
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(StrataError) {
        try typed { try bytes.withUnsafeBytes { b in try writeAll(fd, b, path) } }
    }

    /// Writes all of `bytes` at `offset`.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, _ path: String) throws(StrataError) {
        let d = FileDescriptor(rawValue: fd)
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            let at = Int64(offset + done)
            if FaultInjection.isArmed, let e = FaultInjection.fault(.pwrite, path) {
                _ = try? d.write(toAbsoluteOffset: at, UnsafeRawBufferPointer(rebasing: rest[..<(rest.count / 2)]))
                throw error("write", path, e)
            }
            done += try call("write", path) { try d.write(toAbsoluteOffset: at, rest) }
        }
    }

    /// Writes all of `bytes` at `offset`.
    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, _ path: String) throws(StrataError) {
        try typed { try bytes.withUnsafeBytes { b in try pwriteAll(fd, b, at: offset, path) } }
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

    /// Reads `dst.count` bytes at `offset`, fewer only at the end of the file; returns how many.
    package static func pread(_ fd: Int32, _ dst: UnsafeMutableRawBufferPointer, at offset: Int, _ path: String) throws(StrataError) -> Int {
        let d = FileDescriptor(rawValue: fd)
        var done = 0
        while done < dst.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: dst[done...])
            let n = try call("read", path) { try d.read(fromAbsoluteOffset: Int64(offset + done), into: rest) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// `pread` into an array: fills `dst` from `offset`; returns how many bytes were read (fewer
    /// at the end of the file).
    package static func pread(_ fd: Int32, into dst: inout [UInt8], at offset: Int, _ path: String) throws(StrataError) -> Int {
        try typed { try dst.withUnsafeMutableBytes { b in try pread(fd, b, at: offset, path) } }
    }

    /// One read at the descriptor's position into `dst` (from its start): what is available now,
    /// at most `dst.count` bytes, 0 at the end; nil for EAGAIN, as `read(_:into:_:)`.
    package static func read(_ fd: Int32, into dst: inout [UInt8], _ path: String) throws(StrataError) -> Int? {
        try typed { try dst.withUnsafeMutableBytes { b in try read(fd, into: b, path) } }
    }

    /// One read at the descriptor's position: what is available now, at most `dst.count` bytes,
    /// 0 at the end. EINTR is retried; EAGAIN (a non-blocking descriptor with nothing yet) returns nil.
    package static func read(_ fd: Int32, into dst: UnsafeMutableRawBufferPointer, _ path: String) throws(StrataError) -> Int? {
        do {
            return try FileDescriptor(rawValue: fd).read(into: dst)
        } catch let e as Errno {
            if e == .resourceTemporarilyUnavailable { return nil }
            throw error("read", path, e)
        } catch {
            throw StrataError(.io, "read failed: \(error)", path: path, cause: error)
        }
    }

    /// Streams a descriptor from its position to the end (a file, a pipe, standard input), handing
    /// each piece read to `body` as it arrives (pieces of at most `chunk` bytes).
    /// A non-blocking descriptor with nothing to read yet is waited for.
    package static func stream(
        _ fd: Int32, _ path: String, chunk: Int = 1 << 16,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunk, 1), alignment: 8)
        defer { buf.deallocate() }
        while true {
            guard let n = try read(fd, into: buf, path) else { _ = try waitReadable(fd, timeoutMs: -1, path); continue }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buf[..<n]))
        }
    }

    /// Reads everything from a descriptor's position to its end (pipes too).
    package static func readAll(_ fd: Int32, _ path: String) throws(StrataError) -> [UInt8] {
        var out: [UInt8] = []
        try typed { try stream(fd, path) { out.append(contentsOf: $0) } }
        return out
    }

    /// The whole file at `path`.
    package static func readFile(_ path: String) throws(StrataError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path)
        var out = [UInt8](repeating: 0, count: size)
        let n = try pread(fd, into: &out, at: 0, path)
        if n < size { out.removeLast(size - n) }
        return out
    }

    /// Calls `body(line, number)` for every line of the file (or pipe) at `path`, numbered from 1,
    /// without its `\n` or `\r\n`; a last line without a newline counts. A line longer than
    /// `maxLineBytes` is an `.limitExceeded` error naming the line.
    package static func forEachLine(
        _ path: String, maxLineBytes: Int = 16 << 20,
        _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void
    ) throws {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var pending: [UInt8] = []
        var number = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            var line = line
            if line.last == 0x0d { line = line.dropLast() }
            number += 1
            try line.withUnsafeBufferPointer { try body($0, number) }
        }
        try stream(fd, path) { (piece: UnsafeRawBufferPointer) throws in
            pending.append(contentsOf: piece)
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0a) {
                try emit(pending[start..<nl])
                start = nl + 1
            }
            pending.removeFirst(start)
            if pending.count > maxLineBytes {
                throw StrataError(.limitExceeded, "line \(number + 1) is longer than \(maxLineBytes) bytes", path: path)
            }
        }
        if !pending.isEmpty { try emit(pending[...]) }
    }

    /// Waits until `fd` has input (or end of input) for at most `timeoutMs`; false on time-out.
    package static func waitReadable(_ fd: Int32, timeoutMs: Int32, _ path: String) throws(StrataError) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let r = poll(&pfd, 1, timeoutMs)
            if r >= 0 { return r > 0 }
            if errno == EINTR { continue }
            throw error("poll", path)
        }
    }

    /// Whether `fd` is a terminal.
    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The width in columns of the terminal `fd` is; nil when it is not a terminal.
    package static func terminalColumns(_ fd: Int32) -> Int? {
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0 else { return nil }
        return Int(ws.ws_col)
    }

    /// Flushes a file's data and metadata to the disk (swift-system has no fsync).
    package static func fsync(_ fd: Int32, _ path: String) throws(StrataError) {
        if FaultInjection.isArmed, let e = FaultInjection.fault(.fsync, path) { throw error("fsync", path, e) }
        while Glibc.fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw error("fsync", path)
        }
    }

    package static func fsyncDirectory(_ path: String) throws(StrataError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path)
    }

    static func ftruncate(_ fd: Int32, _ size: Int, _ path: String) throws(StrataError) {
        if FaultInjection.isArmed, let e = FaultInjection.fault(.ftruncate, path) { throw error("ftruncate", path, e) }
        try call("ftruncate", path) { try FileDescriptor(rawValue: fd).resize(to: Int64(size)) }
    }

    package static func rename(_ from: String, _ to: String) throws(StrataError) {
        guard Glibc.rename(from, to) == 0 else { throw error("rename to \(to)", from) }
    }

    /// Removes a file; a file already gone is not an error.
    package static func unlink(_ path: String) throws(StrataError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw error("unlink", path) }
    }

    static func mkdir(_ path: String) throws(StrataError) {
        if Glibc.mkdir(path, 0o755) != 0 && errno != EEXIST { throw error("mkdir", path) }
    }

    /// Creates `path` and its missing parents.
    package static func mkdirs(_ path: String) throws(StrataError) {
        if kind(path) == .directory { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if kind(prefix) == nil { try mkdir(prefix) }
        }
    }

    /// Names in a directory, without "." and "..".
    package static func list(_ path: String) throws(StrataError) -> [String] {
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
    package static func lockExclusive(_ fd: Int32, _ path: String) throws(StrataError) {
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

    package static func unlock(_ fd: Int32) { _ = flock(fd, LOCK_UN) }

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
    package static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String) throws(StrataError) {
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

    package static var pid: Int32 { getpid() }

    /// Whether a process with this id exists (one we may not signal counts as existing).
    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

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

/// The one clock of Strata, its CLI and its server: wall time (what a point's time or a token's
/// creation is stamped with) and monotonic time (for intervals and timeouts).
package enum Clock {
    /// Wall time, milliseconds since 1970.
    package static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
    /// Wall time, nanoseconds since 1970.
    package static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
    /// Monotonic time in nanoseconds from an arbitrary start: only differences mean anything.
    package static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// What `stat` says of a file, in the terms Strata uses.
package struct FileStatus: Sendable, Equatable {
    package var kind: Sys.Kind
    package var size: Int
    /// Modification time, nanoseconds since 1970.
    package var modifiedNs: Int64
    package var device: UInt64
    package var inode: UInt64
    /// Type and permission bits (`st_mode`).
    package var mode: UInt32

    init(_ st: Stat) {
        switch st.type {
        case .regular: kind = .file
        case .directory: kind = .directory
        case .symbolicLink: kind = .symbolicLink
        default: kind = .other
        }
        size = Int(st.size)
        let t = st.rawValue.st_mtim
        modifiedNs = Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
        device = UInt64(st.rawValue.st_dev)
        inode = UInt64(st.rawValue.st_ino)
        mode = UInt32(st.rawValue.st_mode)
    }
}

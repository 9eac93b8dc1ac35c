#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads lines from a file descriptor as they arrive (one `read` at a time, never waiting
/// for a full buffer), calling `idle` when no input came for `idleMs` milliseconds.
struct LineReader {
    static let maxLineBytes = 16 << 20

    let fd: Int32
    var idleMs: Int32 = 100

    /// Calls `body(line, lineNumber)` for every line (without its `\n` or `\r\n`).
    /// `needsIdle` says whether `idle` has work to do (the reader waits at most `idleMs` before calling it).
    func forEachLine(needsIdle: () -> Bool, idle: () throws -> Void,
                     _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        var lineNo = 0
        var eof = false
        while !eof {
            if needsIdle() {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&pfd, 1, idleMs)
                if r == 0 { try idle() }
            }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw CLIError("cannot read input: \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true } else { pending.append(contentsOf: buf[0..<n]) }
            // Emit complete lines.
            var start = 0
            try pending.withUnsafeBufferPointer { p in
                let count = p.count
                while start < count {
                    guard let nl = memchr(p.baseAddress! + start, 0x0a, count - start) else { break }
                    let end = UnsafePointer(nl.assumingMemoryBound(to: UInt8.self)) - p.baseAddress!
                    var stop = end
                    if stop > start, p[stop - 1] == 0x0d { stop -= 1 }
                    lineNo += 1
                    try body(UnsafeBufferPointer(rebasing: p[start..<stop]), lineNo)
                    start = end + 1
                }
            }
            if start > 0 { pending.removeFirst(start) }
            if pending.count > LineReader.maxLineBytes {
                throw CLIError("line \(lineNo + 1): longer than \(LineReader.maxLineBytes >> 20) MiB (is the input one JSON value per line?)")
            }
            if eof && !pending.isEmpty {
                var last = pending
                if last.last == 0x0d { last.removeLast() }
                lineNo += 1
                try last.withUnsafeBufferPointer { try body($0, lineNo) }
            }
        }
    }
}

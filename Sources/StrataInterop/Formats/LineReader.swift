import Strata

/// Reads lines from a file descriptor as they arrive (one `read` at a time, never waiting
/// for a full buffer), calling `idle` when no input came for `idleMs` milliseconds.
///
/// Waiting with a timeout needs `poll`, which Foundation's `FileHandle` does not offer: both calls
/// go through Strata's I/O layer (`Sys.waitReadable`, `Sys.read`), with `EINTR`/`EAGAIN` retried.
/// Lines are array slices.
public struct LineReader {
    /// Longest line accepted.
    public static let maxLineBytes = 16 << 20

    /// The file descriptor read (not closed here).
    public let fd: Int32
    /// How long input may pause before `idle` is called, in milliseconds.
    public var idleMs: Int32 = 100

    /// A reader of `fd`.
    public init(fd: Int32, idleMs: Int32 = 100) {
        self.fd = fd
        self.idleMs = idleMs
    }

    /// Calls `body(line, lineNumber)` for every line (without its `\n` or `\r\n`).
    /// `needsIdle` says whether `idle` has work to do (the reader waits at most `idleMs` before calling it).
    public func forEachLine(
        needsIdle: () -> Bool, idle: () throws -> Void,
        _ body: (ArraySlice<UInt8>, Int) throws -> Void
    ) throws {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        var lineNo = 0
        var eof = false
        while !eof {
            let n: Int
            do {
                if needsIdle(), try !Sys.waitReadable(fd, timeoutMs: idleMs, "input") { try idle() }
                guard let got = try Sys.read(fd, into: &buf, "input") else { continue }  // EAGAIN
                n = got
            } catch let e as StrataError {
                throw InteropError("cannot read input: \(e.message)")
            }
            if n == 0 { eof = true } else { pending.append(contentsOf: buf[0..<n]) }
            // Emit complete lines.
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0a) {
                var stop = nl
                if stop > start, pending[stop - 1] == 0x0d { stop -= 1 }
                lineNo += 1
                try body(pending[start..<stop], lineNo)
                start = nl + 1
            }
            if start > 0 { pending.removeFirst(start) }
            if pending.count > LineReader.maxLineBytes {
                throw InteropError("line \(lineNo + 1): longer than \(LineReader.maxLineBytes >> 20) MiB (is the input one JSON value per line?)")
            }
            if eof && !pending.isEmpty {
                var last = pending[...]
                if last.last == 0x0d { last.removeLast() }
                lineNo += 1
                try body(last, lineNo)
            }
        }
    }
}

/// Calls `body(line, lineNumber)` for each line of `bytes` (without `\n` / `\r\n`; a last line
/// without `\n` included). Lines are slices of `bytes` (their indices are offsets in it).
package func forEachLine(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>, Int) throws -> Void) rethrows {
    var start = 0, lineNo = 0
    while start < bytes.count {
        let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
        var stop = end
        if stop > start, bytes[stop - 1] == 0x0d { stop -= 1 }
        lineNo += 1
        try body(bytes[start..<stop], lineNo)
        start = end + 1
    }
}

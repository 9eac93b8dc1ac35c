// Unsafe pointer code of the CLI, kept to this file: C strings that come from or go to libc.
//
// Invariants: `CommandLine.unsafeArgv[i]` for 1 <= i < argc is a NUL-terminated string that lives
// for the whole process, so `strlen` bytes from it may be read, and they are copied into an array
// before anything else looks at them; `vsnprintf` writes at most the 512 bytes of the buffer it is
// given (NUL included) and its result is clamped to what was written. Covered by
// `CLITests` (arguments that are not UTF-8 are refused) and every output test that formats
// numbers (`cformat`).
import Strata
import StrataInterop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first command-line argument whose bytes are not UTF-8, as (position, message), or nil.
/// Swift repairs such arguments into U+FFFD, which would silently rename a run or metric.
func invalidArgument() -> (Int, String)? {
    for i in 1..<Int(CommandLine.argc) {
        guard let p = CommandLine.unsafeArgv[i] else { continue }
        let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
        if let bad = JSONText.invalidUTF8(bytes) {
            return (i, "argument \(i) is not UTF-8 (byte 0x\(String(bytes[bad], radix: 16)) at offset \(bad))")
        }
    }
    return nil
}

/// printf-style formatting without Foundation.
func cformat(_ format: String, _ args: CVarArg...) -> String {
    withVaList(args) { va in
        var buf = [CChar](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, 512, format, va) }
        return String(decoding: buf.prefix(max(0, min(Int(n), 511))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

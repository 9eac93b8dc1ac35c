// Unsafe pointer code (reads the process's argv bytes); kept to this file.
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
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p))
        if let bad = JSONText.invalidUTF8(bytes) {
            return (i, "argument \(i) is not UTF-8 (byte 0x\(String(bytes[bad], radix: 16)) at offset \(bad))")
        }
    }
    return nil
}

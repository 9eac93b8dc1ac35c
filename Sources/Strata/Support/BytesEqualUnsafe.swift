#if canImport(Glibc)
import Glibc
#endif

/// Byte-wise equality of two raw buffers (`memcmp`), for magic numbers and column reuse.
///
/// Unsafe memory: reads `a.count` bytes from each base address, and only after checking that
/// both buffers have that many; empty buffers (whose base address may be nil) compare equal
/// without touching memory.
func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}

#if canImport(Glibc)
import Glibc
#endif

/// A read-write shared memory map of a preallocated write-ahead log file.
///
/// Unsafe memory: `base` is valid until `unmap()`/deinit; only `WriteAheadLog` writes through it
/// and every write is checked against `capacity` before it happens. Bytes stored through a shared
/// mapping belong to the kernel's page cache at once, so they survive `kill -9` of this process;
/// `sync` (msync + fsync) makes them survive power loss too.
final class LogMapping {
    let path: String
    let fd: Int32
    let capacity: Int
    private(set) var base: UnsafeMutableRawPointer

    /// Maps an existing file of `capacity` bytes read-write.
    init(path: String, fd: Int32, capacity: Int) throws(StrataError) {
        self.path = path
        self.fd = fd
        self.capacity = capacity
        let p = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw Sys.error("mmap", path) }
        base = p
    }

    /// Flushes `range` of the mapping and the file to stable storage.
    func sync(_ range: Range<Int>) throws(StrataError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = range.lowerBound / page * page
        let hi = min(capacity, range.upperBound)
        if hi > lo {
            guard msync(base + lo, hi - lo, MS_SYNC) == 0 else { throw Sys.error("msync", path) }
        }
        try Sys.fsync(fd, path)
    }

    deinit {
        munmap(base, capacity)
    }
}

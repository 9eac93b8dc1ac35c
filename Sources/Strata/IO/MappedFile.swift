#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file.
///
/// Unsafe memory: `bytes` points into the mapping and is valid while this object lives.
/// Callers must not let pointers derived from `bytes` escape beyond the owner's lifetime;
/// every offset or length read from the mapped bytes is checked by `ByteReader` or the codecs
/// before use. The file may be deleted (compaction) while mapped: the mapping stays valid.
final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the mapping is read-only and unmapped in deinit.
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    init(path: String) throws(StrataError) {
        self.path = path
        let fd = try Sys.open(path, O_RDONLY)
        defer { Sys.close(fd) }
        let size = try Sys.fileSize(fd, path)
        length = size
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw Sys.error("mmap", path) }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// The mapped bytes as a bounds-checked view (valid while this object lives).
    var view: ByteView { ByteView(unsafe: bytes) }

    /// Drops the mapping's pages from this process (they stay in the page cache and are read
    /// again on the next access): a long scan, such as compaction, keeps its resident size bounded.
    func releaseResidentPages() {
        if let base { _ = madvise(base, length, MADV_DONTNEED) }
    }

    deinit {
        if let base { munmap(base, length) }
    }
}

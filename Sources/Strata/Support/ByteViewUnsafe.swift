import StrataCodecs

/// A read-only view of bytes owned elsewhere (a mapped segment or log, or an array held for the
/// duration of a call), through which Strata's own file parsers (catalog, segment directory and
/// chunk tables, log records, key files, `ByteReader`) read without touching a pointer.
///
/// Unsafe memory, confined here: the view holds a raw buffer and every access through it is
/// bounds-checked (a `precondition`, in release builds too): an index or range outside the view
/// stops the process instead of reading other memory. What the view cannot check is the owner's
/// lifetime: a view of a `MappedFile` is valid while that object lives (segments and logs keep
/// their mapping for as long as their views are used), and a view made by `ByteView.with(_:_:)`
/// only during that call; do not store it beyond. Code that must hand the bytes to the codecs or
/// to system calls does so through `withUnsafeBytes`, which only files named for unsafe code use.
///
/// Covered by the store fuzzer (`FuzzEntry`: hostile segments, logs and catalogs are parsed
/// through views), `CorruptionTests`, `CatalogDamageTests`, `LogRecordTests` and `ByteViewTests`.
struct ByteView {
    private let raw: UnsafeRawBufferPointer

    /// A view of `raw`, which its caller keeps alive and unchanged for as long as the view is used.
    init(unsafe raw: UnsafeRawBufferPointer) { self.raw = raw }

    /// Calls `body` with a view of `bytes`, valid only during the call.
    static func with<R, E: Error>(_ bytes: [UInt8], _ body: (ByteView) throws(E) -> R) throws(E) -> R {
        let result = bytes.withUnsafeBytes { b in Result { () throws(E) -> R in try body(ByteView(unsafe: b)) } }
        return try result.get()
    }

    var count: Int { raw.count }
    var isEmpty: Bool { raw.isEmpty }

    /// The byte at `i` (checked).
    subscript(i: Int) -> UInt8 {
        precondition(i >= 0 && i < raw.count, "ByteView index out of range")
        return raw[i]
    }

    /// The bytes in `r` (checked), a view of the same owner.
    subscript(r: Range<Int>) -> ByteView {
        precondition(r.lowerBound >= 0 && r.upperBound <= raw.count, "ByteView range out of range")
        return ByteView(unsafe: UnsafeRawBufferPointer(rebasing: raw[r]))
    }

    /// The little-endian integer of type `T` at byte `offset` (checked, any alignment).
    @inline(__always) func load<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        precondition(offset >= 0 && offset <= raw.count - MemoryLayout<T>.size, "ByteView load out of range")
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// True when the view holds exactly `bytes`.
    func equals(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { memcmpEqual(raw, $0) }
    }

    /// The bytes, copied into an array.
    var array: [UInt8] { Array(raw) }

    /// The bytes decoded as UTF-8 (invalid sequences replaced).
    var string: String { String(decoding: raw, as: UTF8.self) }

    /// XXH64 of the bytes (`Checksum.xxh64`).
    func xxh64(seed: UInt64 = 0) -> UInt64 { Checksum.xxh64(raw, seed: seed) }

    /// Calls `body` with the raw bytes, for the codecs and system calls (unsafe files only; the
    /// pointer must not outlive the view's owner).
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R { try body(raw) }
}

// Field-level encoding of Strata's own files (version file, catalog, segment indexes, log records).
// The column codecs have their own, different pair in StrataCodecs (`RawByteWriter` into memory
// sized beforehand, `ColumnByteReader` throwing `CodecError`).

/// Appends little-endian fields to a growing byte array (metadata, indexes, log records).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { append(v) }
    mutating func u32(_ v: UInt32) { append(v) }
    mutating func u64(_ v: UInt64) { append(v) }
    /// `v`'s bytes, least significant first.
    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    /// Unsigned LEB128.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    /// A string as varint byte length then UTF-8 bytes.
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            varint(UInt64(buf.count))
            bytes.append(contentsOf: buf)
        }
    }
    mutating func raw(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    /// Overwrites 4 bytes at `offset` (for lengths known only after the body is written).
    mutating func patchU32(_ v: UInt32, at offset: Int) { patch(v, at: offset) }
    mutating func patchU64(_ v: UInt64, at offset: Int) { patch(v, at: offset) }
    private mutating func patch<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
}

/// Reads little-endian fields from bytes that may be damaged: every read is bounds-checked and
/// a short or impossible field throws `StrataError.corrupt` naming the file and offset.
struct ByteReader {
    let base: ByteView
    var offset: Int
    let end: Int
    /// For error messages.
    let path: String

    init(_ base: ByteView, from: Int = 0, to: Int? = nil, path: String) {
        self.base = base
        self.offset = from
        self.end = min(to ?? base.count, base.count)
        self.path = path
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    // The fixed-width reads are inlined into their callers (a chunk table of tens of thousands
    // of entries is parsed field by field on the first query of a long series); the error is
    // built out of line, only when a field does not fit.
    @inline(__always) private func need(_ n: Int, _ what: String) throws(StrataError) {
        if n < 0 || n > end - offset { throw truncated(n, what) }
    }

    @inline(never) private func truncated(_ n: Int, _ what: String) -> StrataError {
        StrataError.corrupt("truncated \(what): need \(n) bytes, \(max(0, end - offset)) left", path: path, offset: offset)
    }

    @inline(__always) mutating func u8(_ what: String = "field") throws(StrataError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return base[offset]
    }
    @inline(__always) mutating func u16(_ what: String = "field") throws(StrataError) -> UInt16 {
        try need(2, what)
        defer { offset += 2 }
        return base.load(at: offset)
    }
    @inline(__always) mutating func u32(_ what: String = "field") throws(StrataError) -> UInt32 {
        try need(4, what)
        defer { offset += 4 }
        return base.load(at: offset)
    }
    @inline(__always) mutating func u64(_ what: String = "field") throws(StrataError) -> UInt64 {
        try need(8, what)
        defer { offset += 8 }
        return base.load(at: offset)
    }
    @inline(__always) mutating func i64(_ what: String = "field") throws(StrataError) -> Int64 { Int64(bitPattern: try u64(what)) }
    @inline(__always) mutating func f64(_ what: String = "field") throws(StrataError) -> Double { Double(bitPattern: try u64(what)) }

    mutating func varint(_ what: String = "varint") throws(StrataError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8(what)
            if shift == 63 && b > 1 { throw StrataError.corrupt("\(what) overflows 64 bits", path: path, offset: offset) }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw StrataError.corrupt("\(what) overflows 64 bits", path: path, offset: offset) }
        }
    }
    /// A count or length read from disk, at most `limit`.
    mutating func length(_ what: String, max limit: Int) throws(StrataError) -> Int {
        let v = try varint(what)
        guard v <= UInt64(limit) else {
            throw StrataError.corrupt("\(what) \(v) exceeds the limit \(limit)", path: path, offset: offset)
        }
        return Int(v)
    }

    /// A count of elements that follow in these bytes (each takes at least one byte), so it must
    /// fit in what is left as well as under `limit`: damaged bytes cannot drive a huge allocation.
    mutating func count(_ what: String, max limit: Int) throws(StrataError) -> Int {
        let v = try length(what, max: limit)
        guard v <= max(0, remaining) else {
            throw StrataError.corrupt("\(what) \(v) exceeds the \(remaining) bytes left", path: path, offset: offset)
        }
        return v
    }
    mutating func string(_ what: String = "string", max limit: Int = 1 << 20) throws(StrataError) -> String {
        let n = try length("\(what) length", max: limit)
        try need(n, what)
        defer { offset += n }
        return base[offset..<offset + n].string
    }
    mutating func bytes(_ n: Int, _ what: String) throws(StrataError) -> ByteView {
        try need(n, what)
        defer { offset += n }
        return base[offset..<offset + n]
    }
}

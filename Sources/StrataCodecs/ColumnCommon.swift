// What the Int64 and Double columns share: the column header, block geometry, the LZ4 wrapping of a
// whole column, and argument validation. The byte format is specified in docs/FORMAT-codecs.md.

enum ColumnFormat {
    /// Byte 0 of an Int64 column ('I').
    static let int64Kind: UInt8 = 0x49
    /// Byte 0 of a Double column ('D').
    static let doubleKind: UInt8 = 0x44

    /// Byte 1, low 7 bits: how the values are laid out.
    static let layoutBlocks: UInt8 = 0
    static let layoutLinear: UInt8 = 1
    /// Byte 1, bit 7: the block region is LZ4-compressed.
    static let lz4Flag: UInt8 = 0x80

    /// Values per block (the last block of a column holds the remainder).
    static let blockSize = 128
    static let blockShift = 7

    /// LZ4 is kept only if the compressed column is at most this fraction (in 1/1024) of the plain one.
    static let lz4KeepPer1024 = 921  // ≤ 90 %
    /// Columns whose block region is smaller than this are not worth trying LZ4 on.
    static let lz4MinBytes = 256

    /// Upper bound a decoder accepts for the decompressed block region of an LZ4 column of `count` values.
    /// Every well-formed block fits (the largest possible block is < 20 bytes a value + 64 bytes).
    static func lz4MaxRawSize(count: Int) -> Int { 20 &* count &+ 64 &* ((count &+ 127) >> 7) &+ 64 }

    static func blockCount(_ count: Int) -> Int { (count &+ blockSize &- 1) >> blockShift }
}

/// Checks `count` and `range` before anything is read. `what` names the column kind.
@inline(__always)
func validateArguments(_ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>?, what: StaticString) throws(CodecError) {
    guard count >= 0, count <= ColumnLimits.maxValues else {
        throw CodecError("\(what) column: count \(count) outside 0...\(ColumnLimits.maxValues)")
    }
    if let range {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw CodecError("\(what) column: range \(range) outside 0..<\(count)")
        }
    }
}

/// Reads the column header (kind byte, layout byte, value count), checking the kind and that the
/// stored count equals `count`. Returns the layout byte.
@inline(__always)
func readColumnHeader(_ r: inout ColumnByteReader, kind: UInt8, count: Int) throws(CodecError) -> UInt8 {
    let k = try r.byte(-1, "column kind")
    guard k == kind else {
        throw r.error(-1, "kind byte 0x\(String(k, radix: 16)) is not 0x\(String(kind, radix: 16)) (wrong column type or not a column)")
    }
    let layout = try r.byte(-1, "column layout")
    let stored = try r.varint(-1, "value count")
    guard stored == UInt64(count) else {
        throw r.error(-1, "holds \(stored) values, caller expects \(count)")
    }
    return layout
}

/// Appends the column header.
@inline(__always)
func appendColumnHeader(kind: UInt8, layout: UInt8, count: Int, to out: inout [UInt8]) {
    out.append(kind)
    out.append(layout)
    appendVarint(UInt64(count), to: &out)
}

/// The one walk over the blocks of a block-layout column (the value and the integer codecs share
/// it): reads the header of every block from block `first` on with `read` (the codec's own, which
/// checks it: block `k`, holding `n` values) and calls `body` for each block that holds values of
/// `range`, with the part in range (`lo..<hi`, offsets in the block) and where those values go
/// (`at`, offset from `range.lowerBound`). Stops after the last block that reaches into a
/// non-empty `range`; an empty range reads (and so checks) every block. Returns true when the
/// last block was read, so that the caller can check nothing follows it (`expectEnd`).
@inline(__always)
func forEachBlock<Block>(
    _ r: inout ColumnByteReader, count: Int, range: Range<Int>, from first: Int = 0,
    read: (inout ColumnByteReader, _ k: Int, _ n: Int) throws(CodecError) -> Block,
    _ body: (_ block: Block, _ lo: Int, _ hi: Int, _ at: Int) -> Void
) throws(CodecError) -> Bool {
    let blocks = ColumnFormat.blockCount(count)
    for k in first..<blocks {
        let blockStart = k << ColumnFormat.blockShift
        if blockStart >= range.upperBound && !range.isEmpty { return false }
        let n = min(ColumnFormat.blockSize, count - blockStart)
        let b = try read(&r, k, n)
        let lo = max(range.lowerBound, blockStart) - blockStart
        let hi = min(range.upperBound, blockStart + n) - blockStart
        if lo >= hi { continue }
        body(b, lo, hi, blockStart + lo - range.lowerBound)
    }
    return true
}

/// The frame of `decode` in both codecs: checks the arguments and the column header, then hands
/// the block area to `blocks` (in place, or decompressed first for LZ4); `other` decodes a layout
/// of the codec's own (the integer codec's linear layout) and returns false for a layout it does
/// not know either.
@inline(__always)
func decodeColumn(
    _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, kind: UInt8, what: StaticString, lz4What: StaticString,
    blocks: (inout ColumnByteReader) throws(CodecError) -> Void,
    other: (_ layout: UInt8, inout ColumnByteReader) throws(CodecError) -> Bool = { _, _ in false }
) throws(CodecError) {
    try validateArguments(bytes, count: count, range: range, what: what)
    var r = ColumnByteReader(bytes, what: what)
    let layout = try readColumnHeader(&r, kind: kind, count: count)
    switch layout {
    case ColumnFormat.layoutBlocks:
        try blocks(&r)
    case ColumnFormat.layoutBlocks | ColumnFormat.lz4Flag:
        try withDecompressedBlocks(&r, count: count, what: lz4What, blocks)
    default:
        guard try other(layout, &r) else { throw r.error(-1, "unknown layout byte 0x\(String(layout, radix: 16))") }
    }
}

/// Per-codec byte accounting of a column (`describe` of both codecs): the header, then the blocks,
/// in place or decompressed first (LZ4), each counted under `name(block)`. The entries' bytes add
/// up to `bytes.count` (the column header is counted in the first entry). `other` accounts for a
/// layout of the codec's own (the integer codec's linear layout) and returns false for a layout
/// it does not know either.
func describeColumn<Block>(
    _ bytes: UnsafeRawBufferPointer, count: Int, kind: UInt8, what: StaticString, lz4What: StaticString,
    read: (inout ColumnByteReader, _ k: Int, _ n: Int) throws(CodecError) -> Block, name: (Block) -> String,
    other: (_ layout: UInt8, inout ColumnByteReader, inout UsageTable) throws(CodecError) -> Bool = { _, _, _ in false }
) throws(CodecError) -> [CodecUsage] {
    try validateArguments(bytes, count: count, range: nil, what: what)
    var r = ColumnByteReader(bytes, what: what)
    let layout = try readColumnHeader(&r, kind: kind, count: count)
    let headerEnd = r.pos
    var table = UsageTable()
    func blocks(_ r: inout ColumnByteReader) throws(CodecError) {
        // An empty range: every block is read (and counted), none decoded.
        _ = try forEachBlock(&r, count: count, range: 0..<0) { (r, k, n) throws(CodecError) in
            let start = r.pos
            let b = try read(&r, k, n)
            table.add(name(b), values: n, bytes: r.pos - start)
            return b
        } _: { _, _, _, _ in
        }
        try r.expectEnd(count: count)
        if table.entries.isEmpty { table.add("empty", values: 0, bytes: 0) }
    }
    switch layout {
    case ColumnFormat.layoutBlocks:
        try blocks(&r)
        table.entries[0].bytes += headerEnd
    case ColumnFormat.layoutBlocks | ColumnFormat.lz4Flag:
        try withDecompressedBlocks(&r, count: count, what: lz4What) { (inner) throws(CodecError) in try blocks(&inner) }
        table.scaleForLZ4(total: bytes.count)
    default:
        guard try other(layout, &r, &table) else { throw r.error(-1, "unknown layout byte 0x\(String(layout, radix: 16))") }
    }
    return table.entries
}

extension ColumnByteReader {
    /// Throws when bytes are left after the last of `count` values' blocks.
    func expectEnd(count: Int) throws(CodecError) {
        if remaining != 0 {
            throw error(
                -1, "\(remaining) trailing bytes after \(ColumnFormat.blockCount(count)) blocks (count \(count) inconsistent with the bytes?)")
        }
    }
}

/// Given the bytes after the column header of an LZ4 column, decompresses the block region and calls
/// `body` with a reader over it (`what` names it in errors).
func withDecompressedBlocks<R>(
    _ r: inout ColumnByteReader, count: Int, what: StaticString,
    _ body: (inout ColumnByteReader) throws(CodecError) -> R
) throws(CodecError) -> R {
    let rawSize64 = try r.varint(-1, "lz4 raw size")
    let limit = ColumnFormat.lz4MaxRawSize(count: count)
    guard rawSize64 <= UInt64(limit) else {
        throw r.error(-1, "lz4 raw size \(rawSize64) exceeds the limit \(limit) for \(count) values")
    }
    let rawSize = Int(rawSize64)
    let src = UnsafeRawBufferPointer(start: r.base + r.pos, count: r.remaining)
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(rawSize, 1), alignment: 16)
    defer { buf.deallocate() }
    let dst = UnsafeMutableRawBufferPointer(rebasing: buf[0..<rawSize])
    do {
        try LZ4Codec.decompress(src, into: dst)
    } catch {
        throw r.error(-1, error.message)
    }
    var inner = ColumnByteReader(UnsafeRawBufferPointer(dst), what: what)
    return try body(&inner)
}

/// A growable scratch buffer for encoding a column before it is appended to the caller's array.
struct EncodeBuffer: ~Copyable {
    let raw: UnsafeMutableRawPointer
    let capacity: Int
    init(capacity: Int) {
        self.capacity = capacity
        self.raw = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 16), alignment: 16)
    }
    deinit { raw.deallocate() }
}

/// Appends the column header and the block region `blocks[0..<len]` to `out`, LZ4-compressing the
/// block region if that saves at least ~10 %.
func emitBlockColumn(kind: UInt8, count: Int, blocks: UnsafeRawPointer, len: Int, into out: inout [UInt8]) {
    let headerSize = 2 + varintSize(UInt64(count))
    if len >= ColumnFormat.lz4MinBytes {
        let start = out.count
        appendColumnHeader(kind: kind, layout: ColumnFormat.layoutBlocks | ColumnFormat.lz4Flag, count: count, to: &out)
        appendVarint(UInt64(len), to: &out)
        LZ4Codec.compress(UnsafeRawBufferPointer(start: blocks, count: len), into: &out)
        let lz4Total = out.count - start
        if lz4Total * 1024 <= (len + headerSize) * ColumnFormat.lz4KeepPer1024 {
            return
        }
        out.removeSubrange(start...)
    }
    appendColumnHeader(kind: kind, layout: ColumnFormat.layoutBlocks, count: count, to: &out)
    out.append(contentsOf: UnsafeRawBufferPointer(start: blocks, count: len))
}

/// Accumulates `CodecUsage` entries in order of first appearance.
struct UsageTable {
    var entries: [CodecUsage] = []
    mutating func add(_ codec: String, values: Int, bytes: Int) {
        if let i = entries.firstIndex(where: { $0.codec == codec }) {
            entries[i].values += values
            entries[i].bytes += bytes
        } else {
            entries.append(CodecUsage(codec: codec, values: values, bytes: bytes))
        }
    }

    /// For an LZ4 column: renames every entry to "lz4+<codec>" and scales its bytes so the entries add up
    /// to `total` (each entry's share is proportional to its uncompressed size).
    mutating func scaleForLZ4(total: Int) {
        let plain = entries.reduce(0) { $0 + $1.bytes }
        var given = 0
        for i in entries.indices {
            let share = i == entries.count - 1 ? total - given : (plain == 0 ? 0 : entries[i].bytes * total / plain)
            given += share
            entries[i].bytes = share
            entries[i].codec = "lz4+" + entries[i].codec
        }
    }
}

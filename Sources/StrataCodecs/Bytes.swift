// Byte-level building blocks of the column codecs: a writer over a preallocated buffer, a
// bounds-checked reader, LEB128 varints, zigzag, and LSB-first bit packing.
//
// Invariant: the reader never reads outside `base[0..<end]`. Every read either checks its
// bounds first or is covered by a check made once for a whole block (`require`).

@inline(__always) func zigzag(_ v: Int64) -> UInt64 {
    UInt64(bitPattern: (v &<< 1) ^ (v >> 63))
}

@inline(__always) func unzigzag(_ u: UInt64) -> Int64 {
    Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
}

/// Bits needed to hold `x` (0 for 0, 64 for values with the top bit set).
@inline(__always) func bitWidth(_ x: UInt64) -> Int {
    64 &- x.leadingZeroBitCount
}

@inline(__always) func varintSize(_ x: UInt64) -> Int {
    // 1 byte per 7 bits, at least 1.
    (bitWidth(x | 1) &+ 6) / 7
}

/// Bytes taken by `n` values packed at `width` bits each.
@inline(__always) func packedSize(_ n: Int, _ width: Int) -> Int {
    (n &* width &+ 7) >> 3
}

/// Appends to raw memory the caller sized beforehand (no bounds checks: callers size for the worst case).
/// Not to be confused with `Strata`'s `ByteWriter`, which grows an array of metadata fields.
struct RawByteWriter {
    let base: UnsafeMutableRawPointer
    var pos: Int

    @inline(__always) mutating func byte(_ b: UInt8) {
        base.storeBytes(of: b, toByteOffset: pos, as: UInt8.self)
        pos &+= 1
    }

    @inline(__always) mutating func u64(_ v: UInt64) {
        base.storeBytes(of: v.littleEndian, toByteOffset: pos, as: UInt64.self)
        pos &+= 8
    }

    @inline(__always) mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 {
            byte(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        byte(UInt8(truncatingIfNeeded: x))
    }

    /// Packs `n` values (each already < 2^width) LSB-first, `width` bits each, then pads to a byte.
    @inline(__always) mutating func pack(_ n: Int, width: Int, _ value: (Int) -> UInt64) {
        if width == 0 || n == 0 { return }
        let start = base + pos
        let total = packedSize(n, width)
        var acc: UInt64 = 0
        var fill = 0
        var o = 0
        for i in 0..<n {
            let v = value(i)
            acc |= v &<< UInt64(fill)
            fill &+= width
            if fill >= 64 {
                start.storeBytes(of: acc.littleEndian, toByteOffset: o, as: UInt64.self)
                o &+= 8
                fill &-= 64
                // Bits of v that did not fit; when fill == 0 nothing is carried over.
                acc = fill == 0 ? 0 : v >> UInt64(width &- fill)
            }
        }
        var rest = total &- o
        while rest > 0 {
            start.storeBytes(of: UInt8(truncatingIfNeeded: acc), toByteOffset: o, as: UInt8.self)
            acc >>= 8
            o &+= 1
            rest &-= 1
        }
        pos &+= total
    }
}

/// A bounds-checked cursor over encoded column bytes, throwing `CodecError`. `what` names the column
/// kind in error messages. (`Strata`'s `ByteReader` reads file fields and throws `StrataError`.)
struct ColumnByteReader {
    let base: UnsafeRawPointer
    let end: Int
    var pos: Int
    let what: StaticString

    init(_ bytes: UnsafeRawBufferPointer, what: StaticString) {
        // An empty buffer may have a nil base address; any non-nil pointer works as nothing is read.
        self.base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10)!
        self.end = bytes.count
        self.pos = 0
        self.what = what
    }

    var remaining: Int { end &- pos }

    func error(_ block: Int, _ message: String) -> CodecError {
        if block < 0 { return CodecError("\(what) column: \(message)") }
        return CodecError("\(what) column block \(block): \(message)")
    }

    @inline(__always) mutating func byte(_ block: Int, _ field: StaticString) throws(CodecError) -> UInt8 {
        guard pos < end else { throw error(block, "truncated at byte \(pos) reading \(field)") }
        let b = base.load(fromByteOffset: pos, as: UInt8.self)
        pos &+= 1
        return b
    }

    @inline(__always) mutating func u64(_ block: Int, _ field: StaticString) throws(CodecError) -> UInt64 {
        guard end &- pos >= 8 else { throw error(block, "truncated at byte \(pos) reading \(field)") }
        let v = base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
        pos &+= 8
        return UInt64(littleEndian: v)
    }

    @inline(__always) mutating func varint(_ block: Int, _ field: StaticString) throws(CodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < end else { throw error(block, "truncated at byte \(pos) reading \(field)") }
            let b = base.load(fromByteOffset: pos, as: UInt8.self)
            pos &+= 1
            if shift == 63 && b > 1 {
                throw error(block, "varint \(field) at byte \(pos &- 1) overflows 64 bits")
            }
            result |= UInt64(b & 0x7F) &<< shift
            if b < 0x80 { return result }
            shift &+= 7
        }
    }

    /// Checks that `count` more bytes exist and returns their offset, advancing past them.
    @inline(__always) mutating func take(_ count: Int, _ block: Int, _ field: StaticString) throws(CodecError) -> Int {
        guard count >= 0, end &- pos >= count else {
            throw error(block, "truncated: \(field) needs \(count) bytes at byte \(pos), \(end &- pos) left")
        }
        let at = pos
        pos &+= count
        return at
    }
}

/// Reads `n` bit-packed values starting at value index `first` (from a block whose packed data starts at
/// `p`), calling `body(i, value)` with `i` from `first` to `first + n - 1`.
///
/// Precondition, checked by the caller once per block: the packed data (`packedSize(count, width)` bytes)
/// lies inside the buffer, and `avail` is the number of readable bytes from `p` to the end of the buffer
/// (≥ the packed size). Words are read 8 bytes at a time while they stay inside the buffer; the last few
/// values of a buffer are read byte by byte.
@inline(__always)
func unpack(_ p: UnsafeRawPointer, avail: Int, width: Int, first: Int, n: Int, _ body: (Int, UInt64) -> Void) {
    let end = first &+ n
    if width == 0 {
        var i = first
        while i < end { body(i, 0); i &+= 1 }
        return
    }
    let mask: UInt64 = width == 64 ? ~0 : (1 &<< UInt64(width)) &- 1
    // Fast path while a 9-byte window starting at the value's first byte stays inside the buffer.
    var fastEnd = first
    if avail >= 9 {
        let lastFast = ((avail &- 9) &* 8 &+ 7) / width  // largest i with (i*width)>>3 + 9 <= avail
        fastEnd = min(end, lastFast &+ 1)
        if fastEnd < first { fastEnd = first }
    }
    var i = first
    if width <= 56 {
        while i < fastEnd {
            let bit = i &* width
            let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            body(i, (w >> UInt64(bit & 7)) & mask)
            i &+= 1
        }
    } else if width == 64 {
        while i < fastEnd {
            body(i, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
            i &+= 1
        }
    } else {
        while i < fastEnd {
            let bit = i &* width
            let byte = bit >> 3
            let s = UInt64(bit & 7)
            let lo = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: byte, as: UInt64.self)) >> s
            let hi = (UInt64(p.load(fromByteOffset: byte &+ 8, as: UInt8.self)) &<< 1) &<< (63 &- s)
            body(i, (lo | hi) & mask)
            i &+= 1
        }
    }
    // Tail: byte by byte, never past the packed data.
    while i < end {
        let bit = i &* width
        var byte = bit >> 3
        let s = bit & 7
        let lastByte = (bit &+ width &- 1) >> 3
        var v: UInt64 = 0
        var shift = 0
        while byte <= lastByte {
            let b = UInt64(p.load(fromByteOffset: byte, as: UInt8.self))
            if shift == 0 {
                v = b >> UInt64(s)
                shift = 8 &- s
            } else {
                v |= b &<< UInt64(shift)
                shift &+= 8
            }
            byte &+= 1
        }
        body(i, v & mask)
        i &+= 1
    }
}

// MARK: Bulk unpacking

/// Values per block, the size of the scratch buffers `unpackAll` fills.
let unpackScratchSize = ColumnFormat.blockSize

/// Unpacks values 0..<n (n ≤ `unpackScratchSize`) of a block's packed data into out[0..<n], with the
/// same precondition as `unpack`. Groups of 8 values are unpacked by code specialised for the width
/// (constant offsets, shifts and mask, no per-value branches) while their 8-byte reads stay inside
/// the buffer; the remaining values go through `unpack`.
/// `T` is UInt64, or UInt32 for widths ≤ 32 (half the scratch traffic for the 32-bit codecs).
@inline(__always)
func unpackAll<T: FixedWidthInteger & UnsignedInteger>(_ p: UnsafeRawPointer, avail: Int, width: Int, n: Int, into out: UnsafeMutablePointer<T>) {
    var sink = StoreSink(out: out)
    unpackAll(p, avail: avail, width: width, n: n, into: &sink)
}

/// Where unpacked values go: `put(i, u)` receives value `i` of the block (`u` < 2^width). A sink
/// that maps as it stores (`DoubleColumn`'s value sinks) fuses unpacking and conversion: one pass,
/// no scratch buffer, specialised per width and per sink.
protocol UnpackSink {
    mutating func put(_ i: Int, _ u: UInt64)
}

/// Stores the packed integers as they are (truncated to `T`).
struct StoreSink<T: FixedWidthInteger & UnsignedInteger>: UnpackSink {
    let out: UnsafeMutablePointer<T>
    @inline(__always) func put(_ i: Int, _ u: UInt64) { out[i] = T(truncatingIfNeeded: u) }
}

/// `unpackAll` into any sink: values 0..<n go to `sink.put` in index order.
@inline(__always)
func unpackAll<S: UnpackSink>(_ p: UnsafeRawPointer, avail: Int, width: Int, n: Int, into sink: inout S) {
    if width == 0 {
        for i in 0..<n { sink.put(i, 0) }
        return
    }
    var done = 0
    if width <= 56 {
        // Group g reads bytes g*width ..< g*width + (7*width)/8 + 8.
        let groupReach = (7 &* width) >> 3 &+ 8
        var groups = n >> 3
        if avail < groupReach {
            groups = 0
        } else if (groups &- 1) &* width > avail &- groupReach {
            // Near the end of the buffer only: a division per block was a tenth of a block's
            // decode time on the common path, where every group's read stays inside.
            groups = (avail &- groupReach) / width &+ 1
        }
        if groups > 0 {
            unpackGroups(p, width: width, groups: groups, &sink)
            done = groups &<< 3
        }
    } else if width == 64 {
        for i in 0..<n { sink.put(i, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))) }
        return
    }
    if done < n {
        unpack(p, avail: avail, width: width, first: done, n: n &- done) { i, u in sink.put(i, u) }
    }
}

/// Dispatches to the width-specialised unpacker (1...56 bits).
@inline(__always)
func unpackGroups<S: UnpackSink>(_ p: UnsafeRawPointer, width: Int, groups: Int, _ out: inout S) {
    switch width {
    case 1: unpackGroups(p, groups, &out, W1.self)
    case 2: unpackGroups(p, groups, &out, W2.self)
    case 3: unpackGroups(p, groups, &out, W3.self)
    case 4: unpackGroups(p, groups, &out, W4.self)
    case 5: unpackGroups(p, groups, &out, W5.self)
    case 6: unpackGroups(p, groups, &out, W6.self)
    case 7: unpackGroups(p, groups, &out, W7.self)
    case 8: unpackGroups(p, groups, &out, W8.self)
    case 9: unpackGroups(p, groups, &out, W9.self)
    case 10: unpackGroups(p, groups, &out, W10.self)
    case 11: unpackGroups(p, groups, &out, W11.self)
    case 12: unpackGroups(p, groups, &out, W12.self)
    case 13: unpackGroups(p, groups, &out, W13.self)
    case 14: unpackGroups(p, groups, &out, W14.self)
    case 15: unpackGroups(p, groups, &out, W15.self)
    case 16: unpackGroups(p, groups, &out, W16.self)
    case 17: unpackGroups(p, groups, &out, W17.self)
    case 18: unpackGroups(p, groups, &out, W18.self)
    case 19: unpackGroups(p, groups, &out, W19.self)
    case 20: unpackGroups(p, groups, &out, W20.self)
    case 21: unpackGroups(p, groups, &out, W21.self)
    case 22: unpackGroups(p, groups, &out, W22.self)
    case 23: unpackGroups(p, groups, &out, W23.self)
    case 24: unpackGroups(p, groups, &out, W24.self)
    case 25: unpackGroups(p, groups, &out, W25.self)
    case 26: unpackGroups(p, groups, &out, W26.self)
    case 27: unpackGroups(p, groups, &out, W27.self)
    case 28: unpackGroups(p, groups, &out, W28.self)
    case 29: unpackGroups(p, groups, &out, W29.self)
    case 30: unpackGroups(p, groups, &out, W30.self)
    case 31: unpackGroups(p, groups, &out, W31.self)
    case 32: unpackGroups(p, groups, &out, W32.self)
    case 33: unpackGroups(p, groups, &out, W33.self)
    case 34: unpackGroups(p, groups, &out, W34.self)
    case 35: unpackGroups(p, groups, &out, W35.self)
    case 36: unpackGroups(p, groups, &out, W36.self)
    case 37: unpackGroups(p, groups, &out, W37.self)
    case 38: unpackGroups(p, groups, &out, W38.self)
    case 39: unpackGroups(p, groups, &out, W39.self)
    case 40: unpackGroups(p, groups, &out, W40.self)
    case 41: unpackGroups(p, groups, &out, W41.self)
    case 42: unpackGroups(p, groups, &out, W42.self)
    case 43: unpackGroups(p, groups, &out, W43.self)
    case 44: unpackGroups(p, groups, &out, W44.self)
    case 45: unpackGroups(p, groups, &out, W45.self)
    case 46: unpackGroups(p, groups, &out, W46.self)
    case 47: unpackGroups(p, groups, &out, W47.self)
    case 48: unpackGroups(p, groups, &out, W48.self)
    case 49: unpackGroups(p, groups, &out, W49.self)
    case 50: unpackGroups(p, groups, &out, W50.self)
    case 51: unpackGroups(p, groups, &out, W51.self)
    case 52: unpackGroups(p, groups, &out, W52.self)
    case 53: unpackGroups(p, groups, &out, W53.self)
    case 54: unpackGroups(p, groups, &out, W54.self)
    case 55: unpackGroups(p, groups, &out, W55.self)
    default: unpackGroups(p, groups, &out, W56.self)
    }
}

/// A bit width as a type, so that each width gets a function of its own in which every offset,
/// shift and the mask are constants. (A width passed as a value and folded after inlining is not
/// enough: the optimiser merges the 56 copies back into one loop that reads them from memory.)
protocol PackWidth { static var w: Int { get } }
enum W1: PackWidth { static var w: Int { 1 } }
enum W2: PackWidth { static var w: Int { 2 } }
enum W3: PackWidth { static var w: Int { 3 } }
enum W4: PackWidth { static var w: Int { 4 } }
enum W5: PackWidth { static var w: Int { 5 } }
enum W6: PackWidth { static var w: Int { 6 } }
enum W7: PackWidth { static var w: Int { 7 } }
enum W8: PackWidth { static var w: Int { 8 } }
enum W9: PackWidth { static var w: Int { 9 } }
enum W10: PackWidth { static var w: Int { 10 } }
enum W11: PackWidth { static var w: Int { 11 } }
enum W12: PackWidth { static var w: Int { 12 } }
enum W13: PackWidth { static var w: Int { 13 } }
enum W14: PackWidth { static var w: Int { 14 } }
enum W15: PackWidth { static var w: Int { 15 } }
enum W16: PackWidth { static var w: Int { 16 } }
enum W17: PackWidth { static var w: Int { 17 } }
enum W18: PackWidth { static var w: Int { 18 } }
enum W19: PackWidth { static var w: Int { 19 } }
enum W20: PackWidth { static var w: Int { 20 } }
enum W21: PackWidth { static var w: Int { 21 } }
enum W22: PackWidth { static var w: Int { 22 } }
enum W23: PackWidth { static var w: Int { 23 } }
enum W24: PackWidth { static var w: Int { 24 } }
enum W25: PackWidth { static var w: Int { 25 } }
enum W26: PackWidth { static var w: Int { 26 } }
enum W27: PackWidth { static var w: Int { 27 } }
enum W28: PackWidth { static var w: Int { 28 } }
enum W29: PackWidth { static var w: Int { 29 } }
enum W30: PackWidth { static var w: Int { 30 } }
enum W31: PackWidth { static var w: Int { 31 } }
enum W32: PackWidth { static var w: Int { 32 } }
enum W33: PackWidth { static var w: Int { 33 } }
enum W34: PackWidth { static var w: Int { 34 } }
enum W35: PackWidth { static var w: Int { 35 } }
enum W36: PackWidth { static var w: Int { 36 } }
enum W37: PackWidth { static var w: Int { 37 } }
enum W38: PackWidth { static var w: Int { 38 } }
enum W39: PackWidth { static var w: Int { 39 } }
enum W40: PackWidth { static var w: Int { 40 } }
enum W41: PackWidth { static var w: Int { 41 } }
enum W42: PackWidth { static var w: Int { 42 } }
enum W43: PackWidth { static var w: Int { 43 } }
enum W44: PackWidth { static var w: Int { 44 } }
enum W45: PackWidth { static var w: Int { 45 } }
enum W46: PackWidth { static var w: Int { 46 } }
enum W47: PackWidth { static var w: Int { 47 } }
enum W48: PackWidth { static var w: Int { 48 } }
enum W49: PackWidth { static var w: Int { 49 } }
enum W50: PackWidth { static var w: Int { 50 } }
enum W51: PackWidth { static var w: Int { 51 } }
enum W52: PackWidth { static var w: Int { 52 } }
enum W53: PackWidth { static var w: Int { 53 } }
enum W54: PackWidth { static var w: Int { 54 } }
enum W55: PackWidth { static var w: Int { 55 } }
enum W56: PackWidth { static var w: Int { 56 } }

/// Unpacks `groups` groups of 8 values of `W.w` bits into `out` (values 0..<8·groups). Group g
/// starts at byte g*w.
@inline(never)
func unpackGroups<S: UnpackSink, W: PackWidth>(_ p: UnsafeRawPointer, _ groups: Int, _ out: inout S, _: W.Type) {
    let w = W.w
    let mask: UInt64 = (1 &<< UInt64(w)) &- 1
    @inline(__always) func value(_ q: UnsafeRawPointer, _ k: Int) -> UInt64 {
        let bit = k &* w
        return (UInt64(littleEndian: q.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)) >> UInt64(bit & 7)) & mask
    }
    var q = p
    var i = 0
    for _ in 0..<groups {
        out.put(i, value(q, 0))
        out.put(i &+ 1, value(q, 1))
        out.put(i &+ 2, value(q, 2))
        out.put(i &+ 3, value(q, 3))
        out.put(i &+ 4, value(q, 4))
        out.put(i &+ 5, value(q, 5))
        out.put(i &+ 6, value(q, 6))
        out.put(i &+ 7, value(q, 7))
        q += w
        i &+= 8
    }
}

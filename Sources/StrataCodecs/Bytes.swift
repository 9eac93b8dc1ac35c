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
    if width == 0 {
        out.update(repeating: 0, count: n)
        return
    }
    var done = 0
    if width <= 56 {
        // Group g reads bytes g*width ..< g*width + (7*width)/8 + 8.
        let groupReach = (7 &* width) >> 3 &+ 8
        var groups = n >> 3
        if avail < groupReach {
            groups = 0
        } else {
            groups = min(groups, (avail &- groupReach) / width &+ 1)
        }
        if groups > 0 {
            unpackGroups(p, width: width, groups: groups, out)
            done = groups &<< 3
        }
    } else if width == 64 {
        for i in 0..<n {
            out[i] = T(truncatingIfNeeded: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)))
        }
        return
    }
    if done < n {
        unpack(p, avail: avail, width: width, first: done, n: n &- done) { i, u in out[i] = T(truncatingIfNeeded: u) }
    }
}

/// Dispatches to the width-specialised unpacker (1...56 bits).
@inline(never)
func unpackGroups<T: FixedWidthInteger & UnsignedInteger>(_ p: UnsafeRawPointer, width: Int, groups: Int, _ out: UnsafeMutablePointer<T>) {
    switch width {
    case 1: unpackGroups(p, 1, groups, out)
    case 2: unpackGroups(p, 2, groups, out)
    case 3: unpackGroups(p, 3, groups, out)
    case 4: unpackGroups(p, 4, groups, out)
    case 5: unpackGroups(p, 5, groups, out)
    case 6: unpackGroups(p, 6, groups, out)
    case 7: unpackGroups(p, 7, groups, out)
    case 8: unpackGroups(p, 8, groups, out)
    case 9: unpackGroups(p, 9, groups, out)
    case 10: unpackGroups(p, 10, groups, out)
    case 11: unpackGroups(p, 11, groups, out)
    case 12: unpackGroups(p, 12, groups, out)
    case 13: unpackGroups(p, 13, groups, out)
    case 14: unpackGroups(p, 14, groups, out)
    case 15: unpackGroups(p, 15, groups, out)
    case 16: unpackGroups(p, 16, groups, out)
    case 17: unpackGroups(p, 17, groups, out)
    case 18: unpackGroups(p, 18, groups, out)
    case 19: unpackGroups(p, 19, groups, out)
    case 20: unpackGroups(p, 20, groups, out)
    case 21: unpackGroups(p, 21, groups, out)
    case 22: unpackGroups(p, 22, groups, out)
    case 23: unpackGroups(p, 23, groups, out)
    case 24: unpackGroups(p, 24, groups, out)
    case 25: unpackGroups(p, 25, groups, out)
    case 26: unpackGroups(p, 26, groups, out)
    case 27: unpackGroups(p, 27, groups, out)
    case 28: unpackGroups(p, 28, groups, out)
    case 29: unpackGroups(p, 29, groups, out)
    case 30: unpackGroups(p, 30, groups, out)
    case 31: unpackGroups(p, 31, groups, out)
    case 32: unpackGroups(p, 32, groups, out)
    case 33: unpackGroups(p, 33, groups, out)
    case 34: unpackGroups(p, 34, groups, out)
    case 35: unpackGroups(p, 35, groups, out)
    case 36: unpackGroups(p, 36, groups, out)
    case 37: unpackGroups(p, 37, groups, out)
    case 38: unpackGroups(p, 38, groups, out)
    case 39: unpackGroups(p, 39, groups, out)
    case 40: unpackGroups(p, 40, groups, out)
    case 41: unpackGroups(p, 41, groups, out)
    case 42: unpackGroups(p, 42, groups, out)
    case 43: unpackGroups(p, 43, groups, out)
    case 44: unpackGroups(p, 44, groups, out)
    case 45: unpackGroups(p, 45, groups, out)
    case 46: unpackGroups(p, 46, groups, out)
    case 47: unpackGroups(p, 47, groups, out)
    case 48: unpackGroups(p, 48, groups, out)
    case 49: unpackGroups(p, 49, groups, out)
    case 50: unpackGroups(p, 50, groups, out)
    case 51: unpackGroups(p, 51, groups, out)
    case 52: unpackGroups(p, 52, groups, out)
    case 53: unpackGroups(p, 53, groups, out)
    case 54: unpackGroups(p, 54, groups, out)
    case 55: unpackGroups(p, 55, groups, out)
    default: unpackGroups(p, 56, groups, out)
    }
}

/// Unpacks `groups` groups of 8 values of `w` bits (a constant once inlined into the dispatch
/// above: every offset, shift and the mask fold to constants). Group g starts at byte g*w.
@inline(__always)
func unpackGroups<T: FixedWidthInteger & UnsignedInteger>(_ p: UnsafeRawPointer, _ w: Int, _ groups: Int, _ out: UnsafeMutablePointer<T>) {
    let mask: UInt64 = (1 &<< UInt64(w)) &- 1
    @inline(__always) func value(_ q: UnsafeRawPointer, _ k: Int) -> T {
        let bit = k &* w
        return T(truncatingIfNeeded: (UInt64(littleEndian: q.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)) >> UInt64(bit & 7)) & mask)
    }
    var q = p
    var o = out
    for _ in 0..<groups {
        o[0] = value(q, 0)
        o[1] = value(q, 1)
        o[2] = value(q, 2)
        o[3] = value(q, 3)
        o[4] = value(q, 4)
        o[5] = value(q, 5)
        o[6] = value(q, 6)
        o[7] = value(q, 7)
        q += w
        o += 8
    }
}

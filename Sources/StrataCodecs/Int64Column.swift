// Int64 columns (steps, wall-clock milliseconds): a whole-column "linear" layout when
// values[i] == a &+ i &* d for every i, otherwise blocks of 128 values, each delta-FOR or FOR
// bit-packed. Format: docs/FORMAT-codecs.md.

package enum Int64Column {
    static let codecDeltaFOR: UInt8 = 1
    static let codecFOR: UInt8 = 2

    // MARK: Encoding

    /// Appends a self-describing encoding of `values` (count ≤ ColumnLimits.maxValues) to `out`.
    package static func encode(_ values: UnsafeBufferPointer<Int64>, into out: inout [UInt8]) {
        let count = values.count
        precondition(count <= ColumnLimits.maxValues, "Int64Column.encode: \(count) values > \(ColumnLimits.maxValues)")
        guard count > 0, let v = values.baseAddress else {
            appendColumnHeader(kind: ColumnFormat.int64Kind, layout: ColumnFormat.layoutBlocks, count: 0, to: &out)
            return
        }
        // Linear: values[i] == a &+ i &* d for all i (wrapping, so never traps; verified exactly).
        let a = v[0]
        let d = count > 1 ? v[1] &- v[0] : 0
        var linear = true
        var expect = a
        for i in 0..<count {
            if v[i] != expect { linear = false; break }
            expect = expect &+ d
        }
        if linear {
            appendColumnHeader(kind: ColumnFormat.int64Kind, layout: ColumnFormat.layoutLinear, count: count, to: &out)
            appendVarint(zigzag(a), to: &out)
            appendVarint(zigzag(d), to: &out)
            return
        }
        let blocks = ColumnFormat.blockCount(count)
        // Worst block: 2 header bytes + two 10-byte varints + 8 bytes a value.
        let buffer = EncodeBuffer(capacity: blocks * 22 + count * 8 + 16)
        var w = RawByteWriter(base: buffer.raw, pos: 0)
        var start = 0
        while start < count {
            let n = min(ColumnFormat.blockSize, count - start)
            encodeBlock(v + start, n, &w)
            start += n
        }
        emitBlockColumn(kind: ColumnFormat.int64Kind, count: count, blocks: buffer.raw, len: w.pos, into: &out)
    }

    @inline(__always)
    static func encodeBlock(_ v: UnsafePointer<Int64>, _ n: Int, _ w: inout RawByteWriter) {
        var minV = v[0], maxV = v[0]
        var minD = Int64.max, maxD = Int64.min
        var prev = v[0]
        for i in 1..<max(n, 1) {
            let x = v[i]
            minV = min(minV, x)
            maxV = max(maxV, x)
            let dd = x &- prev
            minD = min(minD, dd)
            maxD = max(maxD, dd)
            prev = x
        }
        if n == 1 { minD = 0; maxD = 0 }
        let widthFOR = bitWidth(UInt64(bitPattern: maxV &- minV))
        let widthDelta = bitWidth(UInt64(bitPattern: maxD &- minD))
        let sizeFOR = varintSize(zigzag(minV)) + packedSize(n, widthFOR)
        let sizeDelta = varintSize(zigzag(v[0])) + varintSize(zigzag(minD)) + packedSize(n - 1, widthDelta)
        if sizeDelta <= sizeFOR {
            w.byte(codecDeltaFOR)
            w.byte(UInt8(widthDelta))
            w.varint(zigzag(v[0]))
            w.varint(zigzag(minD))
            w.pack(n - 1, width: widthDelta) { i in UInt64(bitPattern: (v[i + 1] &- v[i]) &- minD) }
        } else {
            w.byte(codecFOR)
            w.byte(UInt8(widthFOR))
            w.varint(zigzag(minV))
            w.pack(n, width: widthFOR) { i in UInt64(bitPattern: v[i] &- minV) }
        }
    }

    // MARK: Decoding

    /// A parsed block header; `packed` is the offset of the packed data in the reader's buffer.
    struct Block {
        var codec: UInt8
        var width: Int
        var base: Int64  // delta-FOR: first value; FOR: minimum
        var minDelta: Int64  // delta-FOR only
        var packed: Int
    }

    /// Parses the header of block `k` holding `n` values and skips its packed data.
    @inline(__always)
    static func readBlock(_ r: inout ColumnByteReader, _ k: Int, _ n: Int) throws(CodecError) -> Block {
        let codec = try r.byte(k, "codec")
        let width = Int(try r.byte(k, "bit width"))
        guard width <= 64 else { throw r.error(k, "bit width \(width) > 64") }
        switch codec {
        case codecDeltaFOR:
            let first = unzigzag(try r.varint(k, "first value"))
            let minDelta = unzigzag(try r.varint(k, "minimum delta"))
            let at = try r.take(packedSize(n - 1, width), k, "packed deltas")
            return Block(codec: codec, width: width, base: first, minDelta: minDelta, packed: at)
        case codecFOR:
            let minimum = unzigzag(try r.varint(k, "minimum"))
            let at = try r.take(packedSize(n, width), k, "packed values")
            return Block(codec: codec, width: width, base: minimum, minDelta: 0, packed: at)
        default:
            throw r.error(k, "unknown int64 codec \(codec) at byte \(r.pos - 2)")
        }
    }

    /// Decodes the values with indices in `range` (a sub-range of 0..<count) into dst[0..<range.count].
    /// Cost is O(range.count + blocks), or O(count) for an LZ4-compressed column.
    package static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Int64>
    ) throws(CodecError) {
        try decodeColumn(bytes, count: count, range: range, kind: ColumnFormat.int64Kind, what: "int64", lz4What: "int64 lz4") {
            (r) throws(CodecError) in
            try decodeBlocks(&r, count: count, range: range, dst)
        } other: { (layout, r) throws(CodecError) in
            guard layout == ColumnFormat.layoutLinear else { return false }
            let (a, d) = try readLinear(&r)
            var x = a &+ Int64(range.lowerBound) &* d
            for j in 0..<range.count {
                dst[j] = x
                x = x &+ d
            }
            return true
        }
    }

    /// The start and step of a linear column (all that follows its header).
    static func readLinear(_ r: inout ColumnByteReader) throws(CodecError) -> (start: Int64, step: Int64) {
        let a = unzigzag(try r.varint(-1, "linear start"))
        let d = unzigzag(try r.varint(-1, "linear step"))
        guard r.remaining == 0 else { throw r.error(-1, "\(r.remaining) trailing bytes after the linear header") }
        return (a, d)
    }

    static func decodeBlocks(
        _ r: inout ColumnByteReader, count: Int, range: Range<Int>, _ dst: UnsafeMutablePointer<Int64>
    ) throws(CodecError) {
        let base = r.base, end = r.end
        let all = try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: unpackScratchSize) { (buf) throws(CodecError) -> Bool in
            let s = buf.baseAddress!
            // `read` is a closure literal so that readBlock inlines into the walk (see DoubleColumn).
            return try forEachBlock(
                &r, count: count, range: range, read: { (r: inout ColumnByteReader, k: Int, n: Int) throws(CodecError) in try readBlock(&r, k, n) }
            ) { b, lo, hi, at in
                let blockStart = at &+ range.lowerBound &- lo
                let n = min(ColumnFormat.blockSize, count &- blockStart)
                decodeBlock(base + b.packed, end &- b.packed, b, n, lo, hi, dst + at, s)
            }
        }
        if all { try r.expectEnd(count: count) }
    }

    /// Decodes values lo..<hi of a parsed (and so bounds-checked) block of `n` values whose packed
    /// data starts at `p` (`avail` readable bytes from there) into out[0..<hi-lo]; `s` is scratch
    /// for `unpackScratchSize` values. The whole block is unpacked at once, then mapped in a
    /// branch-free loop (FOR) or prefix-summed (delta-FOR; a whole block in the same pass as the
    /// unpacking, through `DeltaSink`).
    @inline(__always)
    static func decodeBlock(
        _ p: UnsafeRawPointer, _ avail: Int, _ b: Block, _ n: Int, _ lo: Int, _ hi: Int, _ out: UnsafeMutablePointer<Int64>,
        _ s: UnsafeMutablePointer<UInt64>
    ) {
        if b.codec == codecFOR {
            unpackAll(p, avail: avail, width: b.width, n: n, into: s)
            let m = b.base
            for i in lo..<hi { out[i &- lo] = m &+ Int64(bitPattern: s[i]) }
        } else {
            // delta-FOR: value i = first + Σ_{j<i} (minDelta + packed[j]); packed[j] is delta j+1.
            if lo == 0 && hi == n {
                // A whole block: unpacked and summed in one pass (no scratch).
                out[0] = b.base
                var sink = DeltaSink(out: out + 1, x: UInt64(bitPattern: b.base), md: UInt64(bitPattern: b.minDelta))
                unpackAll(p, avail: avail, width: b.width, n: n &- 1, into: &sink)
                return
            }
            unpackAll(p, avail: avail, width: b.width, n: n &- 1, into: s)
            let md = UInt64(bitPattern: b.minDelta)
            var x = UInt64(bitPattern: b.base)
            if lo == 0 { out[0] = b.base }
            let stop = hi &- 1  // deltas 0..<stop give values 1...stop
            var j = 0
            let skip = max(lo &- 1, 0)  // deltas summed without writing
            while j < skip {
                x = x &+ (md &+ s[j])
                j &+= 1
            }
            let o = out + (1 &- lo)
            while j < stop {
                x = x &+ (md &+ s[j])
                o[j] = Int64(bitPattern: x)
                j &+= 1
            }
        }
    }

    /// delta-FOR over a whole block: packed value i is delta i+1; out[i] is value i+1.
    struct DeltaSink: UnpackSink {
        let out: UnsafeMutablePointer<Int64>
        var x: UInt64
        let md: UInt64
        @inline(__always) mutating func put(_ i: Int, _ u: UInt64) {
            x = x &+ (md &+ u)
            out[i] = Int64(bitPattern: x)
        }
    }

    /// Per-codec byte accounting of an encoded column. The entries' bytes add up to `bytes.count`
    /// (the column header is counted in the first entry).
    package static func describe(_ bytes: UnsafeRawBufferPointer, count: Int) throws(CodecError) -> [CodecUsage] {
        try describeColumn(
            bytes, count: count, kind: ColumnFormat.int64Kind, what: "int64", lz4What: "int64 lz4", read: readBlock,
            name: { $0.codec == codecFOR ? "for" : "delta-for" }
        ) { (layout, r, table) throws(CodecError) in
            guard layout == ColumnFormat.layoutLinear else { return false }
            _ = try readLinear(&r)
            table.add("linear", values: count, bytes: bytes.count)
            return true
        }
    }
}

@inline(__always) func appendVarint(_ v: UInt64, to out: inout [UInt8]) {
    var x = v
    while x >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: x) | 0x80)
        x >>= 7
    }
    out.append(UInt8(truncatingIfNeeded: x))
}

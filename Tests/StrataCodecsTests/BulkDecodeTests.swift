import Foundation
import Testing

@testable import StrataCodecs

/// The bulk, width-specialised decoders (`unpackAll`, the block decoders built on it) against a
/// scalar reference kept here: a bit-at-a-time reader of the layouts of docs/FORMAT-codecs.md,
/// written the plain way the decoders were before they were vectorised.
@Suite struct BulkDecodeTests {
    // MARK: Scalar reference

    struct RefReader {
        let b: [UInt8]
        var pos = 0
        mutating func byte() -> UInt8 {
            defer { pos += 1 }
            return b[pos]
        }
        mutating func varint() -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let x = byte()
                v |= UInt64(x & 0x7F) << shift
                if x < 0x80 { return v }
                shift += 7
            }
        }
        mutating func fixed(_ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(byte()) << UInt64(8 * k) }
            return v
        }
        /// `n` values of `width` bits, LSB first, read one bit at a time; skips the padding.
        mutating func packed(_ n: Int, _ width: Int) -> [UInt64] {
            var out: [UInt64] = []
            for i in 0..<n {
                var v: UInt64 = 0
                for k in 0..<width {
                    let bit = i * width + k
                    if (b[pos + bit / 8] >> UInt8(bit % 8)) & 1 == 1 { v |= 1 << UInt64(k) }
                }
                out.append(v)
            }
            pos += (n * width + 7) / 8
            return out
        }
    }

    static func unzz(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

    /// The block region of a column (decompressed when LZ4) and the layout byte.
    static func refBlocks(_ bytes: [UInt8], kind: UInt8) -> (layout: UInt8, r: RefReader) {
        var r = RefReader(b: bytes)
        #expect(r.byte() == kind)
        let layout = r.byte()
        _ = r.varint()
        if layout & 0x80 != 0 {
            let raw = Int(r.varint())
            var out = [UInt8](repeating: 0, count: raw)
            let src = Array(bytes[r.pos...])
            src.withUnsafeBytes { s in out.withUnsafeMutableBytes { d in try! LZ4Codec.decompress(s, into: d) } }
            return (layout & 0x7F, RefReader(b: out))
        }
        return (layout, r)
    }

    static func refInt64(_ bytes: [UInt8], count: Int) -> [Int64] {
        var (layout, r) = refBlocks(bytes, kind: 0x49)
        if layout == 1 {
            let a = unzz(r.varint()), d = unzz(r.varint())
            return (0..<count).map { a &+ Int64($0) &* d }
        }
        var out: [Int64] = []
        while out.count < count {
            let n = min(128, count - out.count)
            let codec = r.byte(), width = Int(r.byte())
            if codec == 1 {
                var x = unzz(r.varint())
                let md = unzz(r.varint())
                out.append(x)
                for u in r.packed(n - 1, width) {
                    x = x &+ md &+ Int64(bitPattern: u)
                    out.append(x)
                }
            } else {
                let m = unzz(r.varint())
                out += r.packed(n, width).map { m &+ Int64(bitPattern: $0) }
            }
        }
        return out
    }

    static func refDouble(_ bytes: [UInt8], count: Int) -> [UInt64] {
        var (_, r) = refBlocks(bytes, kind: 0x44)
        var out: [UInt64] = []
        while out.count < count {
            let n = min(128, count - out.count)
            let tag = r.byte()
            let codec = tag & 0x7F
            var block: [UInt64] = []
            if codec == 1 {
                for _ in 0..<n { block.append(r.fixed(8)) }
            } else {
                let width = Int(r.byte())
                switch codec {
                case 2:
                    let m = unzz(r.varint())
                    block = r.packed(n, width).map { Double(m &+ Int64(bitPattern: $0)).bitPattern }
                case 3:
                    let e = Int(r.byte())
                    let m = unzz(r.varint())
                    var p = 1.0
                    for _ in 0..<e { p *= 10 }
                    block = r.packed(n, width).map { (Double(m &+ Int64(bitPattern: $0)) / p).bitPattern }
                case 7:
                    let e = Int(Int8(bitPattern: r.byte()))
                    let k = Double(r.varint())
                    let m = unzz(r.varint())
                    let q = Double(sign: .plus, exponent: e, significand: 1)
                    block = r.packed(n, width).map { ((Double(m &+ Int64(bitPattern: $0)) * q) / k).bitPattern }
                case 8:
                    // scaled-diff: D^order = min + packed; D^j = prefix sums of D^(j+1) from seed j.
                    let order = Int(r.byte())
                    let e = Int(unzz(r.varint()))
                    let k = Double(r.varint())
                    let seeds = (0..<order).map { _ in unzz(r.varint()) }
                    let m = unzz(r.varint())
                    var d = r.packed(max(n - order, 0), width).map { m &+ Int64(bitPattern: $0) }
                    for j in stride(from: order - 1, through: 0, by: -1) {
                        var next = [seeds[j]]
                        for x in d { next.append(next.last! &+ x) }
                        d = next
                    }
                    var q = 1.0
                    if e >= 0 { for _ in 0..<e { q *= 2 } } else { for _ in 0..<(-e) { q /= 2 } }
                    block = d[0..<n].map { ((Double($0) * q) / k).bitPattern }
                case 4:
                    let m = UInt32(r.fixed(4))
                    block = r.packed(n, width).map { u in
                        Double(Float(bitPattern: DoubleColumn.unmap32(m &+ UInt32(truncatingIfNeeded: u)))).bitPattern
                    }
                case 5:
                    let first = r.fixed(8)
                    let md = UInt64(bitPattern: unzz(r.varint()))
                    var x = DoubleColumn.map64(first)
                    block = [first]
                    for u in r.packed(n - 1, width) {
                        x = x &+ md &+ u
                        block.append(DoubleColumn.unmap64(x))
                    }
                default:  // 6: delta-of-delta
                    let first = r.fixed(8)
                    var d = UInt64(bitPattern: unzz(r.varint()))
                    let md = UInt64(bitPattern: unzz(r.varint()))
                    var x = DoubleColumn.map64(first)
                    block = [first]
                    if n > 1 {
                        x = x &+ d
                        block.append(DoubleColumn.unmap64(x))
                    }
                    for u in r.packed(max(n - 2, 0), width) {
                        d = d &+ md &+ u
                        x = x &+ d
                        block.append(DoubleColumn.unmap64(x))
                    }
                }
                if tag & 0x80 != 0 {
                    let c = Int(r.byte())
                    let idx = (0..<c).map { _ in Int(r.byte()) }
                    for i in idx { block[i] = r.fixed(8) }
                }
            }
            out += block
        }
        return out
    }

    // MARK: unpackAll

    /// Every width 0...64 and block length at the block edges, packed by the encoder's `pack`, read
    /// back by `unpackAll` with no slack after the packed data (tail path) and with slack (the
    /// 8-value groups), against the bit-at-a-time reader.
    @Test func unpackAllEveryWidthAndLength() {
        var rng = SeededRNG(seed: testSeed(17))
        for width in 0...64 {
            for n in [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 120, 127, 128] {
                let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
                let values = (0..<n).map { i -> UInt64 in
                    // Extremes at the edges, random bits between.
                    i == 0 ? mask : (i == 1 ? 0 : UInt64.random(in: 0...UInt64.max, using: &rng) & mask)
                }
                let size = packedSize(n, width)
                for slack in [0, 3, 64] {
                    let buf = UnsafeMutableRawPointer.allocate(byteCount: size + slack + 1, alignment: 8)
                    defer { buf.deallocate() }
                    buf.initializeMemory(as: UInt8.self, repeating: 0xA5, count: size + slack + 1)
                    var w = RawByteWriter(base: buf, pos: 0)
                    w.pack(n, width: width) { values[$0] }
                    #expect(w.pos == (width == 0 ? 0 : size))
                    let bytes = (0..<size).map { buf.load(fromByteOffset: $0, as: UInt8.self) }
                    var ref = RefReader(b: bytes + [0])
                    let expected = ref.packed(n, width)
                    #expect(expected == values, "reference reader, width \(width) n \(n)")
                    let out = UnsafeMutablePointer<UInt64>.allocate(capacity: 128)
                    defer { out.deallocate() }
                    out.initialize(repeating: 0xDEAD, count: 128)
                    unpackAll(UnsafeRawPointer(buf), avail: size + slack, width: width, n: n, into: out)
                    let got = (0..<n).map { out[$0] }
                    #expect(got == values, "width \(width) n \(n) slack \(slack)")
                    #expect(out[n == 128 ? 127 : n] == (n == 128 ? values[127] : 0xDEAD), "wrote past n: width \(width) n \(n)")
                }
            }
        }
    }

    // MARK: Int64 columns

    /// Blocks whose FOR or delta-FOR width is each of 1...64, at lengths that end inside and at the
    /// edge of a block: full and partial decodes against the reference and the input.
    @Test func int64EveryWidth() throws {
        let seed = testSeed(1717)
        var rng = SeededRNG(seed: seed)
        for width in 1...64 {
            for count in [1, 2, 9, 127, 128, 129, 300, 1000] {
                let span: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
                // FOR data (random in a span of `width` bits) and delta data (a walk whose steps
                // span `width` bits), the encoder picking whichever is smaller per block.
                let base = Int64.random(in: -1_000_000...1_000_000, using: &rng)
                let forData = (0..<count).map { i -> Int64 in
                    base &+ Int64(bitPattern: i % 2 == 0 ? span : UInt64.random(in: 0...span, using: &rng))
                }
                var x = base
                let walk = (0..<count).map { i -> Int64 in
                    x = x &+ 1000 &+ Int64(bitPattern: (i % 3 == 0 ? span : UInt64.random(in: 0...span, using: &rng)) >> 1)
                    return x
                }
                for values in [forData, walk] {
                    let bytes = encodeInt64(values)
                    #expect(Self.refInt64(bytes, count: count) == values, "reference: width \(width) count \(count) seed \(seed)")
                    #expect(try decodeInt64(bytes, count: count) == values, "width \(width) count \(count) seed \(seed)")
                    for r in interestingRanges(count: count, rng: &rng, random: 6) {
                        #expect(try decodeInt64(bytes, count: count, range: r) == Array(values[r]), "width \(width) range \(r) seed \(seed)")
                    }
                }
            }
        }
    }

    // MARK: Double columns

    /// Every codec at widths from 0 to its widest, with exceptions and at block edges: the decoders
    /// (from the start and from block offsets) against the scalar reference.
    @Test func doubleEveryCodecAndWidth() throws {
        let seed = testSeed(1718)
        var rng = SeededRNG(seed: seed)
        var seen: Set<String> = []
        for width in 0...52 {
            let span: UInt64 = (1 << UInt64(width)) - 1
            for count in [1, 2, 3, 127, 128, 130, 500] {
                func r() -> UInt64 { UInt64.random(in: 0...span, using: &rng) }
                var sets: [[Double]] = []
                sets.append((0..<count).map { _ in Double(Int64(bitPattern: r()) - 7) })  // int-for
                sets.append((0..<count).map { _ in Double(Int64(bitPattern: r() & 0xFF_FFFF_FFFF)) / 1000 })  // decimal
                if width <= 31 {
                    sets.append((0..<count).map { _ in Double(Float(bitPattern: 0x3F00_0000 | UInt32(r() & 0x7F_FFFF))) })  // float32
                }
                var v = 1.0
                sets.append(
                    (0..<count).map { _ in
                        v += Double(r() % 1000) * 1e-12 + 1e-9; return v
                    })  // smooth float64
                var t = 0.37
                var dt = 1e-3
                sets.append(
                    (0..<count).map { _ in  // delta-of-delta friendly
                        dt += Double(Int64(r() % 64) - 32) * 1e-15
                        t += dt
                        return t
                    })
                sets.append((0..<count).map { _ in Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)) })  // raw
                sets.append((0..<count).map { i in Double(Float(Double(r() % 100_000) / 997)) / 390 + (i == count / 2 ? .nan : 0) })  // mean-for-ish
                // Smooth full precision (scaled-diff): a cosine with noise of about 2^width ulps.
                let amp = Double(r() | 1) * 0x1p-53
                sets.append((0..<count).map { i in 1e-3 * (1 + 0.5 * cos(Double(i) / 300)) + amp * 1e-3 * Double(i % 3) })
                for values in sets {
                    var withSpikes = values
                    if count > 100 { withSpikes[count / 3] = 1e300; withSpikes[count - 1] = -.infinity }
                    for vs in [values, withSpikes] {
                        let bytes = encodeDouble(vs)
                        for u in try describeDouble(bytes, count: count) { seen.insert(u.codec) }
                        let expected = vs.map(\.bitPattern)
                        #expect(Self.refDouble(bytes, count: count) == expected, "reference: width \(width) count \(count) seed \(seed)")
                        #expect(try decodeDouble(bytes, count: count).map(\.bitPattern) == expected, "width \(width) count \(count) seed \(seed)")
                        let offsets = try bytes.withUnsafeBytes { (b) throws(CodecError) in try DoubleColumn.blockOffsets(b, count: count) }
                        for range in interestingRanges(count: count, rng: &rng, random: 6) {
                            let part = try decodeDouble(bytes, count: count, range: range).map(\.bitPattern)
                            #expect(part == Array(expected[range]), "width \(width) range \(range) seed \(seed)")
                            if let offsets, !range.isEmpty {
                                var dst = [Double](repeating: 0, count: range.count)
                                try bytes.withUnsafeBytes { b in
                                    try dst.withUnsafeMutableBufferPointer { d in
                                        try DoubleColumn.decode(b, count: count, range: range, into: d.baseAddress!, blockOffsets: offsets)
                                    }
                                }
                                #expect(dst.map(\.bitPattern) == Array(expected[range]), "offsets: width \(width) range \(range) seed \(seed)")
                            }
                        }
                    }
                }
            }
        }
        for codec in ["raw64", "int-for", "decimal", "float32-for", "float64-delta", "float64-dod", "scaled-diff"] {
            #expect(seen.contains(codec) || seen.contains("lz4+" + codec), "codec \(codec) not exercised: \(seen.sorted())")
        }
    }

    // MARK: Single-sign float32-for and the magic-number conversions

    /// A block-layout double column built by hand: each block is `header` (codec, width and the
    /// codec's fields) followed by `n` packed values of `width` bits from `packed(block, i)`.
    static func handColumn(count: Int, width: Int, header: (Int) -> [UInt8], packed: (Int, Int) -> UInt64) -> [UInt8] {
        var out: [UInt8] = []
        appendColumnHeader(kind: ColumnFormat.doubleKind, layout: ColumnFormat.layoutBlocks, count: count, to: &out)
        var k = 0
        while k * 128 < count {
            let n = min(128, count - k * 128)
            out += header(k)
            let size = packedSize(n, width)
            let buf = UnsafeMutableRawPointer.allocate(byteCount: size + 8, alignment: 8)
            defer { buf.deallocate() }
            var w = RawByteWriter(base: buf, pos: 0)
            let block = k
            w.pack(n, width: width) { packed(block, $0) }
            out += (0..<size).map { buf.load(fromByteOffset: $0, as: UInt8.self) }
            k += 1
        }
        return out
    }

    /// Decodes `bytes` whole, in ranges and from block offsets, against the scalar reference.
    static func checkAgainstReference(_ bytes: [UInt8], count: Int, _ what: String, _ rng: inout SeededRNG) throws {
        let expected = refDouble(bytes, count: count)
        #expect(try decodeDouble(bytes, count: count).map(\.bitPattern) == expected, "\(what)")
        let offsets = try bytes.withUnsafeBytes { (b) throws(CodecError) in try DoubleColumn.blockOffsets(b, count: count) }
        for range in interestingRanges(count: count, rng: &rng, random: 3) where !range.isEmpty {
            #expect(try decodeDouble(bytes, count: count, range: range).map(\.bitPattern) == Array(expected[range]), "\(what) range \(range)")
            var dst = [Double](repeating: 0, count: range.count)
            try bytes.withUnsafeBytes { b in
                try dst.withUnsafeMutableBufferPointer { d in
                    try DoubleColumn.decode(b, count: count, range: range, into: d.baseAddress!, blockOffsets: offsets!)
                }
            }
            #expect(dst.map(\.bitPattern) == Array(expected[range]), "\(what) offsets range \(range)")
        }
    }

    /// float32-for blocks whose minimum puts every value among the positive floats, every value
    /// among the negative floats, exactly at either edge of those ranges, or across the sign
    /// change (the mapped loop): every width 0...32, every length 1...300 (width cycling), with
    /// the extremes of the frame (0 and 2^width − 1) in every block.
    @Test func float32SingleSignRuns() throws {
        let seed = testSeed(1719)
        var rng = SeededRNG(seed: seed)
        func bases(_ width: Int) -> [UInt32] {
            let mask = UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(width)) - 1)
            return [
                0x8000_0000, 0xBF80_0000 &- mask / 2, 0xFFFF_FFFF &- mask,  // positive (the last one ends at 2^32 − 1)
                0, 0x4000_0000, 0x7FFF_FFFF &- mask,  // negative (the last one ends at 2^31 − 1)
                0x8000_0000 &- 1 &- mask / 2, 0x8000_0000 &- max(mask, 1), 0xFFFF_FFFF &- mask &+ 1  // mixed or wrapping
            ]
        }
        var cases: [(count: Int, width: Int)] = (1...300).map { ($0, $0 % 33) }
        for width in 0...32 { cases += [(8, width), (128, width), (257, width)] }
        for (count, width) in cases {
            let mask: UInt64 = (1 << UInt64(width)) - 1
            var values: [UInt64] = []
            for i in 0..<count { values.append(i % 128 == 0 ? mask : (i % 128 == 1 ? 0 : UInt64.random(in: 0...mask, using: &rng))) }
            for base in bases(width) {
                let bytes = Self.handColumn(
                    count: count, width: width,
                    header: { _ in [DoubleColumn.codecFloat32, UInt8(width)] + withUnsafeBytes(of: base.littleEndian) { Array($0) } },
                    packed: { k, i in values[k * 128 + i] })
                try Self.checkAgainstReference(bytes, count: count, "float32 width \(width) count \(count) base \(base) seed \(seed)", &rng)
            }
        }
    }

    /// decimal and mean-for blocks whose integers stay inside (−2^51, 2^51) (the magic-number
    /// conversion) or reach its edges and beyond (the scalar conversion), at widths 0...64.
    @Test func decimalAndMeanMagicConversion() throws {
        let seed = testSeed(1720)
        var rng = SeededRNG(seed: seed)
        let limit: Int64 = 1 << 51
        for width in 0...64 {
            let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
            let span = Int64(bitPattern: min(mask, UInt64(Int64.max)))
            var minimums: [Int64] = [0, -7, 123_456, -(limit - 1), limit - 1, -limit, limit, Int64.min, Int64.max]
            if width < 63 { minimums += [limit - 1 - span, limit - span, -(limit - 1) - span / 2] }
            for count in [1, 9, 128, 200] {
                let values = (0..<count).map { i in i % 128 == 0 ? mask : (i % 128 == 1 ? 0 : UInt64.random(in: 0...mask, using: &rng)) }
                for m in minimums {
                    var zz: [UInt8] = []
                    appendVarint(zigzag(m), to: &zz)
                    let decimal = Self.handColumn(
                        count: count, width: width, header: { _ in [DoubleColumn.codecDecimal, UInt8(width), 3] + zz },
                        packed: { k, i in values[k * 128 + i] })
                    try Self.checkAgainstReference(decimal, count: count, "decimal width \(width) count \(count) m \(m) seed \(seed)", &rng)
                    let mean = Self.handColumn(
                        count: count, width: width, header: { _ in [DoubleColumn.codecMean, UInt8(width), UInt8(bitPattern: -3), 7] + zz },
                        packed: { k, i in values[k * 128 + i] })
                    try Self.checkAgainstReference(mean, count: count, "mean-for width \(width) count \(count) m \(m) seed \(seed)", &rng)
                }
            }
        }
    }
}

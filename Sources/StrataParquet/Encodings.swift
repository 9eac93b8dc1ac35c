// Parquet value encodings (Encodings.md): PLAIN, the RLE/bit-packed hybrid (levels, dictionary
// indices, booleans), DELTA_BINARY_PACKED and BYTE_STREAM_SPLIT. Fixed-width values travel as
// UInt64 bit patterns (4-byte types in the low half; booleans as 0/1). Decoders check every
// length against the bytes they have and never produce more values than asked for.

/// The number of bits needed to store `v` (0 for 0).
@inline(__always) func bitWidth(_ v: UInt64) -> Int { 64 - v.leadingZeroBitCount }

/// Packs values LSB first, `width` bits each (0...64).
struct BitPacker {
    var out: [UInt8]
    private var acc: UInt64 = 0
    private var bits = 0

    init(into out: [UInt8]) { self.out = out }

    mutating func put(_ value: UInt64, width: Int) {
        var v = width == 64 ? value : value & ((1 << UInt64(width)) - 1)
        var left = width
        while left > 0 {
            let take = min(left, 32)
            let part = take == 64 ? v : v & ((1 << UInt64(take)) - 1)
            acc |= part << UInt64(bits)
            bits += take
            left -= take
            v = take == 64 ? 0 : v >> UInt64(take)
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
    }

    /// Writes the last partial byte (zero bits after the values).
    mutating func finish() -> [UInt8] {
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)); acc = 0; bits = 0 }
        return out
    }
}

/// Reads values packed LSB first from `bytes[start..<end]`; the caller checks the length first.
struct BitUnpacker {
    let bytes: [UInt8]
    var bitPos: Int

    init(_ bytes: [UInt8], at start: Int) {
        self.bytes = bytes
        self.bitPos = start * 8
    }

    mutating func get(width: Int) -> UInt64 {
        var result: UInt64 = 0
        var got = 0
        while got < width {
            let off = bitPos & 7
            let take = min(8 - off, width - got)
            let b = (UInt64(bytes[bitPos >> 3]) >> UInt64(off)) & ((1 << UInt64(take)) - 1)
            result |= b << UInt64(got)
            got += take
            bitPos += take
        }
        return result
    }
}

/// A cursor over a byte range, every read checked.
struct ByteCursor {
    let bytes: [UInt8]
    var pos: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        self.pos = from
        self.end = to ?? bytes.count
    }

    var remaining: Int { end - pos }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) {
        guard n >= 0, n <= end - pos else { throw .corrupt("\(what()) runs past the end of the page", at: pos) }
    }

    mutating func byte() throws(DecodeFailure) -> UInt8 {
        try need(1, "a byte")
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func u32le() throws(DecodeFailure) -> UInt32 {
        try need(4, "a 4-byte length")
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << UInt32(8 * i) }
        pos += 4
        return v
    }

    mutating func varint() throws(DecodeFailure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw .corrupt("varint overflows 64 bits", at: pos - 1) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .corrupt("varint longer than 10 bytes", at: pos - 1) }
        }
    }

    mutating func zigzag() throws(DecodeFailure) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }
}

func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
    out.append(UInt8(v))
}

func appendZigzag(_ v: Int64, to out: inout [UInt8]) { appendVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), to: &out) }

func appendLE(_ v: UInt64, width: Int, to out: inout [UInt8]) {
    for i in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
}

// MARK: RLE / bit-packed hybrid

enum RLEHybrid {
    /// Encodes `values` (each < 2^width) as RLE runs where 16 or more equal values repeat, and as
    /// bit-packed groups of 8 elsewhere (the last group padded with zeros).
    static func encode(_ values: [UInt32], width: Int, into out: inout [UInt8]) {
        let valueBytes = (width + 7) / 8
        var literalStart = 0
        var i = 0
        func flushLiterals(upTo end: Int, _ out: inout [UInt8]) {
            guard end > literalStart else { return }
            let n = end - literalStart
            let groups = (n + 7) / 8
            appendVarint(UInt64(groups) << 1 | 1, to: &out)
            var p = BitPacker(into: [])
            for k in 0..<(groups * 8) {
                p.put(k < n ? UInt64(values[literalStart + k]) : 0, width: width)
            }
            out += p.finish()
        }
        while i < values.count {
            var j = i + 1
            while j < values.count && values[j] == values[i] { j += 1 }
            let run = j - i
            // A repeat starts a run only at a group boundary of the pending literals.
            if run >= 16 && (i - literalStart) % 8 == 0 {
                flushLiterals(upTo: i, &out)
                appendVarint(UInt64(run) << 1, to: &out)
                appendLE(UInt64(values[i]), width: valueBytes, to: &out)
                i = j
                literalStart = j
            } else {
                i += 1
            }
        }
        flushLiterals(upTo: values.count, &out)
    }

    /// Decodes exactly `count` values of `width` bits (0...32) from the cursor.
    static func decode(_ c: inout ByteCursor, width: Int, count: Int) throws(DecodeFailure) -> [UInt32] {
        guard width >= 0 && width <= 32 else { throw .corrupt("bit width \(width) is more than 32", at: c.pos) }
        var out: [UInt32] = []
        out.reserveCapacity(count)
        let valueBytes = (width + 7) / 8
        while out.count < count {
            let at = c.pos
            let header = try c.varint()
            if header & 1 == 0 {
                let run = header >> 1
                try c.need(valueBytes, "an RLE run value")
                var v: UInt64 = 0
                for k in 0..<valueBytes { v |= UInt64(c.bytes[c.pos + k]) << UInt64(8 * k) }
                c.pos += valueBytes
                guard width == 32 || v >> UInt64(width) == 0 else { throw .corrupt("RLE run value \(v) wider than \(width) bits", at: at) }
                guard run > 0 else { throw .corrupt("empty RLE run", at: at) }
                let n = Int(min(run, UInt64(count - out.count)))
                out.append(contentsOf: repeatElement(UInt32(v), count: n))
            } else {
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(c.remaining) else {
                    throw .corrupt("bit-packed run of \(groups) groups runs past the end", at: at)
                }
                let bytes = Int(groups) * width
                try c.need(bytes, "a bit-packed run")
                var u = BitUnpacker(c.bytes, at: c.pos)
                let n = min(Int(groups) * 8, count - out.count)
                for _ in 0..<n { out.append(UInt32(truncatingIfNeeded: u.get(width: width))) }
                c.pos += bytes
            }
        }
        return out
    }
}

// MARK: DELTA_BINARY_PACKED

enum DeltaBinaryPacked {
    static let blockSize = 128
    static let miniblocks = 4

    static func encode(_ values: [Int64], into out: inout [UInt8]) {
        let perMini = blockSize / miniblocks
        appendVarint(UInt64(blockSize), to: &out)
        appendVarint(UInt64(miniblocks), to: &out)
        appendVarint(UInt64(values.count), to: &out)
        appendZigzag(values.first ?? 0, to: &out)
        var i = 1
        var deltas = [Int64](repeating: 0, count: blockSize)
        while i < values.count {
            let n = min(blockSize, values.count - i)
            var minDelta = Int64.max
            for k in 0..<n {
                deltas[k] = values[i + k] &- values[i + k - 1]
                minDelta = min(minDelta, deltas[k])
            }
            appendZigzag(minDelta, to: &out)
            var widths = [Int](repeating: 0, count: miniblocks)
            for m in 0..<miniblocks where m * perMini < n {
                var maxBits: UInt64 = 0
                for k in (m * perMini)..<min(n, (m + 1) * perMini) {
                    maxBits |= UInt64(bitPattern: deltas[k] &- minDelta)
                }
                widths[m] = bitWidth(maxBits)
            }
            for w in widths { out.append(UInt8(w)) }
            var p = BitPacker(into: [])
            for m in 0..<miniblocks where m * perMini < n {
                for k in (m * perMini)..<((m + 1) * perMini) {
                    p.put(k < n ? UInt64(bitPattern: deltas[k] &- minDelta) : 0, width: widths[m])
                }
            }
            out += p.finish()
            i += n
        }
    }

    /// Decodes a DELTA_BINARY_PACKED stream holding exactly `count` values.
    static func decode(_ c: inout ByteCursor, count: Int) throws(DecodeFailure) -> [Int64] {
        let at = c.pos
        let block = try c.varint()
        let minis = try c.varint()
        let total = try c.varint()
        var last = try c.zigzag()
        guard block > 0, block % 128 == 0, block <= 1 << 20, minis > 0, block % minis == 0, (block / minis) % 32 == 0 else {
            throw .corrupt("DELTA_BINARY_PACKED header has block size \(block) with \(minis) miniblocks", at: at)
        }
        guard total == UInt64(count) else {
            throw .corrupt("DELTA_BINARY_PACKED holds \(total) values where the page has \(count)", at: at)
        }
        let perMini = Int(block / minis)
        var out: [Int64] = []
        out.reserveCapacity(count)
        if count == 0 { return out }
        out.append(last)
        while out.count < count {
            let blockAt = c.pos
            let minDelta = try c.zigzag()
            try c.need(Int(minis), "the miniblock bit widths")
            let widths = Array(c.bytes[c.pos..<(c.pos + Int(minis))])
            c.pos += Int(minis)
            for m in 0..<Int(minis) where out.count < count {
                let w = Int(widths[m])
                guard w <= 64 else { throw .corrupt("DELTA_BINARY_PACKED miniblock bit width \(w)", at: blockAt) }
                let bytes = perMini * w / 8
                try c.need(bytes, "a DELTA_BINARY_PACKED miniblock")
                var u = BitUnpacker(c.bytes, at: c.pos)
                let n = min(perMini, count - out.count)
                for _ in 0..<n {
                    last = last &+ minDelta &+ Int64(bitPattern: u.get(width: w))
                    out.append(last)
                }
                c.pos += bytes
            }
        }
        return out
    }
}

// MARK: BYTE_STREAM_SPLIT

enum ByteStreamSplit {
    static func encode(_ values: [UInt64], width: Int, into out: inout [UInt8]) {
        let n = values.count
        let start = out.count
        out.reserveCapacity(start + n * width)
        // One byte plane after the other: sequential writes.
        for b in 0..<width {
            let shift = UInt64(8 * b)
            out.append(contentsOf: values.lazy.map { UInt8(truncatingIfNeeded: $0 >> shift) })
        }
    }

    static func decode(_ c: inout ByteCursor, width: Int, count: Int) throws(DecodeFailure) -> [UInt64] {
        guard width <= 8 else { throw .unsupported("BYTE_STREAM_SPLIT of \(width)-byte values", at: c.pos) }
        try c.need(count * width, "BYTE_STREAM_SPLIT data")
        var out = [UInt64](repeating: 0, count: count)
        for b in 0..<width {
            let base = c.pos + b * count
            for j in 0..<count { out[j] |= UInt64(c.bytes[base + j]) << UInt64(8 * b) }
        }
        c.pos += count * width
        return out
    }

    static func decodeBytes(_ c: inout ByteCursor, width: Int, count: Int) throws(DecodeFailure) -> [[UInt8]] {
        try c.need(count * width, "BYTE_STREAM_SPLIT data")
        var out = [[UInt8]](repeating: [UInt8](repeating: 0, count: width), count: count)
        for b in 0..<width {
            let base = c.pos + b * count
            for j in 0..<count { out[j][b] = c.bytes[base + j] }
        }
        c.pos += count * width
        return out
    }
}

// MARK: PLAIN

enum Plain {
    static func encodeFixed(_ values: [UInt64], width: Int, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + values.count * width)
        for v in values { appendLE(v, width: width, to: &out) }
    }

    static func encodeBooleans(_ values: [UInt64], into out: inout [UInt8]) {
        var p = BitPacker(into: [])
        for v in values { p.put(v, width: 1) }
        out += p.finish()
    }

    static func encodeBytes(_ values: [[UInt8]], into out: inout [UInt8]) {
        for v in values {
            appendLE(UInt64(v.count), width: 4, to: &out)
            out += v
        }
    }

    static func decodeFixed(_ c: inout ByteCursor, width: Int, count: Int) throws(DecodeFailure) -> [UInt64] {
        guard count <= c.remaining / max(width, 1) else {
            throw .corrupt("\(count) PLAIN values of \(width) bytes run past the end of the page", at: c.pos)
        }
        var out = [UInt64](repeating: 0, count: count)
        var p = c.pos
        for j in 0..<count {
            var v: UInt64 = 0
            for b in 0..<width { v |= UInt64(c.bytes[p + b]) << UInt64(8 * b) }
            out[j] = v
            p += width
        }
        c.pos = p
        return out
    }

    static func decodeBooleans(_ c: inout ByteCursor, count: Int) throws(DecodeFailure) -> [UInt64] {
        try c.need((count + 7) / 8, "\(count) PLAIN booleans")
        var u = BitUnpacker(c.bytes, at: c.pos)
        let out = (0..<count).map { _ in u.get(width: 1) }
        c.pos += (count + 7) / 8
        return out
    }

    static func decodeBytes(_ c: inout ByteCursor, count: Int, fixed: Int?) throws(DecodeFailure) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if let fixed {
            guard fixed > 0 else { throw .corrupt("FIXED_LEN_BYTE_ARRAY of length \(fixed)", at: c.pos) }
            guard count <= c.remaining / fixed else { throw .corrupt("\(count) values of \(fixed) bytes run past the end of the page", at: c.pos) }
        } else {
            guard count <= c.remaining / 4 else { throw .corrupt("\(count) byte arrays run past the end of the page", at: c.pos) }
        }
        out.reserveCapacity(count)
        for _ in 0..<count {
            var n = fixed ?? 0
            if fixed == nil { n = Int(try c.u32le()) }
            try c.need(n, "a byte array of \(n) bytes")
            out.append(Array(c.bytes[c.pos..<(c.pos + n)]))
            c.pos += n
        }
        return out
    }
}

/// TFRecord framing: uint64 length, masked CRC32C of the length, data, masked CRC32C of the data.
/// Record ranges are indices into the file's bytes.
package struct TFRecordReader {
    package enum Item {
        case record(Range<Int>)
        case end
        /// Fewer bytes than the record needs at the end of the file, at this record offset.
        case truncated(at: Int)
        /// A checksum that does not match; `resumeAt` is the next offset where a valid record starts (if any).
        case badChecksum(at: Int, what: String, stored: UInt32, computed: UInt32, resumeAt: Int?)
    }

    let p: [UInt8]
    package var offset = 0

    package init(_ p: [UInt8]) { self.p = p }

    private func u32(_ at: Int) -> UInt32 {
        UInt32(p[at]) | UInt32(p[at + 1]) << 8 | UInt32(p[at + 2]) << 16 | UInt32(p[at + 3]) << 24
    }
    private func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }

    package mutating func next() -> Item {
        let o = offset
        if o >= p.count { return .end }
        if p.count - o < 12 { return .truncated(at: o) }
        let lenCRC = CRC32C.masked(p[o..<o + 8])
        let storedLen = u32(o + 8)
        if lenCRC != storedLen {
            return .badChecksum(at: o, what: "length", stored: storedLen, computed: lenCRC, resumeAt: resync(from: o + 1))
        }
        let len = u64(o)
        guard len <= UInt64(p.count - o - 12), p.count - o - 12 - Int(len) >= 4 else { return .truncated(at: o) }
        let start = o + 12, end = start + Int(len)
        let dataCRC = CRC32C.masked(p[start..<end])
        let storedData = u32(end)
        offset = end + 4
        if dataCRC != storedData {
            return .badChecksum(at: o, what: "data", stored: storedData, computed: dataCRC, resumeAt: end + 4)
        }
        return .record(start..<end)
    }

    /// The next offset from `from` where a whole record with valid checksums starts.
    private func resync(from: Int) -> Int? {
        var o = from
        while p.count - o >= 16 {
            if CRC32C.masked(p[o..<o + 8]) == u32(o + 8) {
                let len = u64(o)
                if len <= UInt64(p.count - o - 16) {
                    let start = o + 12, end = start + Int(len)
                    if CRC32C.masked(p[start..<end]) == u32(end) { return o }
                }
            }
            o += 1
        }
        return nil
    }
}

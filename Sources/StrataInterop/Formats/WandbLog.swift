/// The framing of a W&B transaction log (`run-ID.wandb`): LevelDB's log format behind a 7-byte
/// file header.
///
/// - Header: `:W&B`, the magic 0xBEE1 (uint16, little-endian), a version byte (0).
/// - The file is cut into 32 KiB blocks counted from its first byte (the header fills the first 7
///   bytes of block 0). A block holds chunks; a chunk never crosses a block end, and when fewer than
///   7 bytes are left in a block they are zero padding.
/// - Chunk: uint32 checksum (CRC-32, IEEE, of the type byte and the payload, little-endian),
///   uint16 payload length (little-endian), a type byte (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST), the
///   payload. A record is one FULL chunk, or FIRST, any MIDDLEs and LAST concatenated.
///
/// Both writers of the format (wandb-core's Go writer and the older Python `datastore.py`) compute
/// the checksum with CRC-32 (zlib's), despite the "crc32c" of LevelDB's original.
package struct WandbLogReader {
    package enum Item {
        /// A whole record (the concatenated payloads) that started at this file offset.
        case record([UInt8], at: Int)
        /// The end of the file, after a whole record.
        case end
        /// The file ends inside a chunk or a record (cut short, or still being written).
        case truncated(at: Int)
        /// Bytes that are not a valid chunk (or a chunk out of order): why, at which offset.
        /// `recover()` moves on to the next block.
        case damaged(at: Int, reason: String)
    }

    static let blockSize = 32 * 1024
    static let chunkHeader = 7
    /// The file header: `:W&B`, magic 0xBEE1 little-endian, version.
    static let magic: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE]

    let p: [UInt8]
    /// The offset of the next chunk.
    package private(set) var offset = 7
    /// After `recover()`: continuation chunks of a record begun before the damage are passed over.
    private var resyncing = false

    /// A reader of the file's bytes; throws when the file header is not a W&B log's of version 0.
    package init(_ p: [UInt8]) throws(InteropError) {
        guard p.count >= 7 else {
            throw InteropError(p.isEmpty ? "the file is empty" : "the file is too short for a W&B header (\(p.count) bytes)")
        }
        guard Array(p[0..<6]) == Self.magic else {
            throw InteropError("byte 0: not a W&B transaction log (the file does not start with \":W&B\" and the magic 0xBEE1)")
        }
        guard p[6] == 0 else { throw InteropError("byte 6: W&B log version \(p[6]) is not supported (only version 0)") }
        self.p = p
    }

    /// The start of the block after the one holding `o`.
    private static func nextBlock(_ o: Int) -> Int { (o / blockSize + 1) * blockSize }

    /// Skips the rest of the current block: reading resumes at the next FULL or FIRST chunk.
    package mutating func recover() {
        offset = Self.nextBlock(offset)
        resyncing = true
    }

    package mutating func next() -> Item {
        var pending: [UInt8]?
        var recordStart = offset
        while true {
            let blockEnd = Self.nextBlock(offset)
            if blockEnd - offset < Self.chunkHeader { offset = blockEnd }  // padding
            if offset >= p.count {
                return pending == nil ? .end : .truncated(at: recordStart)
            }
            let o = offset
            if p.count - o < Self.chunkHeader { return .truncated(at: pending == nil ? o : recordStart) }
            let stored = UInt32(p[o]) | UInt32(p[o + 1]) << 8 | UInt32(p[o + 2]) << 16 | UInt32(p[o + 3]) << 24
            let length = Int(p[o + 4]) | Int(p[o + 5]) << 8
            let type = p[o + 6]
            if stored == 0 && length == 0 && type == 0 {
                // A zeroed chunk header: the rest of the block is unwritten (preallocated) space.
                if pending != nil { return .damaged(at: o, reason: "zero bytes inside a record that started at byte \(recordStart)") }
                offset = blockEnd
                continue
            }
            let start = o + Self.chunkHeader, end = start + length
            if end > Self.nextBlock(o) {
                return .damaged(at: o, reason: "a chunk of \(length) bytes runs past the end of its 32 KiB block")
            }
            if end > p.count { return .truncated(at: pending == nil ? o : recordStart) }
            let computed = CRC32.checksum(p[(o + 6)..<end])
            if computed != stored {
                return .damaged(at: o, reason: "chunk checksum mismatch (stored \(hex32(stored)), computed \(hex32(computed)))")
            }
            offset = end
            switch type {
            case 1, 2:  // FULL, FIRST
                if pending != nil {
                    return .damaged(at: o, reason: "a new record starts before the record at byte \(recordStart) ended")
                }
                resyncing = false
                if type == 1 { return .record(Array(p[start..<end]), at: o) }
                pending = Array(p[start..<end])
                recordStart = o
            case 3, 4:  // MIDDLE, LAST
                guard pending != nil else {
                    if resyncing { continue }
                    return .damaged(at: o, reason: "a record continues (chunk type \(type)) with no record started")
                }
                pending! += p[start..<end]
                if type == 4 { return .record(pending!, at: recordStart) }
            default:
                return .damaged(at: o, reason: "unknown chunk type \(type)")
            }
        }
    }
}

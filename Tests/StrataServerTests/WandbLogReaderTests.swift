import StrataInterop
import Testing

/// The W&B transaction-log framing (`WandbLogReader`) on logs framed here as the format says
/// (docs/CLI.md, W&B): records split over 32 KiB blocks, the padding at a block's end, a cut and
/// a damaged chunk. Files the real `wandb` writes are read by Tests/python/test_import_wandb.py.
@Suite struct WandbLogReaderTests {
    /// Frames `records` as a writer does: chunks never cross a 32 KiB block, fewer than 7 bytes
    /// left in a block are zero padding. Returns the bytes and each chunk's (offset, type).
    static func frame(_ records: [[UInt8]]) -> (bytes: [UInt8], chunks: [(Int, UInt8)]) {
        var out: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 0]
        var chunks: [(Int, UInt8)] = []
        for r in records {
            var rest = r[...]
            var first = true
            repeat {
                let left = 32768 - out.count % 32768
                if left < 7 {
                    out += [UInt8](repeating: 0, count: left)
                    continue
                }
                let n = min(rest.count, left - 7)
                let last = n == rest.count
                let type: UInt8 = first ? (last ? 1 : 2) : (last ? 4 : 3)
                let payload = Array(rest.prefix(n))
                let crc = CRC32.checksum(([type] + payload)[...])
                chunks.append((out.count, type))
                out += [UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc >> 16 & 0xff), UInt8(crc >> 24)]
                out += [UInt8(n & 0xff), UInt8(n >> 8), type] + payload
                rest = rest.dropFirst(n)
                first = false
            } while !rest.isEmpty
        }
        return (out, chunks)
    }

    static func read(_ bytes: [UInt8], recover: Bool = false) throws -> (records: [[UInt8]], stop: String) {
        var reader = try WandbLogReader(bytes)
        var out: [[UInt8]] = []
        while true {
            switch reader.next() {
            case .record(let r, _): out.append(r)
            case .end: return (out, "end")
            case .truncated(let at): return (out, "truncated at \(at)")
            case .damaged(let at, let reason):
                if !recover { return (out, "damaged at \(at): \(reason)") }
                reader.recover()
            }
        }
    }

    static let records: [[UInt8]] = (0..<40).map { i in
        // sizes around the block size, so records start near block ends and span blocks
        [UInt8](repeating: UInt8(i), count: [10, 32_760, 5, 70_000, 32_754, 1][i % 6] + i)
    }

    @Test func recordsAcrossBlocksAndPaddingReadBack() throws {
        let (bytes, chunks) = Self.frame(Self.records)
        #expect(chunks.contains { $0.1 == 3 } && bytes.count > 8 * 32768)
        let (got, stop) = try Self.read(bytes)
        #expect(stop == "end")
        #expect(got == Self.records)
    }

    @Test func aCutLogEndsInsideTheRecordItCuts() throws {
        let (bytes, chunks) = Self.frame(Self.records)
        let middle = chunks.firstIndex { $0.1 == 3 }!
        let recordStart = chunks[..<middle].last { $0.1 == 2 }!.0
        let (got, stop) = try Self.read(Array(bytes[..<(chunks[middle].0 + 100)]))
        #expect(stop == "truncated at \(recordStart)")
        #expect(got == Array(Self.records[..<got.count]) && !got.isEmpty)
        // a cut exactly between records is the end of a shorter log
        let between = chunks.firstIndex { $0.0 > 100_000 && ($0.1 == 1 || $0.1 == 2) }!
        let (whole, end) = try Self.read(Array(bytes[..<chunks[between].0]))
        #expect(end == "end" && whole == Array(Self.records[..<whole.count]))
    }

    @Test func damageStopsThereOrIsPassedAtTheNextBlock() throws {
        var (bytes, chunks) = Self.frame(Self.records)
        let middle = chunks.firstIndex { $0.1 == 3 && $0.0 > 3 * 32768 }!
        bytes[chunks[middle].0 + 20] ^= 1
        let (before, stop) = try Self.read(bytes)
        #expect(stop.hasPrefix("damaged at \(chunks[middle].0): chunk checksum mismatch (stored 0x"))
        #expect(before == Array(Self.records[..<before.count]))
        // recovering: the rest of the damaged record (its LAST chunk in a later block) is passed
        // over, every record starting after the damaged block is read
        let (all, end) = try Self.read(bytes, recover: true)
        #expect(end == "end")
        let nextBlock = (chunks[middle].0 / 32768 + 1) * 32768
        let firsts = chunks.filter { $0.1 == 1 || $0.1 == 2 }.map(\.0)
        let after = firsts.firstIndex { $0 >= nextBlock }!
        #expect(all == Array(Self.records[..<before.count]) + Array(Self.records[after...]))
    }

    @Test func aFileThatIsNotALogIsRefused() {
        #expect(throws: InteropError.self) { try WandbLogReader(Array("not a log".utf8)) }
        #expect(throws: InteropError.self) { try WandbLogReader([0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 1]) }
    }
}

import StrataCodecs
import Testing

@testable import Strata

/// `ByteView` (Support/ByteViewUnsafe.swift) is how the file parsers read mapped and loaded bytes:
/// little-endian loads at any offset, slices that keep their own origin, equality and checksums.
@Suite("ByteView: bounds-checked reads of raw bytes")
struct ByteViewTests {
    @Test func loadsSlicesAndCompares() throws {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xff]
        ByteView.with(bytes) { v in
            #expect(v.count == 10)
            #expect(v[9] == 0xff)
            #expect(v.load(UInt16.self, at: 0) == 0x0201)
            #expect(v.load(UInt32.self, at: 1) == 0x0504_0302)  // unaligned
            #expect(v.load(UInt64.self, at: 2) == 0xff09_0807_0605_0403)
            let tail = v[6..<10]
            #expect(tail.count == 4 && tail[0] == 0x07 && tail.array == [0x07, 0x08, 0x09, 0xff])
            #expect(tail.load(UInt32.self, at: 0) == 0xff09_0807)
            #expect(tail.equals([0x07, 0x08, 0x09, 0xff]) && !tail.equals([0x07, 0x08, 0x09]) && !tail.equals([0, 0, 0, 0]))
            #expect(v[3..<3].isEmpty && v[3..<3].equals([]))
            #expect(tail.xxh64() == Checksum.xxh64([0x07, 0x08, 0x09, 0xff]))
            #expect(tail.xxh64(seed: 5) == Checksum.xxh64([0x07, 0x08, 0x09, 0xff], seed: 5))
        }
        #expect(ByteView.with(Array("héllo".utf8)) { $0.string } == "héllo")
    }

    @Test func readerThrowsOnShortFieldsInsteadOfReadingPastTheView() throws {
        // The reader over a slice sees only the slice: a field running past it is damage.
        let bytes: [UInt8] = [0x2a, 0, 0, 0, 0x63, 0, 0, 0]
        try ByteView.with(bytes) { (v) throws(StrataError) in
            var r = ByteReader(v[0..<6], path: "x")
            #expect(try r.u32() == 42)
            #expect(throws: StrataError.self) { try r.u32() }
            var s = ByteReader(v, from: 4, path: "x")
            #expect(try s.u32() == 99)
            #expect(s.isAtEnd)
        }
    }
}

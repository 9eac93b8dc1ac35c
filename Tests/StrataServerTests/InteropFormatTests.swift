import Foundation
import StrataInterop
import Testing

/// Published check values of the hand-written pieces in StrataInterop.
@Suite struct InteropFormatTests {
    /// SplitMix64 reference outputs for seed 1234567 (the generator's published test vector).
    @Test func splitMix64MatchesItsReferenceOutputs() {
        var g = SplitMix64(seed: 1_234_567)
        #expect([g.next(), g.next(), g.next()] == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
    }

    /// CRC-32C check value (RFC 3720 / the CRC catalogue): "123456789" → 0xE3069283; 32 zero bytes → 0x8A9136AA.
    @Test func crc32cCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)[...]) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)[...]) == 0x8A91_36AA)
    }

    /// CRC-32 (IEEE, zlib's) check value: "123456789" → 0xCBF43926; an empty input → 0.
    @Test func crc32CheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()[...]) == 0)
    }

    /// `endDocument` closes the top-level object when it is still open, and leaves a value that was
    /// written whole as it is (it used to close one object too many, trapping on the empty stack).
    @Test func endDocumentClosesOnlyWhatIsOpen() throws {
        var open = JSONOut()
        open.beginObject()
        open.field("a", 1)
        let a = open.endDocument()
        var whole = JSONOut()
        whole.beginObject()
        whole.field("b", "x")
        whole.endObject()
        let b = whole.endDocument()
        #expect(String(decoding: a, as: UTF8.self) == "{\"a\":1}\n")
        #expect(String(decoding: b, as: UTF8.self) == "{\"b\":\"x\"}\n")
        for doc in [a, b] { _ = try JSONSerialization.jsonObject(with: Data(doc)) }
    }

    /// One writer: strings quoted in messages are escaped as JSON output escapes them.
    @Test func quotedTextIsTheWritersJSON() {
        #expect(jsonString("a\"b\\c\n\u{1}\u{7f}é") == #""a\"b\\c\n\u0001\u007fé""#)
    }

    /// CSV export fields are quoted when they hold a separator, a quote or a line break — a CRLF
    /// (one Character in Swift) included.
    @Test func csvFieldsAreQuotedWhenTheyMustBe() {
        #expect(csvField("plain name") == "plain name")
        #expect(csvField("a,\"b\"") == "\"a,\"\"b\"\"\"")
        #expect(csvField("two\r\nlines") == "\"two\r\nlines\"")
        #expect(PointFormat.csv.header == "run,metric,step,value,time,labels,run_id" && PointFormat.jsonl.header == nil)
    }
}

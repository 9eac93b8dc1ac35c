import Testing

@testable import StrataCodecs

/// Golden bytes from docs/FORMAT-codecs.md: the format is a contract, these must not change.
@Suite struct FormatTests {
    @Test func documentedExamples() throws {
        #expect(encodeInt64([0, 1, 2]) == [0x49, 0x01, 0x03, 0x00, 0x02])
        #expect(encodeInt64([]) == [0x49, 0x00, 0x00])
        #expect(encodeDouble([]) == [0x44, 0x00, 0x00])
        #expect(encodeDouble([1.5, 2.5, 3.5]) == [0x44, 0x00, 0x03, 0x03, 0x05, 0x01, 0x1E, 0x40, 0x51])
        #expect(try decodeDouble([0x44, 0x00, 0x03, 0x03, 0x05, 0x01, 0x1E, 0x40, 0x51], count: 3) == [1.5, 2.5, 3.5])
    }

    @Test func handWrittenBlocks() throws {
        // Int64 FOR block, 3 values, min −5, width 2: p = 0, 3, 1 → 0b01_11_00 = 0x1C.
        #expect(try decodeInt64([0x49, 0x00, 0x03, 0x02, 0x02, 0x09, 0x1C], count: 3) == [-5, -2, -4])
        // Int64 delta-for: first 10, minDelta −1, width 1: p = 1, 0 → values 10, 10, 9.
        #expect(try decodeInt64([0x49, 0x00, 0x03, 0x01, 0x01, 0x14, 0x01, 0x01], count: 3) == [10, 10, 9])
        // Double raw64 block of one value.
        let pi = Double.pi.bitPattern
        let raw: [UInt8] = [0x44, 0x00, 0x01, 0x01] + (0..<8).map { UInt8(truncatingIfNeeded: pi >> (8 * UInt64($0))) }
        #expect(try decodeDouble(raw, count: 1) == [Double.pi])
        // int-for with an exception: values 7, NaN(payload 1): w 0, min 7, exception index 1.
        let nan = Double(bitPattern: 0x7FF0_0000_0000_0001)
        let exc: [UInt8] =
            [0x44, 0x00, 0x02, 0x82, 0x00, 0x0E, 0x01, 0x01] + (0..<8).map { UInt8(truncatingIfNeeded: nan.bitPattern >> (8 * UInt64($0))) }
        let d = try decodeDouble(exc, count: 2)
        #expect(d[0] == 7 && d[1].bitPattern == nan.bitPattern)
        // float32-for, w 0, min = map32(1.0f) = 0x3F800000 ^ 0x80000000 = 0xBF800000.
        #expect(try decodeDouble([0x44, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x80, 0xBF], count: 2) == [1.0, 1.0])
    }
}

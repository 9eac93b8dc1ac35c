import Testing

@testable import StrataCodecs

@Suite struct ChecksumTests {
    func xxh(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { Checksum.xxh64($0, seed: seed) }
    }

    @Test func publishedVectors() {
        // Published XXH64 values (seed 0); the low 32 bits of each were also cross-checked against
        // the content checksum of a zstd frame, which is the low 32 bits of XXH64 with seed 0.
        #expect(xxh([]) == 0xEF46_DB37_51D8_E999)
        #expect(xxh(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(xxh(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(xxh(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
    }

    @Test func emptyBufferWithoutBaseAddress() {
        #expect(Checksum.xxh64(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xEF46_DB37_51D8_E999)
    }

    /// Low 32 bits against `zstd --check` frame checksums of byte(i) = (31·i + 7) mod 256, covering
    /// every tail length (8-, 4- and 1-byte steps) and the 32-byte stripe loop.
    @Test(
        arguments: [
            (1, 0xE858_BBB7), (3, 0x32A4_87F9), (4, 0xE3FF_8F04), (5, 0x8624_DD4E), (7, 0x6C6F_9A8E),
            (8, 0x2696_83E0), (9, 0x9E21_5C09), (12, 0x1FD0_666E), (15, 0x9357_CAA7), (16, 0xB02B_C413),
            (17, 0x7EEE_DC09), (31, 0xA39A_D4A1), (32, 0x671C_C43D), (33, 0xED85_7664), (35, 0x0D9C_BECA),
            (63, 0x2707_057F), (64, 0x5729_D17E), (65, 0xBAE6_5DC1), (100, 0x3E70_C151), (127, 0x7F60_EA91),
            (128, 0x3BED_FE94), (200, 0x77B4_B6FB), (1000, 0x2804_3D35), (4096, 0x82DC_78D9)
        ] as [(Int, UInt64)])
    func zstdFrameChecksums(length: Int, low32: UInt64) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(xxh(bytes) & 0xFFFF_FFFF == low32, "length \(length)")
    }

    @Test func seedChangesTheHash() {
        let bytes = Array("strata".utf8)
        #expect(xxh(bytes, seed: 0) != xxh(bytes, seed: 1))
        #expect(xxh(bytes, seed: 1) == xxh(bytes, seed: 1))
    }

    @Test func unalignedInput() {
        // The same bytes at different alignments hash the same.
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = xxh(bytes)
        for shift in 1..<8 {
            let padded = [UInt8](repeating: 0xAA, count: shift) + bytes
            let h = padded.withUnsafeBytes { Checksum.xxh64(UnsafeRawBufferPointer(rebasing: $0[shift...])) }
            #expect(h == expected, "shift \(shift)")
        }
    }
}

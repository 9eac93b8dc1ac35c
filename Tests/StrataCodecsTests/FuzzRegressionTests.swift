import Testing

@testable import StrataCodecs

/// Inputs found by the libFuzzer harness in Fuzz/. Each must throw CodecError (or decode) without
/// trapping, with the count and range the harness used.
@Suite struct FuzzRegressionTests {
    /// 2026-11-28: the harness allocated its destination from a hostile stored count
    /// (varint 0xFF FF FF FF C1 … ≈ 2^32 values). The decoder must reject the count before writing.
    @Test func hugeStoredCount() {
        let column: [UInt8] = [0x44, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0xC1, 0xC0, 0xBE, 0xBF, 0x00, 0x00, 0x88, 0x56, 0x37]
        let dst = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        defer { dst.deallocate() }
        for count in [0x1_0FFF_FFFF, 4_294_967_295, 65_537] {
            #expect(throws: CodecError.self) {
                try column.withUnsafeBytes { try DoubleColumn.decode($0, count: count, range: 0..<count, into: dst) }
            }
            #expect(throws: CodecError.self) {
                try column.withUnsafeBytes { try Int64Column.describe($0, count: count) }
            }
        }
    }
}

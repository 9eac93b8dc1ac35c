import Foundation
import Testing

@testable import StrataParquet

/// Files written by pyarrow (Fixtures/make_fixtures.py): the same table twice, once with ZSTD,
/// data pages v2, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT (also of a DECIMAL FIXED_LEN_BYTE_ARRAY)
/// and RLE booleans, once with SNAPPY, pages v1 and dictionaries.
@Suite("Parquet files written by pyarrow")
struct PyarrowFixtureTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let names = ["pyarrow-v2-delta-bss.parquet", "pyarrow-v1-dictionary.parquet"]

    static func fixtures() throws -> [[UInt8]] {
        try names.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))) }
    }

    static func table(_ path: String) throws -> [String: ParquetColumnData] {
        let r = try ParquetReader(path: path)
        var out: [String: ParquetColumnData] = [:]
        for (c, leaf) in r.columns.enumerated() {
            var values: ParquetValues? = nil
            var valid: [Bool] = []
            for g in 0..<r.rowGroupCount {
                let d = try r.read(rowGroup: g, column: c)
                valid += d.valid ?? Array(repeating: true, count: d.count)
                switch (values, d.values) {
                case (nil, _): values = d.values
                case (.int64(let a)?, .int64(let b)): values = .int64(a + b)
                case (.int32(let a)?, .int32(let b)): values = .int32(a + b)
                case (.float(let a)?, .float(let b)): values = .float(a + b)
                case (.double(let a)?, .double(let b)): values = .double(a + b)
                case (.bytes(let a)?, .bytes(let b)): values = .bytes(a + b)
                case (.boolean(let a)?, .boolean(let b)): values = .boolean(a + b)
                default: Issue.record("mixed kinds in \(leaf.name)")
                }
            }
            out[leaf.name] = ParquetColumnData(values!, valid: valid)
        }
        return out
    }

    @Test("both encodings of the same table read to the same values, as pyarrow wrote them")
    func readsPyarrow() throws {
        let v2 = try Self.table(Self.dir + "/" + Self.names[0])
        let v1 = try Self.table(Self.dir + "/" + Self.names[1])
        #expect(v1 == v2)
        #expect(v2["i"]!.count == 120)
        guard case .int64(let i) = v2["i"]!.values, case .int32(let j) = v2["j"]!.values,
            case .bytes(let s) = v2["s"]!.values, case .boolean(let b) = v2["b"]!.values,
            case .bytes(let m) = v2["m"]!.values
        else { Issue.record("types"); return }
        #expect(v2["i"]!.valid!.prefix(2) == [false, true] && i[1] == 4_865_782_901_354_085_936 && i[2] == -7_048_155_917_072_976_836)
        #expect(j[0] == -829_855_131)
        #expect(Array(s[1...3]) == [[], Array("a".utf8), Array("ü".utf8)] && v2["s"]!.valid![0] == false)
        #expect(b.enumerated().filter { v2["b"]!.valid![$0.offset] && $0.element }.count == 51)
        #expect(v2["d"]!.valid!.filter { !$0 }.count == 24)
        // DECIMAL(18,6): 8 bytes, big-endian two's complement of the unscaled value (k/8 * 10^6).
        #expect(m[1] == [0, 0, 0, 0, 0, 0x01, 0xE8, 0x48] && m.count == 120)
        let r = try ParquetReader(path: Self.dir + "/" + Self.names[0])
        #expect(r.columns.first { $0.name == "m" }?.logicalType == .decimal(precision: 18, scale: 6))
    }
}

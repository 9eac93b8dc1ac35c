import Foundation
import Testing

@testable import StrataParquet

/// The statistics in each data page header (not only the column chunk's): per page min/max over
/// that page's non-null values (no NaN; -0.0 as a zero min, +0.0 as a zero max) and its null count.
@Suite("Parquet page statistics")
struct PageStatisticsTests {
    /// The data page headers of column `c` of row group 0, in order.
    static func pageHeaders(_ bytes: [UInt8], column c: Int) throws -> [PageHeader] {
        let meta = try #require(try footer(bytes).rowGroups[0].columns[c].metaData)
        var pos = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
        let end = pos + Int(meta.totalCompressedSize)
        var out: [PageHeader] = []
        while pos < end {
            var r = ThriftReader(bytes, from: pos, to: end)
            let h = try PageHeader.read(&r)
            pos = r.pos + Int(h.compressedSize)
            if h.type != PageType.dictionary { out.append(h) }
        }
        return out
    }

    @Test("each page's statistics cover exactly its rows", arguments: [1, 2])
    func perPage(pageVersion: Int) throws {
        let rows = 1_000, pageRows = 100
        var m = Mix(state: 99)
        let doubles = awkwardDoubles(rows, seed: 3).enumerated().map { i, d in i >= 300 && i < 400 ? Double.nan : d }
        let valid = (0..<rows).map { i in !(i >= 500 && i < 600) && m.below(5) != 0 }
        let strings = (0..<rows).map { _ in ["", "b", "ü", "a", "zz"][m.below(5)] }
        var o = ParquetWriterOptions()
        o.pageRows = pageRows
        o.dataPageVersion = pageVersion
        o.compression = .lz4Raw
        let bytes = try writeToMemory(
            [ParquetColumn("v", .double, optional: true), ParquetColumn("s", .string)],
            [ParquetColumnData(.double(doubles), valid: valid), ParquetColumnData(.string(strings))], o)
        let dpages = try Self.pageHeaders(bytes, column: 0)
        #expect(dpages.count == rows / pageRows)
        for (p, h) in dpages.enumerated() {
            let range = (p * pageRows)..<((p + 1) * pageRows)
            let stats = try #require(h.dataV1?.statistics ?? h.dataV2?.statistics)
            let present = range.filter { valid[$0] }.map { doubles[$0] }
            #expect(stats.nullCount == Int64(pageRows - present.count))
            let numbers = present.filter { !$0.isNaN }
            if let lo = numbers.min(), let hi = numbers.max() {
                let wantLo = lo == 0 ? -0.0 : lo, wantHi = hi == 0 ? 0.0 : hi
                var le: [UInt8] = []
                appendLE(wantLo.bitPattern, width: 8, to: &le)
                appendLE(wantHi.bitPattern, width: 8, to: &le)
                #expect(stats.minValue == Array(le[0..<8]) && stats.maxValue == Array(le[8..<16]), "page \(p)")
            } else {
                #expect(stats.minValue == nil && stats.maxValue == nil, "page \(p): all null or NaN")
            }
        }
        let spages = try Self.pageHeaders(bytes, column: 1)
        #expect(spages.count == rows / pageRows)
        for (p, h) in spages.enumerated() {
            let page = strings[(p * pageRows)..<((p + 1) * pageRows)].map { Array($0.utf8) }
            let stats = try #require(h.dataV1?.statistics ?? h.dataV2?.statistics)
            #expect(stats.minValue == page.min { $0.lexicographicallyPrecedes($1) })
            #expect(stats.maxValue == page.max { $0.lexicographicallyPrecedes($1) })
            #expect(stats.nullCount == 0)
        }
    }
}

import Foundation
import Testing

@testable import StrataParquet

/// The reader over thousands of deterministically mutated files: byte flips, overwritten runs,
/// truncations, inserted and deleted bytes, and mutations of the footer's numbers (re-encoded so
/// the footer stays parseable). Every file must be refused with a ParquetError or read; a trap
/// or crash fails the run.
@Suite("Parquet reader fuzz regressions")
struct FuzzTests {
    static func seeds() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        let combos: [(ParquetColumn.Encoding, ParquetColumn.Encoding, ParquetColumn.Encoding)] = [
            (.plain, .plain, .plain), (.deltaBinaryPacked, .byteStreamSplit, .dictionary)
        ]
        for (i, enc) in combos.enumerated() {
            for codec in [ParquetCompression.uncompressed, .snappy, .zstd, .lz4Raw] {
                var o = ParquetWriterOptions()
                o.compression = codec
                o.dataPageVersion = 1 + i
                o.rowGroupRows = 90
                o.pageRows = 40
                let (columns, data) = sampleTable(rows: 200, seed: UInt64(out.count), encodings: enc)
                out.append(try writeToMemory(columns, data, o))
            }
        }
        return out + (try PyarrowFixtureTests.fixtures())
    }

    @Test("every seed reads whole")
    func seedsRead() throws {
        let seeds = try Self.seeds()
        for s in seeds.dropLast(2) { #expect(_ParquetFuzz.readEverything(s) == 200 * 7) }
        for s in seeds.suffix(2) { #expect(_ParquetFuzz.readEverything(s) == 120 * 7) }
    }

    @Test("4000 mutated files never crash the reader")
    func mutations() throws {
        let seeds = try Self.seeds()
        var m = Mix(state: 0x5EED_F00D)
        var readSome = 0
        for round in 0..<4000 {
            var b = seeds[round % seeds.count]
            let kind = m.below(6)
            let tail = min(b.count, 600)  // bias towards the footer, where the offsets live
            func pos() -> Int { m.below(2) == 0 ? b.count - 1 - m.below(tail) : m.below(b.count) }
            switch kind {
            case 0:
                for _ in 0...m.below(4) { let p = pos(); b[p] ^= UInt8(1 << m.below(8)) }
            case 1:
                let p = pos(); let n = min(b.count - p, 1 + m.below(16))
                let fill: UInt8 = [0x00, 0xFF, 0x7F, 0x80][m.below(4)]
                for k in p..<(p + n) { b[k] = m.below(2) == 0 ? fill : UInt8(truncatingIfNeeded: m.next()) }
            case 2:
                b = Array(b.prefix(m.below(b.count)))
            case 3:
                let p = pos(); b.insert(contentsOf: (0..<(1 + m.below(8))).map { _ in UInt8(truncatingIfNeeded: m.next()) }, at: p)
            case 4:
                let p = pos(); b.removeSubrange(p..<min(b.count, p + 1 + m.below(8)))
            default:
                b = try mutateFooter(b, &m)
            }
            if _ParquetFuzz.readEverything(b) > 0 { readSome += 1 }
        }
        // The mutations must not all be refused at the magic: many files still read in part.
        #expect(readSome > 500)
    }

    /// Changes one number of the footer (offsets, sizes, counts, types) to a hostile value.
    func mutateFooter(_ b: [UInt8], _ m: inout Mix) throws -> [UInt8] {
        var meta = try footer(b)
        let hostile: [Int64] = [-1, 0, 1, 3, 4, 127, 1 << 31 - 1, Int64(Int32.max) + 1, 1 << 40, .max, .min]
        func pick() -> Int64 { m.below(2) == 0 ? hostile[m.below(hostile.count)] : Int64(m.below(b.count + 10)) }
        let g = m.below(max(meta.rowGroups.count, 1))
        guard !meta.rowGroups.isEmpty else { return b }
        let c = m.below(meta.rowGroups[g].columns.count)
        switch m.below(9) {
        case 0: meta.rowGroups[g].numRows = pick()
        case 1: meta.rowGroups[g].columns[c].metaData?.dataPageOffset = pick()
        case 2: meta.rowGroups[g].columns[c].metaData?.dictionaryPageOffset = pick()
        case 3: meta.rowGroups[g].columns[c].metaData?.totalCompressedSize = pick()
        case 4: meta.rowGroups[g].columns[c].metaData?.numValues = pick()
        case 5: meta.rowGroups[g].columns[c].metaData?.type = Int32(truncatingIfNeeded: pick())
        case 6: meta.schema[1 + m.below(meta.schema.count - 1)].numChildren = Int32(truncatingIfNeeded: pick())
        case 7: meta.schema[1 + m.below(meta.schema.count - 1)].repetition = Int32(m.below(4))
        default: meta.rowGroups[g].columns[c].metaData?.codec = Int32(m.below(9))
        }
        return try replaceFooter(b, meta)
    }
}

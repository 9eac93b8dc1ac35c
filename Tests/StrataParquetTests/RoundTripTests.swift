import Foundation
import StrataTestSupport
import Testing

@testable import StrataParquet

/// A deterministic generator (SplitMix64) for test data and mutations.
struct Mix {
    var g: SplitMix64
    init(state: UInt64) { g = SplitMix64(seed: state) }
    mutating func next() -> UInt64 { g.next() }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Writes `columns` with `data` into memory and returns the file's bytes.
func writeToMemory(_ columns: [ParquetColumn], _ data: [ParquetColumnData], _ options: ParquetWriterOptions, batches: Int = 3) throws -> [UInt8] {
    var out: [UInt8] = []
    let w = try ParquetWriter(columns: columns, options: options) { out += $0 }
    let rows = data.first?.count ?? 0
    var start = 0
    for b in 0..<batches {
        let end = b == batches - 1 ? rows : min(rows, start + rows / batches)
        try w.append(data.map { slice($0, start..<end) })
        start = end
    }
    try w.close()
    return out
}

func slice(_ d: ParquetColumnData, _ r: Range<Int>) -> ParquetColumnData {
    let v: ParquetValues
    switch d.values {
    case .int64(let a): v = .int64(Array(a[r]))
    case .double(let a): v = .double(Array(a[r]))
    case .string(let a): v = .string(Array(a[r]))
    case .boolean(let a): v = .boolean(Array(a[r]))
    case .bytes(let a): v = .bytes(Array(a[r]))
    case .int32(let a): v = .int32(Array(a[r]))
    case .float(let a): v = .float(Array(a[r]))
    case .indexed(let a, let d): v = .indexed(indices: Array(a[r]), dictionary: d)
    }
    return ParquetColumnData(v, valid: d.valid.map { Array($0[r]) })
}

/// Reads every row group of every column and joins them.
func readAll(_ bytes: [UInt8]) throws -> (ParquetReader, [ParquetColumnData]) {
    let r = try ParquetReader(bytes: bytes, name: "t.parquet")
    var cols: [ParquetColumnData] = []
    for c in r.columns.indices {
        var joined: ParquetColumnData? = nil
        for g in 0..<r.rowGroupCount {
            let d = try r.read(rowGroup: g, column: c)
            if var j = joined {
                switch (j.values, d.values) {
                case (.int64(let a), .int64(let b)): j.values = .int64(a + b)
                case (.double(let a), .double(let b)): j.values = .double(a + b)
                case (.bytes(let a), .bytes(let b)): j.values = .bytes(a + b)
                case (.boolean(let a), .boolean(let b)): j.values = .boolean(a + b)
                default: Issue.record("mixed kinds")
                }
                if let a = j.valid, let b = d.valid { j.valid = a + b }
                joined = j
            } else {
                joined = d
            }
        }
        cols.append(joined ?? ParquetColumnData(.int64([])))
    }
    return (r, cols)
}

/// Doubles a reader gets wrong: NaN payloads, ±Inf, −0.0, subnormals, random bit patterns.
func awkwardDoubles(_ n: Int, seed: UInt64) -> [Double] {
    let fixed: [UInt64] = [
        0x7FF8_0000_0000_0000, 0x7FF8_0000_0000_0001, 0xFFF8_DEAD_BEEF_0001, 0x7FF0_0000_0000_0001, 0x7FF0_0000_0000_0000,
        0xFFF0_0000_0000_0000, 0x8000_0000_0000_0000, 0, 1, 0x800F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF
    ]
    var m = Mix(state: seed)
    return (0..<n).map { i in Double(bitPattern: i < fixed.count ? fixed[i] : m.next()) }
}

func sameBits(_ a: ParquetValues, _ b: ParquetValues, valid: [Bool]?) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return x.count == y.count && x.indices.allSatisfy { (valid?[$0] ?? true) == false || x[$0].bitPattern == y[$0].bitPattern }
    case (.int64(let x), .int64(let y)):
        return x.count == y.count && x.indices.allSatisfy { (valid?[$0] ?? true) == false || x[$0] == y[$0] }
    case (.string(let x), .bytes(let y)):
        return x.count == y.count && x.indices.allSatisfy { (valid?[$0] ?? true) == false || Array(x[$0].utf8) == y[$0] }
    case (.boolean(let x), .boolean(let y)):
        return x.count == y.count && x.indices.allSatisfy { (valid?[$0] ?? true) == false || x[$0] == y[$0] }
    default:
        return false
    }
}

/// A table of every kind, optional and required, with nulls, in several row groups.
func sampleTable(rows: Int, seed: UInt64, encodings: (ParquetColumn.Encoding, ParquetColumn.Encoding, ParquetColumn.Encoding)) -> (
    [ParquetColumn], [ParquetColumnData]
) {
    var m = Mix(state: seed)
    let names = ["", "loss", "val/loss", "ünïcödé ✓", "日本語", "a\u{0}b"]
    let columns = [
        ParquetColumn("step", .int64, encoding: encodings.0),
        ParquetColumn("time", .timestampMillis, optional: true, encoding: encodings.0),
        ParquetColumn("value", .double, encoding: encodings.1),
        ParquetColumn("maybe", .double, optional: true, encoding: encodings.1),
        ParquetColumn("metric", .string, encoding: encodings.2),
        ParquetColumn("note", .string, optional: true, encoding: encodings.2),
        ParquetColumn("flag", .boolean, optional: true)
    ]
    var step: Int64 = -5
    let steps: [Int64] = (0..<rows).map { i in
        if i == 7 { return .min }
        if i == 8 { return .max }
        step += Int64(m.below(3)); return step
    }
    let valid1 = (0..<rows).map { _ in m.below(4) != 0 }
    let valid2 = (0..<rows).map { i in i >= 50 && m.below(3) != 0 }  // a run of nulls first
    let data = [
        ParquetColumnData(.int64(steps)),
        ParquetColumnData(.int64((0..<rows).map { 1_700_000_000_000 + Int64($0) * 17 }), valid: valid1),
        ParquetColumnData(.double(awkwardDoubles(rows, seed: seed))),
        ParquetColumnData(.double(awkwardDoubles(rows, seed: seed ^ 1)), valid: valid2),
        ParquetColumnData(.string((0..<rows).map { i in i % 97 == 0 ? "distinct-\(i)" : names[m.below(names.count)] })),
        ParquetColumnData(.string((0..<rows).map { _ in "n\(m.below(1000))" }), valid: valid1),
        ParquetColumnData(.boolean((0..<rows).map { _ in m.below(2) == 0 }), valid: valid2)
    ]
    return (columns, data)
}

@Suite("Parquet writer and reader")
struct RoundTripTests {
    @Test(
        "every codec, encoding and page version round-trips bit-exact, across row groups and pages",
        arguments: [ParquetCompression.uncompressed, .lz4Raw, .zstd, .snappy], [1, 2])
    func roundTrip(codec: ParquetCompression, pageVersion: Int) throws {
        let combos: [(ParquetColumn.Encoding, ParquetColumn.Encoding, ParquetColumn.Encoding)] = [
            (.plain, .plain, .plain), (.deltaBinaryPacked, .byteStreamSplit, .dictionary), (.dictionary, .dictionary, .dictionary),
            (.byteStreamSplit, .plain, .dictionary)
        ]
        for enc in combos {
            var o = ParquetWriterOptions()
            o.compression = codec
            o.dataPageVersion = pageVersion
            o.rowGroupRows = 700
            o.pageRows = 128
            o.metadata = ["strata": "test"]
            let (columns, data) = sampleTable(rows: 2_000, seed: 42, encodings: enc)
            let bytes = try writeToMemory(columns, data, o)
            let (r, back) = try readAll(bytes)
            #expect(r.rowCount == 2_000)
            #expect(r.rowGroupCount == 3)
            #expect(r.metadata["strata"] == "test")
            #expect(r.columns.map(\.name) == columns.map(\.name))
            #expect(r.columns[1].logicalType == .timestamp(unit: .millis, utc: true))
            #expect(r.columns[4].logicalType == .string)
            for (c, (want, got)) in zip(data, back).enumerated() {
                #expect(got.valid == want.valid, "column \(columns[c].name)")
                #expect(sameBits(want.values, got.values, valid: want.valid), "column \(columns[c].name) \(enc) \(codec)")
            }
        }
    }

    @Test("statistics: min/max without NaN, -0.0 as a zero min and +0.0 as a zero max, null counts")
    func statistics() throws {
        let columns = [ParquetColumn("v", .double, optional: true), ParquetColumn("s", .string), ParquetColumn("i", .int64)]
        let data = [
            ParquetColumnData(.double([.nan, 0.0, -0.0, 3, .nan, 0]), valid: [true, true, true, true, true, false]),
            ParquetColumnData(.string(["b", "ä", "a", "", "b", "z"])),
            ParquetColumnData(.int64([5, -3, .max, 0, 1, 2]))
        ]
        let r = try ParquetReader(bytes: try writeToMemory(columns, data, ParquetWriterOptions()))
        let v = try #require(r.statistics(rowGroup: 0, column: 0))
        func d(_ b: [UInt8]?) -> Double { Double(bitPattern: (b ?? []).enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }) }
        #expect(d(v.min).bitPattern == (-0.0).bitPattern)
        #expect(d(v.max) == 3)
        #expect(v.nullCount == 1)
        let s = try #require(r.statistics(rowGroup: 0, column: 1))
        #expect(s.min == [] && s.max == Array("ä".utf8))
        let i = try #require(r.statistics(rowGroup: 0, column: 2))
        #expect(i.min == [0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] && i.max == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        // All NaN: no min/max at all.
        let nan = try ParquetReader(
            bytes: try writeToMemory([ParquetColumn("v", .double)], [ParquetColumnData(.double([.nan, -.nan]))], ParquetWriterOptions(), batches: 1))
        #expect(nan.statistics(rowGroup: 0, column: 0)?.min == nil)
    }

    @Test("a dictionary that grows past its limit falls back to PLAIN and stays exact")
    func dictionaryFallback() throws {
        var o = ParquetWriterOptions()
        o.dictionaryMaxEntries = 10
        let values = (0..<100).map { "v\($0)" }
        let bytes = try writeToMemory([ParquetColumn("s", .string)], [ParquetColumnData(.string(values))], o)
        let r = try ParquetReader(bytes: bytes)
        #expect(try r.read(rowGroup: 0, column: 0).values == .bytes(values.map { Array($0.utf8) }))
        // And within the limit, a dictionary page is written.
        let small = try writeToMemory([ParquetColumn("s", .string)], [ParquetColumnData(.string(values.map { _ in "same" }))], o)
        #expect(small.count < bytes.count)
    }

    @Test("the writer refuses input that does not fit the schema, and keeps nothing of it")
    func writerRefuses() throws {
        var out: [UInt8] = []
        let w = try ParquetWriter(columns: [ParquetColumn("a", .int64), ParquetColumn("b", .double)]) { out += $0 }
        #expect(throws: ParquetError.self) { try w.append([ParquetColumnData(.int64([1])), ParquetColumnData(.int64([1]))]) }
        #expect(throws: ParquetError.self) { try w.append([ParquetColumnData(.int64([1]), valid: [false]), ParquetColumnData(.double([1]))]) }
        #expect(throws: ParquetError.self) { try w.append([ParquetColumnData(.int64([1, 2])), ParquetColumnData(.double([1]))]) }
        #expect(w.rowCount == 0)
        #expect(throws: ParquetError.self) { try ParquetWriter(columns: [ParquetColumn("a", .double, encoding: .deltaBinaryPacked)]) { _ in } }
        #expect(throws: ParquetError.self) { try ParquetWriter(columns: [ParquetColumn("a", .int64), ParquetColumn("a", .int64)]) { _ in } }
    }

    @Test("errors name the file, row group, column, offset and what is wrong")
    func errors() throws {
        let (columns, data) = sampleTable(rows: 300, seed: 7, encodings: (.deltaBinaryPacked, .byteStreamSplit, .dictionary))
        var o = ParquetWriterOptions()
        o.compression = .zstd
        let bytes = try writeToMemory(columns, data, o)
        // Not Parquet.
        let notParquet = #expect(throws: ParquetError.self) { try ParquetReader(bytes: Array("hello world, not parquet".utf8), name: "x.txt") }
        #expect(notParquet?.kind == .notParquet && "\(notParquet!)".hasPrefix("x.txt"))
        // Truncated: the end magic is gone.
        let cut = #expect(throws: ParquetError.self) { try ParquetReader(bytes: Array(bytes.dropLast(100)), name: "cut.parquet") }
        #expect(cut?.kind == .notParquet)
        // A page body damaged inside: a corrupt error naming row group, column and offset.
        var damaged = bytes
        let r = try ParquetReader(bytes: bytes)
        let meta = try #require(try footer(bytes).rowGroups[0].columns[2].metaData)
        let at = Int(meta.dataPageOffset) + 30
        for k in at..<(at + 40) { damaged[k] = 0xFF }
        let bad = try ParquetReader(bytes: damaged, name: "bad.parquet")
        let e = try #require(#expect(throws: ParquetError.self) { try bad.read(rowGroup: 0, column: 2) })
        #expect(e.kind == .corrupt && e.rowGroup == 0 && e.column == "value" && e.offset != nil)
        #expect("\(e)".contains("bad.parquet, row group 0, column 'value', byte offset"))
        #expect(try r.read(rowGroup: 0, column: 2).count == 300)
    }

    @Test("unsupported codecs and encodings are typed errors naming the feature")
    func unsupported() throws {
        // A file written UNCOMPRESSED whose column chunk then claims BROTLI.
        let bytes = try writeToMemory(
            [ParquetColumn("a", .int64)], [ParquetColumnData(.int64([1, 2, 3]))],
            {
                var o = ParquetWriterOptions(); o.compression = .uncompressed; return o
            }(), batches: 1)
        var meta = try footer(bytes)
        meta.rowGroups[0].columns[0].metaData!.codec = ParquetCompression.brotli.code
        let r = try ParquetReader(bytes: try replaceFooter(bytes, meta), name: "g.parquet")
        let e = try #require(#expect(throws: ParquetError.self) { try r.read(rowGroup: 0, column: 0) })
        #expect(e.kind == .unsupported && "\(e)".contains("BROTLI") && "\(e)".contains("column 'a'"))
    }
}

func footer(_ bytes: [UInt8]) throws -> FileMetaData {
    let n = bytes.count
    let len = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
    var r = ThriftReader(bytes, from: n - 8 - len, to: n - 8)
    return try FileMetaData.read(&r)
}

func replaceFooter(_ bytes: [UInt8], _ meta: FileMetaData) throws -> [UInt8] {
    let n = bytes.count
    let len = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
    var w = ThriftWriter()
    w.structBody { meta.write(&$0) }
    var out = Array(bytes[..<(n - 8 - len)]) + w.bytes
    appendLE(UInt64(w.bytes.count), width: 4, to: &out)
    return out + Array("PAR1".utf8)
}

@Suite("Parquet writer: indexed string input")
struct IndexedStringTests {
    /// `.indexed` rows read back as the strings they index, with nulls, across row groups, both
    /// with the dictionary and when it passes the limits and falls back to PLAIN; statistics are
    /// the min and max of the strings present.
    @Test(arguments: [65_536, 3])
    func indexedReadsBackAsStrings(maxEntries: Int) throws {
        var m = Mix(state: 77)
        let dictionary = ["b", "", "zz", "ünï", "a\u{0}b", "val/loss"]
        let rows = 3_000
        let ids = (0..<rows).map { _ in UInt32(m.below(dictionary.count)) }
        let valid = (0..<rows).map { _ in m.below(5) != 0 }
        var options = ParquetWriterOptions()
        options.rowGroupRows = 1_000
        options.pageRows = 128
        options.dictionaryMaxEntries = maxEntries
        let columns = [ParquetColumn("s", .string, optional: true), ParquetColumn("r", .string)]
        let data = [
            ParquetColumnData(.indexed(indices: ids, dictionary: dictionary), valid: valid),
            ParquetColumnData(.indexed(indices: ids, dictionary: dictionary))
        ]
        let bytes = try writeToMemory(columns, data, options)
        let (r, cols) = try readAll(bytes)
        let expected = ids.map { dictionary[Int($0)] }
        #expect(cols[0].valid == valid)
        #expect(sameBits(.string(expected), cols[0].values, valid: valid))
        #expect(sameBits(.string(expected), cols[1].values, valid: nil))
        for g in 0..<r.rowGroupCount {
            let present = (g * 1_000..<(g + 1) * 1_000).map { expected[$0] }
            let s = try #require(r.statistics(rowGroup: g, column: 1))
            #expect(s.min == Array(present.min(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })!.utf8))
            #expect(s.max == Array(present.max(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })!.utf8))
        }
    }

    @Test func indexOutsideTheDictionaryIsRefused() throws {
        let w = try ParquetWriter(columns: [ParquetColumn("s", .string)]) { _ in }
        #expect(throws: ParquetError.self) { try w.append([ParquetColumnData(.indexed(indices: [0, 2], dictionary: ["a", "b"]))]) }
    }
}

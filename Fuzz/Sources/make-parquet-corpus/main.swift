// Seeds for parquet-fuzz: files of every column kind written by StrataParquet with every codec,
// encoding and data page version, plus the pyarrow-written fixtures of Tests/StrataParquetTests.
//   make-parquet-corpus DIR [FIXTURE…]
import Foundation
import StrataParquet

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: make-parquet-corpus DIR [FIXTURE…]\n".utf8))
    exit(2)
}
let dir = args[1]
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
var n = 0
for (e, encodings) in [
    (ParquetColumn.Encoding.plain, ParquetColumn.Encoding.plain), (.deltaBinaryPacked, .byteStreamSplit), (.dictionary, .dictionary)
].enumerated() {
    for codec in [ParquetCompression.uncompressed, .snappy, .zstd, .lz4Raw] {
        for version in [1, 2] {
            var o = ParquetWriterOptions()
            o.compression = codec
            o.dataPageVersion = version
            o.rowGroupRows = 50
            o.pageRows = 20
            var bytes: [UInt8] = []
            let columns = [
                ParquetColumn("run_id", .string), ParquetColumn("label.k", .string, optional: true),
                ParquetColumn("step", .int64, encoding: encodings.0),
                ParquetColumn("value", .double, encoding: encodings.1 == .dictionary ? .plain : encodings.1),
                ParquetColumn("time", .timestampMillis, optional: true, encoding: encodings.0), ParquetColumn("flag", .boolean, optional: true)
            ]
            let w = try ParquetWriter(columns: columns, options: o) { bytes += $0 }
            let rows = 120
            try w.append([
                ParquetColumnData(.indexed(indices: (0..<rows).map { UInt32($0 / 40) }, dictionary: ["a", "bb", "ccc"])),
                ParquetColumnData(.string((0..<rows).map { "v\($0 % 7)" }), valid: (0..<rows).map { $0 % 3 != 0 }),
                ParquetColumnData(.int64((0..<rows).map { Int64($0 * 3 - 50) })),
                ParquetColumnData(.double((0..<rows).map { Double($0) * 0.1 - 3 })),
                ParquetColumnData(.int64((0..<rows).map { 1_700_000_000_000 + Int64($0) }), valid: (0..<rows).map { $0 % 5 != 0 }),
                ParquetColumnData(.boolean((0..<rows).map { $0 % 2 == 0 }), valid: (0..<rows).map { $0 % 4 != 0 })
            ])
            try w.close()
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/strata-\(e)-\(codec.rawValue)-v\(version).parquet"))
            n += 1
        }
    }
}
for f in args.dropFirst(2) {
    try FileManager.default.copyItem(atPath: f, toPath: "\(dir)/\((f as NSString).lastPathComponent)")
    n += 1
}
print("make-parquet-corpus: \(n) seeds in \(dir)")

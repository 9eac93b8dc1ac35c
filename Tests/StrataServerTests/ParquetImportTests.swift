import Foundation
import Strata
import StrataInterop
import StrataParquet
import StrataTestSupport
import Testing

/// `ParquetImporter` (StrataInterop) on hostile files: mutated Strata exports and
/// neptune-exporter-shaped files must be imported or refused with an error, never crash, and never
/// change what the store held before.
@Suite("Parquet import of hostile files")
struct ParquetImportHostileTests {
    /// A Strata points file and runs file of a small store, and a neptune-shaped file.
    static func seeds() throws -> [[UInt8]] {
        let dir = TempDir("pq-import-seed")
        let store = try Store.open(at: dir.store)
        defer { try? store.close() }
        let r = try store.createRun(name: "a", project: "p", params: ["lr": 0.1, "n": 3], tags: ["t"])
        try r.append("loss", steps: Array(0..<60), values: (0..<60).map { Double($0) * 0.25 }, times: (0..<60).map { 1_000 + $0 })
        try r.append("acc", labels: ["rank": "1"], steps: [1, 2], values: [.nan, -0.0], times: [5, 6])
        try store.flush()
        var options = ParquetExportOptions()
        options.rowGroupRows = 25
        let export = try ParquetExport(store: store, runs: try store.runs(), options: options)
        var points: [UInt8] = [], runs: [UInt8] = []
        try export.writePoints { points += $0 }
        try export.writeRuns { runs += $0 }
        var o = ParquetWriterOptions()
        o.compression = .snappy
        o.rowGroupRows = 20
        var neptune: [UInt8] = []
        let w = try ParquetWriter(
            columns: [
                ParquetColumn("project_id", .string), ParquetColumn("run_id", .string), ParquetColumn("attribute_path", .string),
                ParquetColumn("attribute_type", .string), ParquetColumn("step", .int64, optional: true),
                ParquetColumn("timestamp", .timestampMillis, optional: true), ParquetColumn("float_value", .double, optional: true),
                ParquetColumn("int_value", .int64, optional: true)
            ], options: o
        ) { neptune += $0 }
        let n = 50
        try w.append([
            ParquetColumnData(.string(Array(repeating: "org/p", count: n))),
            ParquetColumnData(.string((0..<n).map { $0 < 30 ? "RUN-1" : "RUN-2" })),
            ParquetColumnData(.string((0..<n).map { $0 % 10 == 0 ? "parameters/n" : "metrics/loss" })),
            ParquetColumnData(.string((0..<n).map { $0 % 10 == 0 ? "int" : "float_series" })),
            ParquetColumnData(.int64((0..<n).map { Int64($0) }), valid: (0..<n).map { $0 % 10 != 0 }),
            ParquetColumnData(.int64((0..<n).map { 1_000 + Int64($0) }), valid: (0..<n).map { $0 % 10 != 0 }),
            ParquetColumnData(.double((0..<n).map { Double($0) }), valid: (0..<n).map { $0 % 10 != 0 }),
            ParquetColumnData(.int64((0..<n).map { Int64($0) }), valid: (0..<n).map { $0 % 10 == 0 })
        ])
        try w.close()
        return [points, runs, neptune]
    }

    @Test func seedsImport() throws {
        let seeds = try Self.seeds()
        let dir = TempDir("pq-import")
        let store = try Store.open(at: dir.store)
        defer { try? store.close() }
        for (i, s) in seeds.enumerated() { try Data(s).write(to: URL(fileURLWithPath: dir.path + "/seed\(i).parquet")) }
        let session = try ImportSession(store: store, skipBad: false, again: false)
        try ParquetImporter(session: session).importFiles(try ParquetImporter.findFiles([dir.path]))
        #expect(session.summary.runs == 3)
        #expect(session.summary.points == 62 + 45)
        let a = try #require(try store.runs().first { $0.name == "a" })
        #expect(a.params == ["lr": 0.1, "n": 3] && a.tags == ["t"] && a.project == "p")
        let acc = try store.points(a.id, "acc", labels: ["rank": "1"])
        #expect(acc.map(\.value.bitPattern) == [Double.nan.bitPattern, (-0.0).bitPattern])
        let n = try #require(try store.runs().first { $0.name == "RUN-1" })
        #expect(n.params["parameters/n"] == .int(20) && n.project == "org/p")  // the last value given
    }

    @Test func mutatedFilesAreImportedOrRefusedAndTheStoreKeepsWhatItHad() throws {
        let seeds = try Self.seeds()
        let dir = TempDir("pq-import-fuzz")
        let store = try Store.open(at: dir.store)
        defer { try? store.close() }
        let keep = try store.createRun(name: "keep", params: ["x": 1])
        try keep.append("m", steps: [0, 1, 2], values: [1, 2, 3], times: [1, 2, 3])
        try store.flush()
        var m = SplitMix64(seed: 0xFEED_5EED)
        func below(_ n: Int) -> Int { Int(m.next() % UInt64(max(n, 1))) }
        var refused = 0, imported = 0
        let path = dir.path + "/m.parquet"
        for round in 0..<600 {
            var b = seeds[round % seeds.count]
            let tail = min(b.count, 400)
            func pos() -> Int { below(2) == 0 ? b.count - 1 - below(tail) : below(b.count) }
            switch below(4) {
            case 0: for _ in 0...below(4) { let p = pos(); b[p] ^= UInt8(1 << below(8)) }
            case 1: let p = pos(); for k in p..<min(b.count, p + 1 + below(8)) { b[k] = UInt8(truncatingIfNeeded: m.next()) }
            case 2: b.removeLast(below(b.count / 2) + 1)
            default: let p = pos(); b.insert(contentsOf: (0..<(1 + below(6))).map { _ in UInt8(truncatingIfNeeded: m.next()) }, at: p)
            }
            try Data(b).write(to: URL(fileURLWithPath: path))
            let session = try ImportSession(store: store, skipBad: round % 2 == 0, again: true)
            do {
                try ParquetImporter(session: session).importFiles([path])
                imported += 1
            } catch {
                refused += 1
                #expect("\(error)".contains(path) || "\(error)".contains("m.parquet") || "\(error)".contains("run"), "\(error)")
            }
        }
        #expect(refused > 0)
        let still = try #require(try store.runs().first { $0.id == keep.id })
        #expect(still.params == ["x": 1])
        #expect(try store.points(keep.id, "m").map(\.value) == [1, 2, 3])
        _ = imported
    }

    /// A points table past `maxFileRows` is split into parts at row-group ends; a run spanning parts
    /// imports whole (written after its last part), bit for bit.
    @Test func partsRotateAndARunSpanningThemImportsWhole() throws {
        let src = TempDir("pq-parts-src")
        let store = try Store.open(at: src.store)
        defer { try? store.close() }
        let r = try store.createRun(name: "long", project: "p")
        let values = (0..<100).map { Double(bitPattern: 0x7FF8_0000_0000_0000 | UInt64($0)) }
        try r.append("x", steps: Array(0..<100), values: values, times: Array(repeating: 7, count: 100))
        try store.flush()
        var options = ParquetExportOptions()
        options.rowGroupRows = 16
        options.maxFileRows = 32
        let out = src.path + "/out"
        let summary = try ParquetExport(store: store, runs: try store.runs(), options: options).writeDataset(to: out)
        #expect(summary.points == 100)
        #expect(summary.files == ["runs/project=p/part-00000.parquet"] + (0..<4).map { "points/project=p/part-0000\($0).parquet" })
        for f in summary.files where f.hasPrefix("points/") {
            let reader = try ParquetReader(path: out + "/" + f)
            #expect(reader.rowCount <= 32 && (0..<reader.rowGroupCount).allSatisfy { reader.rowCount(rowGroup: $0) <= 16 })
        }
        let dst = TempDir("pq-parts-dst")
        let back = try Store.open(at: dst.store)
        defer { try? back.close() }
        let session = try ImportSession(store: back, skipBad: false, again: false)
        try ParquetImporter(session: session).importFiles(try ParquetImporter.findFiles([out]))
        #expect(session.summary.runs == 1 && session.summary.points == 100)
        let run = try #require(try back.runs().first)
        #expect(try back.points(run.id, "x").map(\.value.bitPattern) == values.map(\.bitPattern))
    }

    /// An export imported back into the store it came from adds nothing (its runs are the store's
    /// own); `again` imports them as new runs.
    @Test func anExportImportedIntoItsOwnStoreAddsNothing() throws {
        let dir = TempDir("pq-own")
        let store = try Store.open(at: dir.store)
        defer { try? store.close() }
        let r = try store.createRun(name: "a", project: "p")
        try r.append("x", steps: [1, 2], values: [3, 4], times: [5, 6])
        try store.flush()
        let out = dir.path + "/out"
        _ = try ParquetExport(store: store, runs: try store.runs()).writeDataset(to: out)
        let files = try ParquetImporter.findFiles([out])
        let session = try ImportSession(store: store, skipBad: false, again: false)
        try ParquetImporter(session: session).importFiles(files)
        #expect(session.summary.runs == 0 && session.summary.alreadyImported == 1)
        #expect(try store.runs().count == 1)
        let again = try ImportSession(store: store, skipBad: false, again: true)
        try ParquetImporter(session: again).importFiles(files)
        #expect(again.summary.runs == 1 && again.summary.points == 2)
        #expect(try store.runs().count == 2)
    }
}

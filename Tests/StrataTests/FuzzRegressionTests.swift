import Foundation
import StrataCodecs
import Testing

@testable import Strata

/// Inputs found by the store fuzzer (`Fuzz/`, target `store-fuzz`) and other hostile files found
/// while building it. Each must be refused or read without a crash, a trap or a sanitizer report.
@Suite("Fuzz regressions (store files)")
struct FuzzRegressionTests {
    // MARK: helpers

    /// A write-ahead log: the 64-byte header, then records with their checksums.
    static func logBytes(writer: String, generation: UInt64 = 1, records: [(kind: UInt32, payload: [UInt8])]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(Array("STRATWAL".utf8)); w.u32(1); w.u32(64); w.u64(generation); w.i64(1_000); w.string(writer)
        while w.count < 64 { w.u8(0) }
        for r in records {
            w.u64(UInt64(r.kind) << 32 | UInt64(r.payload.count))
            w.u64(r.payload.withUnsafeBytes { Checksum.xxh64($0, seed: UInt64(r.payload.count) << 8 | UInt64(r.kind)) })
            w.raw(r.payload)
            while w.count % 8 != 0 { w.u8(0) }
        }
        for _ in 0..<16 { w.u8(0) }
        return w.bytes
    }

    static func seriesRecord(_ id: UInt32, run: RunID, _ canonical: String) -> (kind: UInt32, payload: [UInt8]) {
        var w = ByteWriter()
        w.u32(id); w.string(run.text); w.string(canonical)
        return (1, w.bytes)
    }

    static func rowRecord(step: Int64, time: Int64, _ pairs: [(UInt32, Double)]) -> (kind: UInt32, payload: [UInt8]) {
        var w = ByteWriter()
        w.i64(step); w.i64(time); w.u32(UInt32(pairs.count))
        for (id, v) in pairs { w.u32(id); w.f64(v) }
        return (2, w.bytes)
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func hex(_ lines: [String]) -> [UInt8] {
        let text = Array(lines.joined().utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        return stride(from: 0, to: text.count, by: 2).map { nibble(text[$0]) << 4 | nibble(text[$0 + 1]) }
    }

    /// Opens `bytes` as a segment file (in a temporary directory).
    static func segment(_ bytes: [UInt8], in dir: TempDir) throws -> Segment {
        let path = dir.sub("x.seg")
        try write(bytes, path)
        return try Segment(path: path, name: "x.seg")
    }

    /// Lets `change` rewrite the 192-byte entry of the first chunk of the first series of a segment
    /// (given its offset in the file), then recomputes the table and directory checksums, so the
    /// segment reads as undamaged: what a hostile (or buggy) writer could produce.
    static func patchFirstChunk(_ b: inout [UInt8], _ change: (inout [UInt8], Int) -> Void) throws {
        let n = b.count
        let (tableAt, chunks, sumAt, dirAt, dirLen) = try ByteView.with(b) { (p) throws(StrataError) in
            var t = ByteReader(p, from: n - 40, path: "")
            let dirAt = Int(try t.u64()), dirLen = Int(try t.u64())
            var r = ByteReader(p, from: dirAt, to: dirAt + dirLen, path: "")
            _ = try r.varint(); _ = try r.string(); _ = try r.string()
            let chunks = Int(try r.varint())
            let tableAt = Int(try r.u64())
            return (tableAt, chunks, r.offset, dirAt, dirLen)
        }
        change(&b, tableAt)
        func put(_ v: UInt64, at: Int) { for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(b.withUnsafeBytes { Checksum.xxh64(UnsafeRawBufferPointer(rebasing: $0[tableAt..<(tableAt + chunks * 192)])) }, at: sumAt)
        put(b.withUnsafeBytes { Checksum.xxh64(UnsafeRawBufferPointer(rebasing: $0[dirAt..<(dirAt + dirLen)])) }, at: n - 24)
    }

    // MARK: names read from files are not paths

    /// A log whose header names the writer "../../escaped": recovery wrote the recovered segment
    /// to `segments/../../escaped-1.seg`, outside the store. The writer id must be a writer id.
    @Test func logWriterIdCannotEscapeTheStore() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        try Store.open(at: root).close()
        let run = RunID.generate()
        let log = Self.logBytes(
            writer: "../../escaped",
            records: [
                Self.seriesRecord(0, run: run, "x"), Self.rowRecord(step: 1, time: 2, [(0, 1.5)])
            ])
        try Self.write(log, root + "/wal/" + RunID.generate().text + "-1.wal")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/escaped-1.seg"))
        #expect(!FileManager.default.fileExists(atPath: dir.sub("s/escaped-1.seg")))
        // The log is not a store's log: set aside, and reported.
        #expect(try !store.verify().isHealthy)
        // The fuzzer's own driver: no crash either.
        _FuzzEntry.log(log)
    }

    /// A segment whose `replaces` list names "../victim.txt": compaction deleted that file, outside
    /// `segments/`. Replaced names must be plain segment file names.
    @Test func segmentReplacesCannotNameFilesOutsideSegments() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        try Store.open(at: root).close()
        let victim = root + "/victim.txt"
        try Self.write([1, 2, 3], victim)
        let paths = StorePaths(root: root)
        var w = try SegmentWriter(path: paths.segment("c1-1.seg"), tmpDir: paths.tmp)
        try w.finish(meta: SegmentMeta(writer: "", generation: 0, firstSequence: 0, lastSequence: 0, replaces: ["../victim.txt"]))
        let segment = try Array(Data(contentsOf: URL(fileURLWithPath: paths.segment("c1-1.seg"))))
        let store = try Store.open(at: root)
        defer { try? store.close() }
        _ = try store.compact(graceSeconds: 0)
        #expect(FileManager.default.fileExists(atPath: victim))
        #expect(try store.verify().problems.contains { $0.path.hasSuffix("c1-1.seg") })
        _FuzzEntry.segment(segment)
    }

    // MARK: found by store-fuzz

    /// A one-point chunk flagged "linear steps" whose statistics claim first step 100, last step
    /// 2,936,012,900 (a real one-point segment with one byte changed): `ChunkHandle.lowerBound`
    /// computed the stride as span / (count − 1) = span / 0 (division by zero) for any step
    /// between the two. A one-point chunk is linear only when its first and last step agree
    /// (`Segment.parseTable`).
    @Test func linearOnePointChunkWithDifferentFirstAndLastStep() throws {
        let bytes = Self.hex([
            "53545241545345470100000000000000490101c801004400010200124901019af3f0b8c4680001000000000000006400",
            "000000000000640000af00000000cd1c8e23a2010000cd1c8e23a2010000000000000000224000000000000022400000",
            "0000000022400000007ffffffffffffffe00000022400000000000002240640000000000000064000000000000000100",
            "0000000000001000000000000000060000001600000000000000060000001c000000000000000a000000260000000000",
            "000000000000a2937bc846ad0bff44ef64848872af66d30619da704191ad99e9d85137db46ef011a30314d3848525737",
            "3645593736475853515247464139424a384b046c6f737301260000000000000035db0c99bf6148a70100000000000000",
            "00000000000000a2937bc846ad0bff44ef64848872af66d30619da704191ad99e9d85137db46ef011a30314d38485257",
            "373545593736475853515247000000000000000000002240000000250000224064000000000000006400000000000000",
            "1a30314d38485257373544334a464e574d4b36333243373648525002000000000000006f05d435074bec188346b83707",
            "4bec18000000000000000000e600000000000000d600000000000000b46a8d7457bc9b36010000000000000053545241",
            "54454e44"
        ])
        let dir = TempDir()
        let seg = try Self.segment(bytes, in: dir)
        var sawOnePointChunk = false
        for s in seg.series {
            guard let entries = try? s.chunks() else { continue }
            for e in entries where e.count == 1 {
                sawOnePointChunk = true
                #expect(!e.linearSteps || e.stats.firstStep == e.stats.lastStep)
                let c = ChunkHandle(segment: seg, entry: e, rankBase: 0)
                var cache: [Int64]? = nil
                _ = try? c.lowerBound(e.stats.firstStep / 2 + e.stats.lastStep / 2, steps: &cache)
            }
        }
        #expect(sawOnePointChunk)
        _FuzzEntry.segment(bytes)
    }

    /// A chunk whose statistics claim a first step (0) below its points' steps (10, 11, 13), in a
    /// run rewound to step 5: `StoreReader.limited` kept the chunk (first step ≤ 5 < last step),
    /// found no point ≤ 5 and force-unwrapped the minimum time of zero points. Found by store-fuzz
    /// (a 34 KB segment that does not minimise: this is the same damage on a small segment).
    @Test func rewoundChunkWhoseStatisticsUnderstateItsFirstStep() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let run: RunID
        do {
            let store = try Store.open(at: root)
            let r = try store.createRun(name: "r")
            run = r.id
            for step: Int64 in [10, 11, 13] { try r.log("x", Double(step), step: step, time: step) }
            try store.close()
        }
        let segments = try FileManager.default.contentsOfDirectory(atPath: root + "/segments").filter { $0.hasSuffix(".seg") }
        #expect(segments.count == 1)
        let path = root + "/segments/" + segments[0]
        // A chunk table to damage: the series is small, so it was packed (no stored statistics).
        try rewriteSegmentAsVersion1(path)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        try Self.patchFirstChunk(&bytes) { b, entry in
            for i in 0..<8 { b[entry + 8 + i] = 0 }  // statistics: u32 count, u32 NaN count, i64 first step
        }
        try Self.write(bytes, path)
        let store = try Store.open(at: root)
        defer { try? store.close() }
        try store.rewind(run, to: 5)
        #expect(try store.points(run, "x").isEmpty)
        #expect(try store.aggregate(run, "x") == nil)
        _FuzzEntry.segment(bytes)
    }
}

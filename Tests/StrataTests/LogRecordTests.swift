import Foundation
import Testing

@testable import Strata

/// Atomic batches in the log, and stores written before marks and batches existed.
@Suite("Atomic batches and older logs")
struct LogRecordTests {
    static let digest = [UInt8](repeating: 7, count: 32)

    static func rowPayload(step: Int64, id: Int, value: Double) -> [UInt8] {
        var w = ByteWriter()
        w.i64(step); w.i64(1_700_000_000_000 + step); w.u32(1)
        w.u32(UInt32(id)); w.u64(value.bitPattern)
        return w.bytes
    }

    /// A run in the catalog (created by a store that is then closed).
    static func makeRun(_ path: String) throws -> RunID {
        let store = try Store.open(at: path)
        let id = try store.createRun(name: "r").id
        try store.close()
        return id
    }

    @Test func uncommittedBatchIsInvisibleLiveAndDroppedByRecovery() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let run = try Self.makeRun(path)
        let w = try LogWriter(paths: StorePaths(root: path), writerId: RunID.generate().text)
        let id = try w.seriesId(SeriesKey(run: run, metric: "a"))
        let commit = BatchCommit(key: "k1", digest: Self.digest, committedMs: Clock.milliseconds(), response: Array("{}".utf8))
        try w.logBatch([.row(step: 1, time: 1, ids: [Int32(id)], values: [1]), .row(step: 2, time: 2, ids: [Int32(id)], values: [2])], commit: commit)
        // A second batch whose commit is not written yet.
        let row = Self.rowPayload(step: 3, id: id, value: 3)
        var begin = ByteWriter()
        begin.u64(UInt64(WriteAheadLog.recordSize(payload: row.count)))
        w.wal.append(kind: .begin, bytes: begin.bytes)
        w.wal.append(kind: .row, bytes: row)

        let reader = try Store.open(at: path)
        #expect(try reader.points(run, "a").map(\.step) == [1, 2], "a batch without its commit is not visible")
        var c = ByteWriter()
        BatchCommit(key: "k2", digest: Self.digest, committedMs: Clock.milliseconds(), response: []).write(into: &c)
        w.wal.append(kind: .commit, bytes: c.bytes)
        #expect(try reader.points(run, "a").map(\.step) == [1, 2, 3], "its commit makes it visible")
        #expect(Set(try reader.batchCommits(sinceMs: 0).map(\.key)) == ["k1", "k2"])

        // A third batch the writer dies in.
        let row4 = Self.rowPayload(step: 4, id: id, value: 4)
        var begin4 = ByteWriter()
        begin4.u64(UInt64(WriteAheadLog.recordSize(payload: row4.count)))
        w.wal.append(kind: .begin, bytes: begin4.bytes)
        w.wal.append(kind: .row, bytes: row4)
        w.wal.abandon()
        try reader.close()

        let store = try Store.open(at: path)
        #expect(store.recoveredLogs.count == 1)
        #expect(try store.points(run, "a").map(\.step) == [1, 2, 3])
        #expect(try store.verify().isHealthy)
        #expect(Sys.kind(StorePaths(root: path).damaged) == nil, "an unfinished batch is not damage")
        // The keys outlive the log: recovery wrote them to a key file.
        #expect(try store.batchCommits(sinceMs: 0).map(\.key) == ["k1", "k2"])
        try store.close()
    }

    @Test func logsWithoutMarksAndSegmentsOfEpochZeroReadAsBefore() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let run = try Self.makeRun(path)
        let paths = StorePaths(root: path)
        let key = try SeriesKey(run: run, metric: "a")
        // A segment as the previous version cut it: rewind epoch 0, began at t0.
        let t0 = Clock.nanoseconds()
        let old = SeriesBuffers()
        let sid = old.add(key)
        for s in 0..<10 { old.append(sid, step: Int64(s), value: Double(s), time: Int64(s)) }
        try old.writeSegment(
            path: paths.segment("01AAAAAAAAAAAAAAAAAAAAAAAA-1.seg"), tmpDir: paths.tmp,
            meta: SegmentMeta(writer: "01AAAAAAAAAAAAAAAAAAAAAAAA", generation: 1, firstSequence: t0, lastSequence: t0 + 1, replaces: []))
        // A dead writer's log without mark records, begun before the rewind.
        let wal = try WriteAheadLog(
            directory: paths.logs, tmpDir: paths.tmp, writerId: "01BBBBBBBBBBBBBBBBBBBBBBBB", generation: 1, capacity: LogFormat.minimumCapacity)
        var def = ByteWriter()
        def.u32(0); def.string(run.text); def.string("a")
        wal.append(kind: .series, bytes: def.bytes)
        for s in 10..<20 { wal.append(kind: .row, bytes: Self.rowPayload(step: Int64(s), id: 0, value: Double(s))) }
        wal.abandon()
        // The rewind comes after both began: it hides their points above step 5 (as it always did).
        let catalog = Catalog(path: paths.catalog)
        try catalog.append([Catalog.rewindRecord(run, step: 5, sequence: Clock.nanoseconds() + 1)], sync: true)
        usleep(1000)
        // A segment as the previous version cut it, from a log begun after the rewind: untouched.
        let later = SeriesBuffers()
        let lid = later.add(key)
        for s in 20..<25 { later.append(lid, step: Int64(s), value: Double(s), time: Int64(s)) }
        let t1 = Clock.nanoseconds()
        try later.writeSegment(
            path: paths.segment("01CCCCCCCCCCCCCCCCCCCCCCCC-1.seg"), tmpDir: paths.tmp,
            meta: SegmentMeta(writer: "01CCCCCCCCCCCCCCCCCCCCCCCC", generation: 1, firstSequence: t1, lastSequence: t1 + 1, replaces: []))

        let store = try Store.open(at: path)
        #expect(store.recoveredLogs.count == 1)
        let expected: [Int64] = Array(0...5) + Array(20..<25)
        #expect(try store.points(run, "a").map(\.step) == expected)
        _ = try store.compact(graceSeconds: 0)
        #expect(try store.points(run, "a").map(\.step) == expected)
        #expect(try store.verify().isHealthy)
        try store.close()
    }
}

extension LogRecordTests {
    @Test func batchLargerThanALogGoesIntoALargerLog() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let run = try Self.makeRun(path)
        let store = try Store.open(at: path, options: .init(logCapacity: LogFormat.minimumCapacity))
        let r = try store.resumeRun(run.text)
        let g = try r.metrics(["a", "b"])
        var batch = AtomicBatch()
        for s in 0..<20_000 { batch.log(g, step: Int64(s), values: [Double(s), -Double(s)]) }
        batch.append(try r.metrics(["c"]), steps: (0..<30_000).map { Int64($0) }.reversed(), values: (0..<30_000).map { Double($0) }.reversed())
        try store.log(batch, commit: BatchCommit(key: "big", digest: Self.digest, committedMs: Clock.milliseconds(), response: []))
        #expect(try store.points(run, "a").count == 20_000)
        #expect(try store.points(run, "c").map(\.step) == (0..<30_000).map { Int64($0) })
        try store.close()
        let again = try Store.open(at: path)
        #expect(try again.points(run, "b").map(\.value) == (0..<20_000).map { -Double($0) })
        #expect(try again.batchCommits(sinceMs: 0).map(\.key) == ["big"])
        try again.close()
    }
}

import Dispatch
import StrataCodecs

/// The writing side of one process: its write-ahead log, its buffers and the segments it cuts.
///
/// Not thread-safe: `Store` serialises calls. A log that fills up is cut: everything buffered goes
/// into segment `<writer>-<generation>.seg` (fsynced, renamed), a new log begins and the old one is
/// deleted. The segment's name ties it to the log it came from, so recovery knows whether a dead
/// writer's log was already cut.
final class LogWriter {
    let paths: StorePaths
    let writerId: String
    let capacity: Int
    private(set) var wal: WriteAheadLog
    private(set) var buffers = SeriesBuffers()
    /// The segment being written from the previous log, off the caller's thread.
    private var pendingCut: DispatchGroup?
    private let cutter = DispatchQueue(label: "strata.cutter")
    private let cutFailure = FailureBox()
    private var ids: [SeriesKey: Int] = [:]
    /// Reusable row scratch (series ids) for `log` calls.
    private var pairScratch: [(UInt32, Double)] = []

    init(paths: StorePaths, writerId: String, capacity: Int = LogFormat.defaultCapacity) throws(StrataError) {
        self.paths = paths
        self.writerId = writerId
        self.capacity = max(capacity, LogFormat.minimumCapacity)
        wal = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: writerId, generation: 1, capacity: self.capacity)
    }

    /// The local number of a series, defining it in the log on first use.
    func seriesId(_ key: SeriesKey) throws(StrataError) -> Int {
        if let id = ids[key] { return id }
        let id = buffers.add(key)
        ids[key] = id
        try writeDefinition(id: id, key: key)
        return id
    }

    private func writeDefinition(id: Int, key: SeriesKey) throws(StrataError) {
        var w = ByteWriter()
        w.u32(UInt32(id))
        w.string(key.run.text)
        w.string(key.canonical)
        try ensureSpace(w.count)
        wal.append(kind: .series, bytes: w.bytes)
    }

    private func ensureSpace(_ payload: Int) throws(StrataError) {
        if WriteAheadLog.recordSize(payload: payload) > wal.remaining {
            try cut()
            if WriteAheadLog.recordSize(payload: payload) > wal.remaining {
                if wal.capacity < capacity {
                    // The disk had room only for a smaller log (see `WriteAheadLog.reserve`).
                    throw StrataError(.noSpace, "no space left on device: room for a log of only \(wal.capacity) bytes, too small for a record of \(payload) bytes", path: wal.path)
                }
                throw StrataError(.limitExceeded, "a log record of \(payload) bytes does not fit in a log of \(capacity) bytes")
            }
        }
    }

    /// Logs one step of several series. `ids` and `values` have equal counts.
    func logRow(step: Int64, time: Int64, ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Double>) throws(StrataError) {
        let n = ids.count
        let payload = 20 + 12 * n
        if WriteAheadLog.recordSize(payload: payload) > wal.remaining { try ensureSpace(payload) }
        let wal = self.wal
        wal.append(kind: .row, payload: payload) { p in
            p.storeBytes(of: step.littleEndian, toByteOffset: 0, as: Int64.self)
            p.storeBytes(of: time.littleEndian, toByteOffset: 8, as: Int64.self)
            p.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 16, as: UInt32.self)
            var o = 20
            for i in 0..<n {
                p.storeBytes(of: UInt32(ids[i]).littleEndian, toByteOffset: o, as: UInt32.self)
                p.storeBytes(of: values[i].bitPattern.littleEndian, toByteOffset: o + 4, as: UInt64.self)
                o += 12
            }
        }
        buffers.appendRow(step: step, time: time, ids: ids, values: values)
    }

    /// Appends whole arrays of one series (an importer's path): encoded in chunks, each chunk
    /// logged encoded (a few bytes a point) and kept for the next segment.
    func append(id: Int, steps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>, times: UnsafeBufferPointer<Int64>) throws(StrataError) {
        let n = steps.count
        if n == 0 { return }
        let reuse = buffers.reuseForCaller(id)
        var from = 0
        while from < n {
            let to = min(n, from + ChunkLayout.chunkCapacity)
            let chunk = ChunkEncoder.encode(steps: UnsafeBufferPointer(rebasing: steps[from..<to]),
                                            values: UnsafeBufferPointer(rebasing: values[from..<to]),
                                            times: UnsafeBufferPointer(rebasing: times[from..<to]), reuse: reuse)
            try logChunk(id: id, chunk: chunk)
            from = to
        }
    }

    private func logChunk(id: Int, chunk: EncodedChunk) throws(StrataError) {
        let payload = 20 + chunk.steps.count + chunk.values.count + chunk.times.count
        try ensureSpace(payload)
        wal.append(kind: .chunk, payload: payload) { p in
            p.storeBytes(of: UInt32(id).littleEndian, toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: UInt32(chunk.stats.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt32(chunk.steps.count).littleEndian, toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(chunk.values.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            p.storeBytes(of: UInt32(chunk.times.count).littleEndian, toByteOffset: 16, as: UInt32.self)
            var o = 20
            for blob in [chunk.steps, chunk.values, chunk.times] {
                blob.withUnsafeBytes { (p + o).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                o += blob.count
            }
        }
        buffers.append(id, chunk: chunk)
    }

    /// Starts the next log and hands everything held to a background thread, which writes it
    /// into a segment and then deletes the previous log (kept locked until then, so no other
    /// process recovers it meanwhile; readers see its points through the log until the segment
    /// appears). One cut runs at a time; `wait` returns only when this one is done.
    func cut(wait: Bool = false) throws(StrataError) {
        try finishCut()
        let old = wal
        let oldBuffers = buffers
        let meta = SegmentMeta(writer: writerId, generation: old.generation, firstSequence: old.createdNs,
                               lastSequence: Clock.nanoseconds(), replaces: [])
        let segmentPath = paths.segment(StorePaths.segmentName(writer: writerId, generation: old.generation))
        wal = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: writerId, generation: old.generation + 1, capacity: capacity)
        // The new buffers keep every series number; the new log defines every series again.
        let fresh = SeriesBuffers()
        for s in oldBuffers.series { _ = fresh.add(s.key) }
        buffers = fresh
        for (key, id) in ids.sorted(by: { $0.value < $1.value }) { try writeDefinition(id: id, key: key) }
        let group = DispatchGroup()
        group.enter()
        let job = UncheckedBox((oldBuffers, old, meta, segmentPath, paths.tmp))
        let failure = cutFailure
        cutter.async {
            let (buffers, log, meta, path, tmp) = job.value
            do throws(StrataError) {
                try buffers.writeSegment(path: path, tmpDir: tmp, meta: meta)
                try log.remove()
            } catch {
                // Leave the log for recovery by the next process that opens the store.
                log.abandon()
                failure.set(error)
            }
            group.leave()
        }
        pendingCut = group
        if wait { try finishCut() }
    }

    /// Waits for the background cut, if any, and reports its failure.
    func finishCut() throws(StrataError) {
        if let g = pendingCut {
            g.wait()
            pendingCut = nil
        }
        if let e = cutFailure.take() { throw e }
    }

    /// Makes everything logged so far survive power loss.
    func sync() throws(StrataError) {
        try finishCut()
        try wal.sync()
    }

    /// Cuts the final segment and deletes the log.
    /// On failure (a full disk) the log is left unlocked for the next opening to recover.
    func close() throws(StrataError) {
        do throws(StrataError) {
            try finishCut()
            let meta = SegmentMeta(writer: writerId, generation: wal.generation, firstSequence: wal.createdNs,
                                   lastSequence: Clock.nanoseconds(), replaces: [])
            try buffers.writeSegment(path: paths.segment(StorePaths.segmentName(writer: writerId, generation: wal.generation)),
                                     tmpDir: paths.tmp, meta: meta)
            try wal.remove()
        } catch {
            wal.abandon()
            throw error
        }
    }

    var pendingBytes: Int { buffers.pendingBytes }
}

/// An error handed from a background job to the thread that waits for it.
final class FailureBox: @unchecked Sendable {
    // @unchecked Sendable: `error` is only touched under `lock`.
    private let lock = Lock()
    private var error: StrataError?
    func set(_ e: StrataError) { lock.withLock { error = e } }
    func take() -> StrataError? { lock.withLock { defer { error = nil }; return error } }
}

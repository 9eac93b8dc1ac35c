import StrataCodecs

/// The log writer's record encoders: rows and chunks are stored straight into the log's mapping
/// (`WriteAheadLog.append`, Storage/Unsafe/LogAppend.swift), and columns are lent to the chunk
/// encoder as buffers; `Run` and atomic batches call the array entry points.
///
/// Unsafe memory: each array's buffer is lent to the writer for the duration of the call only;
/// the writer copies what it keeps (into the log and the series buffers) before returning. A
/// record's `fill` writes exactly the payload size it declared (20 + 12 per pair for a row,
/// 20 + the three encoded columns for a chunk), which `stamp` made room for. Covered by
/// `StoreTests`, `LogRecordTests`, `ProcessTests` (SIGKILLed writers) and the store fuzzer.
extension LogWriter {
    /// Logs one row: `values[i]` for series `ids[i]` at `step` (same count).
    @inline(__always)
    func logRow(step: Int64, time: Int64, ids: [Int32], values: [Double]) throws(StrataError) {
        try ids.withUnsafeBufferPointer { (ip) throws(StrataError) in
            try values.withUnsafeBufferPointer { (vp) throws(StrataError) in try logRow(step: step, time: time, ids: ip, values: vp) }
        }
    }

    /// Logs one row from spans (the dictionary `log`'s stack buffers; same count).
    @inline(__always)
    func logRow(step: Int64, time: Int64, ids: Span<Int32>, values: Span<Double>) throws(StrataError) {
        try ids.withUnsafeBufferPointer { (ip) throws(StrataError) in
            try values.withUnsafeBufferPointer { (vp) throws(StrataError) in try logRow(step: step, time: time, ids: ip, values: vp) }
        }
    }

    /// Appends whole columns of one series (same count).
    func append(id: Int, steps: [Int64], values: [Double], times: [Int64]) throws(StrataError) {
        try steps.withUnsafeBufferPointer { (sp) throws(StrataError) in
            try values.withUnsafeBufferPointer { (vp) throws(StrataError) in
                try times.withUnsafeBufferPointer { (tp) throws(StrataError) in try append(id: id, steps: sp, values: vp, times: tp) }
            }
        }
    }

    /// Logs one step of several series. `ids` and `values` have equal counts.
    func logRow(step: Int64, time: Int64, ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Double>) throws(StrataError) {
        let n = ids.count
        let payload = 20 + 12 * n
        try stamp(payload)
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
    func append(id: Int, steps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>, times: UnsafeBufferPointer<Int64>)
        throws(StrataError)
    {
        let n = steps.count
        if n == 0 { return }
        let reuse = buffers.reuseForCaller(id)
        var from = 0
        while from < n {
            let to = min(n, from + ChunkLayout.chunkCapacity)
            let chunk = ChunkEncoder.encode(
                steps: UnsafeBufferPointer(rebasing: steps[from..<to]),
                values: UnsafeBufferPointer(rebasing: values[from..<to]),
                times: UnsafeBufferPointer(rebasing: times[from..<to]), reuse: reuse)
            try logChunk(id: id, chunk: chunk)
            from = to
        }
    }

    func logChunk(id: Int, chunk: EncodedChunk) throws(StrataError) {
        let payload = LogWriter.chunkPayload(chunk)
        try stamp(payload)
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

    /// Encodes sorted columns of one series into chunk items.
    func chunkItems(id: Int, steps: [Int64], values: [Double], times: [Int64]) -> [BatchItem] {
        let reuse = buffers.reuseForCaller(id)
        var out: [BatchItem] = []
        var from = 0
        while from < steps.count {
            let to = min(steps.count, from + ChunkLayout.chunkCapacity)
            let chunk = steps.withUnsafeBufferPointer { sp in
                values.withUnsafeBufferPointer { vp in
                    times.withUnsafeBufferPointer { tp in
                        ChunkEncoder.encode(
                            steps: UnsafeBufferPointer(rebasing: sp[from..<to]), values: UnsafeBufferPointer(rebasing: vp[from..<to]),
                            times: UnsafeBufferPointer(rebasing: tp[from..<to]), reuse: reuse)
                    }
                }
            }
            out.append(.chunk(id: id, chunk: chunk))
            from = to
        }
        return out
    }
}

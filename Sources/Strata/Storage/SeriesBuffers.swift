import StrataCodecs

/// Raw points of one series waiting to fill a chunk. Grows on demand up to a chunk.
///
/// Unsafe memory: three manually allocated arrays of `capacity` elements, freed in deinit;
/// `count <= capacity` always holds and is checked before each write.
final class SeriesBuffer {
    let key: SeriesKey
    let reuse: ColumnReuse
    private(set) var steps: UnsafeMutablePointer<Int64>
    private(set) var values: UnsafeMutablePointer<Double>
    private(set) var times: UnsafeMutablePointer<Int64>
    private(set) var capacity: Int
    private(set) var count = 0
    /// Encoded chunks not yet in a segment, in arrival order.
    var pending: [EncodedChunk] = []

    init(key: SeriesKey, reuse: ColumnReuse) {
        self.key = key
        self.reuse = reuse
        capacity = 64
        steps = .allocate(capacity: capacity)
        values = .allocate(capacity: capacity)
        times = .allocate(capacity: capacity)
    }

    deinit {
        steps.deallocate(); values.deallocate(); times.deallocate()
    }

    /// Appends a point; true when the buffer now holds a full chunk.
    @inline(__always)
    func append(step: Int64, value: Double, time: Int64) -> Bool {
        if count == capacity { grow() }
        steps[count] = step
        values[count] = value
        times[count] = time
        count += 1
        return count == ChunkLayout.chunkCapacity
    }

    private func grow() {
        let n = min(ChunkLayout.chunkCapacity, capacity * 2)
        precondition(n > capacity, "series buffer overflow")
        func move<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: n)
            q.moveInitialize(from: p, count: count)
            p.deallocate()
            return q
        }
        steps = move(steps); values = move(values); times = move(times)
        capacity = n
    }

    /// Encodes the buffered points (sorted stably by step) into a pending chunk.
    /// Returns the encoded size.
    @discardableResult
    func seal() -> Int {
        guard count > 0 else { return 0 }
        let chunk: EncodedChunk
        if StableSort.isSorted(UnsafeBufferPointer(start: steps, count: count)) {
            chunk = ChunkEncoder.encode(steps: UnsafeBufferPointer(start: steps, count: count),
                                        values: UnsafeBufferPointer(start: values, count: count),
                                        times: UnsafeBufferPointer(start: times, count: count), reuse: reuse)
        } else {
            var s = Array(UnsafeBufferPointer(start: steps, count: count))
            var v = Array(UnsafeBufferPointer(start: values, count: count))
            var t = Array(UnsafeBufferPointer(start: times, count: count))
            StableSort.sort(steps: &s, values: &v, times: &t)
            chunk = s.withUnsafeBufferPointer { sp in v.withUnsafeBufferPointer { vp in t.withUnsafeBufferPointer { tp in
                ChunkEncoder.encode(steps: sp, values: vp, times: tp, reuse: reuse)
            } } }
        }
        pending.append(chunk)
        count = 0
        return chunk.encodedBytes
    }
}

/// The points a writer holds in memory between log and segment: per-series raw buffers and
/// encoded chunks. Used by the live writer and by recovery of a dead writer's log.
final class SeriesBuffers {
    private(set) var series: [SeriesBuffer] = []
    /// Unretained references to `series` (which keeps them alive) for the per-point hot path,
    /// so appending a point does no reference counting.
    private var refs: [Unmanaged<SeriesBuffer>] = []
    private var reuseByRun: [RunID: ColumnReuse] = [:]
    private(set) var pendingBytes = 0
    private(set) var bufferedPoints = 0
    /// When this many raw points are buffered across series, every buffer is sealed early.
    static let maxBufferedPoints = 2_000_000

    var isEmpty: Bool { series.allSatisfy { $0.count == 0 && $0.pending.isEmpty } }

    /// Registers a series; returns its local number.
    func add(_ key: SeriesKey) -> Int {
        let reuse = reuseByRun[key.run] ?? { let r = ColumnReuse(); reuseByRun[key.run] = r; return r }()
        let s = SeriesBuffer(key: key, reuse: reuse)
        series.append(s)
        refs.append(Unmanaged.passUnretained(s))
        return series.count - 1
    }

    @inline(__always)
    func append(_ id: Int, step: Int64, value: Double, time: Int64) {
        bufferedPoints += 1
        let full = refs[id]._withUnsafeGuaranteedRef { $0.append(step: step, value: value, time: time) }
        if full {
            let s = series[id]
            bufferedPoints -= s.count
            pendingBytes += s.seal()
        }
        if bufferedPoints >= SeriesBuffers.maxBufferedPoints { sealAll() }
    }

    /// Appends one step of several series (the `log` hot path: no reference counting per point).
    @inline(__always)
    func appendRow(step: Int64, time: Int64, ids: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Double>) {
        var sealed = false
        refs.withUnsafeBufferPointer { r in
            for i in 0..<ids.count {
                let full = r[Int(ids[i])]._withUnsafeGuaranteedRef { $0.append(step: step, value: values[i], time: time) }
                if full { sealed = true }
            }
        }
        bufferedPoints += ids.count
        if sealed {
            for i in 0..<ids.count {
                let s = series[Int(ids[i])]
                if s.count == ChunkLayout.chunkCapacity {
                    bufferedPoints -= s.count
                    pendingBytes += s.seal()
                }
            }
        }
        if bufferedPoints >= SeriesBuffers.maxBufferedPoints { sealAll() }
    }

    /// Adds an already encoded chunk after whatever the series has buffered.
    func append(_ id: Int, chunk: EncodedChunk) {
        let s = series[id]
        if s.count > 0 { bufferedPoints -= s.count; pendingBytes += s.seal() }
        s.pending.append(chunk)
        pendingBytes += chunk.encodedBytes
    }

    func sealAll() {
        for s in series where s.count > 0 {
            bufferedPoints -= s.count
            pendingBytes += s.seal()
        }
    }

    /// Writes everything held into one segment file and forgets it. No file when nothing is held.
    func writeSegment(path: String, tmpDir: String, meta: SegmentMeta) throws(StrataError) {
        sealAll()
        let withData = series.filter { !$0.pending.isEmpty }.sorted { $0.key < $1.key }
        guard !withData.isEmpty else { return }
        var writer = try SegmentWriter(path: path, tmpDir: tmpDir)
        do {
            for s in withData { try writer.add(series: s.key, chunks: s.pending) }
            try writer.finish(meta: meta)
        } catch {
            writer.abandon()
            throw error
        }
        for s in withData { s.pending.removeAll() }
        pendingBytes = 0
    }
}

import Dispatch
import StrataCodecs

/// Raw points of one series waiting to fill a chunk. Grows on demand up to a chunk.
///
/// Unsafe memory: three manually allocated arrays of `capacity` elements, freed in deinit or
/// handed over whole to a `RawChunk`; `count <= capacity` always holds and is checked before each
/// write.
final class SeriesBuffer: @unchecked Sendable {
    // @unchecked Sendable: the raw arrays are touched only by the writer's thread; `pending` only
    // under the owning `SeriesBuffers.lock`; `reuse` only on the encoder queue or after draining it.
    let key: SeriesKey
    let reuse: ColumnReuse
    private(set) var steps: UnsafeMutablePointer<Int64>
    private(set) var values: UnsafeMutablePointer<Double>
    private(set) var times: UnsafeMutablePointer<Int64>
    private(set) var capacity: Int
    private(set) var count = 0
    /// Encoded chunks not yet in a segment, in arrival order.
    var pending: [EncodedChunk] = []

    /// Room for no point until the first is logged: a series that only receives whole chunks
    /// (`append`, an importer's path) or none at all (a series redefined in a new log) holds no
    /// raw arrays, so 50,000 short series do not hold 75 MiB of empty buffers.
    /// Until then the three arrays point at `SeriesBuffer.none`, which is never written (every
    /// write follows a `grow`) nor freed (`capacity` is 0): no allocation per series.
    init(key: SeriesKey, reuse: ColumnReuse) {
        self.key = key
        self.reuse = reuse
        capacity = 0
        steps = SeriesBuffer.none.assumingMemoryBound(to: Int64.self)
        values = SeriesBuffer.none.assumingMemoryBound(to: Double.self)
        times = SeriesBuffer.none.assumingMemoryBound(to: Int64.self)
    }

    /// The shared stand-in of buffers not allocated yet (8-aligned, never read or written).
    nonisolated(unsafe) private static let none = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)

    deinit {
        if capacity > 0 { steps.deallocate(); values.deallocate(); times.deallocate() }
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
        let n = min(ChunkLayout.chunkCapacity, max(64, capacity * 2))
        precondition(n > capacity, "series buffer overflow")
        let owned = capacity > 0
        func move<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: n)
            if owned {
                q.moveInitialize(from: p, count: count)
                p.deallocate()
            }
            return q
        }
        steps = move(steps); values = move(values); times = move(times)
        capacity = n
    }

    /// Hands the buffered points over (the buffer starts again empty, same capacity).
    func take() -> RawChunk? {
        guard count > 0 else { return nil }
        let raw = RawChunk(steps: steps, values: values, times: times, count: count)
        steps = .allocate(capacity: capacity)
        values = .allocate(capacity: capacity)
        times = .allocate(capacity: capacity)
        count = 0
        return raw
    }
}

/// Points handed from a series buffer to the encoder. Owns its three arrays (freed by `encode`).
struct RawChunk: @unchecked Sendable {
    // @unchecked Sendable: ownership moves to the encoder queue with the value; nobody else
    // keeps the pointers.
    let steps: UnsafeMutablePointer<Int64>
    let values: UnsafeMutablePointer<Double>
    let times: UnsafeMutablePointer<Int64>
    let count: Int

    /// Encodes (sorted stably by step) and frees the arrays.
    func encode(reuse: ColumnReuse) -> EncodedChunk {
        defer { steps.deallocate(); values.deallocate(); times.deallocate() }
        if StableSort.isSorted(UnsafeBufferPointer(start: steps, count: count)) {
            return ChunkEncoder.encode(
                steps: UnsafeBufferPointer(start: steps, count: count),
                values: UnsafeBufferPointer(start: values, count: count),
                times: UnsafeBufferPointer(start: times, count: count), reuse: reuse)
        }
        var s = Array(UnsafeBufferPointer(start: steps, count: count))
        var v = Array(UnsafeBufferPointer(start: values, count: count))
        var t = Array(UnsafeBufferPointer(start: times, count: count))
        StableSort.sort(steps: &s, values: &v, times: &t)
        return s.withUnsafeBufferPointer { sp in
            v.withUnsafeBufferPointer { vp in
                t.withUnsafeBufferPointer { tp in
                    ChunkEncoder.encode(steps: sp, values: vp, times: tp, reuse: reuse)
                }
            }
        }
    }
}

/// The points a writer holds in memory between log and segment: per-series raw buffers and
/// encoded chunks. Used by the live writer and by recovery of a dead writer's log.
///
/// Full buffers are encoded on a background queue (the training loop's thread only appends),
/// in submission order, with at most `maxInFlight` chunks queued. Anything that reads `pending`
/// or uses a `ColumnReuse` on the caller's thread drains the queue first.
final class SeriesBuffers: @unchecked Sendable {
    // @unchecked Sendable: `pending` arrays and `pendingBytes` are guarded by `lock`; the rest is
    // used by the writer's thread only.
    private(set) var series: [SeriesBuffer] = []
    /// Unretained references to `series` (which keeps them alive) for the per-point hot path,
    /// so appending a point does no reference counting.
    private var refs: [Unmanaged<SeriesBuffer>] = []
    private var reuseByRun: [RunID: ColumnReuse] = [:]
    private let lock = Lock()
    private var _pendingBytes = 0
    private(set) var bufferedPoints = 0
    private let encoder = DispatchQueue(label: "strata.encoder")
    private let inFlight = DispatchSemaphore(value: SeriesBuffers.maxInFlight)
    private var queued = 0
    /// When this many raw points are buffered across series, every buffer is sealed early.
    static let maxBufferedPoints = 2_000_000
    /// Most full chunks waiting for the encoder (bounds memory when logging outruns encoding).
    static let maxInFlight = 64

    var pendingBytes: Int { lock.withLock { _pendingBytes } }

    var isEmpty: Bool {
        drain()
        return lock.withLock { series.allSatisfy { $0.count == 0 && $0.pending.isEmpty } }
    }

    /// Registers a series; returns its local number.
    func add(_ key: SeriesKey) -> Int {
        // Series arrive run by run: the last run's reuse is found without hashing its id.
        let reuse: ColumnReuse
        if let last = lastReuse, last.run == key.run {
            reuse = last.reuse
        } else {
            reuse = reuseByRun[key.run] ?? newReuse(key.run)
            lastReuse = (key.run, reuse)
        }
        let s = SeriesBuffer(key: key, reuse: reuse)
        series.append(s)
        refs.append(Unmanaged.passUnretained(s))
        return series.count - 1
    }

    /// Runs whose columns are remembered for reuse, oldest first (at most `reuseRuns`).
    private var reuseOrder: [RunID] = []
    private var lastReuse: (run: RunID, reuse: ColumnReuse)?
    private var reuseOldest = 0
    /// How many runs keep their last steps and times columns for reuse. A bulk import of
    /// thousands of short runs would otherwise hold two raw columns for every run until the
    /// segment is written; a run logged again after falling out simply encodes its columns
    /// afresh (segment writing still stores identical columns once).
    static let reuseRuns = 64

    private func newReuse(_ run: RunID) -> ColumnReuse {
        let r = ColumnReuse()
        reuseByRun[run] = r
        reuseOrder.append(run)
        if reuseOrder.count - reuseOldest > SeriesBuffers.reuseRuns {
            drain()  // the encoder queue may be using the reuse let go
            reuseByRun.removeValue(forKey: reuseOrder[reuseOldest])?.forget()
            reuseOldest += 1
            if reuseOldest >= 4096 {
                reuseOrder.removeFirst(reuseOldest)
                reuseOldest = 0
            }
        }
        return r
    }

    /// Waits until every queued chunk is encoded.
    func drain() {
        if queued > 0 {
            encoder.sync {}
            queued = 0
        }
    }

    /// Queues the series' buffered points for encoding.
    private func seal(_ s: SeriesBuffer) {
        guard let raw = s.take() else { return }
        bufferedPoints -= raw.count
        inFlight.wait()
        queued += 1
        let lock = self.lock, done = inFlight
        encoder.async { [s] in
            let chunk = raw.encode(reuse: s.reuse)
            lock.withLock {
                s.pending.append(chunk)
                self._pendingBytes += chunk.encodedBytes
            }
            done.signal()
        }
    }

    @inline(__always)
    func append(_ id: Int, step: Int64, value: Double, time: Int64) {
        bufferedPoints += 1
        let full = refs[id]._withUnsafeGuaranteedRef { $0.append(step: step, value: value, time: time) }
        if full { seal(series[id]) }
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
                if s.count == ChunkLayout.chunkCapacity { seal(s) }
            }
        }
        if bufferedPoints >= SeriesBuffers.maxBufferedPoints { sealAll() }
    }

    /// The series' column reuse, for encoding on the caller's thread (drains the queue first).
    func reuseForCaller(_ id: Int) -> ColumnReuse {
        drain()
        return series[id].reuse
    }

    /// Adds an already encoded chunk after whatever the series has buffered.
    func append(_ id: Int, chunk: EncodedChunk) {
        let s = series[id]
        if s.count > 0 { seal(s) }
        drain()
        lock.withLock {
            s.pending.append(chunk)
            _pendingBytes += chunk.encodedBytes
        }
    }

    func sealAll() {
        for s in series where s.count > 0 { seal(s) }
    }

    /// Writes everything held into one segment file and forgets it. No file when nothing is held.
    func writeSegment(path: String, tmpDir: String, meta: SegmentMeta) throws(StrataError) {
        sealAll()
        drain()
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
        lock.withLock {
            for s in withData { s.pending.removeAll() }
            _pendingBytes = 0
        }
    }
}

import StrataCodecs

/// Points that are still only in a writer's log (a live writer's, or a dead one's not yet
/// recovered), read incrementally so a reader can watch a run while it trains.
final class LogTail {
    let path: String
    let name: String
    private let file: MappedFile
    private var scanner: LogScanner
    private var local: [UInt32: SeriesKey] = [:]
    /// The same, resolved to the series' points (a per-point lookup by number, not by name).
    private var byLocal: [UInt32: TailSeries] = [:]
    /// Points per series in arrival order.
    private(set) var series: [SeriesKey: TailSeries] = [:]
    var header: LogScanner.Header { scanner.header }
    private(set) var damage: String?

    final class TailSeries {
        var steps: [Int64] = []
        var values: [Double] = []
        var times: [Int64] = []
        /// Encoded chunk records (bulk appends), decoded only when a query needs this series;
        /// `at` is how many row points arrived before it (keeps arrival order); `seq` its sequence.
        var encoded: [(at: Int, record: LogChunkRecord, seq: Int64)] = []
        /// The sequence of the row points from `from` on (the log's `mark` they were logged after).
        var sequences: [(from: Int, seq: Int64)] = []
        /// Bumped whenever points are added (invalidates the sorted view).
        var version = 0
        /// Keeps the mapping that `encoded` points into alive.
        var file: MappedFile?
        var cached: (version: Int, rewinds: Int, chunks: [MemoryChunk])?
    }

    init(path: String, name: String) throws(StrataError) {
        self.path = path
        self.name = name
        file = try MappedFile(path: path)
        scanner = try LogScanner(bytes: file.view, path: path)
    }

    /// Reads records appended since the last call.
    func refresh() {
        var sink = Sink(tail: self)
        do { try scanner.walk(into: &sink) } catch { damage = error.description }
    }

    /// Files the records of the log under their series (a per-point lookup by number, not by name).
    private struct Sink: LogRecordSink {
        let tail: LogTail
        mutating func series(_ id: UInt32, _ key: SeriesKey) throws(StrataError) {
            tail.local[id] = key
            tail.byLocal[id] = tail.tail(key)
        }
        mutating func point(_ id: UInt32, step: Int64, value: Double, time: Int64, sequence: Int64) throws(StrataError) {
            guard let s = tail.byLocal[id] else { return }
            if s.sequences.last?.seq != sequence { s.sequences.append((s.steps.count, sequence)) }
            s.steps.append(step); s.values.append(value); s.times.append(time)
            s.version += 1
        }
        mutating func chunk(_ id: UInt32, _ record: LogChunkRecord, sequence: Int64) throws(StrataError) {
            // Kept encoded: decoded only if a query reads this series.
            guard let s = tail.byLocal[id] else { return }
            s.encoded.append((s.steps.count, record, sequence))
            s.file = tail.file
            s.version += 1
        }
        mutating func commit(_ c: BatchCommit) {}
    }

    private func tail(_ key: SeriesKey) -> TailSeries {
        if let s = series[key] { return s }
        let s = TailSeries()
        series[key] = s
        return s
    }
}

/// Tail points sorted by step (stable) and cut into chunk-sized pieces, with statistics, so the
/// query engine treats them like segment chunks.
struct MemoryChunk {
    var steps: [Int64]
    var values: [Double]
    var times: [Int64]
    var stats: Aggregate
    var minTime: Int64
    var maxTime: Int64

    /// Points already sorted by step (stable), with times; at least one.
    init(_ c: ChunkColumns) {
        steps = c.steps; values = c.values; times = c.times
        stats = Aggregate.of(steps: c.steps, values: c.values)
        minTime = c.times.min()!; maxTime = c.times.max()!
    }

    /// `limit(seq)`: the largest visible step of a point logged at sequence `seq` (rewinds);
    /// `rewinds` identifies the rewinds it reflects (the cached result is kept while it is equal).
    static func build(_ s: LogTail.TailSeries, rewinds: Int = 0, limit: (Int64) -> Int64 = { _ in .max }) throws(StrataError) -> [MemoryChunk] {
        if let c = s.cached, c.version == s.version, c.rewinds == rewinds { return c.chunks }
        var st: [Int64] = [], va: [Double] = [], ti: [Int64] = []
        // Appends points [lo, hi) of a column set, leaving out those above `lim`.
        func add(_ ps: ArraySlice<Int64>, _ pv: ArraySlice<Double>, _ pt: ArraySlice<Int64>, _ lim: Int64) {
            if lim == .max { st += ps; va += pv; ti += pt; return }
            for j in ps.indices where ps[j] <= lim { st.append(ps[j]); va.append(pv[j]); ti.append(pt[j]) }
        }
        // Row points [lo, hi), each under the limit of its sequence.
        func addRows(_ lo: Int, _ hi: Int) {
            var i = lo
            for (k, run) in s.sequences.enumerated() where i < hi {
                let end = min(hi, k + 1 < s.sequences.count ? s.sequences[k + 1].from : hi)
                if end <= i { continue }
                let from = max(i, run.from)
                add(s.steps[from..<end], s.values[from..<end], s.times[from..<end], limit(run.seq))
                i = end
            }
        }
        if s.encoded.isEmpty && rewinds == 0 {
            st = s.steps; va = s.values; ti = s.times
        } else {
            // Rows and decoded chunk records, in arrival order.
            var row = 0
            for e in s.encoded {
                addRows(row, e.at)
                row = e.at
                let c = try ChunkColumns(e.record, path: s.file?.path ?? "log")
                add(c.steps[...], c.values[...], c.times[...], limit(e.seq))
            }
            addRows(row, s.steps.count)
        }
        StableSort.sort(steps: &st, values: &va, times: &ti)
        var out: [MemoryChunk] = []
        var from = 0
        while from < st.count {
            let to = min(st.count, from + ChunkLayout.chunkCapacity)
            var c = ChunkColumns()
            c.steps = Array(st[from..<to]); c.values = Array(va[from..<to]); c.times = Array(ti[from..<to])
            out.append(MemoryChunk(c))
            from = to
        }
        s.cached = (s.version, rewinds, out)
        return out
    }
}

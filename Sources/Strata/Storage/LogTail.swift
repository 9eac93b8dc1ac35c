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
        var encoded: [(at: Int, count: Int, steps: UnsafeRawBufferPointer, values: UnsafeRawBufferPointer, times: UnsafeRawBufferPointer, seq: Int64)] = []
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
        scanner = try LogScanner(bytes: file.bytes, path: path)
    }

    /// Reads records appended since the last call.
    func refresh() {
        do {
            while let record = try scanner.next() {
                switch record {
                case .series(let id, let key):
                    local[id] = key
                    byLocal[id] = tail(key)
                case .row(let step, let time, let pairs):
                    for i in 0..<(pairs.count / 12) {
                        let id = UInt32(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12, as: UInt32.self))
                        let bits = UInt64(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12 + 4, as: UInt64.self))
                        guard let s = byLocal[id] else { continue }
                        if s.sequences.last?.seq != scanner.sequence { s.sequences.append((s.steps.count, scanner.sequence)) }
                        s.steps.append(step); s.values.append(Double(bitPattern: bits)); s.times.append(time)
                        s.version += 1
                    }
                case .chunk(let id, let count, let steps, let values, let times):
                    // Kept encoded: decoded only if a query reads this series.
                    guard let s = byLocal[id] else { continue }
                    s.encoded.append((s.steps.count, count, steps, values, times, scanner.sequence))
                    s.file = file
                    s.version += 1
                case .mark, .commit:
                    break
                }
            }
        } catch {
            damage = error.description
        }
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
            var vs = [Int64](), vv = [Double](), vt = [Int64]()
            var row = 0
            for e in s.encoded {
                addRows(row, e.at)
                row = e.at
                try Recovery.decodeChunk(count: e.count, steps: e.steps, values: e.values, times: e.times, into: &vs, &vv, &vt, path: s.file?.path ?? "log")
                add(vs[...], vv[...], vt[...], limit(e.seq))
            }
            addRows(row, s.steps.count)
        }
        StableSort.sort(steps: &st, values: &va, times: &ti)
        var out: [MemoryChunk] = []
        var from = 0
        while from < st.count {
            let to = min(st.count, from + ChunkLayout.chunkCapacity)
            let cs = Array(st[from..<to]), cv = Array(va[from..<to]), ct = Array(ti[from..<to])
            let stats = Aggregate.of(steps: cs, values: cv)
            out.append(MemoryChunk(steps: cs, values: cv, times: ct, stats: stats, minTime: ct.min()!, maxTime: ct.max()!))
            from = to
        }
        s.cached = (s.version, rewinds, out)
        return out
    }
}

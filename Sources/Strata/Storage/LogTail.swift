import StrataCodecs

/// Points that are still only in a writer's log (a live writer's, or a dead one's not yet
/// recovered), read incrementally so a reader can watch a run while it trains.
final class LogTail {
    let path: String
    let name: String
    private let file: MappedFile
    private var scanner: LogScanner
    private var local: [UInt32: SeriesKey] = [:]
    /// Points per series in arrival order.
    private(set) var series: [SeriesKey: TailSeries] = [:]
    var header: LogScanner.Header { scanner.header }
    private(set) var damage: String?

    final class TailSeries {
        var steps: [Int64] = []
        var values: [Double] = []
        var times: [Int64] = []
        /// Bumped whenever points are added (invalidates the sorted view).
        var version = 0
        var cached: (version: Int, chunks: [MemoryChunk])?
    }

    init(path: String, name: String) throws(StrataError) {
        self.path = path
        self.name = name
        file = try MappedFile(path: path)
        scanner = try LogScanner(bytes: file.bytes, path: path)
    }

    /// Reads records appended since the last call.
    func refresh() {
        var vs = [Int64](), vv = [Double](), vt = [Int64]()
        do {
            while let record = try scanner.next() {
                switch record {
                case .series(let id, let key):
                    local[id] = key
                case .row(let step, let time, let pairs):
                    for i in 0..<(pairs.count / 12) {
                        let id = UInt32(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12, as: UInt32.self))
                        let bits = UInt64(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12 + 4, as: UInt64.self))
                        guard let key = local[id] else { continue }
                        let s = tail(key)
                        s.steps.append(step); s.values.append(Double(bitPattern: bits)); s.times.append(time)
                        s.version += 1
                    }
                case .chunk(let id, let count, let steps, let values, let times):
                    guard let key = local[id] else { continue }
                    try Recovery.decodeChunk(count: count, steps: steps, values: values, times: times, into: &vs, &vv, &vt, path: path)
                    let s = tail(key)
                    s.steps += vs; s.values += vv; s.times += vt
                    s.version += 1
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

    static func build(_ s: LogTail.TailSeries) -> [MemoryChunk] {
        if let c = s.cached, c.version == s.version { return c.chunks }
        var st = s.steps, va = s.values, ti = s.times
        StableSort.sort(steps: &st, values: &va, times: &ti)
        var out: [MemoryChunk] = []
        var from = 0
        while from < st.count {
            let to = min(st.count, from + ChunkLayout.chunkCapacity)
            let cs = Array(st[from..<to]), cv = Array(va[from..<to]), ct = Array(ti[from..<to])
            let stats = cs.withUnsafeBufferPointer { sp in cv.withUnsafeBufferPointer { vp in
                Aggregate.of(steps: sp.baseAddress!, values: vp.baseAddress!, range: 0..<cs.count, baseRank: 0)
            } }
            out.append(MemoryChunk(steps: cs, values: cv, times: ct, stats: stats, minTime: ct.min()!, maxTime: ct.max()!))
            from = to
        }
        s.cached = (s.version, out)
        return out
    }
}

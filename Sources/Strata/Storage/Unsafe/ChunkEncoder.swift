import StrataCodecs

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A chunk ready to be written: its header statistics and encoded columns.
struct EncodedChunk {
    var stats: Aggregate
    var minTime: Int64
    var maxTime: Int64
    /// Steps are first + i·stride exactly (flag in the chunk header).
    var linearSteps: Bool
    var steps: [UInt8]
    var values: [UInt8]
    var times: [UInt8]
    /// Level-1 tier entries, `ChunkLayout.tierEntrySize` bytes per block, then (full chunks) the
    /// chunk's quantile sketch.
    var tier: [UInt8]
    /// The tier blob ends with a quantile sketch (chunk flag `SegmentFormat.flagSketch`).
    var hasSketch = false

    var encodedBytes: Int { steps.count + values.count + times.count + tier.count }
}

/// Encodes chunks: statistics, tier entries and the three columns (the codecs' entry point).
///
/// Unsafe memory: `encode` reads exactly `count` elements of each buffer it is given, during the
/// call; the buffers belong to the caller (a series buffer, or an array's own storage).
enum ChunkEncoder {
    /// Encodes decoded columns already sorted by step.
    static func encode(_ c: ChunkColumns, reuse: ColumnReuse? = nil) -> EncodedChunk {
        c.steps.withUnsafeBufferPointer { sp in
            c.values.withUnsafeBufferPointer { vp in
                c.times.withUnsafeBufferPointer { tp in
                    encode(steps: sp, values: vp, times: tp, reuse: reuse)
                }
            }
        }
    }

    /// Encodes points already sorted by step. `count` ≤ `ChunkLayout.chunkCapacity`.
    /// `reuseTimes` / `reuseSteps`: a previous chunk's encoded column, used when the raw column is
    /// identical (the metrics of one `log` call share steps and times).
    static func encode(
        steps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>, times: UnsafeBufferPointer<Int64>,
        reuse: ColumnReuse? = nil
    ) -> EncodedChunk {
        let n = steps.count
        precondition(n > 0 && n <= ChunkLayout.chunkCapacity && values.count == n && times.count == n)
        // Full chunks: block statistics make the tier, and merged they make the chunk's (one pass).
        var stats: Aggregate
        var tier: [UInt8] = []
        let vp = values.baseAddress!
        if n == ChunkLayout.chunkCapacity {
            stats = Aggregate()
            var w = ByteWriter(capacity: ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize)
            var lo = 0
            while lo < n {
                let hi = Swift.min(n, lo + ChunkLayout.blockSize)
                let a = Aggregate.values(vp, lo..<hi)
                w.f64(a.sum); w.f64(a.m2); w.f64(a.min); w.f64(a.max); w.u8(UInt8(a.nanCount))
                stats.mergeValues(a)
                lo = hi
            }
            if ChunkEncoder.sketches { QuantileSketch.encode(values: vp, count: n, into: &w) }
            tier = w.bytes
        } else {
            stats = Aggregate.values(vp, 0..<n)
        }
        let (minT, maxT, linear) = finish(&stats, steps: steps, values: values, times: times)
        var s: [UInt8] = [], v: [UInt8] = [], t: [UInt8] = []
        if let r = reuse?.steps(matching: steps) {
            s = r
        } else {
            s.reserveCapacity(64); Int64Column.encode(steps, into: &s)
            reuse?.rememberSteps(steps, s)
        }
        if let r = reuse?.times(matching: times) {
            t = r
        } else {
            t.reserveCapacity(n); Int64Column.encode(times, into: &t)
            reuse?.rememberTimes(times, t)
        }
        v.reserveCapacity(n * 3)
        DoubleColumn.encode(values, into: &v)
        // Chunks wait in memory until their segment is written (50,000 short series of a sweep
        // at once): columns keep only their bytes, not what encoding reserved (LZ4 reserves its
        // worst case).
        return EncodedChunk(
            stats: stats, minTime: minT, maxTime: maxT, linearSteps: linear, steps: fitted(s), values: fitted(v),
            times: fitted(t), tier: tier, hasSketch: ChunkEncoder.sketches && !tier.isEmpty)
    }

    /// `bytes` in storage of its own size when encoding left much more room than it used.
    @inline(__always)
    static func fitted(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.capacity - bytes.count <= 32 { return bytes }
        return bytes.withUnsafeBufferPointer { [UInt8]($0) }
    }

    /// Completes chunk statistics whose value part (count, NaNs, min, max, sum, m2) is computed:
    /// first/last point, where the extremes first occur, the time range and whether steps are linear.
    private static func finish(
        _ stats: inout Aggregate, steps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>, times: UnsafeBufferPointer<Int64>
    ) -> (minTime: Int64, maxTime: Int64, linear: Bool) {
        let n = steps.count
        // Sorted steps: first/last are the ends; min/max steps are where the extremes first occur.
        stats.firstStep = steps[0]; stats.firstValue = values[0]; stats.firstRank = 0
        stats.lastStep = steps[n - 1]; stats.lastValue = values[n - 1]; stats.lastRank = UInt64(n - 1)
        if stats.numericCount > 0 {
            var i = 0
            while !(values[i] == stats.min) { i += 1 }
            stats.minStep = steps[i]
            i = 0
            while !(values[i] == stats.max) { i += 1 }
            stats.maxStep = steps[i]
        }
        var minT = Int64.max, maxT = Int64.min
        for t in times { if t < minT { minT = t }; if t > maxT { maxT = t } }
        var linear = true
        if n > 2 {
            let d = steps[1] &- steps[0]
            for i in 2..<n where steps[i] &- steps[i - 1] != d { linear = false; break }
        }
        return (minT, maxT, linear)
    }

    /// The statistics a chunk header holds for decoded columns (sorted by step, not a full chunk):
    /// exactly what `encode` computes for them. Used for packed series, whose header is not stored.
    static func statistics(_ c: ChunkColumns) -> (stats: Aggregate, minTime: Int64, maxTime: Int64, linear: Bool) {
        let n = c.count
        precondition(n > 0 && n < ChunkLayout.chunkCapacity && c.values.count == n && c.times.count == n)
        return c.steps.withUnsafeBufferPointer { sp in
            c.values.withUnsafeBufferPointer { vp in
                c.times.withUnsafeBufferPointer { tp in
                    var stats = Aggregate.values(vp.baseAddress!, 0..<n)
                    let (minT, maxT, linear) = finish(&stats, steps: sp, values: vp, times: tp)
                    return (stats, minT, maxT, linear)
                }
            }
        }
    }
    /// Whether full chunks get a quantile sketch: always, unless the environment variable
    /// `STRATA_BENCH_NO_SKETCHES` is set — a switch for `strata-bench --quantiles`, which measures
    /// ingest with and without sketches in one session. Chunks without one are answered exactly.
    static let sketches: Bool = getenv("STRATA_BENCH_NO_SKETCHES") == nil

}

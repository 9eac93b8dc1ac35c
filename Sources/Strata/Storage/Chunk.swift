#if canImport(Glibc)
import Glibc
#endif
import StrataCodecs

/// Points per chunk and per tier block. Chunks hold up to `chunkCapacity` points of one series,
/// sorted by step (stable by arrival); every `blockSize` points have a level-1 tier entry.
enum ChunkLayout {
    static let chunkCapacity = 4096
    static let blockSize = 128
    static let blocksPerChunk = chunkCapacity / blockSize
    /// Bytes of one level-1 tier entry: sum f64, m2 f64, min f64, max f64, NaN count u8.
    /// Only full chunks carry tier entries: a partial chunk is small enough to decode.
    static let tierEntrySize = 33
}

/// Statistics of a run of points: what a chunk header, a tier bucket and a query bucket hold.
///
/// Conventions (documented in docs/QUERIES.md): `count` counts every point, NaN included;
/// `nanCount` counts NaNs; min, max, sum and m2 (sum of squared deviations from the mean) are over
/// non-NaN values with IEEE rules for ±Inf; first/last are the values at the smallest/largest step
/// (first and last arrival among equal steps), NaN or not.
struct Aggregate: Sendable, Equatable {
    var count: Int = 0
    var nanCount: Int = 0
    var min: Double = .infinity
    var max: Double = -.infinity
    var sum: Double = 0
    var m2: Double = 0
    /// Steps where the min and max were first reached (smallest step; earliest arrival on ties).
    var minStep: Int64 = .max
    var maxStep: Int64 = .max
    var firstStep: Int64 = .max
    var firstValue: Double = .nan
    var lastStep: Int64 = .min
    var lastValue: Double = .nan
    /// Arrival ranks of the first and last points, to order equal steps across chunks.
    var firstRank: UInt64 = .max
    var lastRank: UInt64 = 0

    var isEmpty: Bool { count == 0 }
    var numericCount: Int { count - nanCount }
    var mean: Double { numericCount > 0 ? sum / Double(numericCount) : .nan }
    /// Population standard deviation of the non-NaN values.
    var std: Double { numericCount > 0 ? (m2 / Double(numericCount)).squareRoot() : .nan }

    /// Value statistics (count, NaN count, sum, m2, min, max) of `values[range]`, branch-light:
    /// NaN is excluded by selects, not branches, so the loops vectorise.
    static func values(_ values: UnsafePointer<Double>, _ range: Range<Int>) -> Aggregate {
        var a = Aggregate()
        if range.isEmpty { return a }
        // Four independent accumulators: the additions do not wait on each other.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        var nan = 0
        var i = range.lowerBound
        let end = range.upperBound
        @inline(__always) func take(_ v: Double, _ s: inout Double) {
            let isNaN = v != v
            nan &+= isNaN ? 1 : 0
            s += isNaN ? 0 : v
            lo = v < lo ? v : lo      // NaN compares false: ignored
            hi = v > hi ? v : hi
        }
        while i &+ 4 <= end {
            take(values[i], &s0); take(values[i &+ 1], &s1); take(values[i &+ 2], &s2); take(values[i &+ 3], &s3)
            i &+= 4
        }
        while i < end { take(values[i], &s0); i &+= 1 }
        let sum = (s0 + s1) + (s2 + s3)
        let n = range.count - nan
        var m2 = 0.0
        if n > 0 {
            let mean = sum / Double(n)
            var m0 = 0.0, m1 = 0.0, m2b = 0.0, m3 = 0.0
            @inline(__always) func dev(_ v: Double) -> Double { let d = v != v ? 0 : v - mean; return d * d }
            i = range.lowerBound
            while i &+ 4 <= end {
                m0 += dev(values[i]); m1 += dev(values[i &+ 1]); m2b += dev(values[i &+ 2]); m3 += dev(values[i &+ 3])
                i &+= 4
            }
            while i < end { m0 += dev(values[i]); i &+= 1 }
            m2 = (m0 + m1) + (m2b + m3)
        }
        a.count = range.count
        a.nanCount = nan
        a.sum = sum; a.m2 = m2; a.min = lo; a.max = hi
        return a
    }

    /// Combines two disjoint sets of points (Chan et al.'s parallel variance update).
    mutating func merge(_ o: Aggregate) {
        if o.count == 0 { return }
        if count == 0 { self = o; return }
        let na = Double(numericCount), nb = Double(o.numericCount)
        if nb > 0 {
            if na == 0 {
                sum = o.sum; m2 = o.m2
            } else {
                let delta = o.sum / nb - sum / na
                m2 = m2 + o.m2 + delta * delta * na * nb / (na + nb)
                sum += o.sum
            }
            if o.min < min || (o.min == min && o.minStep < minStep) { min = o.min; minStep = o.minStep }
            if o.max > max || (o.max == max && o.maxStep < maxStep) { max = o.max; maxStep = o.maxStep }
        }
        count += o.count
        nanCount += o.nanCount
        if o.firstStep < firstStep || (o.firstStep == firstStep && o.firstRank < firstRank) {
            firstStep = o.firstStep; firstValue = o.firstValue; firstRank = o.firstRank
        }
        if o.lastStep > lastStep || (o.lastStep == lastStep && o.lastRank > lastRank) {
            lastStep = o.lastStep; lastValue = o.lastValue; lastRank = o.lastRank
        }
    }

    /// Statistics of `values[range]` with steps (sorted) `steps[range]`; rank of index i = baseRank + i.
    /// `steps` may be nil when only the value statistics are wanted.
    static func of(steps: UnsafePointer<Int64>?, values: UnsafePointer<Double>, range: Range<Int>, baseRank: UInt64) -> Aggregate {
        var a = Aggregate()
        if range.isEmpty { return a }
        var n = 0, nan = 0
        var sum = 0.0, lo = Double.infinity, hi = -Double.infinity
        var loAt = -1, hiAt = -1
        for i in range {
            let v = values[i]
            if v.isNaN { nan += 1; continue }
            n += 1
            sum += v
            if v < lo || loAt < 0 { lo = v; loAt = i }
            if v > hi || hiAt < 0 { hi = v; hiAt = i }
        }
        if let steps, n > 0 { a.minStep = steps[loAt]; a.maxStep = steps[hiAt] }
        var m2 = 0.0
        if n > 0 {
            let mean = sum / Double(n)
            for i in range {
                let v = values[i]
                if v.isNaN { continue }
                let d = v - mean
                m2 += d * d
            }
        }
        a.count = range.count
        a.nanCount = nan
        a.min = lo; a.max = hi; a.sum = sum; a.m2 = m2
        a.firstStep = steps?[range.lowerBound] ?? 0; a.firstValue = values[range.lowerBound]
        a.firstRank = baseRank &+ UInt64(range.lowerBound)
        a.lastStep = steps?[range.upperBound - 1] ?? 0; a.lastValue = values[range.upperBound - 1]
        a.lastRank = baseRank &+ UInt64(range.upperBound - 1)
        return a
    }
}

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
    /// Level-1 tier entries, `ChunkLayout.tierEntrySize` bytes per block.
    var tier: [UInt8]

    var encodedBytes: Int { steps.count + values.count + times.count + tier.count }
}

enum ChunkEncoder {
    /// Encodes points already sorted by step. `count` ≤ `ChunkLayout.chunkCapacity`.
    /// `reuseTimes` / `reuseSteps`: a previous chunk's encoded column, used when the raw column is
    /// identical (the metrics of one `log` call share steps and times).
    static func encode(steps: UnsafeBufferPointer<Int64>, values: UnsafeBufferPointer<Double>, times: UnsafeBufferPointer<Int64>,
                       reuse: ColumnReuse? = nil) -> EncodedChunk {
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
            tier = w.bytes
        } else {
            stats = Aggregate.values(vp, 0..<n)
        }
        // Sorted steps: first/last are the ends; min/max steps are where the extremes first occur.
        stats.firstStep = steps[0]; stats.firstValue = values[0]; stats.firstRank = 0
        stats.lastStep = steps[n - 1]; stats.lastValue = values[n - 1]; stats.lastRank = UInt64(n - 1)
        if stats.numericCount > 0 {
            var i = 0
            while !(vp[i] == stats.min) { i += 1 }
            stats.minStep = steps[i]
            i = 0
            while !(vp[i] == stats.max) { i += 1 }
            stats.maxStep = steps[i]
        }
        var minT = Int64.max, maxT = Int64.min
        for t in times { if t < minT { minT = t }; if t > maxT { maxT = t } }
        var linear = true
        if n > 2 {
            let d = steps[1] &- steps[0]
            for i in 2..<n where steps[i] &- steps[i - 1] != d { linear = false; break }
        }
        var s: [UInt8] = [], v: [UInt8] = [], t: [UInt8] = []
        if let r = reuse?.steps(matching: steps) { s = r } else {
            s.reserveCapacity(64); Int64Column.encode(steps, into: &s)
            reuse?.rememberSteps(steps, s)
        }
        if let r = reuse?.times(matching: times) { t = r } else {
            t.reserveCapacity(n); Int64Column.encode(times, into: &t)
            reuse?.rememberTimes(times, t)
        }
        v.reserveCapacity(n * 3)
        DoubleColumn.encode(values, into: &v)
        return EncodedChunk(stats: stats, minTime: minT, maxTime: maxT, linearSteps: linear, steps: s, values: v, times: t,
                            tier: tier)
    }

}

/// Remembers the last encoded steps and times columns of one run so that the metrics logged
/// together (same steps, same times) store those columns once. Segment writing deduplicates the
/// identical byte strings.
final class ColumnReuse {
    private var lastSteps: [Int64] = [], lastStepsBytes: [UInt8] = []
    private var lastTimes: [Int64] = [], lastTimesBytes: [UInt8] = []

    func steps(matching s: UnsafeBufferPointer<Int64>) -> [UInt8]? {
        Self.equal(lastSteps, s) ? lastStepsBytes : nil
    }
    func times(matching t: UnsafeBufferPointer<Int64>) -> [UInt8]? {
        Self.equal(lastTimes, t) ? lastTimesBytes : nil
    }
    func rememberSteps(_ s: UnsafeBufferPointer<Int64>, _ bytes: [UInt8]) { lastSteps = Array(s); lastStepsBytes = bytes }
    func rememberTimes(_ t: UnsafeBufferPointer<Int64>, _ bytes: [UInt8]) { lastTimes = Array(t); lastTimesBytes = bytes }

    private static func equal(_ a: [Int64], _ b: UnsafeBufferPointer<Int64>) -> Bool {
        guard a.count == b.count, a.count > 0 else { return false }
        return a.withUnsafeBytes { x in memcmpEqual(x, UnsafeRawBufferPointer(b)) }
    }
}

func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}

/// Stable sort of parallel arrays by step (only when not already sorted).
enum StableSort {
    static func isSorted(_ steps: UnsafeBufferPointer<Int64>) -> Bool {
        if steps.count < 2 { return true }
        for i in 1..<steps.count where steps[i] < steps[i - 1] { return false }
        return true
    }

    static func sort(steps: inout [Int64], values: inout [Double], times: inout [Int64]) {
        let sorted = steps.withUnsafeBufferPointer { isSorted($0) }
        if sorted { return }
        var order = Array(0..<steps.count)
        let s = steps
        order.sort { (s[$0], $0) < (s[$1], $1) }
        steps = order.map { s[$0] }
        let v = values, t = times
        values = order.map { v[$0] }
        times = order.map { t[$0] }
    }
}

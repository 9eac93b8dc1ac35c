// Brute-force reference for queries over series whose steps and times sit at the Int64 extremes,
// shared by the library, server and CLI tests. Bucket arithmetic here uses Int128 (an
// implementation independent of the library's `Buckets`).

/// One stored point, with its arrival order.
public struct XPoint: Sendable, Hashable {
    public var step: Int64
    public var value: Double
    public var time: Int64
    public var arrival: Int

    public init(step: Int64, value: Double, time: Int64, arrival: Int) {
        (self.step, self.value, self.time, self.arrival) = (step, value, time, arrival)
    }
}

/// The statistics a query must reproduce exactly (mean approximately).
public struct XStats: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    public var nan: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    public var first: Double
    public var last: Double
    public var firstStep: Int64
    public var lastStep: Int64

    public init(count: Int, nan: Int, min: Double, max: Double, mean: Double, first: Double, last: Double, firstStep: Int64, lastStep: Int64) {
        (self.count, self.nan, self.min, self.max, self.mean) = (count, nan, min, max, mean)
        (self.first, self.last, self.firstStep, self.lastStep) = (first, last, firstStep, lastStep)
    }

    public var description: String { "n=\(count) nan=\(nan) min=\(min) max=\(max) mean=\(mean) first=\(first)@\(firstStep) last=\(last)@\(lastStep)" }

    /// Equal with the mean compared to 1e-9 relative and every other field exactly (NaN = NaN).
    public static func == (a: XStats, b: XStats) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { (x.isNaN && y.isNaN) || x == y }
        func close(_ x: Double, _ y: Double) -> Bool {
            same(x, y) || (x.isFinite && y.isFinite && abs(x - y) <= 1e-9 * Swift.max(1, abs(x), abs(y)))
        }
        return a.count == b.count && a.nan == b.nan && same(a.min, b.min) && same(a.max, b.max) && close(a.mean, b.mean)
            && same(a.first, b.first) && same(a.last, b.last) && a.firstStep == b.firstStep && a.lastStep == b.lastStep
    }
}

@available(macOS 15.0, *)
public enum Extremes {
    /// The values steps and times are drawn from.
    public static let values: [Int64] = [.min, .min + 1, -1, 0, 1, .max - 1, .max]

    /// A deterministic generator (SplitMix64).
    public typealias Random = SplitMix64

    /// A random mix of 1 to 40 points with steps and times from `values` (repeats allowed), small
    /// values with an occasional NaN. Seed 0 is the reported case: times Int64.min, 0, Int64.max.
    public static func series(seed: UInt64) -> [XPoint] {
        if seed == 0 {
            return [
                XPoint(step: 0, value: 1, time: .min, arrival: 0), XPoint(step: 1, value: 2, time: 0, arrival: 1),
                XPoint(step: .max, value: 3, time: .max, arrival: 2)
            ]
        }
        var rng = Random(seed: seed)
        let n = Int.random(in: 1...40, using: &rng)
        return (0..<n).map { i in
            let v: Double = Int.random(in: 0..<12, using: &rng) == 0 ? .nan : Double(Int.random(in: -50...50, using: &rng)) / 4
            return XPoint(step: values.randomElement(using: &rng)!, value: v, time: values.randomElement(using: &rng)!, arrival: i)
        }
    }

    /// Statistics of `points` (nil when empty): first/last at the smallest/largest step, ties by arrival.
    public static func stats(_ points: [XPoint]) -> XStats? {
        guard !points.isEmpty else { return nil }
        let ordered = points.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
        let numeric = ordered.map(\.value).filter { !$0.isNaN }
        return XStats(
            count: ordered.count, nan: ordered.count - numeric.count,
            min: numeric.min() ?? .nan, max: numeric.max() ?? .nan,
            mean: numeric.isEmpty ? .nan : numeric.reduce(0, +) / Double(numeric.count),
            first: ordered.first!.value, last: ordered.last!.value,
            firstStep: ordered.first!.step, lastStep: ordered.last!.step)
    }

    /// Points ordered by step, stable by arrival.
    public static func ordered(_ points: [XPoint]) -> [XPoint] {
        points.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
    }

    /// Per non-empty bucket, the statistics of the points whose x lies in [lo, last]:
    /// bucket = floor((x - lo) · buckets / (last - lo + 1)) in Int128.
    public static func curve(_ points: [XPoint], x: (XPoint) -> Int128, lo: Int128, last: Int128, buckets: Int) -> [Int: XStats] {
        var groups: [Int: [XPoint]] = [:]
        let width = last - lo + 1
        for p in points {
            let xv = x(p)
            guard xv >= lo && xv <= last else { continue }
            groups[Int((xv - lo) * Int128(buckets) / width), default: []].append(p)
        }
        return groups.mapValues { stats($0)! }
    }

    /// Band rows (bucket = floor(step / width)) of one run's points: count, NaN count, min, max, mean.
    public static func band(_ points: [XPoint], width: Int64) -> [Int64: XStats] {
        var groups: [Int64: [XPoint]] = [:]
        for p in points {
            let q = Int128(p.step) / Int128(width), r = Int128(p.step) % Int128(width)
            groups[Int64(r < 0 ? q - 1 : q), default: []].append(p)
        }
        return groups.mapValues { stats($0)! }
    }

    /// A random closed range with bounds drawn from `values` and their neighbours.
    public static func range(_ rng: inout Random) -> (Int64, Int64) {
        let a = values.randomElement(using: &rng)!, b = values.randomElement(using: &rng)!
        return (Swift.min(a, b), Swift.max(a, b))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The statistic of a series over a window that `compare` compares: computed exactly from the
/// window's finite points (NaN and ±Inf are counted apart, never folded in).
public enum WindowStatistic: Sendable, Hashable, CustomStringConvertible {
    /// The arithmetic mean.
    case mean
    /// The smallest value.
    case min
    /// The value of the last finite point (greatest step; among points of one step, the last logged).
    case last
    /// The exact quantile at a level strictly between 0 and 1 (see ``Quantile``).
    case quantile(Double)

    /// Parses `mean`, `min`, `last`, or `pNN` with NN strictly between 0 and 100 (`p50`, `p99`, `p99.9`).
    ///
    /// - Parameter text: The statistic's name.
    /// - Throws: ``StrataError`` `.invalidArgument` naming the accepted forms, or saying that the
    ///   quantile is outside (0, 1).
    public init(parsing text: String) throws(StrataError) {
        switch text {
        case "mean": self = .mean
        case "min": self = .min
        case "last": self = .last
        default:
            let digits = text.dropFirst()
            if text.hasPrefix("p"), !digits.isEmpty, digits.allSatisfy({ $0 == "." || ("0"..."9").contains($0) }), let pct = Double(digits) {
                guard Quantile.isValid(pct / 100) else {
                    throw StrataError(.invalidArgument, "statistic \(text): quantile \(pct / 100) is outside (0, 1); use p1 to p99.9")
                }
                self = .quantile(pct / 100)
            } else {
                throw StrataError(
                    .invalidArgument,
                    "statistic must be mean, min, last or pNN (p50, p90, p99, any level between p0 and p100 exclusive), got \"\(text.prefix(40))\"")
            }
        }
    }

    /// The statistic's name as ``init(parsing:)`` reads it (`p99`, `p99.9`).
    public var description: String {
        switch self {
        case .mean: return "mean"
        case .min: return "min"
        case .last: return "last"
        case .quantile(let q):
            let pct = q * 100
            return pct == pct.rounded() ? "p\(Int(pct))" : "p\(pct)"
        }
    }

    /// The statistic of `values` (finite, in step order; not empty).
    ///
    /// - Parameter values: Finite values in step order.
    /// - Returns: The statistic.
    public func of(_ values: [Double]) -> Double {
        switch self {
        case .mean:
            var s = 0.0
            for v in values { s += v }
            return s / Double(values.count)
        case .min: return values.min()!
        case .last: return values.last!
        case .quantile(let q):
            var copy = values
            return Quantile.select(&copy, q)
        }
    }
}

/// Which way of a metric is better.
public enum MetricDirection: String, Sendable, Hashable, CaseIterable {
    /// Smaller is better: losses, times, errors (the default).
    case lowerIsBetter = "lower"
    /// Larger is better: accuracy, throughput, MFU, rewards.
    case higherIsBetter = "higher"

    /// The direction guessed from a metric's name when none is declared: higher is better when
    /// the last path component names a rate or a score (`acc`, `accuracy`, `throughput`, `mfu`,
    /// `reward`, `score`, `f1`, `auc`, `bleu`, `precision`, `recall`, `tokens_per_s`, `samples_per_s`,
    /// `per_sec`, `/s`); lower is better otherwise (losses, times).
    ///
    /// - Parameter metric: The metric name.
    /// - Returns: The guessed direction.
    public static func guess(_ metric: String) -> MetricDirection {
        let name = metric.lowercased()
        if name.hasSuffix("/s") || name.hasSuffix("_per_s") || name.hasSuffix("per_sec") || name.contains("_per_s_") { return .higherIsBetter }
        let leaf = name.split(separator: "/").last.map(String.init) ?? name
        let words = leaf.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        let higher: Set<String> = ["acc", "accuracy", "throughput", "mfu", "reward", "score", "f1", "auc", "bleu", "precision", "recall"]
        return words.contains(where: { higher.contains($0) }) ? .higherIsBetter : .lowerIsBetter
    }
}

/// A declared tolerance: differences no larger than it are "within noise" whatever the interval.
public struct Tolerance: Sendable, Hashable, CustomStringConvertible {
    /// The amount: a fraction of the baseline's value when ``relative``, else in the metric's unit.
    public var amount: Double
    /// Whether ``amount`` is a fraction of the baseline value (`2%` is 0.02).
    public var relative: Bool

    /// A tolerance.
    ///
    /// - Parameters:
    ///   - amount: The amount (a fraction when `relative`).
    ///   - relative: Whether the amount is relative to the baseline's value.
    public init(amount: Double, relative: Bool) {
        self.amount = amount
        self.relative = relative
    }

    /// Parses `2%` (relative to the baseline's value) or `0.5` (absolute, in the metric's unit).
    ///
    /// - Parameter text: The tolerance.
    /// - Throws: ``StrataError`` `.invalidArgument` for anything else, a negative or non-finite amount.
    public init(parsing text: String) throws(StrataError) {
        let rel = text.hasSuffix("%")
        let number = rel ? String(text.dropLast()) : text
        guard let v = Double(number), v.isFinite, v >= 0, !number.hasPrefix(" ") else {
            throw StrataError(
                .invalidArgument, "tolerance must be a percentage like 2% or an absolute amount like 0.5 (not negative), got \"\(text.prefix(40))\"")
        }
        self.init(amount: rel ? v / 100 : v, relative: rel)
    }

    /// `2%` or `0.5`.
    public var description: String {
        if relative { return shortNumber(amount * 100) + "%" }
        return shortNumber(amount)
    }

    /// The tolerance in the metric's unit for a baseline value.
    ///
    /// - Parameter baseline: The baseline's value.
    /// - Returns: `amount × |baseline|` when relative, else `amount`.
    public func absolute(baseline: Double) -> Double { relative ? amount * Swift.abs(baseline) : amount }
}

/// What a comparison concludes about the candidate.
public enum Verdict: String, Sendable, Hashable, CaseIterable {
    /// Worse than the baseline beyond the interval and the tolerance.
    case regression
    /// Better than the baseline beyond the interval and the tolerance.
    case improvement
    /// The interval includes no change, or the difference is within the declared tolerance.
    case withinNoise = "within_noise"

    /// The verdict for a difference `candidate − baseline` with its interval.
    ///
    /// A difference is a regression (an improvement) when the interval lies entirely on the worse
    /// (better) side of zero **and** the difference is larger than the tolerance; otherwise it is
    /// within noise. The reason says which rule decided.
    ///
    /// - Parameters:
    ///   - difference: Candidate minus baseline.
    ///   - interval: The confidence interval of the difference.
    ///   - tolerance: The tolerance in the metric's unit (0 when none is declared).
    ///   - direction: Which way is better.
    /// - Returns: The verdict and a short reason.
    public static func decide(difference: Double, interval: ClosedRange<Double>, tolerance: Double, direction: MetricDirection)
        -> (Verdict, String)
    {
        if !difference.isFinite || !interval.lowerBound.isFinite || !interval.upperBound.isFinite {
            return (.withinNoise, "the difference or its interval is not finite (values too large to subtract)")
        }
        // Work in "worse" units: positive means worse.
        let sign = direction == .lowerIsBetter ? 1.0 : -1.0
        let d = sign * difference
        let lo = Swift.min(sign * interval.lowerBound, sign * interval.upperBound)
        let hi = Swift.max(sign * interval.lowerBound, sign * interval.upperBound)
        if lo <= 0 && hi >= 0 { return (.withinNoise, "the interval includes 0") }
        if Swift.abs(d) <= tolerance { return (.withinNoise, "the difference is within the tolerance") }
        return lo > 0 ? (.regression, "worse beyond noise and tolerance") : (.improvement, "better beyond noise and tolerance")
    }
}

/// How the interval of a comparison was obtained.
public enum IntervalMethod: String, Sendable, Hashable {
    /// Replicates (several runs a side): Welch's t-interval on the per-run statistics.
    case welch = "welch_t"
    /// One run a side: a moving-block bootstrap of each run's points over the window.
    case blockBootstrap = "block_bootstrap"
}

/// The statistics behind `compare`: intervals for a difference of two sides.
public enum ComparisonMath {
    /// Welch's t-interval for `mean(b) − mean(a)` of two independent samples (each at least 2).
    ///
    /// - Parameters:
    ///   - a: The baseline's replicate values.
    ///   - b: The candidate's replicate values.
    ///   - confidence: The level, e.g. 0.95.
    /// - Returns: The difference of the means, the interval and the Welch–Satterthwaite degrees
    ///   of freedom (infinite when both sides have no spread: the interval is then the point).
    public static func welch(_ a: [Double], _ b: [Double], confidence: Double) -> (difference: Double, interval: ClosedRange<Double>, df: Double) {
        precondition(a.count >= 2 && b.count >= 2)
        let (ma, va) = meanVariance(a)
        let (mb, vb) = meanVariance(b)
        let d = mb - ma
        let sa = va / Double(a.count)
        let sb = vb / Double(b.count)
        let se2 = sa + sb
        if se2 == 0 { return (d, range(d, d), .infinity) }
        let df = se2 * se2 / (sa * sa / Double(a.count - 1) + sb * sb / Double(b.count - 1))
        let t = studentTQuantile(0.5 + confidence / 2, df: df)
        let half = t * se2.squareRoot()
        return (d, range(d - half, d + half), df)
    }

    /// `lo...hi`, or the whole line when overflow made either bound NaN (values near ±1.8e308).
    static func range(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        lo <= hi ? lo...hi : -Double.infinity...Double.infinity
    }

    /// Mean and unbiased sample variance (two-pass).
    static func meanVariance(_ x: [Double]) -> (Double, Double) {
        var s = 0.0
        for v in x { s += v }
        let m = s / Double(x.count)
        var ss = 0.0
        for v in x { ss += (v - m) * (v - m) }
        return (m, x.count > 1 ? ss / Double(x.count - 1) : 0)
    }

    /// The quantile of Student's t distribution with `df` degrees of freedom (p in (0, 1)).
    ///
    /// - Parameters:
    ///   - p: The probability.
    ///   - df: Degrees of freedom (positive; may be fractional).
    /// - Returns: t with P(T ≤ t) = p.
    public static func studentTQuantile(_ p: Double, df: Double) -> Double {
        if p == 0.5 { return 0 }
        if p < 0.5 { return -studentTQuantile(1 - p, df: df) }
        // Bisection on the upper tail: P(T > t) = I_{df/(df+t²)}(df/2, 1/2) / 2.
        let target = 1 - p
        var lo = 0.0
        var hi = 1.0
        while tailProbability(hi, df: df) > target { hi *= 2; if hi > 1e12 { return hi } }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if tailProbability(mid, df: df) > target { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return (lo + hi) / 2
    }

    /// P(T > t) for t ≥ 0.
    static func tailProbability(_ t: Double, df: Double) -> Double {
        0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz).
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if Swift.abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...400 {
            let m = Double(m)
            // Even step.
            var num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + num * d
            if Swift.abs(d) < tiny { d = tiny }
            c = 1 + num / c
            if Swift.abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            // Odd step.
            num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + num * d
            if Swift.abs(d) < tiny { d = tiny }
            c = 1 + num / c
            if Swift.abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if Swift.abs(delta - 1) < 1e-15 { break }
        }
        return exp(lnFront) * f / a
    }

    /// The block length of the moving-block bootstrap for a series of `n` values in step order:
    /// the larger of ⌈n^(1/3)⌉ and the first lag at which the sample autocorrelation falls inside
    /// the white-noise band ±2/√n (searched up to lag 1,000 on at most the first 65,536 values),
    /// at most n/4 (and at least 1).
    ///
    /// - Parameter x: The values in step order.
    /// - Returns: The block length.
    public static func blockLength(_ x: [Double]) -> Int {
        let n = x.count
        let cap = Swift.max(1, n / 4)
        var length = Swift.max(1, Int(ceil(cbrt(Double(n)))))
        let m = Swift.min(n, 65_536)
        if m >= 8 {
            var mean = 0.0
            for i in 0..<m { mean += x[i] }
            mean /= Double(m)
            var c0 = 0.0
            for i in 0..<m { c0 += (x[i] - mean) * (x[i] - mean) }
            if c0 > 0 {
                let band = 2 / Double(m).squareRoot()
                var lag = 1
                let maxLag = Swift.min(1000, m / 4)
                while lag <= maxLag {
                    var c = 0.0
                    for i in 0..<(m - lag) { c += (x[i] - mean) * (x[i + lag] - mean) }
                    if Swift.abs(c / c0) < band { break }
                    lag += 1
                }
                length = Swift.max(length, lag)
            }
        }
        return Swift.min(length, cap)
    }

    /// The default number of bootstrap resamples for sides of `n` points: 2,000, fewer for long
    /// windows so that a comparison reads about 4·10⁷ values (never fewer than 200).
    ///
    /// - Parameter n: The larger side's point count.
    /// - Returns: The number of resamples.
    public static func resamples(forPoints n: Int) -> Int { Swift.max(200, Swift.min(2000, 40_000_000 / Swift.max(1, n))) }

    /// A percentile moving-block bootstrap interval for `stat(b) − stat(a)`: each resample draws
    /// ⌈n/L⌉ blocks of L consecutive points (uniform start) from each side independently, with a
    /// fixed-seed generator so the same data gives the same interval.
    ///
    /// - Parameters:
    ///   - a: The baseline's finite values in step order (at least 2).
    ///   - b: The candidate's finite values in step order (at least 2).
    ///   - statistic: The statistic (not ``WindowStatistic/last``: one value has no distribution).
    ///   - confidence: The level, e.g. 0.95.
    ///   - resamples: The number of resamples.
    ///   - seed: The generator's seed.
    /// - Returns: The difference on the full data, the interval, and the block lengths used.
    public static func blockBootstrap(
        _ a: [Double], _ b: [Double], statistic: WindowStatistic, confidence: Double, resamples: Int, seed: UInt64 = 0x5EED_C0FF_EE
    ) -> (difference: Double, interval: ClosedRange<Double>, blockLengths: (Int, Int)) {
        let d = statistic.of(b) - statistic.of(a)
        let la = blockLength(a)
        let lb = blockLength(b)
        var rng = SplitMix64(seed: seed)
        let sa = BlockResampler(a, blockLength: la, statistic: statistic)
        let sb = BlockResampler(b, blockLength: lb, statistic: statistic)
        var diffs: [Double] = []
        diffs.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let x = sa.draw(&rng)
            let y = sb.draw(&rng)
            diffs.append(y - x)
        }
        if diffs.contains(where: \.isNaN) { return (d, -Double.infinity...Double.infinity, (la, lb)) }
        diffs.sort()
        let alpha = 1 - confidence
        let lo = Quantile.of(sorted: diffs, alpha / 2)
        let hi = Quantile.of(sorted: diffs, 1 - alpha / 2)
        return (d, range(lo, hi), (la, lb))
    }
}

/// Draws the statistic of one moving-block resample of a series.
struct BlockResampler {
    let values: [Double]
    let length: Int
    let blocks: Int
    let statistic: WindowStatistic
    /// Prefix sums (for the mean: a block's sum in O(1)).
    var prefix: [Double] = []
    /// The minimum of the block starting at each position (for the min).
    var blockMin: [Double] = []

    init(_ values: [Double], blockLength: Int, statistic: WindowStatistic) {
        self.values = values
        self.length = blockLength
        self.blocks = (values.count + blockLength - 1) / blockLength
        self.statistic = statistic
        switch statistic {
        case .mean:
            prefix = [0]
            prefix.reserveCapacity(values.count + 1)
            var s = 0.0
            for v in values { s += v; prefix.append(s) }
        case .min:
            // Sliding-window minimum over windows of `length` (monotone deque).
            let starts = values.count - blockLength + 1
            blockMin = Array(repeating: 0, count: starts)
            var deque: [Int] = []
            var head = 0
            for i in 0..<values.count {
                while deque.count > head, values[deque[deque.count - 1]] >= values[i] { deque.removeLast() }
                deque.append(i)
                if deque[head] <= i - blockLength { head += 1 }
                if i >= blockLength - 1 { blockMin[i - blockLength + 1] = values[deque[head]] }
            }
        default: break
        }
    }

    func draw<R: RandomNumberGenerator>(_ rng: inout R) -> Double {
        let starts = UInt64(values.count - length + 1)
        switch statistic {
        case .mean:
            var s = 0.0
            for _ in 0..<blocks {
                let st = Int(rng.next() % starts)
                s += prefix[st + length] - prefix[st]
            }
            return s / Double(blocks * length)
        case .min:
            var m = Double.infinity
            for _ in 0..<blocks { m = Swift.min(m, blockMin[Int(rng.next() % starts)]) }
            return m
        case .last:
            return values[values.count - 1]
        case .quantile(let q):
            var sample: [Double] = []
            sample.reserveCapacity(blocks * length)
            for _ in 0..<blocks {
                let st = Int(rng.next() % starts)
                sample.append(contentsOf: values[st..<(st + length)])
            }
            return Quantile.select(&sample, q)
        }
    }
}

/// The shortest decimal text of a number that reads back (integers without `.0`).
func shortNumber(_ v: Double) -> String {
    if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int64(v)) }
    return String(v)
}

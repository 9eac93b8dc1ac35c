/// The finite values of a series over a step window, in step order, and what was left out.
public struct WindowValues: Sendable {
    /// The finite values in step order (stable by arrival within a step).
    public var finite: [Double] = []
    /// Points that are NaN.
    public var nanCount = 0
    /// Points that are +Inf.
    public var positiveInfinityCount = 0
    /// Points that are -Inf.
    public var negativeInfinityCount = 0
    /// Every point in the window.
    public var count: Int { finite.count + nanCount + positiveInfinityCount + negativeInfinityCount }
}

/// How `compare` gets its interval.
public enum CompareMode: String, Sendable, Hashable, CaseIterable {
    /// Replicates when both sides have several runs, within-run when both have one.
    case auto
    /// Require replicates: at least two runs on each side (Welch's t-interval).
    case replicates
    /// Require one run a side and use its points over the window (moving-block bootstrap).
    case withinRun = "within_run"
}

/// What `Store.compare` is asked.
public struct CompareOptions: Sendable {
    /// The statistic of each run over the window.
    public var statistic: WindowStatistic = .mean
    /// The half-open step window (every step when nil).
    public var steps: Range<Int64>? = nil
    /// The series' context labels.
    public var labels: [String: String] = [:]
    /// The confidence level of the interval, from 0.5 to 0.999.
    public var confidence = 0.95
    /// The tolerance (nil: the one stored for the project and metric, else none).
    public var tolerance: Tolerance? = nil
    /// The direction (nil: the one stored for the project and metric, else guessed from the name).
    public var direction: MetricDirection? = nil
    /// Replicates, within-run, or whichever the runs allow.
    public var mode: CompareMode = .auto
    /// Bootstrap resamples (nil: ``ComparisonMath/resamples(forPoints:)``).
    public var resamples: Int? = nil

    /// Options with every default: the mean, every step, 95 %.
    public init() {}
}

/// One run's statistic over the window.
public struct RunStatistic: Sendable {
    /// The run.
    public var run: RunInfo
    /// The statistic over its finite points in the window.
    public var value: Double
    /// Its finite points in the window.
    public var finiteCount: Int
    /// Its NaN points in the window (counted, not folded in).
    public var nanCount: Int
    /// Its ±Inf points in the window (counted, not folded in).
    public var infiniteCount: Int
}

/// A comparison of one metric: baseline, candidate, difference, interval, verdict.
public struct MetricComparison: Sendable {
    /// The metric.
    public var metric: String
    /// The statistic compared.
    public var statistic: WindowStatistic
    /// The baseline's value: the mean of its runs' statistics (one run: the statistic itself).
    public var baseline: Double
    /// The candidate's value, likewise.
    public var candidate: Double
    /// Candidate minus baseline.
    public var difference: Double
    /// The difference relative to |baseline| (nil when the baseline is 0).
    public var relativeDifference: Double?
    /// The confidence interval of the difference.
    public var interval: ClosedRange<Double>
    /// The interval's confidence level.
    public var confidence: Double
    /// How the interval was obtained.
    public var method: IntervalMethod
    /// Welch–Satterthwaite degrees of freedom (replicates only).
    public var degreesOfFreedom: Double?
    /// Block lengths of the baseline and candidate (within-run only).
    public var blockLengths: [Int]?
    /// Bootstrap resamples (within-run only).
    public var resamples: Int?
    /// The baseline's runs and their statistics.
    public var baselineRuns: [RunStatistic]
    /// The candidate's runs and their statistics.
    public var candidateRuns: [RunStatistic]
    /// The tolerance applied (nil: none).
    public var tolerance: Tolerance?
    /// The tolerance in the metric's unit (0 when none).
    public var toleranceAbsolute: Double
    /// Which way is better.
    public var direction: MetricDirection
    /// Where ``direction`` came from: `option`, `stored` or `guessed`.
    public var directionSource: String
    /// Where ``tolerance`` came from: `option`, `stored` or `none`.
    public var toleranceSource: String
    /// The verdict.
    public var verdict: Verdict
    /// Why (which rule decided).
    public var reason: String
}

/// A histogram and cumulative distribution of one series over a window.
public struct Histogram: Sendable {
    /// One bin: `[lower, upper)`, the last one `[lower, upper]`.
    public struct Bin: Sendable, Hashable {
        /// The lower edge (inclusive).
        public var lower: Double
        /// The upper edge (exclusive, inclusive for the last bin).
        public var upper: Double
        /// Finite values in the bin.
        public var count: Int
        /// Finite values in this bin and every bin before it.
        public var cumulativeCount: Int
        /// `cumulativeCount / finiteCount`: the empirical CDF just below `upper` (at `upper` for the last bin).
        public var cumulativeFraction: Double
    }

    /// One exact quantile (see ``Quantile``).
    public struct QuantileValue: Sendable, Hashable {
        /// The level.
        public var level: Double
        /// The value.
        public var value: Double
    }

    /// Every point in the window.
    public var count: Int
    /// Finite points (the ones binned).
    public var finiteCount: Int
    /// NaN points.
    public var nanCount: Int
    /// +Inf points.
    public var positiveInfinityCount: Int
    /// -Inf points.
    public var negativeInfinityCount: Int
    /// The smallest finite value.
    public var min: Double
    /// The largest finite value.
    public var max: Double
    /// Equal-width bins from `min` to `max` (one bin when they are equal).
    public var bins: [Bin]
    /// Exact quantiles at 1, 5, 10, 25, 50, 75, 90, 95 and 99 %: the ECDF's inverse.
    public var quantiles: [QuantileValue]

    /// The levels of ``quantiles``.
    public static let levels = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
    /// The most bins a histogram may have.
    public static let maxBins = 1000

    /// The histogram of finite values in `bins` equal-width bins.
    ///
    /// - Parameters:
    ///   - window: The window's values.
    ///   - bins: The number of bins, 1 to ``maxBins``.
    /// - Returns: The histogram; nil when the window has no finite value.
    public static func of(_ window: WindowValues, bins: Int) -> Histogram? {
        guard !window.finite.isEmpty else { return nil }
        let values = window.finite
        var lo = values[0], hi = values[0]
        for v in values {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
        }
        let n = lo == hi ? 1 : bins
        // Edge i is lo + (hi - lo)·i/n; edge n is exactly hi.
        var edges = (0...n).map { i in i == n ? hi : lo + (hi - lo) * Double(i) / Double(n) }
        if edges.contains(where: { !$0.isFinite }) {
            // hi - lo overflows (e.g. ±1e308): interpolate without the difference.
            edges = (0...n).map { i in i == n ? hi : lo * (1 - Double(i) / Double(n)) + hi * (Double(i) / Double(n)) }
        }
        // A value's bin is the last i < n with edges[i] ≤ v: guessed by arithmetic, then moved to
        // the edges as computed (rounding can put the guess one bin off), by bisection when the
        // width overflows.
        var counts = Array(repeating: 0, count: n)
        let scale = Double(n) / (hi - lo)
        for v in values {
            let guess = (v - lo) * scale
            var b: Int
            if guess.isFinite {
                b = Swift.min(n - 1, Swift.max(0, Int(guess)))
                while b > 0 && v < edges[b] { b -= 1 }
                while b < n - 1 && v >= edges[b + 1] { b += 1 }
            } else {
                var l = 0, h = n - 1
                while l < h {
                    let m = (l + h + 1) / 2
                    if v >= edges[m] { l = m } else { h = m - 1 }
                }
                b = l
            }
            counts[b] += 1
        }
        var cumulative = 0
        let out = (0..<n).map { i -> Bin in
            cumulative += counts[i]
            return Bin(
                lower: edges[i], upper: edges[i + 1], count: counts[i], cumulativeCount: cumulative,
                cumulativeFraction: Double(cumulative) / Double(values.count))
        }
        var work = values
        let qs = Quantile.exactInPlace(&work, levels)
        return Histogram(
            count: window.count, finiteCount: values.count, nanCount: window.nanCount, positiveInfinityCount: window.positiveInfinityCount,
            negativeInfinityCount: window.negativeInfinityCount, min: lo, max: hi, bins: out,
            quantiles: zip(levels, qs).map { QuantileValue(level: $0, value: $1) })
    }
}

extension Store {
    /// The finite values of a series over a step window (a scan of its points), with NaN and ±Inf counted apart.
    ///
    /// - Parameters:
    ///   - run: The run.
    ///   - metric: The metric name.
    ///   - labels: The series' context labels.
    ///   - steps: The half-open step window (every step when nil).
    /// - Returns: The window's values.
    /// - Throws: ``StrataError``: `.notFound` when the run has no such series (the message names
    ///   the metrics it has), `.invalidArgument` for a bad name, `.corrupt`/`.io` on damaged bytes.
    public func windowValues(_ run: RunInfo, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil)
        throws(StrataError) -> WindowValues
    {
        let key = try SeriesKey(run: run.id, metric: metric, labels: labels)
        let all = try series(of: run.id)
        guard all.contains(where: { $0.key == key }) else {
            let have = all.map(\.key.canonical).sorted().prefix(8).joined(separator: ", ")
            throw StrataError(.notFound, "run \"\(run.name)\" has no metric \"\(key.canonical)\" (it has: \(have.isEmpty ? "no metrics" : have))")
        }
        var w = WindowValues()
        try scan(run.id, metric, labels: labels, steps: steps) { _, values in
            for i in values.indices {
                let v = values[i]
                if v.isFinite {
                    w.finite.append(v)
                } else if v.isNaN {
                    w.nanCount += 1
                } else if v > 0 {
                    w.positiveInfinityCount += 1
                } else {
                    w.negativeInfinityCount += 1
                }
            }
        }
        return w
    }

    /// The histogram and cumulative distribution of one series over a window (exact: a scan).
    ///
    /// - Parameters:
    ///   - run: The run.
    ///   - metric: The metric name.
    ///   - labels: The series' context labels.
    ///   - steps: The half-open step window (every step when nil).
    ///   - bins: The number of equal-width bins, 1 to ``Histogram/maxBins``.
    /// - Returns: The histogram.
    /// - Throws: ``StrataError``: `.invalidArgument` for a bin count out of range or a window with
    ///   no finite point, `.notFound` for a metric the run does not have.
    public func histogram(_ run: RunInfo, _ metric: String, labels: [String: String] = [:], steps: Range<Int64>? = nil, bins: Int = 20)
        throws(StrataError) -> Histogram
    {
        guard (1...Histogram.maxBins).contains(bins) else {
            throw StrataError(.invalidArgument, "bins must be 1 to \(Histogram.maxBins), got \(bins)")
        }
        let w = try windowValues(run, metric, labels: labels, steps: steps)
        guard let h = Histogram.of(w, bins: bins) else { throw Self.noFinitePoint(run, metric, steps, w) }
        return h
    }

    static func windowText(_ steps: Range<Int64>?) -> String {
        guard let s = steps else { return "the whole series" }
        if s.upperBound == .max { return "steps from \(s.lowerBound)" }
        if s.lowerBound == .min { return "steps before \(s.upperBound)" }
        return "steps [\(s.lowerBound), \(s.upperBound))"
    }

    static func noFinitePoint(_ run: RunInfo, _ metric: String, _ steps: Range<Int64>?, _ w: WindowValues) -> StrataError {
        let what =
            w.count == 0
            ? "no point" : "no finite point (\(w.count) points: \(w.nanCount) NaN, \(w.positiveInfinityCount + w.negativeInfinityCount) infinite)"
        return StrataError(.invalidArgument, "run \"\(run.name)\": metric \"\(metric)\" has \(what) in \(windowText(steps))")
    }

    /// Whether a param key names a random seed: its last dotted component is `seed` or `random_seed`.
    ///
    /// - Parameter key: The param key.
    /// - Returns: Whether runs differing only in it are replicates.
    public static func isSeedKey(_ key: String) -> Bool {
        let leaf = key.split(separator: ".").last.map(String.init) ?? key
        return leaf == "seed" || leaf == "random_seed"
    }

    /// The configuration of a run for grouping replicates: its project and params without the seed
    /// keys (``isSeedKey(_:)``), or with `by`, its project and the value of param `by` (nil when absent).
    ///
    /// - Parameters:
    ///   - run: The run.
    ///   - by: A param key to group by, or nil for "everything but the seed".
    /// - Returns: A hashable configuration.
    public static func configuration(of run: RunInfo, by: String? = nil) -> [String: ParamValue] {
        if let by { return ["\u{0}project": .string(run.project), by: run.params[by] ?? .string("\u{0}absent")] }
        var p = run.params.filter { !isSeedKey($0.key) }
        p["\u{0}project"] = .string(run.project)
        return p
    }

    /// The runs of the store that are replicates of `run`: same project and the same params but
    /// the seed (``configuration(of:by:)``), `run` included, oldest first. With `having`, the other
    /// runs must also have each of these series (metric and labels) to count.
    ///
    /// - Parameters:
    ///   - run: A run.
    ///   - having: Series (metric name and labels) every other replicate must have.
    /// - Returns: Its replicates.
    /// - Throws: ``StrataError``: `.invalidArgument` for a bad metric name, `.closed` after close.
    public func replicates(of run: RunInfo, having: [(metric: String, labels: [String: String])] = []) throws(StrataError) -> [RunInfo] {
        let config = Self.configuration(of: run)
        var out: [RunInfo] = []
        for r in try runs() where r.project == run.project && Self.configuration(of: r) == config {
            if r.id != run.id, !having.isEmpty {
                let have = Set(try series(of: r.id).map(\.key.canonical))
                var all = true
                for h in having where !have.contains(try SeriesKey(run: r.id, metric: h.metric, labels: h.labels).canonical) { all = false }
                if !all { continue }
            }
            out.append(r)
        }
        return out.sorted { $0.id < $1.id }
    }

    /// Splits runs into a baseline side and a candidate side. Two runs (without `by`) are one
    /// run a side; otherwise the runs are grouped by configuration (``configuration(of:by:)``:
    /// params but the seed, or the value of param `by`) and must form exactly two groups, the
    /// baseline's group being the one holding `baseline`.
    ///
    /// - Parameters:
    ///   - runs: The runs, `baseline` among them.
    ///   - baseline: The run whose group is the baseline.
    ///   - by: A param key to group by, or nil.
    /// - Returns: The baseline's runs and the candidate's runs, in the order given.
    /// - Throws: ``StrataError`` `.invalidArgument` when the runs do not form two groups (the
    ///   message names the params that differ).
    public static func sides(of runs: [RunInfo], baseline: RunInfo, by: String? = nil) throws(StrataError) -> (
        baseline: [RunInfo], candidate: [RunInfo]
    ) {
        var unique: [RunInfo] = []
        for r in runs where !unique.contains(where: { $0.id == r.id }) { unique.append(r) }
        if !unique.contains(where: { $0.id == baseline.id }) { unique.insert(baseline, at: 0) }
        if by == nil && unique.count == 2 {
            let other = unique.first { $0.id != baseline.id }!
            return ([baseline], [other])
        }
        let base = configuration(of: baseline, by: by)
        let a = unique.filter { configuration(of: $0, by: by) == base }
        let rest = unique.filter { configuration(of: $0, by: by) != base }
        guard let first = rest.first else {
            let how = by.map { "the same value of param \"\($0)\"" } ?? "the same params but the seed"
            throw StrataError(
                .invalidArgument,
                "the \(unique.count) runs are one configuration (\(how)): there is nothing to compare them with; group them with --by KEY or add runs of another configuration"
            )
        }
        let other = configuration(of: first, by: by)
        let b = rest.filter { configuration(of: $0, by: by) == other }
        if b.count != rest.count {
            let groups = Set(unique.map { configuration(of: $0, by: by) }).count
            let keys = Set(unique.flatMap { $0.params.keys }).filter { k in
                (by == nil && !isSeedKey(k)) || k == by
            }.filter { k in Set(unique.map { $0.params[k] }).count > 1 }.sorted()
            let differ = keys.isEmpty ? "" : " (params that differ: \(keys.prefix(8).joined(separator: ", ")))"
            throw StrataError(
                .invalidArgument,
                "the runs form \(groups) configurations\(differ): compare two (a baseline and a candidate, each one run or its seeds), or group them with --by KEY"
            )
        }
        return (a, b)
    }

    /// Compares a metric between a baseline and a candidate, each one run or several replicates
    /// (seeds of one configuration), with a confidence interval and a verdict.
    ///
    /// - Replicates (at least two runs a side): each run's statistic over the window is one
    ///   observation; the interval is Welch's t-interval for the difference of the sides' means.
    /// - One run a side: the interval is a percentile moving-block bootstrap of the two runs'
    ///   points over the window (blocks keep the autocorrelation of neighbouring steps; see
    ///   ``ComparisonMath/blockLength(_:)``); at least 20 finite points a side; not for `last`.
    ///
    /// The verdict (``Verdict/decide(difference:interval:tolerance:direction:)``) uses the
    /// tolerance and direction of `options`, else those stored for the baseline's project and the
    /// metric (``tolerances()``), else no tolerance and the direction guessed from the name.
    ///
    /// - Parameters:
    ///   - baseline: The baseline's runs.
    ///   - candidate: The candidate's runs.
    ///   - metric: The metric name.
    ///   - options: Statistic, window, level, tolerance, direction, mode.
    /// - Returns: The comparison.
    /// - Throws: ``StrataError``: `.invalidArgument` for a side without runs, replicates required
    ///   but absent (or unequal sides in `auto` mode), a window with no finite point, too few
    ///   points for a within-run interval, a confidence level out of range; `.notFound` for a
    ///   metric a run does not have.
    public func compare(baseline: [RunInfo], candidate: [RunInfo], metric: String, options: CompareOptions = CompareOptions())
        throws(StrataError) -> MetricComparison
    {
        guard options.confidence >= 0.5 && options.confidence <= 0.999 else {
            throw StrataError(.invalidArgument, "confidence must be 0.5 to 0.999, got \(options.confidence)")
        }
        guard !baseline.isEmpty, !candidate.isEmpty else { throw StrataError(.invalidArgument, "compare needs at least one run on each side") }
        if let r = options.resamples, !(100...100_000).contains(r) {
            throw StrataError(.invalidArgument, "resamples must be 100 to 100000, got \(r)")
        }
        let replicates: Bool
        switch options.mode {
        case .replicates:
            guard baseline.count >= 2, candidate.count >= 2 else {
                throw StrataError(
                    .invalidArgument,
                    "replicates are required but the baseline has \(baseline.count) run\(baseline.count == 1 ? "" : "s") and the candidate \(candidate.count): give at least two seeds of each configuration"
                )
            }
            replicates = true
        case .withinRun:
            guard baseline.count == 1, candidate.count == 1 else {
                throw StrataError(
                    .invalidArgument, "a within-run comparison takes one run a side, got \(baseline.count) and \(candidate.count)")
            }
            replicates = false
        case .auto:
            if baseline.count >= 2 && candidate.count >= 2 {
                replicates = true
            } else if baseline.count == 1 && candidate.count == 1 {
                replicates = false
            } else {
                throw StrataError(
                    .invalidArgument,
                    "the baseline has \(baseline.count) run\(baseline.count == 1 ? "" : "s") and the candidate \(candidate.count): replicates are required on both sides (at least two seeds each) or one run a side"
                )
            }
        }
        if !replicates, options.statistic == .last {
            throw StrataError(
                .invalidArgument,
                "statistic last needs replicates (one run has one last value, no distribution): give at least two seeds a side, or use mean, min or pNN"
            )
        }
        var windows: [[WindowValues]] = [[], []]
        var stats: [[RunStatistic]] = [[], []]
        for (side, runs) in [baseline, candidate].enumerated() {
            for r in runs {
                let w = try windowValues(r, metric, labels: options.labels, steps: options.steps)
                guard !w.finite.isEmpty else { throw Self.noFinitePoint(r, metric, options.steps, w) }
                windows[side].append(w)
                stats[side].append(
                    RunStatistic(
                        run: r, value: options.statistic.of(w.finite), finiteCount: w.finite.count, nanCount: w.nanCount,
                        infiniteCount: w.positiveInfinityCount + w.negativeInfinityCount))
            }
        }
        let stored = try tolerances().first { $0.project == baseline[0].project && $0.metric == metric }
        var result: MetricComparison
        let base: Double
        let cand: Double
        if replicates {
            let a = stats[0].map(\.value)
            let b = stats[1].map(\.value)
            let w = ComparisonMath.welch(a, b, confidence: options.confidence)
            base = ComparisonMath.meanVariance(a).0
            cand = ComparisonMath.meanVariance(b).0
            result = MetricComparison(
                metric: metric, statistic: options.statistic, baseline: base, candidate: cand, difference: w.difference, relativeDifference: nil,
                interval: w.interval, confidence: options.confidence, method: .welch, degreesOfFreedom: w.df.isFinite ? w.df : nil,
                blockLengths: nil, resamples: nil, baselineRuns: stats[0], candidateRuns: stats[1], tolerance: nil, toleranceAbsolute: 0,
                direction: .lowerIsBetter, directionSource: "guessed", toleranceSource: "none", verdict: .withinNoise, reason: "")
        } else {
            let a = windows[0][0].finite
            let b = windows[1][0].finite
            for (r, n) in [(baseline[0], a.count), (candidate[0], b.count)] where n < 20 {
                throw StrataError(
                    .invalidArgument,
                    "run \"\(r.name)\": metric \"\(metric)\" has \(n) finite point\(n == 1 ? "" : "s") in \(Self.windowText(options.steps)); a within-run interval needs at least 20 a side (widen the window or give replicates)"
                )
            }
            let resamples = options.resamples ?? ComparisonMath.resamples(forPoints: Swift.max(a.count, b.count))
            let bs = ComparisonMath.blockBootstrap(a, b, statistic: options.statistic, confidence: options.confidence, resamples: resamples)
            base = stats[0][0].value
            cand = stats[1][0].value
            result = MetricComparison(
                metric: metric, statistic: options.statistic, baseline: base, candidate: cand, difference: bs.difference, relativeDifference: nil,
                interval: bs.interval, confidence: options.confidence, method: .blockBootstrap, degreesOfFreedom: nil,
                blockLengths: [bs.blockLengths.0, bs.blockLengths.1], resamples: resamples, baselineRuns: stats[0], candidateRuns: stats[1],
                tolerance: nil, toleranceAbsolute: 0, direction: .lowerIsBetter, directionSource: "guessed", toleranceSource: "none",
                verdict: .withinNoise, reason: "")
        }
        result.relativeDifference = base == 0 ? nil : result.difference / Swift.abs(base)
        if let d = options.direction {
            result.direction = d
            result.directionSource = "option"
        } else if let d = stored?.direction {
            result.direction = d
            result.directionSource = "stored"
        } else {
            result.direction = MetricDirection.guess(metric)
        }
        if let t = options.tolerance {
            result.tolerance = t
            result.toleranceSource = "option"
        } else if let t = stored?.tolerance {
            result.tolerance = t
            result.toleranceSource = "stored"
        }
        result.toleranceAbsolute = result.tolerance?.absolute(baseline: base) ?? 0
        (result.verdict, result.reason) = Verdict.decide(
            difference: result.difference, interval: result.interval, tolerance: result.toleranceAbsolute, direction: result.direction)
        return result
    }
}

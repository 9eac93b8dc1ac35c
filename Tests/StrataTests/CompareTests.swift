import Foundation
import Testing

@testable import Strata

/// Noise-aware comparisons: interval coverage by simulation, verdicts on constructed cases,
/// histograms against brute force, the errors of bad input.
@Suite("Compare and histograms")
struct CompareTests {
    static func gaussian(_ rng: inout SeededRandom) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
        let u2 = Double.random(in: 0..<1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    @Test func studentTQuantilesMatchTables() {
        // Two-sided 95 % critical values from standard tables.
        let table: [(Double, Double)] = [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281), (30, 2.0423), (1e7, 1.95996)]
        for (df, t) in table {
            #expect(abs(ComparisonMath.studentTQuantile(0.975, df: df) - t) < 1e-3, "df \(df)")
        }
        #expect(abs(ComparisonMath.studentTQuantile(0.995, df: 4) - 4.6041) < 1e-3)
        #expect(abs(ComparisonMath.studentTQuantile(0.025, df: 10) + 2.2281) < 1e-3)
    }

    /// Welch's interval from 2-6 seeds a side covers the true difference close to 95 % of the time,
    /// over 4,000 simulated seed groups with unequal sizes and spreads (fixed generator seed, so
    /// the figure is the same every run; the band is ±2.2 standard errors of a binomial proportion).
    @Test func welchIntervalCoverageIsNominal() {
        var rng = SeededRandom(seed: 16)
        let groups = 4000
        var covered = 0
        var coveredAt90 = 0
        for g in 0..<groups {
            let na = 2 + g % 5
            let nb = 2 + (g / 5) % 4
            let sa = 0.5 + Double(g % 3)
            let sb = 0.5 + Double(g % 7) / 2
            let truth = Double(g % 11) - 5
            let a = (0..<na).map { _ in 100 + sa * Self.gaussian(&rng) }
            let b = (0..<nb).map { _ in 100 + truth + sb * Self.gaussian(&rng) }
            if ComparisonMath.welch(a, b, confidence: 0.95).interval.contains(truth) { covered += 1 }
            if ComparisonMath.welch(a, b, confidence: 0.90).interval.contains(truth) { coveredAt90 += 1 }
        }
        let c95 = Double(covered) / Double(groups)
        let c90 = Double(coveredAt90) / Double(groups)
        // Welch's interval is approximate for small unequal groups: slightly conservative at worst.
        #expect(c95 > 0.94 && c95 < 0.965, "coverage \(c95)")
        #expect(c90 > 0.885 && c90 < 0.925, "coverage \(c90)")
    }

    /// The moving-block bootstrap of one run a side keeps its coverage on autocorrelated step
    /// times (AR(1), φ = 0.6), where resampling single points (blocks of 1) undercovers badly.
    @Test func blockBootstrapCoverageOnAutocorrelatedSeries() {
        var rng = SeededRandom(seed: 1616)
        func ar1(_ n: Int, mean: Double) -> [Double] {
            var x = 0.0
            var out: [Double] = []
            for _ in 0..<n {
                x = 0.6 * x + Self.gaussian(&rng)
                out.append(mean + x)
            }
            return out
        }
        let sims = 300
        var covered = 0
        var coveredIID = 0
        for i in 0..<sims {
            let a = ar1(600, mean: 50)
            let b = ar1(600, mean: 51)
            let bs = ComparisonMath.blockBootstrap(a, b, statistic: .mean, confidence: 0.95, resamples: 400, seed: UInt64(i))
            #expect(bs.blockLengths.0 > 1)
            if bs.interval.contains(1) { covered += 1 }
            // The same bootstrap with blocks of one point: what ignoring autocorrelation gives.
            var r = SeededRandom(seed: UInt64(i))
            let ra = BlockResampler(a, blockLength: 1, statistic: .mean)
            let rb = BlockResampler(b, blockLength: 1, statistic: .mean)
            var diffs = (0..<400).map { _ in rb.draw(&r) - ra.draw(&r) }
            diffs.sort()
            if Quantile.of(sorted: diffs, 0.025) <= 1 && Quantile.of(sorted: diffs, 0.975) >= 1 { coveredIID += 1 }
        }
        let c = Double(covered) / Double(sims)
        let iid = Double(coveredIID) / Double(sims)
        #expect(c > 0.88 && c <= 0.99, "block bootstrap coverage \(c)")
        #expect(iid < 0.8, "iid bootstrap coverage \(iid)")
    }

    @Test func blockBootstrapQuantileAndMinAreDeterministic() {
        var rng = SeededRandom(seed: 3)
        let a = (0..<500).map { _ in 100 + Self.gaussian(&rng) }
        let b = (0..<500).map { _ in 110 + Self.gaussian(&rng) }
        for stat in [WindowStatistic.quantile(0.5), .quantile(0.99), .min] {
            let x = ComparisonMath.blockBootstrap(a, b, statistic: stat, confidence: 0.95, resamples: 300)
            let y = ComparisonMath.blockBootstrap(a, b, statistic: stat, confidence: 0.95, resamples: 300)
            #expect(x.interval == y.interval)
            #expect(x.difference == stat.of(b) - stat.of(a))
            #expect(x.interval.lowerBound > 5 && x.interval.upperBound < 15, "\(stat) \(x.interval)")
        }
    }

    @Test func verdictsOnConstructedCases() throws {
        // Lower is better: a clear regression, a clear gain, noise, within tolerance.
        #expect(Verdict.decide(difference: 5, interval: 3...7, tolerance: 0, direction: .lowerIsBetter).0 == .regression)
        #expect(Verdict.decide(difference: -5, interval: -7 ... -3, tolerance: 0, direction: .lowerIsBetter).0 == .improvement)
        #expect(Verdict.decide(difference: 1, interval: -1...3, tolerance: 0, direction: .lowerIsBetter).0 == .withinNoise)
        #expect(Verdict.decide(difference: 1, interval: 0.5...1.5, tolerance: 2, direction: .lowerIsBetter).0 == .withinNoise)
        #expect(Verdict.decide(difference: 3, interval: 2.5...3.5, tolerance: 2, direction: .lowerIsBetter).0 == .regression)
        // Higher is better flips the sides.
        #expect(Verdict.decide(difference: 5, interval: 3...7, tolerance: 0, direction: .higherIsBetter).0 == .improvement)
        #expect(Verdict.decide(difference: -5, interval: -7 ... -3, tolerance: 1, direction: .higherIsBetter).0 == .regression)
        // Values near the largest double overflow the arithmetic: an unbounded interval, no crash.
        let huge = ComparisonMath.welch([1.7e308, -1.7e308, 1.7e308], [1.7e308, 1.7e308], confidence: 0.95)
        #expect(huge.interval.lowerBound == -.infinity && huge.interval.upperBound == .infinity)
        let hugeRun = (0..<40).map { $0 % 2 == 0 ? 1.7e308 : -1.7e308 }
        let hb = ComparisonMath.blockBootstrap(hugeRun, hugeRun.map { -$0 }, statistic: .mean, confidence: 0.95, resamples: 100)
        #expect(hb.interval.lowerBound <= hb.interval.upperBound)
        // A difference that overflowed is no verdict either way.
        #expect(Verdict.decide(difference: .nan, interval: -Double.infinity ... .infinity, tolerance: 0, direction: .lowerIsBetter).0 == .withinNoise)
        // Tolerances: relative to the baseline's magnitude, or absolute.
        #expect(try Tolerance(parsing: "2%").absolute(baseline: -200) == 4)
        #expect(try Tolerance(parsing: "0.5").absolute(baseline: 1000) == 0.5)
        for bad in ["-1%", "abc", "", "%", "inf", "nan%"] { #expect(throws: StrataError.self) { try Tolerance(parsing: bad) } }
        // Directions guessed from names.
        #expect(MetricDirection.guess("train/step_ms") == .lowerIsBetter)
        #expect(MetricDirection.guess("eval/accuracy") == .higherIsBetter)
        #expect(MetricDirection.guess("perf/tokens_per_s") == .higherIsBetter)
        #expect(MetricDirection.guess("train/loss") == .lowerIsBetter)
    }

    @Test func statisticsParseAndQuantilesAreOrderStatistics() throws {
        #expect(try WindowStatistic(parsing: "p99") == .quantile(0.99))
        #expect(try WindowStatistic(parsing: "p99.9").description == "p99.9")
        for bad in ["p0", "p100", "p-5", "p150", "pnan", "median", "P50", "", "p", "p1e-1", "p+5", "p 5", "pinf", "p5.5.5"] {
            #expect(throws: StrataError.self) { try WindowStatistic(parsing: bad) }
        }
        var rng = SeededRandom(seed: 9)
        for n in [1, 2, 3, 10, 101, 1000] {
            let v = (0..<n).map { _ in Double(Int.random(in: 0..<20, using: &rng)) }
            let s = v.sorted()
            for q in [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0] {
                let h = Double(n - 1) * q
                let lo = Int(h.rounded(.down))
                let want = lo + 1 < n ? s[lo] + (h - Double(lo)) * (s[lo + 1] - s[lo]) : s[lo]
                #expect(Quantile.of(sorted: s, q) == want)
                var copy = v
                #expect(Quantile.select(&copy, q) == want)
            }
        }
    }

    /// Three seeds of two configurations in a store: `compare` equals Welch's interval on the
    /// per-run statistics computed by brute force from the points; one run a side uses its points.
    @Test func compareThroughTheStore() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.store)
        var rng = SeededRandom(seed: 77)
        var raw: [String: [(Int64, Double)]] = [:]
        var infos: [String: RunInfo] = [:]
        for (config, mean) in [("base", 100.0), ("fast", 90.0)] {
            for seed in 0..<3 {
                let run = try store.createRun(name: "\(config)-\(seed)", params: ["variant": .string(config), "seed": .int(Int64(seed)), "lr": 0.1])
                var pts: [(Int64, Double)] = []
                for s in 0..<300 {
                    var v = mean + Double(seed) + Self.gaussian(&rng)
                    if s % 97 == 5 { v = .nan }
                    if s == 7 { v = .infinity }
                    pts.append((Int64(s), v))
                }
                try run.append("train/step_ms", steps: pts.map(\.0), values: pts.map(\.1))
                raw[run.name] = pts
                infos[run.name] = try store.run(run.name)
            }
        }
        let base = try store.replicates(of: infos["base-0"]!)
        #expect(base.map(\.name) == ["base-0", "base-1", "base-2"])
        let sides = try Store.sides(of: [infos["base-0"]!, infos["fast-2"]!, infos["fast-1"]!, infos["base-1"]!], baseline: infos["base-0"]!)
        #expect(sides.baseline.map(\.name) == ["base-0", "base-1"] && sides.candidate.map(\.name) == ["fast-2", "fast-1"])
        #expect(throws: StrataError.self) { try Store.sides(of: base, baseline: base[0]) }

        var o = CompareOptions()
        o.statistic = .quantile(0.9)
        o.steps = 50..<250
        let cand = try store.replicates(of: infos["fast-0"]!)
        let c = try store.compare(baseline: base, candidate: cand, metric: "train/step_ms", options: o)
        func brute(_ name: String) -> Double {
            let v = raw[name]!.filter { (50..<250).contains($0.0) && $0.1.isFinite }.map(\.1).sorted()
            return Quantile.of(sorted: v, 0.9)
        }
        let a = base.map { brute($0.name) }
        let b = cand.map { brute($0.name) }
        let w = ComparisonMath.welch(a, b, confidence: 0.95)
        #expect(c.method == .welch)
        #expect(c.baselineRuns.map(\.value) == a && c.candidateRuns.map(\.value) == b)
        #expect(c.interval == w.interval && c.difference == w.difference)
        #expect(c.verdict == .improvement && c.direction == .lowerIsBetter && c.directionSource == "guessed")
        #expect(c.baselineRuns[0].nanCount == 2 && c.baselineRuns[0].finiteCount == 198)

        // A declared tolerance larger than the gain: within noise. A stored one applies too.
        o.tolerance = try Tolerance(parsing: "20%")
        #expect(try store.compare(baseline: base, candidate: cand, metric: "train/step_ms", options: o).verdict == .withinNoise)
        o.tolerance = nil
        try store.setTolerance(project: "default", metric: "train/step_ms", tolerance: try Tolerance(parsing: "25%"), direction: .higherIsBetter)
        let stored = try store.compare(baseline: base, candidate: cand, metric: "train/step_ms", options: o)
        #expect(stored.toleranceSource == "stored" && stored.directionSource == "stored" && stored.verdict == .withinNoise)
        try store.setTolerance(project: "default", metric: "train/step_ms", tolerance: nil, direction: .higherIsBetter)
        #expect(try store.compare(baseline: base, candidate: cand, metric: "train/step_ms", options: o).verdict == .regression)
        try store.setTolerance(project: "default", metric: "train/step_ms", tolerance: nil, direction: nil)
        #expect(try store.tolerances().isEmpty)

        // One run a side: the within-run bootstrap over the window.
        let one = try store.compare(baseline: [base[0]], candidate: [cand[0]], metric: "train/step_ms", options: o)
        #expect(one.method == .blockBootstrap && one.baseline == a[0] && one.candidate == b[0] && one.verdict == .improvement)
    }

    @Test func compareRefusesBadInput() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.store)
        var infos: [RunInfo] = []
        for i in 0..<3 {
            let run = try store.createRun(name: "r\(i)", params: ["seed": .int(Int64(i))])
            try run.append("m", steps: Array(0..<100), values: (0..<100).map { $0 < 50 ? .nan : Double($0 % 7) })
            try run.append("few", steps: [0, 1, 2], values: [1, 2, 3])
            infos.append(try store.run(run.name))
        }
        func code(_ body: () throws -> Void) -> StrataError.Code? {
            do { try body() } catch let e as StrataError { return e.code } catch { return nil }
            return nil
        }
        var o = CompareOptions()
        o.steps = 0..<50
        // A window with only NaN in it.
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "m", options: o) } == .invalidArgument)
        // An unknown metric.
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "nope") } == .notFound)
        // Replicates required but absent; unequal sides in auto mode; last without replicates.
        o = CompareOptions()
        o.mode = .replicates
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "m", options: o) } == .invalidArgument)
        o.mode = .auto
        #expect(code { _ = try store.compare(baseline: [infos[0], infos[2]], candidate: [infos[1]], metric: "m", options: o) } == .invalidArgument)
        o.statistic = .last
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "m", options: o) } == .invalidArgument)
        // Too few points for a within-run interval; a confidence level out of range.
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "few") } == .invalidArgument)
        o = CompareOptions()
        o.confidence = 1
        #expect(code { _ = try store.compare(baseline: [infos[0]], candidate: [infos[1]], metric: "m", options: o) } == .invalidArgument)
        // Histograms: bins out of range, an empty window.
        #expect(code { _ = try store.histogram(infos[0], "m", bins: 0) } == .invalidArgument)
        #expect(code { _ = try store.histogram(infos[0], "m", steps: 1000..<2000) } == .invalidArgument)
    }

    /// Values lying exactly on bin edges (integers with edges at integers, a tenth's rounding, a
    /// width that overflows a double) fall in the bin whose lower edge they equal, the maximum in
    /// the last bin: counts equal brute force over the histogram's own edges.
    @Test func histogramBinsValuesOnTheEdgesAsBruteForce() {
        let cases: [([Double], Int)] = [
            ((0...100).map(Double.init), 10), ((0...100).map(Double.init), 7), ((0...30).map { Double($0) / 10 }, 3),
            ([-1e308, -1e300, 0, 1e300, 1e308], 4), ([0.1, 0.2, 0.3, 0.7, 0.3], 6)
        ]
        for (values, bins) in cases {
            let h = Histogram.of(WindowValues(finite: values), bins: bins)!
            for (i, b) in h.bins.enumerated() {
                let last = i == h.bins.count - 1
                let brute = values.filter { $0 >= b.lower && (last ? $0 <= b.upper : $0 < b.upper) }.count
                #expect(b.count == brute, "\(values.count) values, \(bins) bins, bin \(i) [\(b.lower), \(b.upper))")
            }
            #expect(h.bins.map(\.count).reduce(0, +) == values.count)
        }
    }

    /// Histogram counts equal brute force over the raw points (NaN and ±Inf counted apart).
    @Test(arguments: [1 as UInt64, 2, 3])
    func histogramMatchesBruteForce(seed: UInt64) throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.store)
        var rng = SeededRandom(seed: seed)
        let run = try store.createRun(name: "h")
        var pts: [(Int64, Double)] = []
        for s in 0..<5000 {
            var v: Double
            switch Int.random(in: 0..<100, using: &rng) {
            case 0: v = .nan
            case 1: v = .infinity
            case 2: v = -.infinity
            case 3..<60: v = Self.gaussian(&rng) * 10
            default: v = 50 + Double(Int.random(in: 0..<5, using: &rng))  // repeated values, a second mode
            }
            if seed == 3 { v = v.isFinite ? 7 : v }  // constant series: one bin
            pts.append((Int64(s), v))
        }
        try run.append("x", steps: pts.map(\.0), values: pts.map(\.1))
        let info = try store.run("h")
        let window: Range<Int64> = 1000..<4500
        let h = try store.histogram(info, "x", steps: window, bins: 37)
        let inWindow = pts.filter { window.contains($0.0) }.map(\.1)
        let finite = inWindow.filter(\.isFinite)
        #expect(h.count == inWindow.count)
        #expect(h.nanCount == inWindow.filter(\.isNaN).count)
        #expect(h.positiveInfinityCount == inWindow.filter { $0 == .infinity }.count)
        #expect(h.negativeInfinityCount == inWindow.filter { $0 == -.infinity }.count)
        #expect(h.min == finite.min()! && h.max == finite.max()!)
        #expect(h.bins.count == (seed == 3 ? 1 : 37))
        var cumulative = 0
        for (i, b) in h.bins.enumerated() {
            let last = i == h.bins.count - 1
            let brute = finite.filter { $0 >= b.lower && (last ? $0 <= b.upper : $0 < b.upper) }.count
            cumulative += brute
            #expect(b.count == brute, "bin \(i)")
            #expect(b.cumulativeCount == cumulative)
            #expect(b.cumulativeFraction == Double(cumulative) / Double(finite.count))
            if i > 0 { #expect(b.lower == h.bins[i - 1].upper) }
        }
        #expect(cumulative == finite.count)
        let sorted = finite.sorted()
        for q in h.quantiles { #expect(q.value == Quantile.of(sorted: sorted, q.level)) }
    }

    @Test func storedTolerancesRoundTripAndRefuseDamage() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.store)
        try store.setTolerance(project: "p", metric: "train/step_ms", tolerance: try Tolerance(parsing: "2%"), direction: nil)
        try store.setTolerance(project: "p", metric: "eval/acc{split=val}", tolerance: try Tolerance(parsing: "0.005"), direction: .higherIsBetter)
        try store.setTolerance(project: "default", metric: "loss", tolerance: nil, direction: .lowerIsBetter)
        #expect(throws: StrataError.self) { try store.setTolerance(project: "p", metric: "bad,name", tolerance: nil, direction: .lowerIsBetter) }
        let again = try Store.open(at: dir.store)
        let all = try again.tolerances()
        #expect(all.map(\.metric) == ["loss", "eval/acc{split=val}", "train/step_ms"])
        #expect(all[1].tolerance == Tolerance(amount: 0.005, relative: false) && all[1].direction == .higherIsBetter)
        #expect(all[2].tolerance == Tolerance(amount: 0.02, relative: true) && all[2].direction == nil)
        try Data("strata-tolerances 1\np\tm\t2%\n".utf8).write(to: URL(fileURLWithPath: dir.store + "/tolerances"))
        let e = #expect(throws: StrataError.self) { try again.tolerances() }
        #expect(e?.code == .corrupt && e?.message.contains("line 2") == true)
    }
}

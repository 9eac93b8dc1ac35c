import Hummingbird
import Strata
import StrataInterop

/// `GET /api/compare` (noise-aware comparison with verdicts) and `GET /api/hist` (histogram and
/// ECDF of one series): thin wrappers over `Store.compare` and `Store.histogram` (docs/API.md).
extension API {
    /// The most runs one side of `/api/compare` may name, and the most metrics.
    static let maxCompareRuns = 1000
    static let maxCompareMetrics = 100

    /// A comma-separated list parameter (no empty item).
    static func list(_ q: Query, _ k: String, max: Int) throws(APIError) -> [String] {
        guard let text = q.string(k) else { return [] }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if let empty = items.firstIndex(of: "") { throw APIError.bad("\(k) has an empty item at position \(empty + 1)", field: k) }
        guard items.count <= max else { throw APIError.bad("\(k) names \(items.count) items; at most \(max)", field: k) }
        return items
    }

    /// `from`/`to` as a half-open step window (nil when neither is given).
    static func window(_ q: Query) throws(APIError) -> Range<Int64>? {
        let from = try q.int("from")
        let last = try q.last("to")
        guard from != nil || last != nil else { return nil }
        let lo = from ?? .min
        let hi = last.map { $0 == .max ? Int64.max : $0 + 1 } ?? .max
        guard lo < hi else {
            throw APIError.bad("from (\(lo)) must be less than to (\(last.map(Buckets.exclusiveText) ?? "")): the window is [from, to)", field: "to")
        }
        return lo..<hi
    }

    func compare(_ request: Request) async throws -> Response {
        let q = Query(request)
        let baseNames = try API.list(q, "baseline", max: API.maxCompareRuns)
        let candNames = try API.list(q, "candidate", max: API.maxCompareRuns)
        guard !baseNames.isEmpty else { throw APIError.bad("query parameter \"baseline\" is missing", field: "baseline") }
        guard !candNames.isEmpty else { throw APIError.bad("query parameter \"candidate\" is missing", field: "candidate") }
        let metrics = try API.list(q, "metric", max: API.maxCompareMetrics)
        guard !metrics.isEmpty else { throw APIError.bad("query parameter \"metric\" is missing", field: "metric") }
        var options = CompareOptions()
        do {
            options.statistic = try WindowStatistic(parsing: q.string("stat") ?? "mean")
        } catch { throw APIError.bad("stat: \(error.message)", field: "stat") }
        options.steps = try API.window(q)
        options.labels = try q.labels()
        if let c = q.string("confidence") {
            guard let v = Double(c) else {
                throw APIError.bad("confidence must be a number from 0.5 to 0.999, got \"\(c.prefix(40))\"", field: "confidence")
            }
            options.confidence = v
        }
        if let m = q.string("mode") {
            guard let mode = CompareMode(rawValue: m) else {
                throw APIError.bad("mode must be auto, replicates or within_run, got \"\(m.prefix(40))\"", field: "mode")
            }
            options.mode = mode
        }
        var tolerances: [String: Tolerance] = [:]
        for item in try API.list(q, "tolerance", max: API.maxCompareMetrics) {
            guard let eq = item.lastIndex(of: "="), eq != item.startIndex else {
                throw APIError.bad("tolerance must be metric=amount items (train/step_ms=2%), got \"\(item.prefix(60))\"", field: "tolerance")
            }
            let m = String(item[..<eq])
            guard metrics.contains(m) else {
                throw APIError.bad("tolerance names metric \"\(m.prefix(60))\", which is not a compared metric", field: "tolerance")
            }
            do { tolerances[m] = try Tolerance(parsing: String(item[item.index(after: eq)...])) } catch {
                throw APIError.bad("tolerance of \(m): \(error.message)", field: "tolerance")
            }
        }
        var directions: [String: MetricDirection] = [:]
        for (k, d) in [("higher_is_better", MetricDirection.higherIsBetter), ("lower_is_better", .lowerIsBetter)] {
            for m in try API.list(q, k, max: API.maxCompareMetrics) {
                guard metrics.contains(m) else {
                    throw APIError.bad("\(k) names metric \"\(m.prefix(60))\", which is not a compared metric", field: k)
                }
                if let other = directions[m], other != d {
                    throw APIError.bad("metric \"\(m.prefix(60))\" is both higher- and lower-is-better", field: k)
                }
                directions[m] = d
            }
        }
        let seeds = try q.bool("seeds")
        let store = self.store
        let opts = options
        let labels = options.labels
        let tolerance = tolerances
        let direction = directions
        return try await jsonBlocking {
            func side(_ names: [String]) throws -> [RunInfo] {
                var out: [RunInfo] = []
                for n in names {
                    let r = try store.run(n)
                    for x in try (seeds ? store.replicates(of: r, having: metrics.map { (metric: $0, labels: labels) }) : [r])
                    where !out.contains(where: { $0.id == x.id }) { out.append(x) }
                }
                return out
            }
            let baseline = try side(baseNames)
            let candidate = try side(candNames)
            if let shared = baseline.first(where: { b in candidate.contains { $0.id == b.id } }) {
                throw APIError.bad("run \"\(shared.name)\" is on both sides", field: "candidate")
            }
            var results: [MetricComparison] = []
            for m in metrics {
                var o = opts
                o.tolerance = tolerance[m]
                o.direction = direction[m]
                results.append(try store.compare(baseline: baseline, candidate: candidate, metric: m, options: o))
            }
            return API.compareJSON(results, baseline: baseline, candidate: candidate, options: opts)
        }
    }

    static func compareJSON(_ results: [MetricComparison], baseline: [RunInfo], candidate: [RunInfo], options: CompareOptions) -> [UInt8] {
        var o = JSONOut(capacity: 1024 * results.count)
        func runs(_ k: String, _ list: [RunInfo]) {
            o.key(k)
            o.beginArray()
            for r in list {
                o.beginObject()
                o.field("id", r.id.text)
                o.field("name", r.name)
                o.endObject()
            }
            o.endArray()
        }
        func stats(_ k: String, _ list: [RunStatistic]) {
            o.key(k)
            o.beginArray()
            for s in list {
                o.beginObject()
                o.field("id", s.run.id.text)
                o.field("name", s.run.name)
                o.field("value", s.value)
                o.field("finite", s.finiteCount)
                o.field("nan", s.nanCount)
                o.field("infinite", s.infiniteCount)
                o.endObject()
            }
            o.endArray()
        }
        o.beginObject()
        o.field("stat", options.statistic.description)
        o.field("from", options.steps.map(\.lowerBound))
        o.key("to")
        if let s = options.steps { o.raw(String(s.upperBound)) } else { o.null() }
        o.field("confidence", options.confidence)
        runs("baseline", baseline)
        runs("candidate", candidate)
        o.field("regression", results.contains { $0.verdict == .regression })
        o.key("metrics")
        o.beginArray()
        for c in results {
            o.beginObject()
            o.field("metric", c.metric)
            o.field("baseline", c.baseline)
            o.field("candidate", c.candidate)
            o.field("difference", c.difference)
            o.key("relative_difference")
            if let r = c.relativeDifference { o.double(r) } else { o.null() }
            o.key("interval")
            o.beginArray()
            o.double(c.interval.lowerBound)
            o.double(c.interval.upperBound)
            o.endArray()
            o.field("method", c.method.rawValue)
            o.key("df")
            if let df = c.degreesOfFreedom { o.double(df) } else { o.null() }
            o.key("block_lengths")
            if let l = c.blockLengths {
                o.beginArray()
                for x in l { o.int(x) }
                o.endArray()
            } else {
                o.null()
            }
            o.field("resamples", c.resamples.map { Int64($0) })
            o.field("tolerance", c.tolerance?.description)
            o.field("tolerance_absolute", c.toleranceAbsolute)
            o.field("tolerance_source", c.toleranceSource)
            o.field("direction", c.direction.rawValue)
            o.field("direction_source", c.directionSource)
            o.field("verdict", c.verdict.rawValue)
            o.field("reason", c.reason)
            stats("baseline_runs", c.baselineRuns)
            stats("candidate_runs", c.candidateRuns)
            o.endObject()
        }
        o.endArray()
        return o.endDocument()
    }

    func hist(_ request: Request) async throws -> Response {
        let q = Query(request)
        let runName = try q.require("run")
        let metric = try q.require("metric")
        let labels = try q.labels()
        let steps = try API.window(q)
        let bins = try q.int("bins", default: 20, range: 1...Histogram.maxBins)
        let store = self.store
        return try await jsonBlocking {
            let info = try store.run(runName)
            let h = try store.histogram(info, metric, labels: labels, steps: steps, bins: bins)
            var o = JSONOut(capacity: 256 + 96 * h.bins.count)
            o.beginObject()
            o.field("run", info.id.text)
            o.field("name", info.name)
            o.field("metric", metric)
            o.field("from", steps.map(\.lowerBound))
            o.key("to")
            if let s = steps { o.raw(String(s.upperBound)) } else { o.null() }
            o.field("count", h.count)
            o.field("finite", h.finiteCount)
            o.field("nan", h.nanCount)
            o.field("pinf", h.positiveInfinityCount)
            o.field("ninf", h.negativeInfinityCount)
            o.field("min", h.min)
            o.field("max", h.max)
            o.key("bins")
            o.beginArray()
            for b in h.bins {
                o.beginObject()
                o.field("lower", b.lower)
                o.field("upper", b.upper)
                o.field("count", b.count)
                o.field("cumulative", b.cumulativeCount)
                o.field("ecdf", b.cumulativeFraction)
                o.endObject()
            }
            o.endArray()
            o.key("quantiles")
            o.beginArray()
            for x in h.quantiles {
                o.beginObject()
                o.field("q", x.level)
                o.field("value", x.value)
                o.endObject()
            }
            o.endArray()
            return o.endDocument()
        }
    }
}

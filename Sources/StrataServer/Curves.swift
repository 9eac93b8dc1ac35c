import Hummingbird
import Strata
import StrataInterop

/// The x axis of a curve.
enum CurveAxis: String, Sendable {
    /// Steps: answered by the library's exact tiered `curve` (cost grows with buckets).
    case step
    /// Wall time in ms since 1970: the library's time curve (cost grows with points).
    case time
    /// Wall time in ms since the run's first point (any metric of the run): the library's
    /// `.relative` axis.
    case relative
}

extension API {
    struct CurveRequest: Sendable {
        var run: String
        var metric: String
        var labels: [String: String]
        var from: Int64?
        /// The last x of the range: `to - 1` (so `to=9223372036854775808` covers `Int64.max`).
        var last: Int64?
        var buckets: Int
        var axis: CurveAxis
        /// Only the buckets whose range ends at or after this x (the live page's cursor).
        var since: Int64? = nil
        /// Quantiles per bucket (step axis only), and whether they must be exact.
        var quantiles: [Double] = []
        var exact = false
        /// For a forked run: its full lineage (the default) or its own points.
        var lineage: Lineage = .full
    }

    /// The quantile options of a curve request: `quantiles` (step axis only) and `exact`.
    static func quantileOptions(_ q: Query, axis: CurveAxis) throws(APIError) -> ([Double], Bool) {
        let levels = try q.quantiles()
        let exact = try q.bool("exact")
        if !levels.isEmpty && axis != .step { throw APIError.bad("quantiles are given for x=step curves only", field: "quantiles") }
        if exact && levels.isEmpty { throw APIError.bad("exact goes with quantiles", field: "exact") }
        return (levels, exact)
    }

    func curve(_ request: Request) async throws -> Response {
        let q = Query(request)
        let axisText = q.string("x") ?? "step"
        guard let axis = CurveAxis(rawValue: axisText) else {
            throw APIError.bad("x must be step, time or relative, got \"\(axisText.prefix(40))\"", field: "x")
        }
        var req = CurveRequest(
            run: try q.require("run"), metric: try q.require("metric"), labels: try q.labels(),
            from: try q.int("from"), last: try q.last("to"),
            buckets: try q.int("buckets", default: 500, range: 1...Buckets.maxCount), axis: axis, since: try q.int("since"))
        (req.quantiles, req.exact) = try API.quantileOptions(q, axis: axis)
        req.lineage = try API.lineageOption(q)
        let c = req
        if let f = c.from, let l = c.last, f > l {
            throw APIError.bad("from (\(f)) must be less than to (\(Buckets.exclusiveText(l))): the range is [from, to)", field: "to")
        }
        let store = self.store
        let bytes: [UInt8] = try await blocking { try API.curveJSON(store, c) }
        return jsonResponse(bytes)
    }

    /// The most runs one `/api/curves` request may name.
    static let maxCurvesRuns = 1000

    /// The curves of one metric of several runs on one grid, in one answer: what a chart panel
    /// needs (one request per panel instead of one per run). Each element of `curves` is exactly
    /// the `/api/curve` answer for that run, or `{"run": R, "error": {...}}` for a run that has no
    /// such series (the others are still answered).
    func curves(_ request: Request) async throws -> Response {
        let q = Query(request)
        let runs = try q.require("runs").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard runs.count <= API.maxCurvesRuns else {
            throw APIError.bad("runs names \(runs.count) runs; at most \(API.maxCurvesRuns) in one request", field: "runs")
        }
        if let empty = runs.firstIndex(of: "") { throw APIError.bad("runs has an empty name at position \(empty + 1)", field: "runs") }
        let axisText = q.string("x") ?? "step"
        guard let axis = CurveAxis(rawValue: axisText) else {
            throw APIError.bad("x must be step, time or relative, got \"\(axisText.prefix(40))\"", field: "x")
        }
        var req = CurveRequest(
            run: "", metric: try q.require("metric"), labels: try q.labels(),
            from: try q.int("from"), last: try q.last("to"),
            buckets: try q.int("buckets", default: 500, range: 1...Buckets.maxCount), axis: axis, since: try q.int("since"))
        (req.quantiles, req.exact) = try API.quantileOptions(q, axis: axis)
        req.lineage = try API.lineageOption(q)
        let c = req
        if let f = c.from, let l = c.last, f > l {
            throw APIError.bad("from (\(f)) must be less than to (\(Buckets.exclusiveText(l))): the range is [from, to)", field: "to")
        }
        let store = self.store
        let bytes: [UInt8] = try await blocking {
            var out = JSONOut()
            out.raw("{\"curves\":[")
            for (i, run) in runs.enumerated() {
                if i > 0 { out.bytes.append(UInt8(ascii: ",")) }
                var one = c
                one.run = run
                do {
                    var b = try API.curveJSON(store, one)
                    b.removeLast()  // its newline
                    out.bytes += b
                } catch {
                    let e = APIFailure(error, maxBodyBytes: 0).error
                    var o = JSONOut()
                    o.beginObject()
                    o.field("run", run)
                    o.key("error")
                    o.beginObject()
                    o.field("status", e.status)
                    o.field("message", e.message)
                    o.endObject()
                    o.endObject()
                    out.bytes += o.bytes
                }
            }
            out.bytes += Array("]}\n".utf8)
            return out.bytes
        }
        return jsonResponse(bytes)
    }

    static func seriesInfo(_ store: Store, run: RunID, key: SeriesKey, lineage: Lineage = .full) throws -> (Store.SeriesInfo, [Store.SeriesInfo]) {
        let all = try store.series(of: run, lineage: lineage)
        guard let s = all.first(where: { $0.key == key }) else {
            throw APIError(404, "run \(run) has no series \(key.canonical) (see GET /api/runs/\(run)/series)", field: "metric")
        }
        return (s, all)
    }

    static func curveJSON(_ store: Store, _ c: CurveRequest) throws -> [UInt8] {
        let info = try store.run(c.run)
        let key: SeriesKey
        do { key = try SeriesKey(run: info.id, metric: c.metric, labels: c.labels) } catch {
            throw APIError.bad(error.description, field: c.labels.isEmpty ? "metric" : "labels")
        }
        _ = try seriesInfo(store, run: info.id, key: key, lineage: c.lineage)
        let axis: Store.XAxis =
            switch c.axis {
            case .step: .step;
            case .time: .time;
            case .relative: .relative
            }
        var o = JSONOut(capacity: 160 * min(c.buckets, 4096))
        o.beginObject()
        o.field("run", info.id.text)
        o.field("name", info.name)
        o.field("metric", c.metric)
        o.field("x", c.axis.rawValue)
        // Default range: the whole series, Int64.max included; on the relative axis x = time - t0
        // (t0: the run's first point) where that difference is an Int64 (docs/QUERIES.md). The
        // library decides both, as for the CLI.
        let t0: Int64? = c.axis == .relative ? try store.relativeOrigin(of: info.id, lineage: c.lineage) : nil
        let whole = try store.curveRange(info.id, c.metric, labels: c.labels, x: axis, lineage: c.lineage) ?? 0...0
        let lo = c.from ?? whole.lowerBound, last = c.last ?? whole.upperBound
        o.field("from", lo)
        o.key("to")
        o.raw(Buckets.exclusiveText(last))
        o.field("buckets", c.buckets)
        if let t0 { o.field("t0", t0) }
        if let since = c.since { o.field("since", since) }
        o.key("rows")
        o.beginArray()
        if lo <= last {
            let rows =
                c.quantiles.isEmpty
                ? try store.curve(
                    info.id, c.metric, labels: c.labels, x: axis, range: lo...last, buckets: c.buckets, origin: t0, since: c.since,
                    lineage: c.lineage)
                : try store.curve(
                    info.id, c.metric, labels: c.labels, steps: lo...last, buckets: c.buckets, quantiles: c.quantiles, exact: c.exact, since: c.since,
                    lineage: c.lineage)
            // Bucket bounds: x0 is the bucket's first x, x1 one past its last (exact integers).
            for r in rows {
                o.beginObject()
                o.field("bucket", r.bucket)
                o.field("x0", r.range.lowerBound)
                o.key("x1")
                o.raw(Buckets.exclusiveText(r.range.upperBound))
                o.statsFields(r.stats)
                o.field("finite", r.finiteCount)
                o.field("pinf", r.positiveInfinityCount)
                o.field("ninf", r.negativeInfinityCount)
                // Where ±Inf hides the finite extremes: the largest and smallest finite values.
                if r.positiveInfinityCount + r.negativeInfinityCount > 0 {
                    o.field("finite_min", r.finiteMin)
                    o.field("finite_max", r.finiteMax)
                }
                if !c.quantiles.isEmpty {
                    o.quantileFields(c.quantiles, r.quantiles)
                    o.field("quantiles_exact", r.quantilesExact)
                }
                o.endObject()
            }
        }
        o.endArray()
        return o.endDocument()
    }

    /// Raw points, streamed: the series is read a step window at a time (about 64 Ki points per
    /// window), so memory stays bounded however long the series is.
    func points(_ request: Request) async throws -> Response {
        let q = Query(request)
        let runText = try q.require("run")
        let metric = try q.require("metric")
        let labels = try q.labels()
        let from = try q.int("from"), toLast = try q.last("to")
        if let f = from, let l = toLast, f > l {
            throw APIError.bad("from (\(f)) must be less than to (\(Buckets.exclusiveText(l))): the range is [from, to)", field: "to")
        }
        let lineage = try API.lineageOption(q)
        let store = self.store
        // Resolve everything that can fail before the 200 status is sent.
        let (runId, lo, last, count): (RunID, Int64, Int64, Int) = try await blocking {
            let info = try store.run(runText)
            let key: SeriesKey
            do { key = try SeriesKey(run: info.id, metric: metric, labels: labels) } catch {
                throw APIError.bad("\(error)", field: labels.isEmpty ? "metric" : "labels")
            }
            let (s, _) = try API.seriesInfo(store, run: info.id, key: key, lineage: lineage)
            let lo = max(from ?? s.firstStep, s.firstStep)
            let last = min(toLast ?? s.lastStep, s.lastStep)
            return (info.id, lo, last, s.count)
        }
        // Steps per window (about 64 Ki points each), in UInt64: a span may exceed Int64.max.
        let window: UInt64 = {
            guard count > 0, lo <= last else { return 1 }
            let span = UInt64(bitPattern: last &- lo)
            let w = Double(span) / Double(count) * 65536
            return max(1, w >= Double(span) ? span : UInt64(w))
        }()
        let body = ResponseBody { writer in
            var head = JSONOut()
            head.raw("{\"run\":\"\(runId.text)\",\"metric\":")
            head.string(metric)
            head.raw(",\"columns\":[\"step\",\"value\",\"time\"],\"points\":[")
            try await writer.write(ByteBuffer(bytes: head.bytes))
            var first = true
            var a = lo
            var more = lo <= last
            while more {
                // The window [a, b] ends at `last` or after `window` steps, without overflow.
                let b = UInt64(bitPattern: last &- a) < window ? last : a &+ Int64(bitPattern: window &- 1)
                let range = a...b
                let lead = !first
                let chunk: [UInt8] = try await blocking {
                    let d = try store.read(runId, metric, labels: labels, steps: range, times: true, lineage: lineage)
                    var o = JSONOut(capacity: d.count * 40)
                    for i in 0..<d.count {
                        if lead || i > 0 { o.bytes.append(UInt8(ascii: ",")) }
                        o.bytes.append(UInt8(ascii: "["))
                        o.appendInt(d.steps[i])
                        o.bytes.append(UInt8(ascii: ","))
                        o.appendDouble(d.values[i])
                        o.bytes.append(UInt8(ascii: ","))
                        o.appendInt(d.times[i])
                        o.bytes.append(UInt8(ascii: "]"))
                    }
                    return o.bytes
                }
                if !chunk.isEmpty {
                    first = false
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                more = b < last
                if more { a = b + 1 }
            }
            try await writer.write(ByteBuffer(string: "]}\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }
}

extension API {
    /// `GET /api/quantiles?run=R&metric=M&q=0.5,0.99[&from=A&to=B][&exact=1]`: quantiles of one
    /// series over a step range `[from, to)` (the whole series by default), from chunk sketches
    /// (within 0.99 %) or exact.
    func quantiles(_ request: Request) async throws -> Response {
        let q = Query(request)
        let runText = try q.require("run"), metric = try q.require("metric"), labels = try q.labels()
        let levels = try q.quantiles("q")
        if levels.isEmpty { throw APIError.bad("query parameter \"q\" is missing (e.g. q=0.5,0.9,0.99)", field: "q") }
        let from = try q.int("from"), last = try q.last("to"), exact = try q.bool("exact")
        if let f = from, let l = last, f > l {
            throw APIError.bad("from (\(f)) must be less than to (\(Buckets.exclusiveText(l))): the range is [from, to)", field: "to")
        }
        let lineage = try API.lineageOption(q)
        let store = self.store
        return try await jsonBlocking {
            let info = try store.run(runText)
            let key: SeriesKey
            do { key = try SeriesKey(run: info.id, metric: metric, labels: labels) } catch {
                throw APIError.bad("\(error)", field: labels.isEmpty ? "metric" : "labels")
            }
            _ = try API.seriesInfo(store, run: info.id, key: key, lineage: lineage)
            let steps: ClosedRange<Int64>? = from == nil && last == nil ? nil : (from ?? .min)...(last ?? .max)
            let r = try store.quantiles(info.id, metric, labels: labels, steps: steps, levels: levels, exact: exact, lineage: lineage)
            var o = JSONOut(capacity: 256)
            o.beginObject()
            o.field("run", info.id.text)
            o.field("metric", metric)
            o.field("count", r.count)
            o.field("exact", r.exact)
            o.field("relative_error", r.relativeError)
            o.quantileFields(levels, r.values)
            return o.endDocument()
        }
    }
}

extension JSONOut {
    /// `"quantiles": {"p50": v, ...}` (names as `Quantile.name`; NaN when there is no finite value).
    mutating func quantileFields(_ levels: [Double], _ values: [Double]) {
        key("quantiles")
        beginObject()
        for (q, v) in zip(levels, values) { field(Quantile.name(q), v) }
        endObject()
    }
}

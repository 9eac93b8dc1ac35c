import Hummingbird
import Strata

/// The x axis of a curve.
enum CurveAxis: String, Sendable {
    /// Steps: answered by the library's exact tiered `curve` (cost grows with buckets).
    case step
    /// Wall time in ms since 1970: bucketed here from the raw points (cost grows with points).
    case time
    /// Wall time in ms since the run's first point (any metric of the run).
    case relative
}

/// Exact statistics of one time bucket, accumulated point by point in step order.
struct TimeBucket {
    var count = 0
    var nan = 0
    var min = Double.infinity
    var max = -Double.infinity
    var sum = 0.0
    var sumSquares = 0.0
    var first = 0.0
    var last = 0.0
    var firstStep: Int64 = 0
    var lastStep: Int64 = 0

    @inline(__always) mutating func add(step: Int64, value v: Double) {
        if count == 0 { first = v; firstStep = step }
        count += 1
        last = v
        lastStep = step
        if v.isNaN { nan += 1; return }
        if v < min { min = v }
        if v > max { max = v }
        sum += v
        sumSquares += v * v
    }

    var numeric: Int { count - nan }
    var mean: Double { numeric > 0 ? sum / Double(numeric) : .nan }
    var std: Double {
        guard numeric > 0 else { return .nan }
        let m = mean
        let variance = Swift.max(0, sumSquares / Double(numeric) - m * m)
        return variance.squareRoot()
    }
}

/// `floor((x - lo) * buckets / (hi - lo))` for lo <= x < hi, exactly (128-bit intermediate).
@inline(__always)
func bucketIndex(_ x: Int64, lo: Int64, hi: Int64, buckets: Int) -> Int {
    let off = UInt64(bitPattern: x &- lo)
    let span = UInt64(bitPattern: hi &- lo)
    let (h, l) = off.multipliedFullWidth(by: UInt64(buckets))
    return Int(span.dividingFullWidth((h, l)).quotient)
}

extension API {
    struct CurveRequest: Sendable {
        var run: String
        var metric: String
        var labels: [String: String]
        var from: Int64?
        var to: Int64?
        var buckets: Int
        var axis: CurveAxis
    }

    func curve(_ request: Request) async throws -> Response {
        let q = Query(request)
        let axisText = q.string("x") ?? "step"
        guard let axis = CurveAxis(rawValue: axisText) else {
            throw APIError.bad("x must be step, time or relative, got \"\(axisText.prefix(40))\"", field: "x")
        }
        let c = CurveRequest(run: try q.require("run"), metric: try q.require("metric"), labels: try q.labels(),
                             from: try q.int("from"), to: try q.int("to"),
                             buckets: try q.int("buckets", default: 500, range: 1...100_000), axis: axis)
        if let f = c.from, let t = c.to, f >= t {
            throw APIError.bad("from (\(f)) must be less than to (\(t)): the range is [from, to)", field: "to")
        }
        let store = self.store
        let bytes: [UInt8] = try await blocking { try API.curveJSON(store, c) }
        return jsonResponse(bytes)
    }

    static func seriesInfo(_ store: Store, run: RunID, key: SeriesKey) throws -> (Store.SeriesInfo, [Store.SeriesInfo]) {
        let all = try store.series(of: run)
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
        let (s, all) = try seriesInfo(store, run: info.id, key: key)
        var o = JSONOut(capacity: 160 * min(c.buckets, 4096))
        o.beginObject()
        o.field("run", info.id.text)
        o.field("name", info.name)
        o.field("metric", c.metric)
        o.field("x", c.axis.rawValue)
        switch c.axis {
        case .step:
            let lo = c.from ?? s.firstStep
            let hi = c.to ?? (s.lastStep == .max ? .max : s.lastStep + 1)
            o.field("from", lo)
            o.field("to", hi)
            o.field("buckets", c.buckets)
            o.key("rows")
            o.beginArray()
            if lo < hi {
                let rows = try store.curve(info.id, c.metric, labels: c.labels, steps: lo..<hi, buckets: c.buckets)
                let width = (Double(hi) - Double(lo)) / Double(c.buckets)
                for r in rows {
                    o.beginObject()
                    o.field("bucket", r.bucket)
                    o.field("x0", Double(lo) + Double(r.bucket) * width)
                    o.field("x1", Double(lo) + Double(r.bucket + 1) * width)
                    o.statsFields(r.stats)
                    o.endObject()
                }
            }
            o.endArray()
        case .time, .relative:
            // Wall-time axes: O(points) — every point of the series is read and bucketed here.
            let t0: Int64 = c.axis == .relative ? all.map(\.minTime).min() ?? s.minTime : 0
            let lo = c.from ?? (s.minTime - t0)
            let hi = c.to ?? (s.maxTime - t0 + 1)
            o.field("from", lo)
            o.field("to", hi)
            o.field("buckets", c.buckets)
            if c.axis == .relative { o.field("t0", t0) }
            var buckets = [TimeBucket](repeating: TimeBucket(), count: c.buckets)
            if lo < hi {
                let d = try store.read(info.id, c.metric, labels: c.labels, steps: nil, times: true)
                d.steps.withUnsafeBufferPointer { sp in
                    d.values.withUnsafeBufferPointer { vp in
                        d.times.withUnsafeBufferPointer { tp in
                            for i in 0..<sp.count {
                                let x = tp[i] &- t0
                                if x < lo || x >= hi { continue }
                                buckets[bucketIndex(x, lo: lo, hi: hi, buckets: c.buckets)].add(step: sp[i], value: vp[i])
                            }
                        }
                    }
                }
            }
            let width = (Double(hi) - Double(lo)) / Double(c.buckets)
            o.key("rows")
            o.beginArray()
            for (b, t) in buckets.enumerated() where t.count > 0 {
                o.beginObject()
                o.field("bucket", b)
                o.field("x0", Double(lo) + Double(b) * width)
                o.field("x1", Double(lo) + Double(b + 1) * width)
                o.field("count", t.count)
                o.field("nan", t.nan)
                o.field("min", t.numeric > 0 ? t.min : .nan)
                o.field("max", t.numeric > 0 ? t.max : .nan)
                o.field("mean", t.mean)
                o.field("std", t.std)
                o.field("first", t.first)
                o.field("last", t.last)
                o.field("first_step", t.firstStep)
                o.field("last_step", t.lastStep)
                o.endObject()
            }
            o.endArray()
        }
        o.endObject()
        o.bytes.append(10)
        return o.bytes
    }

    /// Raw points, streamed: the series is read a step window at a time (about 64 Ki points per
    /// window), so memory stays bounded however long the series is.
    func points(_ request: Request) async throws -> Response {
        let q = Query(request)
        let runText = try q.require("run")
        let metric = try q.require("metric")
        let labels = try q.labels()
        let from = try q.int("from"), to = try q.int("to")
        if let f = from, let t = to, f >= t { throw APIError.bad("from (\(f)) must be less than to (\(t)): the range is [from, to)", field: "to") }
        let store = self.store
        // Resolve everything that can fail before the 200 status is sent.
        let (runId, lo, hi, count): (RunID, Int64, Int64, Int) = try await blocking {
            let info = try store.run(runText)
            let key: SeriesKey
            do { key = try SeriesKey(run: info.id, metric: metric, labels: labels) } catch {
                throw APIError.bad("\(error)", field: labels.isEmpty ? "metric" : "labels")
            }
            let (s, _) = try API.seriesInfo(store, run: info.id, key: key)
            let lo = max(from ?? s.firstStep, s.firstStep)
            let last = s.lastStep == .max ? Int64.max : s.lastStep + 1
            let hi = min(to ?? last, last)
            return (info.id, lo, hi, s.count)
        }
        let window: Int64 = {
            let span = Double(hi) - Double(lo)
            guard count > 0, span > 0 else { return 1 }
            return Int64(max(1, min(span, span * 65536 / Double(count))))
        }()
        let body = ResponseBody { writer in
            var head = JSONOut()
            head.raw("{\"run\":\"\(runId.text)\",\"metric\":")
            head.string(metric)
            head.raw(",\"columns\":[\"step\",\"value\",\"time\"],\"points\":[")
            try await writer.write(ByteBuffer(bytes: head.bytes))
            var first = true
            var a = lo
            while a < hi {
                let b = a > hi &- window ? hi : a + window
                let range = a..<b
                let lead = !first
                let chunk: [UInt8] = try await blocking {
                    let d = try store.read(runId, metric, labels: labels, steps: range, times: true)
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
                a = b
            }
            try await writer.write(ByteBuffer(string: "]}\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }
}

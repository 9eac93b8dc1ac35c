import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

/// Query parameters with errors that name the parameter.
struct Query {
    let values: [String: String]

    init(_ request: Request) {
        var v: [String: String] = [:]
        for (k, x) in request.uri.queryParameters { v[String(k)] = String(x) }
        values = v
    }

    func string(_ k: String) -> String? {
        guard let v = values[k], !v.isEmpty else { return nil }
        return v
    }

    func require(_ k: String) throws(APIError) -> String {
        guard let v = string(k) else { throw APIError.bad("query parameter \"\(k)\" is missing", field: k) }
        return v
    }

    func int(_ k: String) throws(APIError) -> Int64? {
        guard let v = string(k) else { return nil }
        guard let i = Int64(v) else { throw APIError.bad("query parameter \"\(k)\" must be an integer, got \"\(v.prefix(40))\"", field: k) }
        return i
    }

    /// An exclusive upper bound `k` as the inclusive last value: an integer above Int64.min, or
    /// 9223372036854775808 (so that a range can end at Int64.max).
    func last(_ k: String) throws(APIError) -> Int64? {
        guard let v = string(k) else { return nil }
        guard let l = Buckets.lastValue(exclusiveEnd: v) else {
            throw APIError.bad(
                "query parameter \"\(k)\" must be an integer from -9223372036854775807 to 9223372036854775808, got \"\(v.prefix(40))\"", field: k)
        }
        return l
    }

    func int(_ k: String, default d: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let v = try int(k) else { return d }
        guard range.contains(Int(v)) else {
            throw APIError.bad("query parameter \"\(k)\" must be \(range.lowerBound) to \(range.upperBound), got \(v)", field: k)
        }
        return Int(v)
    }

    /// `1`, `true`, `yes` or `0`, `false`, `no`; absent or empty is false. Anything else is refused
    /// (a typo like `sync=ture` must not silently mean no).
    func bool(_ k: String) throws(APIError) -> Bool {
        guard let v = string(k) else { return false }
        switch v {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw APIError.bad("query parameter \"\(k)\" must be 1, true, yes, 0, false or no, got \"\(v.prefix(40))\"", field: k)
        }
    }

    /// `quantiles=0.5,0.9,0.99` (or `p50,p90,p99`): each strictly between 0 and 1; empty when absent.
    func quantiles(_ k: String = "quantiles") throws(APIError) -> [Double] {
        guard let text = string(k) else { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= Quantile.maxCount else {
            throw APIError.bad("\(k): at most \(Quantile.maxCount) quantiles, got \(parts.count)", field: k)
        }
        var out: [Double] = []
        for p in parts {
            if let q = Quantile.parseName(String(p)) { out.append(q); continue }
            guard let q = Double(p), q.isFinite else {
                throw APIError.bad("\(k): \"\(p.prefix(40))\" is not a quantile (write 0.5,0.9,0.99 or p50,p90,p99)", field: k)
            }
            guard Quantile.isValid(q) else { throw APIError.bad("\(k): \(q) is outside (0, 1) (write p99 as 0.99)", field: k) }
            out.append(q)
        }
        return out
    }

    func filter() throws(APIError) -> Filter? {
        guard let text = string("where") else { return nil }
        do { return try Filter(text) } catch {
            throw APIError.bad("where: \(error.description)", field: "where")
        }
    }

    /// `labels=k=v,k=v` (context labels of a series).
    func labels() throws(APIError) -> [String: String] {
        guard let text = string("labels") else { return [:] }
        var out: [String: String] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw APIError.bad("labels must be k=v,k=v, got \"\(text.prefix(60))\"", field: "labels") }
            out[String(kv[0])] = String(kv[1])
        }
        return out
    }
}

/// The handlers of the `/api` routes.
final class API: Sendable {
    let store: Store
    let ingestor: Ingestor
    let keys: IdempotencyKeys
    let tokens: TokenCache
    let maxBodyBytes: Int
    let alerts: AlertService

    init(store: Store, maxBodyBytes: Int) {
        self.store = store
        self.alerts = AlertService(store: store)
        self.ingestor = Ingestor(store: store, alerts: alerts)
        self.keys = IdempotencyKeys(store: store)
        self.tokens = TokenCache(store: store.path)
        self.maxBodyBytes = maxBodyBytes
    }

    /// Turns thrown errors into ``APIFailure``s, which the router answers as JSON error responses.
    func wrap(_ body: () async throws -> Response) async throws(APIFailure) -> Response {
        do {
            return try await body()
        } catch {
            throw APIFailure(error, maxBodyBytes: maxBodyBytes)
        }
    }

    // MARK: ingest

    func ingest(_ request: Request, context: some RequestContext) async throws -> Response {
        let q = Query(request)
        if let len = request.headers[.contentLength].flatMap({ Int($0) }), len > maxBodyBytes {
            throw APIError(413, "request body of \(len) bytes is larger than the limit of \(maxBodyBytes) bytes (send smaller batches)")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(413, "request body is larger than the limit of \(maxBodyBytes) bytes (send smaller batches)")
        }
        let sync = try q.bool("sync")
        let ingestor = self.ingestor
        let store = self.store
        let keys = self.keys
        let key = try IdempotencyKeys.key(request.headers[HTTPFields.Element.Name("Idempotency-Key")!])
        let bodyBytes = Array(buffer: body)
        let digest = Digest.sha256(bodyBytes)
        let nowMs = Clock.milliseconds()
        if let key {
            switch keys.start(key, digest: digest, nowMs: nowMs) {
            case .apply: break
            case .replay(let c):
                var r = jsonResponse(c.response)
                r.headers[HTTPFields.Element.Name("Idempotent-Replayed")!] = "true"
                return r
            case .inProgress:
                throw APIError(
                    409, "a batch with Idempotency-Key \"\(key)\" is being applied right now; retry after it is answered", field: "Idempotency-Key")
            case .otherBody:
                throw APIError(422, "Idempotency-Key \"\(key)\" was already used for a batch with a different body", field: "Idempotency-Key")
            }
        }
        let result: [UInt8]
        do {
            result = try await WorkerPool.ingest.runIfActive {
                let records = try BatchDecoder.decode(bodyBytes)
                let outcome: Ingestor.Outcome, commit: BatchCommit
                do {
                    // A batch without a key is atomic too; only a keyed one keeps its answer.
                    (outcome, commit) = try ingestor.apply(records) { outcome in
                        BatchCommit(
                            key: key ?? "", digest: digest, committedMs: Clock.milliseconds(),
                            response: key == nil ? [] : API.ingestAnswer(outcome, sync: sync))
                    }
                } catch {
                    // 507 Insufficient Storage: the disk is full; reads go on, and writes work again once space is freed.
                    throw APIError(
                        (error as? StrataError)?.code == .noSpace ? 507 : 500,
                        "store error while applying the batch (no point of it was stored): \(error)")
                }
                if sync { try store.flush() }
                guard key != nil else { return API.ingestAnswer(outcome, sync: sync) }
                keys.finish(commit)
                return commit.response
            }
        } catch {
            if let key { keys.abandon(key) }
            throw error
        }
        return jsonResponse(result)
    }

    /// The answer to an ingest batch (kept with the batch's key, and sent again to a retry).
    static func ingestAnswer(_ outcome: Ingestor.Outcome, sync: Bool) -> [UInt8] {
        var o = JSONOut()
        o.beginObject()
        o.field("records", outcome.records)
        o.field("points", outcome.points)
        o.field("durable", sync ? "fsync" : "log")
        o.key("runs")
        o.beginArray()
        for (run, created) in outcome.runs {
            o.beginObject()
            o.field("id", run.id.text)
            o.field("name", run.name)
            o.field("created", created)
            o.endObject()
        }
        o.endArray()
        return o.endDocument()
    }

    // MARK: runs

    func runs(_ request: Request) async throws -> Response {
        let q = Query(request)
        let filter = try q.filter()
        let sort = try q.string("sort").map { s throws(APIError) in try SortKey(s) }
        let limit = try q.int("limit", default: 1000, range: 1...1_000_000)
        let known = q.string("cursor")
        let store = self.store
        return try await jsonBlocking {
            var rows = try store.summary(where: filter)
            let total = rows.count
            if let sort { rows = sort.sorted(rows) }
            if rows.count > limit { rows.removeLast(rows.count - limit) }
            var list = JSONOut(capacity: 256 * rows.count)
            list.beginArray()
            for r in rows { list.runSummary(r) }
            list.endArray()
            // The change cursor: a digest of the list (and its total). A poll that sends the cursor
            // it has gets no list back while nothing it shows changed.
            var text = list.bytes
            text += Array(",\(total)".utf8)
            let cursor = Digest.sha256Hex(text, digits: 32)
            var o = JSONOut(capacity: list.bytes.count + 128)
            o.beginObject()
            o.field("total", total)
            o.field("count", rows.count)
            o.field("cursor", cursor)
            if known == cursor {
                o.field("unchanged", true)
            } else {
                o.key("runs")
                o.raw(String(decoding: list.bytes, as: UTF8.self))
            }
            return o.endDocument()
        }
    }

    /// `{…, "count": n, "runs": [run summaries]}`, the answer of /api/runs and /api/summary;
    /// `fields` writes the members before `count`.
    static func runList(_ rows: [RunSummary], _ fields: (inout JSONOut) -> Void = { _ in }) -> [UInt8] {
        var o = JSONOut(capacity: 256 * rows.count)
        o.beginObject()
        fields(&o)
        o.field("count", rows.count)
        o.key("runs")
        o.beginArray()
        for r in rows { o.runSummary(r) }
        o.endArray()
        return o.endDocument()
    }

    func run(_ idOrName: String, _ request: Request, series: Bool, onlySeries: Bool = false) async throws -> Response {
        let store = self.store
        let lineage = try API.lineageOption(Query(request))
        return try await jsonBlocking {
            let info = try store.run(idOrName)
            let list = try store.series(of: info.id, lineage: lineage)
            var o = JSONOut()
            o.beginObject()
            if onlySeries { o.field("run", info.id.text) } else { o.runFields(info); o.lineageFields(info, try store.lineageTree(of: info.id)) }
            o.key("series")
            o.beginArray()
            for s in list { o.seriesInfo(s) }
            o.endArray()
            return o.endDocument()
        }
    }

    func summary(_ request: Request) async throws -> Response {
        let q = Query(request)
        let filter = try q.filter()
        let lineage = try API.lineageOption(q)
        let store = self.store
        return try await jsonBlocking { API.runList(try store.summary(where: filter, lineage: lineage)) }
    }

    // MARK: cross-run

    func rank(_ request: Request) async throws -> Response {
        let q = Query(request)
        let metric = try q.require("metric")
        let byText = q.string("by") ?? "min"
        let byQuantile = Quantile.parseName(byText)
        guard let by = RankStatistic(rawValue: byText) ?? (byQuantile != nil ? .min : nil) else {
            throw APIError.bad(
                "by must be one of \(RankStatistic.allCases.map(\.rawValue).joined(separator: ", ")) or a quantile such as p50, p90, p99, got \"\(byText.prefix(40))\"",
                field: "by")
        }
        var asc: Bool?
        if let order = q.string("order") {
            switch order {
            case "asc": asc = true
            case "desc": asc = false
            default: throw APIError.bad("order must be asc or desc, got \"\(order.prefix(40))\"", field: "order")
            }
        }
        let filter = try q.filter()
        let limit = try q.int("limit", default: 10, range: 1...1_000_000)
        let lineage = try API.lineageOption(q)
        let store = self.store
        let ascending = asc
        return try await jsonBlocking {
            let rows =
                try byQuantile.map {
                    try store.rank(metric, quantile: $0, ascending: ascending ?? true, where: filter, limit: limit, lineage: lineage)
                }
                ?? store.rank(metric, by: by, ascending: ascending, where: filter, limit: limit, lineage: lineage)
            var o = JSONOut(capacity: 256 * rows.count)
            o.beginObject()
            o.field("metric", metric)
            o.field("by", byQuantile.map(Quantile.name) ?? by.rawValue)
            o.field("order", (ascending ?? (byQuantile != nil || by.defaultAscending)) ? "asc" : "desc")
            o.key("rows")
            o.beginArray()
            for (i, r) in rows.enumerated() {
                o.beginObject()
                o.field("rank", i + 1)
                o.field("value", r.value)
                o.field("step", r.step)
                o.key("run")
                o.beginObject()
                o.runFields(r.run)
                o.endObject()
                o.endObject()
            }
            o.endArray()
            return o.endDocument()
        }
    }

    func band(_ request: Request) async throws -> Response {
        let q = Query(request)
        let metric = try q.require("metric")
        var group = try q.require("group")
        if group.hasPrefix("params."), group.count > 7 { group = String(group.dropFirst(7)) }
        let groupParam = group
        let filter = try q.filter()
        let givenWidth = try q.int("width")
        if let w = givenWidth, w <= 0 { throw APIError.bad("width must be a positive integer, got \(w)", field: "width") }
        let buckets = try q.int("buckets", default: 200, range: 1...Buckets.maxCount)
        let levels = try q.quantiles()
        let lineage = try API.lineageOption(q)
        let store = self.store
        return try await jsonBlocking {
            // A group or metric that no run has is a typo, not one group "(none)" or no rows.
            let runs = try store.summary()
            if !runs.isEmpty {
                let params = Set(runs.flatMap { $0.run.params.keys })
                if !params.contains(groupParam) {
                    let hint = Suggest.closest(to: groupParam, in: params.sorted()).map { " (did you mean params.\($0)?)" } ?? ""
                    throw APIError.bad("group: no run has param \"\(groupParam.prefix(60))\"\(hint)", field: "group")
                }
                let metrics = Set(runs.flatMap { $0.metrics.keys })
                if !metrics.contains(metric) {
                    let hint = Suggest.closest(to: metric, in: metrics.sorted()).map { " (did you mean \($0)?)" } ?? ""
                    throw APIError.bad("metric: no run has metric \"\(metric.prefix(60))\"\(hint)", field: "metric")
                }
            }
            var width = givenWidth ?? 1
            if givenWidth == nil {
                // Automatic: about `buckets` buckets over the step span of the matching runs.
                var lo = Int64.max, hi = Int64.min
                // Without a filter the runs read for the checks above are the matching runs.
                for r in try (filter == nil ? runs : store.summary(where: filter, lineage: lineage)) {
                    if let s = r.metrics[metric] { lo = min(lo, s.firstStep); hi = max(hi, s.lastStep) }
                }
                if lo <= hi {
                    // span = hi - lo exactly (it may exceed Int64.max); width ≤ 2^64 / 1 is capped.
                    let span = UInt64(bitPattern: hi &- lo)
                    let w = span / UInt64(buckets)  // up to 2^64 - 1 with one bucket
                    width = w >= UInt64(Int64.max) ? Int64.max : Int64(w) + 1
                }
            }
            let rows = try store.band(metric, groupBy: groupParam, bucketWidth: width, where: filter, quantiles: levels, lineage: lineage)
            var o = JSONOut(capacity: 128 * rows.count)
            o.beginObject()
            o.field("metric", metric)
            o.field("group", groupParam)
            o.field("width", width)
            o.key("rows")
            o.beginArray()
            for r in rows {
                o.beginObject()
                o.field("group", r.group)
                o.field("bucket", r.bucket)
                o.field("step", Store.bandStart(r.bucket, width: width))
                o.field("count", r.count)
                o.field("nan", r.nanCount)
                o.field("mean", r.mean)
                o.field("std", r.std)
                o.field("min", r.min)
                o.field("max", r.max)
                if !levels.isEmpty { o.quantileFields(levels, r.quantiles) }
                o.endObject()
            }
            o.endArray()
            return o.endDocument()
        }
    }
}

/// A sort key of `GET /api/runs`: `name`, `id`, `created`, `ended`, `status`, `project`,
/// `params.K`, `meta.K`, `METRIC.AGG` (AGG: last, first, min, max, mean, count, first_step,
/// last_step); a leading `-` sorts descending. Missing values sort last either way.
struct SortKey: Sendable {
    enum Field: Sendable { case name, id, created, ended, status, project, param(String), meta(String), metric(String, String) }
    let field: Field
    let descending: Bool
    static let aggregates: Set<String> = ["last", "first", "min", "max", "mean", "count", "first_step", "last_step", "std"]

    init(_ text: String) throws(APIError) {
        var t = Substring(text)
        descending = t.hasPrefix("-")
        if descending { t = t.dropFirst() }
        switch t {
        case "name": field = .name
        case "id": field = .id
        case "created": field = .created
        case "ended": field = .ended
        case "status": field = .status
        case "project": field = .project
        default:
            if t.hasPrefix("params."), t.count > 7 { field = .param(String(t.dropFirst(7))); return }
            if t.hasPrefix("meta."), t.count > 5 { field = .meta(String(t.dropFirst(5))); return }
            if let dot = t.lastIndex(of: "."), SortKey.aggregates.contains(String(t[t.index(after: dot)...])), dot > t.startIndex {
                field = .metric(String(t[..<dot]), String(t[t.index(after: dot)...]))
                return
            }
            throw APIError.bad(
                "sort must be name, id, created, ended, status, project, params.KEY, meta.KEY or METRIC.AGG (AGG: \(SortKey.aggregates.sorted().joined(separator: ", "))), got \"\(text.prefix(60))\"",
                field: "sort")
        }
    }

    enum Value { case number(Double), text(String) }

    func value(_ r: RunSummary) -> Value? {
        switch field {
        case .name: return .text(r.run.name)
        case .id: return .text(r.run.id.text)
        case .created: return .number(Double(r.run.createdMs))
        case .ended: return r.run.endedMs.map { .number(Double($0)) }
        case .status: return .text(r.run.status.rawValue)
        case .project: return .text(r.run.project)
        case .param(let k): return r.run.params[k].map(Self.param)
        case .meta(let k): return r.run.metadata[k].map(Self.param)
        case .metric(let m, let agg):
            guard let s = r.metrics[m] else { return nil }
            let v: Double
            switch agg {
            case "last": v = s.last
            case "first": v = s.first
            case "min": v = s.min
            case "max": v = s.max
            case "mean": v = s.mean
            case "std": v = s.std
            case "count": v = Double(s.count)
            case "first_step": v = Double(s.firstStep)
            default: v = Double(s.lastStep)
            }
            return v.isNaN ? nil : .number(v)
        }
    }

    private static func param(_ p: ParamValue) -> Value {
        if let n = p.number { return .number(n) }
        return .text(p.description)
    }

    func sorted(_ rows: [RunSummary]) -> [RunSummary] {
        let keyed = rows.map { (value($0), $0) }
        let desc = descending
        return keyed.enumerated().sorted { a, b in
            switch (a.element.0, b.element.0) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return false
            case (_, nil): return true
            case let (x?, y?):
                let c: Int
                switch (x, y) {
                case let (.number(p), .number(q)): c = p < q ? -1 : (p > q ? 1 : 0)
                case let (.text(p), .text(q)): c = p < q ? -1 : (p > q ? 1 : 0)
                case (.number, .text): c = -1
                case (.text, .number): c = 1
                }
                if c == 0 { return a.offset < b.offset }
                return desc ? c > 0 : c < 0
            }
        }.map { $0.element.1 }
    }
}

extension JSONOut {
    mutating func runSummary(_ r: RunSummary) {
        beginObject()
        runFields(r.run)
        key("metrics")
        beginObject()
        for m in r.metrics.keys.sorted() { key(m); stats(r.metrics[m]!) }
        endObject()
        endObject()
    }

    mutating func seriesInfo(_ s: Store.SeriesInfo) {
        beginObject()
        field("key", s.key.canonical)
        field("metric", s.key.metric)
        key("labels")
        beginObject()
        for l in s.key.labels { field(l.key, l.value) }
        endObject()
        field("count", s.count)
        field("nan", s.nanCount)
        field("first_step", s.firstStep)
        field("last_step", s.lastStep)
        field("last", s.lastValue)
        field("min", s.min)
        field("max", s.max)
        field("min_time", s.minTime)
        field("max_time", s.maxTime)
        endObject()
    }
}

import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

/// The `/api/alerts` routes (docs/API.md, "Alerts"): list, add and remove rules; list events.
enum AlertsAPI {
    static func register(on router: Router<BasicRequestContext>, api: API) {
        let store = api.store
        router.get("/api/alerts/rules") { _, _ in
            try await api.wrap {
                try await jsonBlocking {
                    var o = JSONOut()
                    o.beginObject()
                    o.key("rules")
                    o.beginArray()
                    for r in try store.alertRules() { o.alertRule(r) }
                    o.endArray()
                    return o.endDocument()
                }
            }
        }
        router.post("/api/alerts/rules") { request, _ in
            try await api.wrap {
                var request = request
                let body = Array(buffer: try await request.collectBody(upTo: 1 << 16))
                return try await jsonBlocking {
                    let rule = try add(store, body)
                    api.alerts.rulesChanged()
                    var o = JSONOut()
                    o.alertRule(rule)
                    return o.endDocument()
                }
            }
        }
        router.delete("/api/alerts/rules/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            return try await api.wrap {
                try await jsonBlocking {
                    let r = try store.removeAlert(id)
                    api.alerts.rulesChanged()
                    var o = JSONOut()
                    o.beginObject()
                    o.key("removed")
                    o.alertRule(r)
                    return o.endDocument()
                }
            }
        }
        router.get("/api/alerts/events") { request, _ in
            let runName = Query(request).string("run")
            return try await api.wrap {
                try await jsonBlocking {
                    let run = try runName.map { n throws(StrataError) in try store.run(n).id }
                    let rules = Dictionary(try store.alertRules().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                    var o = JSONOut()
                    o.beginObject()
                    o.key("events")
                    o.beginArray()
                    for e in try store.alertEvents(run: run) { o.alertEvent(e, rule: rules[e.rule]) }
                    o.endArray()
                    return o.endDocument()
                }
            }
        }
    }

    /// Adds the rule a JSON object describes: `run` (name or id) or `project`, `metric`, one
    /// condition (`nonfinite`, `above`, `below`, `no_improvement` [+ `mode`], `stalled_minutes`,
    /// `baseline` + `percent`), optional `webhook` and `new_metric`.
    static func add(_ store: Store, _ body: [UInt8]) throws -> AlertRule {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APIError.bad("the body must be a JSON object describing an alert rule")
        }
        let known: Set<String> = [
            "run", "project", "metric", "nonfinite", "above", "below", "no_improvement", "mode", "stalled_minutes", "baseline", "percent",
            "webhook", "new_metric"
        ]
        for k in obj.keys where !known.contains(k) {
            throw APIError.bad("unknown field \"\(k.prefix(60))\"\(Suggest.didYouMean(k, in: known.sorted()))", field: k)
        }
        func string(_ k: String) throws(APIError) -> String? {
            guard let v = obj[k] else { return nil }
            guard let s = v as? String else { throw APIError.bad("\(k) must be a string", field: k) }
            return s
        }
        func number(_ k: String) throws(APIError) -> Double? {
            guard let v = obj[k] else { return nil }
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { throw APIError.bad("\(k) must be a number", field: k) }
            return n.doubleValue
        }
        func flag(_ k: String) throws(APIError) -> Bool {
            guard let v = obj[k] else { return false }
            guard let b = v as? Bool else { throw APIError.bad("\(k) must be true or false", field: k) }
            return b
        }
        guard let metric = try string("metric") else { throw APIError.bad("metric is required", field: "metric") }
        let scope: AlertScope
        switch (try string("run"), try string("project")) {
        case (let r?, nil): scope = .run(try store.run(r).id)
        case (nil, let p?): scope = .project(p)
        default: throw APIError.bad("give exactly one of run or project", field: "run")
        }
        var steps: Int64?
        if let n = try number("no_improvement") {
            guard n == n.rounded(), abs(n) < 1e18 else {
                throw APIError.bad("no_improvement must be a whole number of steps", field: "no_improvement")
            }
            steps = Int64(n)
        }
        let baseline = try string("baseline").map { b throws(StrataError) in try store.run(b).id }
        let condition = try AlertCondition.from(
            nonFinite: try flag("nonfinite"), above: try number("above"), below: try number("below"), noImprovement: steps,
            mode: try string("mode"), stalledMinutes: try number("stalled_minutes"), baseline: baseline, percent: try number("percent"))
        return try store.addAlert(
            scope: scope, metric: metric, condition: condition, webhook: try string("webhook"), allowNewMetric: try flag("new_metric"))
    }
}

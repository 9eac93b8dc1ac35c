import Strata

// The JSON form of alert rules and events: the server's answers and webhook bodies (docs/API.md,
// "Alerts").
extension JSONOut {
    /// `{"id", "scope", "project"|"run", "metric", "condition": {...}, "webhook", "created_ms"}`.
    package mutating func alertRule(_ r: AlertRule) {
        beginObject()
        field("id", r.id)
        switch r.scope {
        case .project(let p): field("scope", "project"); field("project", p)
        case .run(let id): field("scope", "run"); field("run", id.text)
        }
        field("metric", r.metric)
        key("condition")
        beginObject()
        switch r.condition {
        case .nonFinite: field("kind", "nonfinite")
        case .above(let t): field("kind", "above"); field("threshold", t)
        case .below(let t): field("kind", "below"); field("threshold", t)
        case .noImprovement(let n, let m): field("kind", "no_improvement"); field("steps", n); field("mode", m.rawValue)
        case .stalled(let ms): field("kind", "stalled"); field("minutes", Double(ms) / 60_000)
        case .baseline(let b, let p): field("kind", "baseline"); field("baseline", b.text); field("percent", p)
        }
        field("text", r.condition.description)
        endObject()
        field("webhook", r.webhook)
        field("created_ms", r.createdMs)
        endObject()
    }

    /// `{"id", "rule", "run", "series", "step", "value", "time_ms", "delivered_ms"}` (value NaN or
    /// ±Infinity as strings, as everywhere in the API).
    package mutating func alertEvent(_ e: AlertEvent, rule: AlertRule? = nil) {
        beginObject()
        field("id", e.id)
        field("rule", e.rule)
        field("run", e.run.text)
        field("series", e.series)
        field("step", e.step)
        field("value", e.value)
        field("time_ms", e.timeMs)
        field("delivered_ms", e.deliveredMs)
        if let rule { field("condition", rule.condition.description) }
        endObject()
    }
}

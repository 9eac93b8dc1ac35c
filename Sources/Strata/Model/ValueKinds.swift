/// ±Inf counts and the smallest and largest finite value of some points.
struct ValueKinds: Equatable {
    var positive = 0
    var negative = 0
    var finiteMin = Double.infinity
    var finiteMax = -Double.infinity

    mutating func add(_ v: Double) {
        if v == .infinity { positive += 1 } else if v == -.infinity { negative += 1 } else if !v.isNaN { addFinite(v) }
    }
    mutating func addFinite(_ v: Double) {
        if v < finiteMin { finiteMin = v }
        if v > finiteMax { finiteMax = v }
    }
    /// Points whose statistics show no infinity: their min and max are their finite extremes.
    mutating func add(finiteStatsOf a: Aggregate) {
        if a.numericCount > 0 { addFinite(a.min); addFinite(a.max) }
    }
    mutating func merge(_ o: ValueKinds) {
        positive += o.positive
        negative += o.negative
        if o.finiteMin <= o.finiteMax { addFinite(o.finiteMin); addFinite(o.finiteMax) }
    }
}

extension Aggregate {
    /// Whether some value may be ±Inf: a numeric value exists and the min is −Inf or the max +Inf
    /// (exact for points: the min is −Inf exactly when one value is −Inf, likewise the max).
    var mayHoldInfinity: Bool { numericCount > 0 && (min == -.infinity || max == .infinity) }
}

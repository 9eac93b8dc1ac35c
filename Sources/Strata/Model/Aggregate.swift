/// Statistics of a set of points and how they combine: the one definition used by storage (chunk
/// headers, tier blocks, segment directory summaries) and by queries (buckets, aggregates, bands).
///
/// It lives in `Model` because both `Storage` and `Query` use it and it depends on neither: a
/// plain value with its merge rules. The vectorised kernel over raw memory that chunk encoding and
/// block decoding use is in `AggregateUnsafe.swift`; the public face of an `Aggregate` is `Stats`.

/// Statistics of a run of points: what a chunk header, a tier bucket and a query bucket hold.
///
/// Conventions (documented in docs/QUERIES.md): `count` counts every point, NaN included;
/// `nanCount` counts NaNs; min, max, sum and m2 (sum of squared deviations from the mean) are over
/// non-NaN values with IEEE rules for ±Inf; first/last are the values at the smallest/largest step
/// (first and last arrival among equal steps), NaN or not.
struct Aggregate: Sendable, Equatable {
    var count: Int = 0
    var nanCount: Int = 0
    var min: Double = .infinity
    var max: Double = -.infinity
    var sum: Double = 0
    var m2: Double = 0
    /// Steps where the min and max were first reached (smallest step; earliest arrival on ties).
    var minStep: Int64 = .max
    var maxStep: Int64 = .max
    var firstStep: Int64 = .max
    var firstValue: Double = .nan
    var lastStep: Int64 = .min
    var lastValue: Double = .nan
    /// Arrival ranks of the first and last points, to order equal steps across chunks.
    var firstRank: UInt64 = .max
    var lastRank: UInt64 = 0

    var isEmpty: Bool { count == 0 }
    var numericCount: Int { count - nanCount }
    var mean: Double { numericCount > 0 ? sum / Double(numericCount) : .nan }
    /// Population standard deviation of the non-NaN values.
    var std: Double { numericCount > 0 ? (m2 / Double(numericCount)).squareRoot() : .nan }

    /// Combines two disjoint sets of points (Chan et al.'s parallel variance update).
    mutating func merge(_ o: Aggregate) {
        if o.count == 0 { return }
        if count == 0 { self = o; return }
        mergeValueFields(o)
        if o.firstStep < firstStep || (o.firstStep == firstStep && o.firstRank < firstRank) {
            firstStep = o.firstStep; firstValue = o.firstValue; firstRank = o.firstRank
        }
        if o.lastStep > lastStep || (o.lastStep == lastStep && o.lastRank > lastRank) {
            lastStep = o.lastStep; lastValue = o.lastValue; lastRank = o.lastRank
        }
    }

    /// Statistics of the points `steps[i], values[i]` (steps sorted, stable by arrival); the rank
    /// of point i is i. For memory chunks and checks (chunk encoding has its own one-pass kernel).
    static func of(steps: [Int64], values: [Double]) -> Aggregate {
        precondition(steps.count == values.count)
        var a = Aggregate()
        let n = values.count
        if n == 0 { return a }
        var numeric = 0, nan = 0
        var sum = 0.0, lo = Double.infinity, hi = -Double.infinity
        var loAt = -1, hiAt = -1
        for (i, v) in values.enumerated() {
            if v.isNaN { nan += 1; continue }
            numeric += 1
            sum += v
            if v < lo || loAt < 0 { lo = v; loAt = i }
            if v > hi || hiAt < 0 { hi = v; hiAt = i }
        }
        if numeric > 0 { a.minStep = steps[loAt]; a.maxStep = steps[hiAt] }
        var m2 = 0.0
        if numeric > 0 {
            let mean = sum / Double(numeric)
            for v in values where !v.isNaN {
                let d = v - mean
                m2 += d * d
            }
        }
        a.count = n
        a.nanCount = nan
        a.min = lo; a.max = hi; a.sum = sum; a.m2 = m2
        a.firstStep = steps[0]; a.firstValue = values[0]; a.firstRank = 0
        a.lastStep = steps[n - 1]; a.lastValue = values[n - 1]; a.lastRank = UInt64(n - 1)
        return a
    }
}

extension Aggregate {
    /// Adds one point (Welford's update of the sum of squared deviations).
    mutating func add(step: Int64, value v: Double, rank: UInt64) {
        // The first point sets first and last whatever its step and rank (a step of Int64.min
        // with rank 0 equals the empty accumulator's sentinels and would otherwise be lost).
        if count == 0 {
            (firstStep, firstValue, firstRank) = (step, v, rank)
            (lastStep, lastValue, lastRank) = (step, v, rank)
        }
        count += 1
        if v.isNaN {
            nanCount += 1
        } else {
            let n = Double(numericCount)
            let oldMean = n > 1 ? sum / (n - 1) : v
            sum += v
            m2 += (v - oldMean) * (v - sum / n)
            if v < min || (v == min && step < minStep) || numericCount == 1 { min = v; minStep = step }
            if v > max || (v == max && step < maxStep) || numericCount == 1 { max = v; maxStep = step }
        }
        if step < firstStep || (step == firstStep && rank < firstRank) { firstStep = step; firstValue = v; firstRank = rank }
        if step > lastStep || (step == lastStep && rank > lastRank) { lastStep = step; lastValue = v; lastRank = rank }
    }
}

extension Aggregate {
    /// Merges only the value statistics (count, NaN count, sum, m2, min, max).
    /// The arithmetic is `merge`'s (same results bit for bit), without copying the whole
    /// aggregate twice: a curve calls this up to three times per bucket edge.
    /// An empty `self` ends with the empty first/last (whatever it held).
    mutating func mergeValues(_ o: Aggregate) {
        if count == 0 {
            if o.count > 0 {
                count = o.count; nanCount = o.nanCount
                min = o.min; max = o.max; sum = o.sum; m2 = o.m2
                minStep = o.minStep; maxStep = o.maxStep
            }
            (firstStep, firstValue, firstRank, lastStep, lastValue, lastRank) = (Int64.max, Double.nan, UInt64.max, Int64.min, Double.nan, 0)
            return
        }
        if o.count == 0 { return }
        mergeValueFields(o)
    }

    /// `merge` of count, NaN count, sum, m2, min and max (with where they are reached) for a
    /// non-empty `self`.
    @inline(__always) private mutating func mergeValueFields(_ o: Aggregate) {
        let na = Double(numericCount), nb = Double(o.numericCount)
        if nb > 0 {
            if na == 0 {
                sum = o.sum; m2 = o.m2
            } else {
                let delta = o.sum / nb - sum / na
                m2 = m2 + o.m2 + delta * delta * na * nb / (na + nb)
                sum += o.sum
            }
            if o.min < min || (o.min == min && o.minStep < minStep) { min = o.min; minStep = o.minStep }
            if o.max > max || (o.max == max && o.maxStep < maxStep) { max = o.max; maxStep = o.maxStep }
        }
        count += o.count
        nanCount += o.nanCount
    }
}

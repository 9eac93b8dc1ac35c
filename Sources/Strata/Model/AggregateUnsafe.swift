/// The value-statistics kernel of `Aggregate` over raw memory (chunk encoding, block decoding).
///
/// Unsafe memory: `values` must point to at least `range.upperBound` initialised doubles for the
/// duration of the call (the callers pass a column being encoded or a chunk-sized scratch buffer
/// they own); the loop reads exactly `values[range]` and nothing else. Kept on raw pointers so the
/// four-accumulator loop vectorises without a bounds check per value.
extension Aggregate {
    /// Value statistics (count, NaN count, sum, m2, min, max) of `values[range]`, branch-light:
    /// NaN is excluded by selects, not branches, so the loops vectorise.
    static func values(_ values: UnsafePointer<Double>, _ range: Range<Int>) -> Aggregate {
        var a = Aggregate()
        if range.isEmpty { return a }
        // Four independent accumulators: the additions do not wait on each other.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        var nan = 0
        var i = range.lowerBound
        let end = range.upperBound
        @inline(__always) func take(_ v: Double, _ s: inout Double) {
            let isNaN = v != v
            nan &+= isNaN ? 1 : 0
            s += isNaN ? 0 : v
            lo = v < lo ? v : lo  // NaN compares false: ignored
            hi = v > hi ? v : hi
        }
        while i &+ 4 <= end {
            take(values[i], &s0); take(values[i &+ 1], &s1); take(values[i &+ 2], &s2); take(values[i &+ 3], &s3)
            i &+= 4
        }
        while i < end { take(values[i], &s0); i &+= 1 }
        let sum = (s0 + s1) + (s2 + s3)
        let n = range.count - nan
        var m2 = 0.0
        if n > 0 {
            let mean = sum / Double(n)
            var m0 = 0.0, m1 = 0.0, m2b = 0.0, m3 = 0.0
            @inline(__always) func dev(_ v: Double) -> Double { let d = v != v ? 0 : v - mean; return d * d }
            i = range.lowerBound
            while i &+ 4 <= end {
                m0 += dev(values[i]); m1 += dev(values[i &+ 1]); m2b += dev(values[i &+ 2]); m3 += dev(values[i &+ 3])
                i &+= 4
            }
            while i < end { m0 += dev(values[i]); i &+= 1 }
            m2 = (m0 + m1) + (m2b + m3)
        }
        a.count = range.count
        a.nanCount = nan
        a.sum = sum; a.m2 = m2; a.min = lo; a.max = hi
        return a
    }

    /// `values(_:_:)` over an array: `range` must lie within it.
    static func values(_ values: [Double], _ range: Range<Int>) -> Aggregate {
        precondition(range.lowerBound >= 0 && range.upperBound <= values.count, "Aggregate.values: range outside the array")
        if range.isEmpty { return Aggregate() }
        return values.withUnsafeBufferPointer { Aggregate.values($0.baseAddress!, range) }
    }
}

/// Exact quantiles by order statistics: the one definition Strata uses for an exact quantile.
///
/// Among `n` finite values sorted ascending `x[0] ≤ … ≤ x[n-1]`, the `q`-quantile is the linear
/// interpolation at `h = (n − 1)·q`: `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])` (type 7 of Hyndman
/// and Fan, R's and NumPy's default, DuckDB's `quantile_cont`). NaN and ±Inf are not values here:
/// callers count them apart (see `docs/QUERIES.md`).
public enum ExactQuantile {
    /// Whether `q` is a quantile level Strata accepts from a user: strictly between 0 and 1.
    ///
    /// - Parameter q: The level.
    /// - Returns: `0 < q < 1` (false for NaN).
    public static func isValidLevel(_ q: Double) -> Bool { q > 0 && q < 1 }

    /// The `q`-quantile of values already sorted ascending (finite, at least one).
    ///
    /// - Parameters:
    ///   - sorted: Finite values in ascending order; must not be empty.
    ///   - q: The level, from 0 (the minimum) to 1 (the maximum).
    /// - Returns: The interpolated order statistic at `h = (n − 1)·q`.
    public static func of(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of no values")
        let h = Double(sorted.count - 1) * Swift.min(Swift.max(q, 0), 1)
        let lo = Int(h)
        let frac = h - Double(lo)
        if lo + 1 >= sorted.count || frac == 0 { return sorted[lo] }
        return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo])
    }

    /// The `q`-quantile of unsorted finite values, by selection (average linear time); `values`
    /// is reordered.
    ///
    /// - Parameters:
    ///   - values: Finite values (reordered in place); must not be empty.
    ///   - q: The level, from 0 to 1.
    /// - Returns: The same value as ``of(sorted:_:)`` on the sorted values.
    public static func select(_ values: inout [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty, "quantile of no values")
        let h = Double(values.count - 1) * Swift.min(Swift.max(q, 0), 1)
        let lo = Int(h)
        let frac = h - Double(lo)
        let a = nthElement(&values, lo)
        if frac == 0 || lo + 1 >= values.count { return a }
        // After selection everything right of `lo` is ≥ a: the next order statistic is their minimum.
        var b = values[lo + 1]
        for i in (lo + 2)..<values.count where values[i] < b { b = values[i] }
        return a + frac * (b - a)
    }

    /// Puts the `k`-th smallest element at index `k`, smaller-or-equal ones before it and
    /// greater-or-equal ones after it (Hoare selection, median-of-three pivots).
    static func nthElement(_ v: inout [Double], _ k: Int) -> Double {
        var lo = 0
        var hi = v.count - 1
        while hi > lo {
            let mid = lo + (hi - lo) / 2
            // Median of three as the pivot.
            if v[mid] < v[lo] { v.swapAt(mid, lo) }
            if v[hi] < v[lo] { v.swapAt(hi, lo) }
            if v[hi] < v[mid] { v.swapAt(hi, mid) }
            let pivot = v[mid]
            var i = lo
            var j = hi
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return v[k]
            }
        }
        return v[k]
    }
}

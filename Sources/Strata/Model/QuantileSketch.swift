/// Quantiles: the one definition of an exact quantile, and the mergeable sketch that chunks keep
/// so that quantiles of whole chunks come without decoding their values.
///
/// The sketch keeps exact counts per value bucket. A bucket is 1/50 of a binade: the values
/// whose magnitude has IEEE exponent `e` and whose significand `1.f` lies in
/// `[1 + j/50, 1 + (j+1)/50)`. Each bucket is answered by the harmonic mean of its bounds, which
/// is within `1/(2·50+1) < 0.99 %` of every value in the bucket (docs/QUERIES.md, "Quantiles",
/// has the proof). Counts are exact, so the order statistic of any rank lies in a known bucket;
/// merging adds counts, so it is associative and order-independent, and a merge of sketches is
/// the sketch of the union. Bit-level bucket keys (no logarithm) keep ingest cheap.
/// The byte layout is in docs/FORMAT.md ("Quantile sketch").
struct QuantileSketch: Sendable, Equatable {
    /// Buckets per binade (power of two).
    static let perBinade = 50
    /// Largest bucket key: biased exponents 1...2046 (normal finite values), 50 buckets each.
    static let maxKey = 2046 * perBinade - 1
    /// Guaranteed relative error of a value answered by the sketch: 1/(2·50+1) plus the 2⁻³²
    /// lost by bucketing on the top 32 significand bits.
    static let relativeError = 1.0 / Double(2 * perBinade + 1) + 0x1p-31

    /// Magnitudes of positive values, by bucket key.
    var positive = BucketCounts()
    /// Magnitudes of negative values, by bucket key.
    var negative = BucketCounts()
    /// Values whose magnitude is below the smallest normal double (2⁻¹⁰²²): zeros and subnormals,
    /// answered as 0.
    var zeros = 0
    var positiveInfinities = 0
    var negativeInfinities = 0

    /// Values counted (NaN is never added).
    var count: Int { positive.total + negative.total + zeros + positiveInfinities + negativeInfinities }
    var finiteCount: Int { positive.total + negative.total + zeros }
    var isEmpty: Bool { count == 0 }

    /// The bucket key of a normal finite magnitude given by its bit pattern (sign cleared).
    @inline(__always) static func key(magnitudeBits bits: UInt64) -> Int {
        let e = Int(bits >> 52)  // 1...2046
        let top = (bits & 0x000F_FFFF_FFFF_FFFF) >> 20  // top 32 significand bits
        let j = Int((top &* UInt64(perBinade)) >> 32)  // 0..<50
        return (e - 1) * perBinade + j
    }

    /// The value a bucket answers with: the harmonic mean of its bounds `2^(e−1023)·(1 + j/50)`
    /// and `2^(e−1023)·(1 + (j+1)/50)`.
    static func representative(key: Int) -> Double {
        let e = key / perBinade + 1, j = key % perBinade
        let lo = 1 + Double(j) / Double(perBinade), hi = 1 + Double(j + 1) / Double(perBinade)
        return Double(sign: .plus, exponent: e - 1023, significand: 2 * lo * hi / (lo + hi))
    }

    /// Adds one value; NaN is ignored (callers count NaN separately).
    @inline(__always) mutating func add(_ v: Double) {
        let bits = v.bitPattern
        let mag = bits & 0x7FFF_FFFF_FFFF_FFFF
        if mag >= 0x7FF0_0000_0000_0000 {
            if mag > 0x7FF0_0000_0000_0000 { return }  // NaN
            if bits >> 63 == 0 { positiveInfinities += 1 } else { negativeInfinities += 1 }
            return
        }
        if mag < 0x0010_0000_0000_0000 { zeros += 1; return }
        if bits >> 63 == 0 {
            positive.add(QuantileSketch.key(magnitudeBits: mag), 1)
        } else {
            negative.add(QuantileSketch.key(magnitudeBits: mag), 1)
        }
    }

    /// The sketch of the union of two sets of values.
    mutating func merge(_ o: QuantileSketch) {
        positive.merge(o.positive)
        negative.merge(o.negative)
        zeros += o.zeros
        positiveInfinities += o.positiveInfinities
        negativeInfinities += o.negativeInfinities
    }

    /// The value of rank `r` (0-based, ascending; ±Inf at the ends) within the relative error.
    func value(atRank r: Int) -> Double {
        precondition(r >= 0 && r < count, "QuantileSketch.value: rank out of range")
        var r = r
        if r < negativeInfinities { return -.infinity }
        r -= negativeInfinities
        if r < negative.total {
            // Negative values ascend as their magnitude descends.
            return -QuantileSketch.representative(key: negative.key(atRank: negative.total - 1 - r))
        }
        r -= negative.total
        if r < zeros { return 0 }
        r -= zeros
        if r < positive.total { return QuantileSketch.representative(key: positive.key(atRank: r)) }
        return .infinity
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) by the definition of `Quantile.interpolate`, from the
    /// sketch's order statistics; nil when the sketch is empty.
    func quantile(_ q: Double) -> Double? {
        let n = count
        if n == 0 { return nil }
        return Quantile.interpolate(n: n, q: q) { value(atRank: $0) }
    }
}

/// Counts per bucket key over a dense window of keys (grown on demand).
struct BucketCounts: Sendable, Equatable {
    private(set) var base = 0
    private(set) var counts: [Int] = []
    private(set) var total = 0

    static func == (a: BucketCounts, b: BucketCounts) -> Bool {
        a.total == b.total && a.nonEmpty.elementsEqual(b.nonEmpty, by: { $0 == $1 })
    }

    /// (key, count) of the non-empty buckets in ascending key order.
    var nonEmpty: [(key: Int, count: Int)] {
        var out: [(key: Int, count: Int)] = []
        for (i, c) in counts.enumerated() where c > 0 { out.append((base + i, c)) }
        return out
    }

    init() {}

    /// Counts of ascending keys, in one allocation.
    init(sortedKeys keys: [Int], counts c: [Int]) {
        guard let first = keys.first, let last = keys.last else { return }
        base = first
        counts = [Int](repeating: 0, count: last - first + 1)
        for i in keys.indices { counts[keys[i] - first] = c[i] }
        total = c.reduce(0, +)
    }

    private mutating func cover(_ lo: Int, _ hi: Int) {
        if counts.isEmpty {
            base = lo
            counts = [Int](repeating: 0, count: hi - lo + 1)
            return
        }
        let top = base + counts.count - 1
        if lo >= base && hi <= top { return }
        let newLo = Swift.min(lo, base), newHi = Swift.max(hi, top)
        var grown = [Int](repeating: 0, count: newHi - newLo + 1)
        for i in counts.indices { grown[base - newLo + i] = counts[i] }
        base = newLo
        counts = grown
    }

    @inline(__always) mutating func add(_ key: Int, _ n: Int) {
        let top = base + counts.count - 1
        if counts.isEmpty || key < base || key > top { cover(key, key) }
        counts[key - base] += n
        total += n
    }

    mutating func merge(_ o: BucketCounts) {
        if o.total == 0 { return }
        cover(o.base, o.base + o.counts.count - 1)
        let d = o.base - base
        for i in o.counts.indices { counts[d + i] += o.counts[i] }
        total += o.total
    }

    /// The key of the bucket holding rank `r` (0-based) in ascending key order.
    func key(atRank r: Int) -> Int {
        var seen = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if r < seen { return base + i }
        }
        preconditionFailure("BucketCounts.key: rank out of range")
    }
}

/// The definition of an exact quantile, shared by every query (docs/QUERIES.md, "Quantiles").
///
/// Among the n values that are not NaN, sorted ascending with −Inf first and +Inf last, the
/// q-quantile is the linear interpolation at h = (n − 1)·q between the order statistics
/// x⌊h⌋ and x⌈h⌉ (numpy's default, DuckDB's `quantile_cont`): x⌊h⌋ + (h − ⌊h⌋)·(x⌈h⌉ − x⌊h⌋).
/// When one of the two is infinite the result is that infinity (−Inf below, +Inf above).
public enum Quantile {
    /// Whether `q` is a quantile a query accepts: a number strictly between 0 and 1.
    ///
    /// - Parameter q: A quantile.
    /// - Returns: Whether 0 < q < 1.
    public static func isValid(_ q: Double) -> Bool { q > 0 && q < 1 }

    /// Checks a list of quantiles; throws `.invalidArgument` naming the first bad one.
    static func check(_ qs: [Double]) throws(StrataError) {
        if qs.isEmpty { throw .invalid("give at least one quantile") }
        if qs.count > maxCount { throw .invalid("at most \(maxCount) quantiles, got \(qs.count)") }
        for q in qs where !isValid(q) {
            throw .invalid("quantile \(q) is outside (0, 1): write p99 as 0.99")
        }
    }

    /// Most quantiles one query may ask for.
    public static let maxCount = 100

    /// Interpolation at h = (n − 1)·q given the order statistics by rank.
    static func interpolate(n: Int, q: Double, _ at: (Int) -> Double) -> Double {
        let h = Double(n - 1) * q
        let lo = Swift.min(n - 1, Swift.max(0, Int(h.rounded(.down))))
        let f = h - Double(lo)
        let a = at(lo)
        if f <= 0 || lo + 1 >= n { return a }
        let b = at(lo + 1)
        if a == b { return a }
        if a == -.infinity { return a }
        if b == .infinity { return b }
        return a + f * (b - a)
    }

    /// Exact quantiles of values that hold no NaN, rearranging them: the order statistics needed
    /// are put in place by one multi-selection (expected O(n log k) for k ranks, never a full sort
    /// unless nearly every rank is asked).
    static func exactInPlace(_ v: inout [Double], _ qs: [Double]) -> [Double] {
        let n = v.count
        precondition(n > 0, "Quantile.exactInPlace: no values")
        var ranks = Set<Int>()
        for q in qs {
            let h = Double(n - 1) * q
            let lo = Swift.min(n - 1, Swift.max(0, Int(h.rounded(.down))))
            ranks.insert(lo)
            if lo + 1 < n && h > Double(lo) { ranks.insert(lo + 1) }
        }
        let sortedRanks = ranks.sorted()
        select(&v, sortedRanks[...], lo: 0, hi: n - 1)
        return qs.map { q in interpolate(n: n, q: q) { v[$0] } }
    }

    /// Puts every value of rank `ranks` (ascending, all within `lo...hi`) at its index of `b`,
    /// looking only at `b[lo...hi]`: one Hoare partition around a median of three, then only the
    /// sides that hold a rank are partitioned further.
    static func select(_ b: inout [Double], _ ranks: ArraySlice<Int>, lo: Int, hi: Int) {
        var lo = lo, hi = hi, ranks = ranks
        while let first = ranks.first, let last = ranks.last, hi > lo {
            if hi - lo < 16 {
                // Insertion sort of a small range.
                for i in (lo + 1)...hi {
                    let x = b[i]
                    var j = i - 1
                    while j >= lo && b[j] > x { b[j + 1] = b[j]; j -= 1 }
                    b[j + 1] = x
                }
                return
            }
            let mid = lo + (hi - lo) / 2
            if b[mid] < b[lo] { b.swapAt(mid, lo) }
            if b[hi] < b[lo] { b.swapAt(hi, lo) }
            if b[hi] < b[mid] { b.swapAt(hi, mid) }
            let pivot = b[mid]
            var i = lo, j = hi
            while i <= j {
                while b[i] < pivot { i += 1 }
                while b[j] > pivot { j -= 1 }
                if i <= j { b.swapAt(i, j); i += 1; j -= 1 }
            }
            // b[lo...j] ≤ pivot ≤ b[i...hi], and everything between j and i equals the pivot.
            let left = ranks.prefix { $0 <= j }
            let right = ranks.drop { $0 < i }
            if first > j {
                lo = i; ranks = right
            } else if last < i {
                hi = j; ranks = left
            } else {
                select(&b, left, lo: lo, hi: j)
                lo = i; ranks = right
            }
        }
    }

    /// The `q`-quantile of values already sorted ascending (no NaN, at least one).
    ///
    /// - Parameters:
    ///   - sorted: Values in ascending order, without NaN; must not be empty.
    ///   - q: The level, from 0 (the minimum) to 1 (the maximum).
    /// - Returns: The interpolated order statistic at h = (n − 1)·q.
    public static func of(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of no values")
        return interpolate(n: sorted.count, q: Swift.min(Swift.max(q, 0), 1)) { sorted[$0] }
    }

    /// The `q`-quantile of values in any order (no NaN, at least one), by selection (expected
    /// linear time); `values` is reordered.
    ///
    /// - Parameters:
    ///   - values: Values without NaN (reordered in place); must not be empty.
    ///   - q: The level, from 0 to 1.
    /// - Returns: The same value as ``of(sorted:_:)`` on the sorted values.
    public static func select(_ values: inout [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty, "quantile of no values")
        return exactInPlace(&values, [Swift.min(Swift.max(q, 0), 1)])[0]
    }

    /// Exact quantiles of `values` by this definition (NaN left out): what `exact: true` queries
    /// return, for checking answers and for data outside a store.
    ///
    /// - Parameters:
    ///   - values: The values, in any order.
    ///   - qs: The quantiles, each in [0, 1].
    /// - Returns: One quantile per entry of `qs`; nil entries when every value is NaN.
    public static func exact(_ values: [Double], _ qs: [Double]) -> [Double?] {
        var v = values.filter { !$0.isNaN }
        if v.isEmpty { return qs.map { _ in nil } }
        return exactInPlace(&v, qs)
    }
}

/// Collects what a quantile query needs: sketches of whole chunks, exact values for the rest.
/// Answers exactly when no sketch was used; otherwise every value goes into one sketch.
struct QuantileAccumulator {
    var sketch = QuantileSketch()
    var values: [Double] = []
    var usedSketch = false

    mutating func merge(_ s: QuantileSketch) {
        sketch.merge(s)
        usedSketch = true
    }

    mutating func merge(_ o: QuantileAccumulator) {
        sketch.merge(o.sketch)
        values += o.values
        usedSketch = usedSketch || o.usedSketch
    }

    /// Non-NaN values counted.
    var count: Int { sketch.count + values.lazy.filter { !$0.isNaN }.count }

    /// Finite values counted.
    var finiteCount: Int { sketch.finiteCount + values.lazy.filter { $0.isFinite }.count }

    /// Whether the answer will be exact.
    var isExact: Bool { !usedSketch }

    /// The quantiles (nil when there is no finite value).
    func quantiles(_ qs: [Double]) -> [Double]? {
        if finiteCount == 0 { return nil }
        if !usedSketch { return Quantile.exact(values, qs).map { $0! } }
        // (A sketch took part: every exact value joins it.)
        var s = sketch
        for v in values { s.add(v) }
        return qs.map { s.quantile($0)! }
    }
}

extension QuantileSketch {
    /// Appends the encoding (docs/FORMAT.md, "Quantile sketch").
    func encode(into w: inout ByteWriter) {
        w.u8(1)  // bucket mapping: 50 per binade
        w.varint(UInt64(zeros)); w.varint(UInt64(positiveInfinities)); w.varint(UInt64(negativeInfinities))
        for store in [positive, negative] {
            let buckets = store.nonEmpty
            w.varint(UInt64(buckets.count))
            var prev = -1
            for b in buckets {
                w.varint(UInt64(b.key - prev)); w.varint(UInt64(b.count))
                prev = b.key
            }
        }
    }

    /// Decodes a sketch of `expected` values (the chunk's non-NaN count): every bucket key and
    /// count is checked, so damaged bytes give a `corrupt` error, never a wrong answer or a trap.
    static func decode(_ r: inout ByteReader, expected: Int) throws(StrataError) -> QuantileSketch {
        let at = r.offset
        let mapping = try r.u8("sketch mapping")
        guard mapping == 1 else { throw StrataError.corrupt("unknown quantile sketch mapping \(mapping)", path: r.path, offset: at) }
        var s = QuantileSketch()
        s.zeros = try r.length("sketch zero count", max: expected)
        s.positiveInfinities = try r.length("sketch +Inf count", max: expected)
        s.negativeInfinities = try r.length("sketch -Inf count", max: expected)
        var total = s.zeros + s.positiveInfinities + s.negativeInfinities
        for side in 0..<2 {
            let n = try r.count("sketch bucket count", max: maxKey + 1)
            var keys: [Int] = [], counts: [Int] = []
            keys.reserveCapacity(n); counts.reserveCapacity(n)
            var key = -1
            for _ in 0..<n {
                let gap = try r.length("sketch bucket key gap", max: maxKey + 1)
                let c = try r.length("sketch bucket count", max: expected)
                key += gap
                guard gap >= 1, key <= maxKey, c >= 1 else {
                    throw StrataError.corrupt("quantile sketch bucket \(key) (count \(c)) is invalid", path: r.path, offset: r.offset)
                }
                total += c
                guard total <= expected else { break }
                keys.append(key); counts.append(c)
            }
            let store = BucketCounts(sortedKeys: keys, counts: counts)
            if side == 0 { s.positive = store } else { s.negative = store }
        }
        guard s.count == expected else {
            throw StrataError.corrupt("quantile sketch counts \(s.count) values, the chunk has \(expected)", path: r.path, offset: at)
        }
        return s
    }
}

extension Quantile {
    /// The quantile a name such as `p50` stands for, as filters, sort keys and `rank` write it:
    /// one or two digits are a percentile (`p5` = 0.05, `p50` = 0.5, `p99` = 0.99), three or more
    /// are the decimal digits of the fraction (`p999` = 0.999, `p9999` = 0.9999, `p995` = 0.995)
    /// and may not end in 0 (so `p100` and `p500` are not names: write `p50`).
    /// Nil when `name` is not such a name or the quantile is not strictly between 0 and 1.
    ///
    /// - Parameter name: A name such as `p99`.
    /// - Returns: The quantile, or nil.
    public static func parseName(_ name: String) -> Double? {
        guard name.count >= 2, name.count <= 18, name.first == "p" else { return nil }
        let digits = name.dropFirst()
        guard digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        if digits.count > 2 && digits.last == "0" { return nil }
        let q = digits.count <= 2 ? Double(Int(digits)!) / 100 : Double("0." + digits)!
        return isValid(q) ? q : nil
    }

    /// The name of a quantile (`p50` for 0.5, `p999` for 0.999): the inverse of ``parseName(_:)``.
    ///
    /// - Parameter q: A quantile in (0, 1).
    /// - Returns: Its name.
    public static func name(_ q: Double) -> String {
        var scale = 1.0
        for k in 1...17 {
            scale *= 10
            var digits = String(Int((q * scale).rounded()))
            while digits.count < k { digits = "0" + digits }
            if Double("0." + digits) == q { return "p" + (k == 1 ? digits + "0" : digits) }
        }
        return "p" + String(q)
    }
}

/// Stored statistics of packed series (segment format version 3, header flag
/// `SegmentFormat.flagPackedSummaries`): for every packed series, exactly the chunk header a reader
/// would otherwise derive by decoding its columns, so summaries, ranks and listings never decode a
/// pack. Byte layout: docs/FORMAT.md, "Packed series statistics (version 3)".
///
/// The packed series of a segment, in directory order, are cut into groups of `groupSize`; a
/// group is one zstd frame (checksummed) of byte-shuffled fixed-width columns, decoded on the first
/// use of any of its series.
enum PackedSummaries {
    /// Packed series per group.
    static let groupSize = 4096
    /// zstd level of a group.
    static let zstdLevel: Int32 = 3
    /// Flag bits of an entry.
    static let linear: UInt8 = 1, firstIsMin: UInt8 = 2, firstIsMax: UInt8 = 4, lastIsMin: UInt8 = 8, lastIsMax: UInt8 = 16
    static let knownFlags: UInt8 = 31
    /// Most bytes a group of `n` series decompresses to (every first and last value stored).
    static func maxSize(_ n: Int) -> Int { n * (1 + 2 + 6 * 8 + 6 * 8 + 5) }

    /// One packed series' chunk header (its count is the directory's point count).
    struct Entry: Equatable {
        var stats: Aggregate
        var minTime: Int64
        var maxTime: Int64
        var linearSteps: Bool

        static func == (x: Entry, y: Entry) -> Bool {
            let a = x.stats, b = y.stats
            return a.count == b.count && a.nanCount == b.nanCount && a.min.bitPattern == b.min.bitPattern
                && a.max.bitPattern == b.max.bitPattern && a.sum.bitPattern == b.sum.bitPattern && a.m2.bitPattern == b.m2.bitPattern
                && a.minStep == b.minStep && a.maxStep == b.maxStep && a.firstStep == b.firstStep && a.lastStep == b.lastStep
                && a.firstValue.bitPattern == b.firstValue.bitPattern && a.lastValue.bitPattern == b.lastValue.bitPattern
                && a.firstRank == b.firstRank && a.lastRank == b.lastRank && x.minTime == y.minTime && x.maxTime == y.maxTime
                && x.linearSteps == y.linearSteps
        }
    }

    /// The order in which a group's series are stored: by name-table index, then ordinal (series
    /// of one metric side by side compress better); `names` are the series' name indexes.
    static func order(_ names: [Int32]) -> [Int] {
        names.indices.sorted { (names[$0], $0) < (names[$1], $1) }
    }

    /// The uncompressed bytes of one group; `names`: each series' name-table index.
    static func encode(_ group: ArraySlice<Entry>, names: [Int32]) -> [UInt8] {
        let entries = Array(group)
        var flags: [UInt8] = [], nans: [UInt64] = [], ints: [[UInt64]] = Array(repeating: [], count: 6)
        var doubles: [[Double]] = Array(repeating: [], count: 4), firsts: [Double] = [], lasts: [Double] = []
        for i in order(names) {
            let e = entries[i], a = e.stats
            var f: UInt8 = e.linearSteps ? linear : 0
            let first = a.firstValue.bitPattern, last = a.lastValue.bitPattern
            if first == a.min.bitPattern {
                f |= firstIsMin
            } else if first == a.max.bitPattern {
                f |= firstIsMax
            } else {
                firsts.append(a.firstValue)
            }
            if last == a.min.bitPattern { f |= lastIsMin } else if last == a.max.bitPattern { f |= lastIsMax } else { lasts.append(a.lastValue) }
            flags.append(f)
            nans.append(UInt64(a.nanCount))
            let fields = [
                a.firstStep, a.lastStep &- a.firstStep, a.minStep &- a.firstStep, a.maxStep &- a.firstStep, e.minTime, e.maxTime &- e.minTime
            ]
            for (k, v) in fields.enumerated() { ints[k].append(UInt64(bitPattern: v)) }
            for (k, v) in [a.min, a.max, a.sum, a.m2].enumerated() { doubles[k].append(v) }
        }
        var out = flags
        shuffle(nans, width: 2, into: &out)
        for c in ints { shuffle(c, width: 8, into: &out) }
        decimals(doubles[0], into: &out)
        decimals(doubles[1], into: &out)
        decimals(doubles[2], into: &out)
        shuffle(doubles[3].map(\.bitPattern), width: 8, into: &out)
        decimals(firsts, into: &out)
        decimals(lasts, into: &out)
        return out
    }

    /// The entries of one group from its uncompressed bytes; `counts` and `names` are the series'
    /// point counts and name-table indexes, by ordinal.
    static func decode(_ bytes: [UInt8], counts: [Int], names: [Int32], path: String, offset: Int) throws(StrataError) -> [Entry] {
        let n = counts.count
        var at = 0
        func fail(_ what: String) -> StrataError {
            StrataError.corrupt("packed series statistics: \(what)", path: path, offset: offset)
        }
        func column(_ rows: Int, _ width: Int) throws(StrataError) -> [UInt64] {
            guard rows * width <= bytes.count - at else { throw fail("\(bytes.count) bytes are too few for \(n) series") }
            defer { at += rows * width }
            return unshuffle(bytes, from: at, rows: rows, width: width)
        }
        func decimalColumn(_ rows: Int) throws(StrataError) -> [Double] {
            let exps = try column(rows, 1), raw = try column(rows, 8)
            var out: [Double] = []
            out.reserveCapacity(rows)
            for i in 0..<rows {
                if exps[i] == rawExponent {
                    out.append(Double(bitPattern: raw[i]))
                } else {
                    guard exps[i] <= maxExponent else { throw fail("decimal exponent \(exps[i])") }
                    out.append(Double(Int64(bitPattern: raw[i])) / powersOfTen[Int(exps[i])])
                }
            }
            return out
        }
        guard n <= bytes.count else { throw fail("\(bytes.count) bytes are too few for \(n) series") }
        let flags = Array(bytes[0..<n])
        at = n
        let nans = try column(n, 2)
        var ints: [[UInt64]] = []
        for _ in 0..<6 { ints.append(try column(n, 8)) }
        let mins = try decimalColumn(n), maxs = try decimalColumn(n), sums = try decimalColumn(n)
        let m2s = try column(n, 8)
        let firsts = try decimalColumn(flags.filter { $0 & (firstIsMin | firstIsMax) == 0 }.count)
        let lasts = try decimalColumn(flags.filter { $0 & (lastIsMin | lastIsMax) == 0 }.count)
        guard at == bytes.count else { throw fail("\(bytes.count - at) bytes left over") }
        var out = [Entry](repeating: Entry(stats: Aggregate(), minTime: 0, maxTime: 0, linearSteps: false), count: n)
        var fi = 0, li = 0
        for (i, ordinal) in order(names).enumerated() {
            let f = flags[i]
            guard f & ~knownFlags == 0, f & (firstIsMin | firstIsMax) != (firstIsMin | firstIsMax),
                f & (lastIsMin | lastIsMax) != (lastIsMin | lastIsMax)
            else { throw fail("unknown flags \(f) of series \(ordinal)") }
            var a = Aggregate()
            a.count = counts[ordinal]
            a.nanCount = Int(nans[i])
            guard a.nanCount <= a.count else { throw fail("NaN count \(a.nanCount) exceeds count \(a.count)") }
            let first = Int64(bitPattern: ints[0][i])
            a.firstStep = first
            a.lastStep = first &+ Int64(bitPattern: ints[1][i])
            a.minStep = first &+ Int64(bitPattern: ints[2][i])
            a.maxStep = first &+ Int64(bitPattern: ints[3][i])
            let minT = Int64(bitPattern: ints[4][i]), maxT = minT &+ Int64(bitPattern: ints[5][i])
            a.min = mins[i]; a.max = maxs[i]; a.sum = sums[i]; a.m2 = Double(bitPattern: m2s[i])
            if f & firstIsMin != 0 {
                a.firstValue = a.min
            } else if f & firstIsMax != 0 {
                a.firstValue = a.max
            } else {
                a.firstValue = firsts[fi]; fi += 1
            }
            if f & lastIsMin != 0 {
                a.lastValue = a.min
            } else if f & lastIsMax != 0 {
                a.lastValue = a.max
            } else {
                a.lastValue = lasts[li]; li += 1
            }
            a.firstRank = 0
            a.lastRank = UInt64(a.count - 1)
            guard a.lastStep >= a.firstStep, minT <= maxT else { throw fail("step or time range of series \(ordinal) is reversed") }
            let numeric = a.numericCount > 0
            guard !numeric || (a.minStep >= a.firstStep && a.minStep <= a.lastStep && a.maxStep >= a.firstStep && a.maxStep <= a.lastStep)
            else { throw fail("min/max step of series \(ordinal) outside its steps") }
            out[ordinal] = Entry(stats: a, minTime: minT, maxTime: maxT, linearSteps: SegmentFormat.trustedLinear(f & linear != 0, a))
        }
        return out
    }

    /// A decimal column: per value u8 exponent e (0…`maxExponent`: the value is digits / 10^e,
    /// computed in IEEE double; `rawExponent`: the i64 holds the value's bit pattern), then the
    /// shuffled i64 digits (or bit patterns). Short decimals (accuracies, seconds) become small integers.
    static let maxExponent: UInt64 = 10
    static let rawExponent: UInt64 = 255
    static let powersOfTen: [Double] = (0...10).map { e in (0..<e).reduce(1.0) { p, _ in p * 10 } }

    private static func decimals(_ values: [Double], into out: inout [UInt8]) {
        var exps: [UInt64] = [], digits: [UInt64] = []
        for v in values {
            var found = false
            if v.isFinite {
                for e in 0...Int(maxExponent) {
                    let d = (v * powersOfTen[e]).rounded()
                    guard abs(d) < 9_007_199_254_740_992 else { break }
                    // Checked as the reader computes it (so −0.0, whose digits are 0, stays raw).
                    if (Double(Int64(d)) / powersOfTen[e]).bitPattern == v.bitPattern {
                        exps.append(UInt64(e)); digits.append(UInt64(bitPattern: Int64(d)))
                        found = true
                        break
                    }
                }
            }
            if !found { exps.append(rawExponent); digits.append(v.bitPattern) }
        }
        shuffle(exps, width: 1, into: &out)
        shuffle(digits, width: 8, into: &out)
    }

    /// Appends byte `k` of every value, for k = 0 ..< width (least significant first).
    private static func shuffle(_ values: [UInt64], width: Int, into out: inout [UInt8]) {
        for k in 0..<width {
            for v in values { out.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
        }
    }

    private static func unshuffle(_ bytes: [UInt8], from at: Int, rows: Int, width: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: rows)
        for k in 0..<width {
            let base = at + k * rows
            for i in 0..<rows { out[i] |= UInt64(bytes[base + i]) << (8 * k) }
        }
        return out
    }
}

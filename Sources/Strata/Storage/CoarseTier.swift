/// The coarse tier of one series in one segment: a pyramid of statistics over groups of chunks,
/// so that a curve or a window touches O(buckets · fan-out · levels) entries and decodes only the
/// blocks its bucket edges cut, whatever the length of the series (issue 17).
///
/// Level 0 holds one entry per chunk (the chunk header's statistics), level k + 1 one entry per
/// group of `fanOut` consecutive entries of level k, up to a top level of at most `fanOut`
/// entries. Ranks are relative to the part: point j of chunk i has rank `i << 12 | j`, the rank
/// `StoreReader` gives it inside the part (the part's order is added above bit 36 when merged).
///
/// Entries combine by `Aggregate.merge`, so a group's statistics are exactly those of its points;
/// chunks of a part may overlap in steps (out-of-order logging): a group whose step span lies in
/// one bucket is still wholly in that bucket, and one that does not is opened, so answers stay
/// exact and only the cost grows with the overlap.
///
/// The levels are stored one after the other in flat arrays (no array per level to retain), and
/// the step span of every entry also apart from its statistics (`firstSteps`, `lastSteps`): a
/// walk reads 16 bytes per entry it only tests, and the 112 of an `Aggregate` only for the
/// entries it merges.
struct CoarseTier: Sendable {
    /// Entries of a level per entry of the level above. 4 rather than 8: a bucket edge opens one
    /// entry per level and merges at most `fanOut - 1` of its children on each side, so the
    /// entries a curve reads per edge, (fanOut − 1 + 1) · log_fanOut(chunks), are fewer (about 32
    /// rather than 40 at 24,000 chunks, with 24 rather than 35 statistics merged).
    static let fanOut = 4
    /// Every level's entries, level 0 (per chunk) first, the top level (at most `fanOut`) last.
    let entries: [Aggregate]
    /// First and last step of each entry of `entries` (an empty entry: `Int64.max`, `Int64.min`).
    let firstSteps: [Int64]
    let lastSteps: [Int64]
    /// Where each level starts in `entries`, and, last, `entries.count`.
    let levelStart: [Int]
    /// Whether the chunks come in step order without overlap (every chunk holds a point and
    /// ends at or before the step where the next begins), as a series logged in step order is
    /// stored. Then first and last steps both ascend along the chunks, the chunks of a step range
    /// are consecutive, and a curve walks the chunks from bucket edge to bucket edge
    /// (`CoarseSeries`), merging the whole chunks between two edges from the pyramid (`merged`).
    let ordered: Bool

    /// Built from the chunk headers of the part (in chunk-table order), into arrays sized once
    /// (a long series has tens of thousands of chunks: no intermediate copies of its statistics).
    init(chunks: [ChunkEntry]) {
        self.init(count: chunks.count) { i in
            var s = chunks[i].stats
            s.firstRank = UInt64(i) << 12
            s.lastRank = UInt64(i) << 12 + UInt64(max(0, s.count - 1))
            return s
        }
    }

    /// A pyramid over `levelZero` as given (ranks included): the tier over the segment parts of a
    /// series, one entry per part (`CoarseSeries.PartSpans`).
    init(levelZero: [Aggregate]) {
        self.init(count: levelZero.count) { levelZero[$0] }
    }

    private init(count: Int, entry: (Int) -> Aggregate) {
        let f = CoarseTier.fanOut
        var starts = [0, count]
        var n = count
        while n > f {
            n = (n + f - 1) / f
            starts.append(starts[starts.count - 1] + n)
        }
        var all: [Aggregate] = []
        all.reserveCapacity(starts[starts.count - 1])
        for i in 0..<count { all.append(entry(i)) }
        for l in 1..<(starts.count - 1) {
            var g = starts[l - 1]
            while g < starts[l] {
                var a = Aggregate()
                for k in g..<min(g + f, starts[l]) { a.merge(all[k]) }
                all.append(a)
                g += f
            }
        }
        entries = all
        levelStart = starts
        let fs = all.map { $0.count == 0 ? .max : $0.firstStep }
        let ls = all.map { $0.count == 0 ? .min : $0.lastStep }
        firstSteps = fs
        lastSteps = ls
        var inOrder = count > 0
        for i in 0..<count where all[i].count == 0 || (i > 0 && ls[i - 1] > fs[i]) { inOrder = false; break }
        ordered = inOrder
    }

    /// The first chunk at or after `from` for which `past` holds (the number of chunks when
    /// none does), `past` being false and then true along the chunks. Gallops from `guess`
    /// (clamped to the chunks from `from` on) up or down, so the search costs O(log distance
    /// from the guess), not O(chunks); `probes` counts the chunks it tests.
    func firstChunk(from: Int, guess: Int? = nil, probes: inout Int, where past: (Int) -> Bool) -> Int {
        let n = levelStart[1]
        if from >= n { return n }
        let g = Swift.min(Swift.max(guess ?? from, from), n - 1)
        probes += 1
        if past(g) {
            if g == from { return g }
            // The answer lies in (lo, hi]: past(hi) holds; past(lo) does not (lo = from - 1: none).
            var hi = g, stride = 1, lo = g - 1
            while lo >= from {
                probes += 1
                if !past(lo) { break }
                hi = lo
                stride &*= 2
                lo = hi - stride
            }
            lo = Swift.max(lo, from - 1)
            while hi - lo > 1 {
                let m = (lo + hi) / 2
                probes += 1
                if past(m) { hi = m } else { lo = m }
            }
            return hi
        }
        // past(g) is false; find hi with past(hi) true (or n), doubling the stride.
        var lo = g, stride = 1
        var hi = lo + 1
        while hi < n {
            probes += 1
            if past(hi) { break }
            lo = hi
            stride &*= 2
            hi = lo + stride
        }
        hi = Swift.min(hi, n)
        while hi - lo > 1 {
            let m = (lo + hi) / 2
            probes += 1
            if past(m) { hi = m } else { lo = m }
        }
        return hi
    }

    /// Where to start looking for the chunk that holds `step`, from chunk `from`: the chunks'
    /// mean step span taken as their width (exact for evenly logged series, a guess otherwise).
    func guess(_ step: Int64, from: Int) -> Int {
        let n = levelStart[1]
        guard n > 1, from < n else { return from }
        let span = Double(lastSteps[n - 1]) - Double(firstSteps[0])
        guard span > 0 else { return from }
        let ahead = (Double(step) - Double(firstSteps[from])) / span * Double(n)
        if !(ahead > 0) { return from }
        return from + Int(Swift.min(ahead, Double(n)))
    }

    /// Statistics of the chunks `range` (level-0 positions), merged from the fewest entries of
    /// the pyramid: the ragged ends of the range at each level, whole groups from the level
    /// above (at most 2 · (fanOut − 1) entries a level, over log_fanOut(range) levels).
    /// `merges` counts the entries merged. Ranks are those of the part (no order bits).
    func merged(_ range: Range<Int>, merges: inout Int) -> Aggregate {
        var a = Aggregate()
        let f = CoarseTier.fanOut
        var l = range.lowerBound, r = range.upperBound
        var level = 0
        while l < r {
            let base = levelStart[level], n = levelStart[level + 1] - base
            if level == levelCount - 1 || r - l < f {
                for k in l..<r { a.merge(entries[base + k]) }
                merges += r - l
                break
            }
            // Here r - l >= f, so l reaches a multiple of f before r.
            while l % f != 0 {
                a.merge(entries[base + l])
                l += 1
                merges += 1
            }
            // The last group of a level may be short: its parent covers it whole.
            while r % f != 0 && r != n {
                r -= 1
                a.merge(entries[base + r])
                merges += 1
            }
            l /= f
            r = (r + f - 1) / f
            level += 1
        }
        return a
    }

    /// Number of levels (at least 1).
    var levelCount: Int { levelStart.count - 1 }

    /// Positions in `entries` of the entries of `level`.
    @inline(__always) func level(_ level: Int) -> Range<Int> { levelStart[level]..<levelStart[level + 1] }

    /// Smallest step of the part (`Int64.max` when it has no point).
    var firstStep: Int64 { level(levelCount - 1).reduce(Int64.max) { min($0, firstSteps[$1]) } }

    /// Largest step of the part (`Int64.min` when it has no point).
    var lastStep: Int64 { level(levelCount - 1).reduce(Int64.min) { max($0, lastSteps[$1]) } }

    /// Positions in `entries` of the children (level `level - 1`) of the entry at position `at`
    /// of `level`.
    @inline(__always) func children(_ level: Int, _ at: Int) -> Range<Int> {
        let below = levelStart[level - 1]
        let c0 = below + (at - levelStart[level]) * CoarseTier.fanOut
        return c0..<min(c0 + CoarseTier.fanOut, levelStart[level])
    }
}

/// How curves and windows reach a series through its coarse tiers (`CoarseSeries`), without
/// building a handle per chunk.
extension SegmentSeries {
    /// The coarse tier of this series' chunks, built once per process from the chunk headers.
    func tier() throws(StrataError) -> CoarseTier {
        if let coarseTier { return coarseTier }
        let t = CoarseTier(chunks: try chunks())
        coarseTier = t
        return t
    }
}

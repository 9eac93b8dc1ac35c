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
    /// Entries of a level per entry of the level above.
    static let fanOut = 8
    /// Every level's entries, level 0 (per chunk) first, the top level (at most `fanOut`) last.
    let entries: [Aggregate]
    /// First and last step of each entry of `entries` (an empty entry: `Int64.max`, `Int64.min`).
    let firstSteps: [Int64]
    let lastSteps: [Int64]
    /// Where each level starts in `entries`, and, last, `entries.count`.
    let levelStart: [Int]

    /// Built from the chunk statistics of the part (in chunk-table order).
    init(chunkStats: [Aggregate]) {
        var all = chunkStats
        for i in all.indices {
            all[i].firstRank = UInt64(i) << 12
            all[i].lastRank = UInt64(i) << 12 + UInt64(max(0, all[i].count - 1))
        }
        var starts = [0]
        var from = 0, n = all.count
        while n > CoarseTier.fanOut {
            let next = (n + CoarseTier.fanOut - 1) / CoarseTier.fanOut
            all.reserveCapacity(all.count + next)
            var g = from
            while g < from + n {
                var a = Aggregate()
                for k in g..<min(g + CoarseTier.fanOut, from + n) { a.merge(all[k]) }
                all.append(a)
                g += CoarseTier.fanOut
            }
            starts.append(from + n)
            from += n
            n = next
        }
        starts.append(all.count)
        entries = all
        levelStart = starts
        firstSteps = all.map { $0.count == 0 ? .max : $0.firstStep }
        lastSteps = all.map { $0.count == 0 ? .min : $0.lastStep }
    }

    /// Number of levels (at least 1).
    var levelCount: Int { levelStart.count - 1 }

    /// Positions in `entries` of the entries of `level`.
    @inline(__always) func level(_ level: Int) -> Range<Int> { levelStart[level]..<levelStart[level + 1] }

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
        let t = CoarseTier(chunkStats: try chunks().map(\.stats))
        coarseTier = t
        return t
    }
}

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
struct CoarseTier: Sendable {
    /// Entries of a level per entry of the level above.
    static let fanOut = 8
    /// `levels[0]`: per chunk; `levels.last`: at most `fanOut` entries.
    let levels: [[Aggregate]]

    /// Built from the chunk statistics of the part (in chunk-table order).
    init(chunkStats: [Aggregate]) {
        var level = chunkStats
        for i in level.indices {
            level[i].firstRank = UInt64(i) << 12
            level[i].lastRank = UInt64(i) << 12 + UInt64(max(0, level[i].count - 1))
        }
        var levels = [level]
        while level.count > CoarseTier.fanOut {
            var next: [Aggregate] = []
            next.reserveCapacity((level.count + CoarseTier.fanOut - 1) / CoarseTier.fanOut)
            var g = 0
            while g < level.count {
                var a = Aggregate()
                for k in g..<min(g + CoarseTier.fanOut, level.count) { a.merge(level[k]) }
                next.append(a)
                g += CoarseTier.fanOut
            }
            levels.append(next)
            level = next
        }
        self.levels = levels
    }

    /// Largest step of the part (`Int64.min` when it has no point).
    var lastStep: Int64 { levels.last!.reduce(Int64.min) { max($0, $1.lastStep) } }

    /// Entries of level `level - 1` under entry `i` of `level`.
    @inline(__always) func children(_ level: Int, _ i: Int) -> Range<Int> {
        let c0 = i * CoarseTier.fanOut
        return c0..<min(c0 + CoarseTier.fanOut, levels[level - 1].count)
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

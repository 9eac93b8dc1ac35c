/// Which points the rewinds of a run hide: the one rule, used by reads of segments and log tails
/// (`StoreReader`), by recovery and cuts (`LogReplay`) and so by compaction.
///
/// A rewind to step `s` made at sequence `q` hides every point of its run with a step above `s`
/// that was logged before `q`. A point's sequence is its log's latest `mark` before it (else the
/// log's creation); every point of a segment counts as logged when its log began
/// (`SegmentMeta.firstSequence`), and the rewinds made at or before the segment's
/// `rewindEpoch` are already applied to its points.
enum RewindVisibility {
    /// The largest visible step of a point logged at `loggedAt`: the smallest step of the rewinds
    /// made after it, leaving out those already applied (made at or before `applied`) and those
    /// not yet known (made after `known`). `Int64.max` when nothing is hidden.
    static func limit(_ rewinds: [RunInfo.Rewind], loggedAt: Int64, applied: Int64 = 0, known: Int64 = .max) -> Int64 {
        var limit = Int64.max
        for r in rewinds where r.sequence > loggedAt && r.sequence > applied && r.sequence <= known { limit = min(limit, r.step) }
        return limit
    }

    /// The chunks of a segment part with the points above `limit` left out: chunks wholly above
    /// are dropped, chunks cut by it are replaced by their visible prefix (decoded, in memory).
    static func trim(_ handles: [ChunkHandle], to limit: Int64) throws(StrataError) -> [ChunkHandle] {
        if limit == .max { return handles }
        var out: [ChunkHandle] = []
        for c in handles {
            if c.stats.firstStep > limit { continue }
            if c.stats.lastStep <= limit { out.append(c); continue }
            var cache: [Int64]? = nil
            let n = try c.lowerBound(limit + 1, steps: &cache)
            // Damaged statistics can claim a first step the points do not have: nothing visible.
            if n == 0 { continue }
            let cols = try ChunkColumns(c, 0..<n)
            out.append(ChunkHandle(memory: MemoryChunk(cols), rankBase: c.rankBase))
        }
        return out
    }
}

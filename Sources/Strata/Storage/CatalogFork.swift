import StrataCodecs

/// Catalog record kind 8, a fork (docs/FORMAT.md, "Catalog"): body after the run id is string
/// parent id, i64 fork step. Written in the same append as the run's create record.
extension Catalog {
    /// The fork record of `run`: forked from `parent`, inheriting its points up to `step`.
    static func forkRecord(_ run: RunID, parent: RunID, step: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.string(parent.text)
        w.i64(step)
        return CatalogRecord(kind: .fork, run: run, body: w.bytes)
    }

    /// The records that make `info` (its create record, and its fork record when it is a fork):
    /// whoever writes a run's create record again writes these, so a fork stays a fork.
    static func createRecords(_ info: RunInfo) -> [CatalogRecord] {
        var out = [createRecord(info)]
        if let p = info.parent, let s = info.forkStep { out.append(forkRecord(info.id, parent: p, step: s)) }
        return out
    }

    /// Applies a fork record to `info`. A fork that would close a cycle of parents (the parent is
    /// the run itself or one of its descendants) or names an unknown parent is damage: it is
    /// reported and ignored, and the run keeps the lineage it had.
    func applyFork(_ r: inout ByteReader, to info: inout RunInfo, offset: Int) throws(StrataError) {
        let parentText = try r.string("fork parent", max: 64)
        let step = try r.i64()
        guard let parent = RunID(parentText) else {
            throw StrataError.corrupt("fork of run \(info.id.text): bad parent id \(parentText)", path: path, offset: offset)
        }
        if let cycle = Catalog.parentCycle(info.id, parent: parent, lookup: { self.info($0)?.parent }) {
            throw StrataError.corrupt(
                "fork of run \(info.id.text) at step \(step) names parent \(parent.text): a cycle in lineage (\(cycle))", path: path,
                offset: offset)
        }
        info.parent = parent
        info.forkStep = step
    }

    /// When making `parent` the parent of `run` would close a cycle: the chain that would loop,
    /// as text (`A → B → A`); nil when it would not. `lookup` gives a run's current parent.
    static func parentCycle(_ run: RunID, parent: RunID, lookup: (RunID) -> RunID?) -> String? {
        var chain = [run, parent]
        var seen: Set<RunID> = [parent]
        var cur = parent
        while cur != run {
            guard let next = lookup(cur) else { return nil }
            chain.append(next)
            if !seen.insert(next).inserted && next != run { return nil }  // a loop above (found by its own check)
            cur = next
        }
        return chain.map(\.text).joined(separator: " → ")
    }
}

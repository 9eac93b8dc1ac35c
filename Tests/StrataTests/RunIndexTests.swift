import Foundation
import StrataCodecs
import Testing

@testable import Strata

/// Segments opened from their run index (header flag bit 1, docs/FORMAT.md "Run index"): open
/// reads the footer and the descriptive fields, a run's series entries are decoded when that run
/// is asked for, and every answer equals the whole-directory parse of the same segment written
/// without the index (as version 3 writers before it did) and brute force.
@Suite("Run index")
struct RunIndexTests {
    typealias Raw = QueryExactnessTests.Raw

    /// What a segment holds for one run, compared field by field (doubles by their bits): keys,
    /// packed or not, every chunk header and the decoded points.
    static func describe(_ seg: Segment, _ run: RunID) throws -> [String] {
        try seg.series(of: run).map { s in
            var out = "\(s.key) packed=\(s.isPacked) sum=\(s.summary.sum.bitPattern) n=\(s.summary.count) t=\(s.minTime)…\(s.maxTime)"
            for e in try s.chunks() {
                let c = try ChunkColumns(ChunkHandle(segment: seg, entry: e, rankBase: 0))
                out += " [\(e.stats.count) \(e.stats.min.bitPattern) \(e.stats.max.bitPattern) \(e.stats.firstValue.bitPattern)"
                out += " \(e.stats.lastValue.bitPattern) \(e.stats.nanCount) \(e.linearSteps) \(e.minTime) \(e.maxTime)"
                out += " \(Array(c.steps)) \(Array(c.values).map(\.bitPattern)) \(Array(c.times))]"
            }
            return out
        }
    }

    /// Builds a store of `runs` runs with three short series each (some long enough for chunk
    /// tables, one with context labels) over two segments; returns the root and the model.
    static func build(_ root: String, runs n: Int, seed: UInt64) throws -> (runs: [RunID], model: [RunID: [String: [Raw]]]) {
        var rng = SeededRandom(seed: seed)
        let store = try Store.open(at: root)
        var runs: [RunID] = []
        var model: [RunID: [String: [Raw]]] = [:]
        var arrival = 0
        for i in 0..<n { runs.append(try store.createRun(name: "r\(i)", params: ["k": .int(Int64(i))]).id) }
        for round in 0..<2 {
            for run in runs where round == 0 || Int.random(in: 0..<4, using: &rng) == 0 {
                for metric in ["loss", "acc"] where round == 0 || Bool.random(using: &rng) {
                    let count = Int.random(in: 0..<300, using: &rng) == 0 ? 4_500 : Int.random(in: 1...12, using: &rng)
                    let pts = PackedSeriesTests.randomPoints(count, &rng, from: arrival, step: (model[run]?[metric]?.last?.step ?? 0) - 1)
                    arrival += count
                    try PackedSeriesTests.log(store, run, metric, pts, bulk: true)
                    model[run, default: [:]][metric, default: []] += pts
                }
                if round == 0 && Int.random(in: 0..<5, using: &rng) == 0 {
                    try store.openRun(id: run.text, name: nil).run.append("loss", labels: ["split": "val"], steps: [1, 2], values: [0.5, 0.25])
                }
            }
            try store.checkpoint()
        }
        try store.close()
        return (runs, model)
    }

    /// Copies the store's segments into `copy` rewritten as version 3 without the run index.
    static func withoutIndex(_ root: String, _ copy: String) throws {
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: root, toPath: copy)
        for s in try PackedSeriesTests.segments(copy) { try rewriteSegment(s.path, version: 3, runIndex: false) }
    }

    /// A segment opened from its run index answers every run as the whole parse of the same
    /// points without the index does (more than one group of packed statistics, chunk tables,
    /// labelled series, runs absent from the segment), parsing no more than the runs asked for.
    @Test func runsFromTheIndexEqualTheWholeParse() throws {
        let dir = TempDir()
        let root = dir.sub("s"), old = dir.sub("old")
        let (runs, _) = try Self.build(root, runs: 1_500, seed: 7)
        try Self.withoutIndex(root, old)
        let new = try PackedSeriesTests.segments(root), plain = try PackedSeriesTests.segments(old)
        #expect(new.count == 2 && plain.count == 2)
        for (a, b) in zip(new, plain) {
            #expect(a.meta.replaces == b.meta.replaces && a.meta.firstSequence == b.meta.firstSequence && a.meta.writer == b.meta.writer)
            #expect(!a.directoryIsParsed, "opened from the run index")
            #expect(b.directoryIsParsed, "no index: parsed at open")
            // A few runs, then the unknown run: still not parsed whole.
            for run in runs.prefix(3) + [RunID.generate()] { #expect(try Self.describe(a, run) == Self.describe(b, run)) }
            #expect(!a.directoryIsParsed, "a few runs decode only their own entries")
        }
        // Every run, in a random order, from fresh lazily opened segments.
        var rng = SeededRandom(seed: 3)
        for (a, b) in zip(try PackedSeriesTests.segments(root), plain) {
            for run in runs.shuffled(using: &rng) { #expect(try Self.describe(a, run) == Self.describe(b, run), "\(run)") }
            #expect(!a.directoryIsParsed)
            #expect(a.checkRunIndex().isEmpty)
            // Whole-directory walks parse on demand and agree.
            #expect(a.runTable == b.runTable)
            #expect(a.directoryIsParsed)
            #expect(a.series.map(\.key) == b.series.map(\.key))
        }
        // The index rows were written: a version 3 segment of this writer sets flag bit 1.
        let header = try Data(contentsOf: URL(fileURLWithPath: new[0].path)).prefix(16)
        #expect(header[12] & 3 == 3)
        let oldHeader = try Data(contentsOf: URL(fileURLWithPath: plain[0].path)).prefix(16)
        #expect(oldHeader[12] & 3 == 1)
    }

    /// Whole-store answers on segments with the run index equal those of the same store whose
    /// segments are rewritten without it, and brute force: listing, per-run series, bulk metric
    /// merges, summaries, after a rewind, a delete, a fork, a live log and compaction.
    @Test func storeAnswersEqualWithoutIndex() throws {
        let dir = TempDir()
        let root = dir.sub("s"), old = dir.sub("old")
        let (runs, model) = try Self.build(root, runs: 200, seed: 11)
        do {
            let store = try Store.open(at: root)
            try store.openRun(id: runs[1].text, name: nil).run.rewind(to: 2)
            _ = try store.deleteRun(runs[2].text)
            let fork = try store.fork(runs[3], atStep: 3)
            try fork.append("loss", steps: [4, 5], values: [1, 2])
            try store.close()
        }
        try Self.withoutIndex(root, old)
        func answers(_ path: String, live: Bool) throws -> [String] {
            let store = try Store.open(at: path)
            defer { try? store.close() }
            if live { try store.openRun(id: runs[5].text, name: nil).run.append("acc", steps: [100], values: [9]) }
            var out: [String] = []
            out += try store.runs(limit: 7).map { "\($0.id) \($0.name)" }
            for run in runs where run != runs[2] {  // runs[2] is deleted
                out += try store.series(of: run).map { "\($0.key) \($0.count) \($0.min.bitPattern) \($0.lastValue.bitPattern) \($0.lastStep)" }
            }
            for lineage in [Lineage.full, .own] {
                let bulk = try store.series(ofRuns: runs, metric: "loss", lineage: lineage)
                out += runs.map { "\($0) \(bulk[$0].map { "\($0.count) \($0.min.bitPattern) \($0.lastValue.bitPattern)" } ?? "-")" }
            }
            out += try store.summary().map { s in
                "\(s.run.id) " + s.metrics.keys.sorted().map { "\($0)=\(s.metrics[$0]!.count)" }.joined(separator: ",")
            }
            return out
        }
        for live in [false, true] {
            let a = try answers(root, live: live), b = try answers(old, live: live)
            #expect(a == b, "live log \(live)")
        }
        // Plain runs against brute force.
        let store = try Store.open(at: root)
        for run in runs[6..<40] {
            let infos = try store.series(of: run).filter { $0.key.labels.isEmpty }
            FlatOpenTests.checkInfos(infos, model[run] ?? [:], "run \(run)")
        }
        _ = try store.compact(graceSeconds: 0)
        try store.close()
        try Self.withoutIndex(root, old)
        #expect(try answers(root, live: false) == answers(old, live: false), "after compaction")
        #expect(try PackedSeriesTests.segments(root).allSatisfy { !$0.directoryIsParsed }, "compaction writes the run index")
    }

    /// A writer given series out of run order (any writer may) writes no run index: flag bit 1
    /// clear, the segment parsed whole at open.
    @Test func seriesOutOfRunOrderWriteNoIndex() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        _ = try Self.build(root, runs: 20, seed: 5)
        let before = try PackedSeriesTests.segments(root)[0]
        let tmp = dir.sub("t")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var writer = try SegmentWriter(path: tmp + "/x.seg", tmpDir: tmp)
        for s in before.series.reversed() {
            let chunks = try s.chunks().map { e in ChunkEncoder.encode(try ChunkColumns(ChunkHandle(segment: before, entry: e, rankBase: 0))) }
            try writer.add(series: s.key, chunks: chunks)
        }
        try writer.finish(meta: before.meta)
        let after = try Segment(path: tmp + "/x.seg", name: "x.seg")
        #expect(after.directoryIsParsed)
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp + "/x.seg"))[12] & 2 == 0)
        for run in before.runTable { #expect(Set(try Self.describe(after, run)) == Set(try Self.describe(before, run))) }
    }

    /// Bytes of a segment, its directory and its run index footer, for damage tests.
    struct Layout {
        var bytes: [UInt8]
        var dirAt: Int, dirLen: Int
        var footerAt: Int { dirAt + dirLen - SegmentFormat.runIndexFooterSize }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        mutating func put64(_ v: UInt64, at: Int) { for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        init(_ path: String) throws {
            let b = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let t = b.count - SegmentFormat.trailerSize
            bytes = b
            dirAt = (0..<8).reduce(0) { $0 | Int(b[t + $1]) << (8 * $1) }
            dirLen = (0..<8).reduce(0) { $0 | Int(b[t + 8 + $1]) << (8 * $1) }
        }
        /// Recomputes the index checksums (rows, footer) and the trailer's directory checksum, as a
        /// writer with a bug in its index would have.
        mutating func reseal() {
            let runs = u32(footerAt), packs = u32(footerAt + 4)
            let rowsStart = footerAt - (runs + 1) * SegmentFormat.runRowSize - packs * SegmentFormat.packRowSize
            put64(Checksum.xxh64(Array(bytes[rowsStart..<footerAt])), at: footerAt + 40)
            put64(Checksum.xxh64(Array(bytes[footerAt..<(footerAt + 56)])), at: footerAt + 56)
            put64(Checksum.xxh64(Array(bytes[dirAt..<(dirAt + dirLen)])), at: bytes.count - SegmentFormat.trailerSize + 16)
        }
    }

    /// Damage to the run index: a flipped byte anywhere in it fails a checksum (`verify` reports
    /// the segment, reads skip it, nothing crashes); an index that disagrees with its directory
    /// under valid checksums (a writer's bug) is caught when a run is decoded, answers come
    /// from the whole directory instead, and `verify` reports the index.
    @Test func damagedRunIndexIsDetected() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        let (runs, _) = try Self.build(root, runs: 60, seed: 9)
        let path = try PackedSeriesTests.segments(root)[0].path
        let pristine = try Layout(path)
        let expected = try runs.map { try Self.describe(Segment(path: path, name: "x.seg"), $0) }
        func listing(_ store: Store) throws -> [String] {
            try runs.prefix(5).flatMap { try store.series(of: $0).map { "\($0.key) \($0.count)" } }
        }
        let whole: [String]
        do {
            let store = try Store.open(at: root, options: .init(create: false))
            whole = try listing(store)
            try store.close()
        }
        // A flipped byte in the rows, in the footer, in the series entries.
        let rowsAt = pristine.footerAt - 8 * pristine.u32(pristine.footerAt + 4) - 16 * (pristine.u32(pristine.footerAt) + 1)
        for at in [rowsAt + 20, pristine.footerAt + 3, pristine.footerAt + 60, pristine.dirAt + pristine.u32(pristine.footerAt + 24) + 2] {
            var l = pristine
            l.bytes[at] ^= 0x10
            try Data(l.bytes).write(to: URL(fileURLWithPath: path))
            let store = try Store.open(at: root, options: .init(create: false))
            let report = try store.verify()
            #expect(report.problems.contains { $0.path.hasSuffix((path as NSString).lastPathComponent) }, "damage at \(at) reported")
            // No crash; the answers are whole, or the segment is listed as unreadable (the
            // series entries' damage is found only when the directory is parsed, after open).
            let answers = try listing(store)
            let listed = try store.unreadableFiles().contains { $0.path.hasSuffix((path as NSString).lastPathComponent) }
            #expect(answers == whole || listed, "damage at \(at): answers differ and the segment is not listed as unreadable")
            try store.close()
        }
        // Rows that disagree with the entries, checksums recomputed: run 1's row points at run 2's entries.
        var l = pristine
        for k in 0..<16 { l.bytes[rowsAt + 16 + k] = pristine.bytes[rowsAt + 32 + k] }
        l.reseal()
        try Data(l.bytes).write(to: URL(fileURLWithPath: path))
        let seg = try Segment(path: path, name: "x.seg")
        #expect(try runs.map { try Self.describe(seg, $0) } == expected, "answers from the whole directory")
        #expect(seg.indexDamage != nil)
        let store = try Store.open(at: root, options: .init(create: false))
        #expect(try store.verify().problems.contains { $0.message.contains("run index") })
        try store.close()
    }
}

import Foundation
import Testing

@testable import Strata

/// Compaction's merge against brute force: inputs that overlap and inputs that do not, equal
/// steps across segments, rewinds, packed series, full chunks copied as stored.
@Suite("Compaction merge", .serialized)
struct CompactionMergeTests {
    /// The points a series should hold, in arrival order (rewinds applied).
    typealias Model = [String: [(step: Int64, value: Double, time: Int64)]]

    /// The model's points in (step, arrival) order.
    static func sorted(_ pts: [(step: Int64, value: Double, time: Int64)]) -> [(step: Int64, value: Double, time: Int64)] {
        pts.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
    }

    /// Every series reads as the model says, points and times, in (step, arrival) order.
    static func checkReads(_ store: Store, _ id: RunID, _ model: Model, _ seed: UInt64, _ when: String) throws {
        for (metric, pts) in model {
            let want = sorted(pts)
            let got = try store.read(id, metric)
            #expect(got.steps == want.map(\.step), "\(metric) steps \(when), seed \(seed)")
            #expect(got.values.map(\.bitPattern) == want.map(\.value.bitPattern), "\(metric) values \(when), seed \(seed)")
            #expect(got.times == want.map(\.time), "\(metric) times \(when), seed \(seed)")
        }
    }

    /// Answers other than reads: aggregates over the whole series and a window, a curve and
    /// exact quantiles (all from stored statistics, tier blocks and points).
    struct Answers: Equatable {
        var whole: Stats?
        var window: Stats?
        var curve: [[Double]]
        var exact: [Double]?
    }

    static func answers(_ store: Store, _ id: RunID, _ metric: String) throws -> Answers {
        let whole = try store.aggregate(id, metric)
        let lo = whole?.firstStep ?? 0, hi = whole?.lastStep ?? 0
        let window = try store.aggregate(id, metric, steps: (lo + (hi - lo) / 3)..<(lo + 2 * (hi - lo) / 3 + 7))
        let curve = try store.curve(id, metric, steps: lo..<(hi + 1), buckets: 37).map { b in
            // NaN (a first or last value) as a number that compares equal to itself.
            [Double(b.bucket), Double(b.stats.count), b.stats.min, b.stats.max, b.stats.first, b.stats.last, Double(b.range.lowerBound)]
                .map { $0.isNaN ? -.greatestFiniteMagnitude : $0 }
        }
        let exact = try? store.quantiles(id, metric, levels: [0.1, 0.5, 0.99], exact: true).values
        return Answers(whole: whole, window: window, curve: curve, exact: exact)
    }

    /// Aggregates agree: counts, extremes, ends exactly; sums to rounding (merge order may differ).
    static func same(_ a: Answers, _ b: Answers, _ what: String) {
        #expect(a.curve == b.curve, "\(what): curve")
        #expect(a.exact == b.exact, "\(what): exact quantiles")
        for (x, y) in [(a.whole, b.whole), (a.window, b.window)] {
            #expect((x == nil) == (y == nil), "\(what): aggregate presence")
            guard let x, let y else { continue }
            func eq(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
            // Where an extreme first occurs may be unknown (nil) when answered from tier blocks.
            func eq(_ a: Int64?, _ b: Int64?) -> Bool { a == nil || b == nil || a == b }
            #expect(
                [x.count, x.nanCount] == [y.count, y.nanCount] && eq(x.min, y.min) && eq(x.max, y.max) && eq(x.first, y.first)
                    && eq(x.last, y.last) && x.firstStep == y.firstStep && x.lastStep == y.lastStep && eq(x.minStep, y.minStep)
                    && eq(x.maxStep, y.maxStep),
                "\(what): aggregate \(x) vs \(y)")
            #expect(abs(x.sum - y.sum) <= 1e-9 * max(1, abs(x.sum)), "\(what): sum \(x.sum) vs \(y.sum)")
        }
    }

    @Test func randomInputsMergeAsBruteForceSays() throws {
        for trial in 0..<3 {
            var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970) &+ UInt64(trial) &* 7919)
            let seed = rng.state
            let dir = TempDir()
            let path = dir.sub("s")
            var model: Model = [:]
            var id: RunID?
            var time: Int64 = 1_000
            let metrics = ["seq", "jump", "overlap", "equal", "tiny", "mixed"]
            var nextStep: [String: Int64] = [:]
            for round in 0..<5 {
                let store = try Store.open(at: path, options: .init(logCapacity: 1 << 18))
                let run = id == nil ? try store.createRun(name: "r") : try store.resumeRun("r")
                id = run.id
                if round > 0 && Int.random(in: 0..<3, using: &rng) == 0 {
                    // A rewind hides the points logged so far above its step, in every series.
                    let to = Int64.random(in: 0...max(0, (nextStep["seq"] ?? 0)), using: &rng)
                    try run.rewind(to: to)
                    for m in model.keys { model[m]!.removeAll { $0.step > to } }
                    for m in nextStep.keys { nextStep[m] = min(nextStep[m]!, to + 1) }
                }
                for metric in metrics {
                    let at = nextStep[metric] ?? 0
                    var steps: [Int64] = []
                    switch metric {
                    case "seq":  // full chunks, in step order: copied when nothing else meets them
                        steps = (0..<Int64(4096 * Int.random(in: 1...3, using: &rng))).map { at + $0 }
                    case "jump":  // in step order with gaps, not chunk-aligned
                        var s = at
                        for _ in 0..<Int.random(in: 1...9_000, using: &rng) {
                            steps.append(s); s += Int64.random(in: 1...5, using: &rng)
                        }
                    case "overlap":  // goes back into steps logged before
                        let from = max(0, at - Int64.random(in: 0...6_000, using: &rng))
                        steps = (0..<Int64.random(in: 1...7_000, using: &rng)).map { from + $0 }
                    case "equal":  // runs of equal steps, continuing across segments
                        var s = max(0, at - 1)
                        for _ in 0..<Int.random(in: 4_000...9_000, using: &rng) {
                            steps.append(s)
                            if Int.random(in: 0..<4, using: &rng) == 0 { s += 1 }
                        }
                    case "tiny":  // a few points a segment: packed series
                        steps = (0..<Int64.random(in: 1...5, using: &rng)).map { at + $0 }
                    default:  // unsorted within a call, some NaNs
                        steps = (0..<Int.random(in: 1...5_000, using: &rng)).map { _ in
                            Int64.random(in: max(0, at - 3_000)...(at + 3_000), using: &rng)
                        }
                    }
                    let values: [Double] = steps.indices.map { i in
                        metric == "mixed" && i % 97 == 5 ? .nan : Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 64
                    }
                    let times: [Int64] = steps.map { _ in
                        time += Int64.random(in: 0...3, using: &rng); return time
                    }
                    try run.append(metric, steps: steps, values: values, times: times)
                    model[metric, default: []] += steps.indices.map { (steps[$0], values[$0], times[$0]) }
                    nextStep[metric] = max(at, (steps.max() ?? at) + 1)
                }
                try store.close()
            }
            let store = try Store.open(at: path)
            let runID = id!
            try Self.checkReads(store, runID, model, seed, "before compaction")
            var before: [String: Answers] = [:]
            for m in metrics { before[m] = try Self.answers(store, runID, m) }
            let report = try store.compact(graceSeconds: 0)
            #expect(report.inputSegments > 1)
            #expect(report.points == model.values.map(\.count).reduce(0, +), "seed \(seed)")
            try Self.checkReads(store, runID, model, seed, "after compaction")
            for m in metrics { Self.same(before[m]!, try Self.answers(store, runID, m), "\(m), seed \(seed)") }
            #expect(try store.verify().isHealthy, "seed \(seed)")
            try store.close()
            let again = try Store.open(at: path)
            try Self.checkReads(again, runID, model, seed, "reopened")
            try again.close()
        }
    }

    @Test func fullChunksThatMeetNoOtherPointsAreCopiedAndAnswerAsBefore() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var model: Model = [:]
        var rng = SeededRandom(seed: 17)
        // Two sessions of full chunks in step order (3 then 2 chunks), then a partial chunk.
        for (session, chunks) in [(0, 3), (1, 2)] {
            let store = try Store.open(at: path)
            let run = session == 0 ? try store.createRun(name: "r") : try store.resumeRun("r")
            let from = Int64(model["loss", default: []].count)
            let n = 4096 * chunks + (session == 1 ? 1_000 : 0)
            let steps = (0..<Int64(n)).map { from + $0 }
            let values = steps.map { _ in Double.random(in: -1...1, using: &rng) }
            let times = steps.map { 5_000 + 2 * $0 }
            try run.append("loss", steps: steps, values: values, times: times)
            model["loss", default: []] += steps.indices.map { (steps[$0], values[$0], times[$0]) }
            try store.close()
        }
        let store = try Store.open(at: path)
        let id = try store.run("r").id
        let before = try Self.answers(store, id, "loss")
        let sketched = try store.quantiles(id, "loss", levels: [0.05, 0.5, 0.95])
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments == 2)
        #expect(report.copiedChunks == 5)
        try Self.checkReads(store, id, model, 17, "after compaction")
        Self.same(before, try Self.answers(store, id, "loss"), "copied chunks")
        // The copied chunks keep their sketches: the approximate quantiles are the same numbers.
        #expect(try store.quantiles(id, "loss", levels: [0.05, 0.5, 0.95]) == sketched)
        #expect(try store.verify().isHealthy)
        #expect(try store.storageStats().segments == 1)
    }

    @Test func inputsInStepOrderAreDecodedOneChunkAtATime() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var model: Model = [:]
        // Ten segments of 2.5 chunks each: no chunk starts an output chunk after the first cut, so
        // all are decoded, and none overlaps another.
        for session in 0..<10 {
            let store = try Store.open(at: path)
            let run = session == 0 ? try store.createRun(name: "r") : try store.resumeRun("r")
            let from = Int64(session * 10_240)
            let steps = (0..<Int64(10_240)).map { from + $0 }
            let values = steps.map { Double($0 % 1_000) }
            try run.append("loss", steps: steps, values: values, times: steps)
            model["loss", default: []] += steps.indices.map { (steps[$0], values[$0], steps[$0]) }
            try store.close()
        }
        let store = try Store.open(at: path)
        let id = try store.run("r").id
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments == 10)
        #expect(report.peakOpenChunks == 1)
        try Self.checkReads(store, id, model, 0, "after compaction")
        #expect(try store.storageStats().chunks == (102_400 + 4095) / 4096)
    }

    /// A segment cut after compaction fixed its rewind epoch is left out of the merge: it is not
    /// replaced, so the output must not hold its points either (before, the merge read every live
    /// segment and such points were stored twice: seen as duplicates when compacting while
    /// another process writes).
    @Test func aSegmentCutAfterTheEpochIsNeitherMergedNorReplaced() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        let store = try Store.open(at: path)
        let run = try store.createRun(name: "r")
        for k in 0..<2 {
            try run.append("m", steps: (Int64(k) * 100..<Int64(k) * 100 + 100).map { $0 }, values: (0..<100).map { Double(k * 100 + $0) })
            try store.checkpoint()
        }
        let epoch = CatalogLock.uniqueNow()
        try run.append("m", steps: (200..<300).map { $0 }, values: (200..<300).map { Double($0) })
        try run.append("late", steps: [1], values: [1])
        try store.checkpoint()
        let paths = StorePaths(root: path)
        let reader = StoreReader(paths: paths)
        try reader.refresh()
        #expect(reader.liveSegments.count == 3 && reader.liveSegments.filter { $0.meta.rewindEpoch <= epoch }.count == 2)
        let outcome = try Compactor.run(paths: paths, reader: reader, grace: 3600, latestRewind: 0, epoch: epoch)
        #expect(outcome?.inputSegments == 2 && outcome?.points == 200)
        try store.close()
        let again = try Store.open(at: path)
        let id = try again.run("r").id
        #expect(try again.read(id, "m").steps == (0..<300).map { $0 })
        #expect(try again.read(id, "late").steps == [1])
        _ = try again.compact(graceSeconds: 0)
        #expect(try again.read(id, "m").steps == (0..<300).map { $0 })
        #expect(try again.verify().isHealthy)
        try again.close()
    }
}

@Suite("Segment writer sharing")
struct SegmentWriterSharingTests {
    /// A long run's series share their times column: when the index of written blobs outgrows its
    /// bound, the next series still finds the previous series' blobs (it used to find none).
    @Test func seriesAfterTheIndexBoundStillShareTimes() throws {
        let dir = TempDir()
        var writer = try SegmentWriter(path: dir.sub("x.seg"), tmpDir: dir.path)
        writer.dedupBound = 1_000
        let run = RunID.generate()
        var times: [UInt8] = []
        for m in 0..<6 {
            var c = ChunkColumns()
            for i in 0..<ChunkLayout.chunkCapacity {
                c.steps.append(Int64(i)); c.values.append(Double(m * 7_919 + i * i % 1_013)); c.times.append(1_000 + Int64(i) * 3 + Int64(i % 7))
            }
            let e = ChunkEncoder.encode(c)
            times = e.times
            writer.beginSeries(SeriesKey(run: run, canonical: "m\(m)"))
            try writer.addChunk(e)
            try writer.endSeries()
        }
        // Every series after the first shares the first one's times (and steps) blob.
        #expect(writer.dedupedBytes >= 5 * times.count)
        try writer.finish(meta: SegmentMeta(writer: "", generation: 0, firstSequence: 1, lastSequence: 2, replaces: []))
    }
}

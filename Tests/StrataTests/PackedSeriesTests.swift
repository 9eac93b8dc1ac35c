import Foundation
import StrataCodecs
import Testing

@testable import Strata

/// Small series are packed in segments (format version 2): every query on them must equal a
/// brute-force scan, across segments, compaction, rewinds, damage and old (version 1) segments.
@Suite("Packed small series")
struct PackedSeriesTests {
    typealias Raw = QueryExactnessTests.Raw
    /// Points logged, by run and metric, in arrival order.
    typealias Model = [RunID: [String: [Raw]]]

    /// Random short series: repeats, steps back, NaN, ±Inf, −0.0 and subnormals.
    static func randomPoints(_ n: Int, _ rng: inout SeededRandom, from arrival: Int, step start: Int64) -> [Raw] {
        var out: [Raw] = []
        var step = start
        for i in 0..<n {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<7: step += 1
            case 7: step += Int64.random(in: 2...9, using: &rng)
            case 8: break
            default: step -= Int64.random(in: 1...5, using: &rng)
            }
            var v = Double.random(in: -3...3, using: &rng)
            switch Int.random(in: 0..<40, using: &rng) {
            case 0: v = .nan
            case 1: v = .infinity
            case 2: v = -.infinity
            case 3: v = -0.0
            case 4: v = Double.leastNonzeroMagnitude * Double(Int.random(in: 1...9, using: &rng))
            case 5..<15: v = (v * 100).rounded() / 100
            default: break
            }
            out.append(Raw(step: step, value: v, arrival: arrival + i))
        }
        return out
    }

    static func log(_ store: Store, _ run: RunID, _ metric: String, _ pts: [Raw], bulk: Bool) throws {
        let r = try store.openRun(id: run.text, name: nil).run
        if bulk {
            try r.append(metric, steps: pts.map(\.step), values: pts.map(\.value))
        } else {
            for p in pts { try r.log(metric, p.value, step: p.step) }
        }
    }

    /// Every single-series query (aggregate, windows, curve, points, summary) against the model.
    static func checkSeries(_ store: Store, _ run: RunID, _ metric: String, _ raw: [Raw], _ rng: inout SeededRandom, _ ctx: String) throws {
        let q = QueryExactnessTests.self
        let full = try store.aggregate(run, metric)
        if let b = q.bruteStats(raw) {
            #expect(full != nil, "\(ctx) aggregate")
            if let full { q.check(full, b, "\(ctx) aggregate") }
        } else {
            #expect(full == nil, "\(ctx) aggregate of nothing")
        }
        let summary = try store.summary().first { $0.run.id == run }?.metrics[metric]
        if let b = q.bruteStats(raw), let summary {
            q.check(summary, b, "\(ctx) summary")
        } else {
            #expect(raw.isEmpty == (summary == nil), "\(ctx) summary")
        }
        let ordered = raw.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
        let all = try store.points(run, metric)
        #expect(all.count == ordered.count && zip(all, ordered).allSatisfy { $0.step == $1.step && sameBits($0.value, $1.value) }, "\(ctx) points")
        let lo = (raw.map(\.step).min() ?? 0) - 3, hi = (raw.map(\.step).max() ?? 0) + 3
        for trial in 0..<6 {
            var a = Int64.random(in: lo...hi, using: &rng), b = Int64.random(in: lo...hi, using: &rng)
            if a > b { swap(&a, &b) }
            if a == b { b += 1 }
            let inRange = raw.filter { $0.step >= a && $0.step < b }
            let agg = try store.aggregate(run, metric, steps: a..<b)
            if let bs = q.bruteStats(inRange), let agg {
                q.check(agg, bs, "\(ctx) aggregate [\(a),\(b))")
            } else {
                #expect((agg == nil) == inRange.isEmpty, "\(ctx) window")
            }
            let buckets = [1, 3, 10][trial % 3]
            var groups: [Int: [Raw]] = [:]
            for p in inRange { groups[Int((p.step - a) * Int64(buckets) / (b - a)), default: []].append(p) }
            let curve = try store.curve(run, metric, steps: a..<b, buckets: buckets)
            #expect(curve.map(\.bucket) == groups.keys.sorted(), "\(ctx) buckets")
            for c in curve { if let g = groups[c.bucket], let bs = q.bruteStats(g) { q.check(c.stats, bs, "\(ctx) bucket \(c.bucket)") } }
            let pts = try store.points(run, metric, steps: a..<b)
            let expected = inRange.sorted { ($0.step, $0.arrival) < ($1.step, $1.arrival) }
            #expect(
                pts.count == expected.count && zip(pts, expected).allSatisfy { $0.step == $1.step && sameBits($0.value, $1.value) },
                "\(ctx) window points")
        }
    }

    /// Cross-run queries (rank by last/min/max/first/count, band) against the model.
    static func checkCrossRun(_ store: Store, _ model: Model, _ metric: String, _ groupOf: [RunID: String], _ ctx: String) throws {
        let q = QueryExactnessTests.self
        let stats = model.compactMapValues { m in m[metric].flatMap { q.bruteStats($0) } }
        for statistic in [RankStatistic.last, .min, .max, .first, .count] {
            let ranked = try store.rank(metric, by: statistic, limit: 1000)
            #expect(ranked.count == stats.count, "\(ctx) rank \(statistic) rows")
            for r in ranked {
                guard let b = stats[r.run.id] else { Issue.record("\(ctx) rank: unexpected run"); continue }
                let want: Double =
                    switch statistic {
                    case .last: b.last
                    case .first: b.first
                    case .min: b.min
                    case .max: b.max
                    default: Double(b.count)
                    }
                #expect(sameBits(r.value, want) || r.value == want, "\(ctx) rank \(statistic) \(r.value) vs \(want)")
            }
        }
        let width: Int64 = 4
        var brute: [String: [Int64: [Double]]] = [:]
        for (run, m) in model {
            for p in m[metric] ?? [] {
                brute[groupOf[run]!, default: [:]][Int64((Double(p.step) / Double(width)).rounded(.down)), default: []].append(p.value)
            }
        }
        let band = try store.band(metric, groupBy: "g", bucketWidth: width)
        #expect(band.count == brute.values.reduce(0) { $0 + $1.count }, "\(ctx) band rows")
        for row in band {
            guard let vals = brute[row.group]?[row.bucket] else { Issue.record("\(ctx) band: unexpected row"); continue }
            #expect(row.count == vals.count && row.nanCount == vals.filter(\.isNaN).count, "\(ctx) band count")
            let finite = vals.filter { !$0.isNaN }
            if let mn = finite.min(), let mx = finite.max() { #expect(row.min == mn && row.max == mx, "\(ctx) band min/max") }
        }
    }

    static func segments(_ root: String) throws -> [Segment] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/segments").filter { $0.hasSuffix(".seg") }.sorted().map {
            try Segment(path: root + "/segments/" + $0, name: $0)
        }
    }

    /// Many runs of a few short series: packed, exact through every query, before and after reopen.
    @Test(arguments: [1 as UInt64, 2, 3])
    func manySmallSeriesMatchBruteForce(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = TempDir()
        let root = dir.sub("s")
        var model: Model = [:]
        var groups: [RunID: String] = [:]
        do {
            let store = try Store.open(at: root)
            var arrival = 0
            for i in 0..<24 {
                let g = "g\(i % 3)"
                let run = try store.createRun(name: "r\(i)", params: ["g": .string(g)])
                groups[run.id] = g
                for metric in ["loss", "acc", "lr"] where Int.random(in: 0..<5, using: &rng) > 0 {
                    let pts = Self.randomPoints(Int.random(in: 1...40, using: &rng), &rng, from: arrival, step: Int64.random(in: -5...5, using: &rng))
                    arrival += pts.count
                    try Self.log(store, run.id, metric, pts, bulk: Bool.random(using: &rng))
                    model[run.id, default: [:]][metric] = pts
                }
            }
            try store.checkpoint()
            let segs = try Self.segments(root)
            #expect(!segs.isEmpty && segs.allSatisfy { $0.series.allSatisfy(\.isPacked) }, "every small series is packed")
            for (run, m) in model { for (metric, raw) in m { try Self.checkSeries(store, run, metric, raw, &rng, "seed \(seed) \(metric)") } }
            try Self.checkCrossRun(store, model, "loss", groups, "seed \(seed)")
            try store.close()
        }
        let again = try Store.open(at: root)
        defer { try? again.close() }
        #expect(try again.verify().isHealthy)
        for (run, m) in model { for (metric, raw) in m { try Self.checkSeries(again, run, metric, raw, &rng, "seed \(seed) reopened \(metric)") } }
        try Self.checkCrossRun(again, model, "acc", groups, "seed \(seed) reopened")
    }

    /// A series that is small in one segment, large in the next and small again; compaction
    /// merges packed and unpacked parts (and packed parts of other series) into one segment.
    @Test func seriesGrowFromSmallToLargeAcrossSegmentsAndCompaction() throws {
        var rng = SeededRandom(seed: 7)
        let dir = TempDir()
        let root = dir.sub("s")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        let grow = try store.createRun(name: "grow")
        let small = try store.createRun(name: "small")
        var growPts: [Raw] = [], smallPts: [Raw] = []
        for (n, segmentsSoFar) in [(10, 1), (5_000, 2), (3, 3)] {
            let g = Self.randomPoints(n, &rng, from: growPts.count, step: (growPts.last?.step ?? 0) - 2)
            let s = Self.randomPoints(4, &rng, from: smallPts.count, step: (smallPts.last?.step ?? 0) - 1)
            try Self.log(store, grow.id, "m", g, bulk: true)
            try Self.log(store, small.id, "m", s, bulk: false)
            growPts += g; smallPts += s
            try store.checkpoint()
            let segs = try Self.segments(root)
            #expect(segs.count == segmentsSoFar)
            let last = segs.max { $0.meta.firstSequence < $1.meta.firstSequence }!
            let part = last.series.first { $0.key.run == grow.id }!
            #expect(part.isPacked == (n < ChunkLayout.chunkCapacity), "a series of \(n) points in one segment is packed only when small")
            try Self.checkSeries(store, grow.id, "m", growPts, &rng, "grow after \(n)")
            try Self.checkSeries(store, small.id, "m", smallPts, &rng, "small after \(n)")
        }
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments == 3)
        let after = try Self.segments(root)
        #expect(after.count == 1)
        #expect(after[0].series.first { $0.key.run == small.id }!.isPacked, "12 points merged from three packed parts stay packed")
        #expect(!after[0].series.first { $0.key.run == grow.id }!.isPacked)
        try Self.checkSeries(store, grow.id, "m", growPts, &rng, "grow compacted")
        try Self.checkSeries(store, small.id, "m", smallPts, &rng, "small compacted")
        #expect(try store.verify().isHealthy)
    }

    /// Rewinds hide the packed points above the step (and never those logged after), before and
    /// after compaction drops them.
    @Test func rewindsOnPackedSeries() throws {
        var rng = SeededRandom(seed: 8)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let run = try store.createRun(name: "r")
        let other = try store.createRun(name: "o")
        var pts = (0..<20).map { Raw(step: Int64($0), value: Double($0) * 0.5, arrival: $0) }
        let keep = (0..<7).map { Raw(step: Int64($0), value: -Double($0), arrival: $0) }
        try Self.log(store, run.id, "m", pts, bulk: true)
        try Self.log(store, other.id, "m", keep, bulk: true)
        try store.checkpoint()
        try store.rewind(run.id, to: 9)
        pts = pts.filter { $0.step <= 9 }
        try Self.checkSeries(store, run.id, "m", pts, &rng, "rewound")
        let later = (5..<12).map { Raw(step: Int64($0), value: 100 + Double($0), arrival: 100 + $0) }
        try Self.log(store, run.id, "m", later, bulk: false)
        pts += later
        try Self.checkSeries(store, run.id, "m", pts, &rng, "rewound then logged")
        try store.checkpoint()
        try Self.checkSeries(store, run.id, "m", pts, &rng, "rewound, logged, checkpointed")
        _ = try store.compact(graceSeconds: 0)
        try Self.checkSeries(store, run.id, "m", pts, &rng, "compacted")
        try Self.checkSeries(store, other.id, "m", keep, &rng, "other run")
        try store.rewind(run.id, to: 6)
        try Self.checkSeries(store, run.id, "m", pts.filter { $0.step <= 6 }, &rng, "rewound after compaction")
    }

    /// Damage to a pack of columns or to the packed table is reported by verify and by the
    /// queries that need it, never a crash; series in other segments still read.
    @Test func damagedPacksAreReportedNotCrashes() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        var rng = SeededRandom(seed: 9)
        let good: RunID, bad: RunID
        do {
            let store = try Store.open(at: root)
            let b = try store.createRun(name: "bad")
            try Self.log(store, b.id, "m", Self.randomPoints(30, &rng, from: 0, step: 0), bulk: true)
            try store.checkpoint()
            let g = try store.createRun(name: "good")
            try Self.log(store, g.id, "m", Self.randomPoints(30, &rng, from: 0, step: 0), bulk: true)
            try store.close()
            good = g.id; bad = b.id
        }
        let segs = try Self.segments(root)
        #expect(segs.count == 2)
        let target = segs.first { $0.series.contains { $0.key.run == bad } }!
        let path = target.path, pack = target.packs[0]
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        // A flipped byte in the pack (a column of the series).
        var flipped = original
        flipped[pack.offset + pack.length / 2] ^= 0x20
        try Data(flipped).write(to: URL(fileURLWithPath: path))
        do {
            let store = try Store.open(at: root)
            defer { try? store.close() }
            let report = try store.verify()
            #expect(report.problems.contains { $0.path == path && $0.message.contains("checksum") }, "\(report.problems)")
            #expect(throws: StrataError.self) { try store.points(bad, "m") }
            #expect(try store.points(good, "m").count == 30)
        }
        _FuzzEntry.segment(flipped)
        // Every byte of the directory (run and name tables, packs, packed entries) flipped in turn
        // with its checksum fixed: a clear error or a readable series, never a crash.
        let n = original.count
        let dirAt = Int(original[(n - 40)..<(n - 32)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        for at in dirAt..<(n - 40) {
            var b = original
            b[at] ^= 0x5A
            let sum = b.withUnsafeBytes { Checksum.xxh64(UnsafeRawBufferPointer(rebasing: $0[dirAt..<(n - 40)])) }
            for i in 0..<8 { b[n - 24 + i] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(i))) }
            try Data(b).write(to: URL(fileURLWithPath: path))
            let store = try Store.open(at: root)
            _ = try store.verify()
            _ = try? store.points(bad, "m")
            _ = try? store.summary()
            #expect(try store.points(good, "m").count == 30)
            try store.close()
        }
    }

    /// A store whose segments are in format version 1 (as written before packing) reads the same,
    /// and compaction merges version 1 and version 2 segments.
    @Test func versionOneSegmentsStayReadable() throws {
        var rng = SeededRandom(seed: 10)
        let dir = TempDir()
        let root = dir.sub("s")
        var model: Model = [:]
        var groups: [RunID: String] = [:]
        do {
            let store = try Store.open(at: root)
            for i in 0..<6 {
                let run = try store.createRun(name: "r\(i)", params: ["g": .string("g\(i % 2)")])
                groups[run.id] = "g\(i % 2)"
                let pts = Self.randomPoints(i == 0 ? 5_000 : 25, &rng, from: 0, step: 0)
                try Self.log(store, run.id, "loss", pts, bulk: true)
                model[run.id, default: [:]]["loss"] = pts
            }
            try store.close()
        }
        for s in try Self.segments(root) { try rewriteSegmentAsVersion1(s.path) }
        let raw = try Array(Data(contentsOf: URL(fileURLWithPath: try Self.segments(root)[0].path)))
        #expect(raw[8] == 1 && raw[9] == 0, "the segment is in format version 1")
        let store = try Store.open(at: root)
        defer { try? store.close() }
        #expect(try store.verify().isHealthy)
        for (run, m) in model { for (metric, raw) in m { try Self.checkSeries(store, run, metric, raw, &rng, "v1 \(metric)") } }
        try Self.checkCrossRun(store, model, "loss", groups, "v1")
        // More points in a version 2 segment, then one compaction over both versions.
        for (run, _) in model {
            let start = model[run]!["loss"]!.count
            let more = Self.randomPoints(6, &rng, from: start, step: 3)
            try Self.log(store, run, "loss", more, bulk: false)
            model[run]!["loss"]! += more
        }
        try store.checkpoint()
        _ = try store.compact(graceSeconds: 0)
        let segs = try Self.segments(root)
        #expect(segs.count == 1)
        for (run, m) in model { for (metric, raw) in m { try Self.checkSeries(store, run, metric, raw, &rng, "v1+v2 compacted \(metric)") } }
        try Self.checkCrossRun(store, model, "loss", groups, "v1+v2 compacted")
    }

    /// The per-series cost of packed series beyond their encoded columns: at most 24 bytes of
    /// structure; the stored statistics (version 3, 11 fields of which 6 doubles) are counted apart:
    /// with full-precision random values nothing of their mantissas compresses, at most 48 bytes.
    @Test func packedSeriesOverheadIsAtMost24Bytes() throws {
        let dir = TempDir()
        let root = dir.sub("s")
        var rng = SeededRandom(seed: 11)
        var series = 0
        do {
            let store = try Store.open(at: root)
            for i in 0..<400 {
                let run = try store.createRun(name: "trial-\(i)")
                let steps = (0..<Int64(10)).map { $0 }
                var values: [String: [Double]] = [:]
                for m in ["train/loss", "val/loss", "val/acc", "lr", "epoch_time"] {
                    values[m] = (0..<10).map { _ in Double.random(in: 0...1, using: &rng) }
                }
                for (k, step) in steps.enumerated() { try run.log(values.mapValues { $0[k] }, step: step, time: 1_700_000_000_000 + step * 1000) }
                series += values.count
            }
            try store.close()
        }
        var fileBytes = 0, columnBytes = 0, packed = 0, statisticsBytes = 0
        for seg in try Self.segments(root) {
            fileBytes += Int(try FileManager.default.attributesOfItem(atPath: seg.path)[.size] as! UInt64)
            statisticsBytes += seg.packedSummaryBytes
            var seen = Set<Int>()
            for s in seg.series {
                if s.isPacked { packed += 1 }
                for e in try s.chunks() {
                    for ref in [e.steps, e.values, e.times, e.tier] where seen.insert(ref.offset).inserted { columnBytes += ref.length }
                }
            }
        }
        #expect(packed == series)
        let overhead = Double(fileBytes - columnBytes - statisticsBytes) / Double(series)
        let statistics = Double(statisticsBytes) / Double(series)
        print("packed series overhead: \(overhead) bytes per series, stored statistics \(statistics)")
        #expect(overhead <= 24, "\(overhead) bytes of overhead per series")
        #expect(statistics > 0 && statistics <= 48, "\(statistics) bytes of stored statistics per series")
    }
}

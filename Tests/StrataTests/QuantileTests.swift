import Foundation
import Testing

@testable import Strata

/// Quantiles from chunk sketches against exact order statistics (docs/QUERIES.md, "Quantiles").
@Suite("Quantiles: sketches within their bound, exact on request")
struct QuantileTests {
    static let levels = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]

    enum Shape: String, CaseIterable {
        case uniform, heavyTailed, constant, nonFinite, bimodal, signed
    }

    static func values(_ shape: Shape, _ n: Int, _ rng: inout SeededRandom) -> [Double] {
        (0..<n).map { i in
            switch shape {
            case .uniform: return Double.random(in: 0...1000, using: &rng)
            case .heavyTailed:
                // Pareto with index 1.1: a few values are enormous.
                let u = Double.random(in: Double.ulpOfOne...1, using: &rng)
                return pow(u, -1 / 1.1)
            case .constant: return 312.5
            case .nonFinite:
                let r = Int.random(in: 0..<100, using: &rng)
                if r < 5 { return .nan }
                if r < 7 { return .infinity }
                if r < 8 { return -.infinity }
                return Double.random(in: 1...2, using: &rng)
            case .bimodal:
                return i % 3 == 0 ? Double.random(in: 900...1100, using: &rng) : Double.random(in: 0.01...0.02, using: &rng)
            case .signed:
                let r = Int.random(in: 0..<50, using: &rng)
                if r == 0 { return 0 }
                return Double.random(in: -1...1, using: &rng) * pow(10, Double.random(in: -3...3, using: &rng))
            }
        }
    }

    /// Whether `got` is within the sketch bound of the exact quantile of `values` at `q`: the
    /// error is relative to the larger magnitude of the two order statistics interpolated.
    static func within(_ got: Double, _ values: [Double], _ q: Double) -> Bool {
        let v = values.filter { !$0.isNaN }.sorted()
        let exact = Quantile.exact(values, [q])[0]!
        if got == exact { return true }
        let h = Double(v.count - 1) * q
        let lo = v[Int(h.rounded(.down))], hi = v[min(v.count - 1, Int(h.rounded(.down)) + 1)]
        if !exact.isFinite { return got == exact }
        let scale = max(abs(lo), abs(hi.isFinite ? hi : lo))
        return abs(got - exact) <= QuantileSummary.sketchRelativeError * scale + 0x1p-1022
    }

    @Test(arguments: Shape.allCases)
    func wholeSeriesRangesAndBucketsWithinBound(shape: Shape) throws {
        var rng = SeededRandom(seed: 16 + UInt64(Shape.allCases.firstIndex(of: shape)!))
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        let n = 5 * 4096 + 777
        let vals = Self.values(shape, n, &rng)
        try run.append("m", steps: (0..<Int64(n)).map { $0 }, values: vals)
        try store.checkpoint()
        // Whole series: full chunks from their sketches, the partial one exactly.
        let q = try store.quantiles(run.id, "m", levels: Self.levels)
        #expect(!q.exact, "\(shape): full chunks should be answered by their sketches")
        #expect(q.count == vals.filter { !$0.isNaN }.count)
        for (l, got) in zip(Self.levels, q.values) { #expect(Self.within(got, vals, l), "\(shape) q\(l): \(got)") }
        // exact: the exact order statistics, bit for bit.
        let e = try store.quantiles(run.id, "m", levels: Self.levels, exact: true)
        #expect(e.exact)
        #expect(e.values.map(\.bitPattern) == Quantile.exact(vals, Self.levels).map { $0!.bitPattern })
        // Step ranges: whole chunks inside from sketches, the cut ones decoded.
        for _ in 0..<10 {
            var a = Int64.random(in: 0..<Int64(n), using: &rng), b = Int64.random(in: 0..<Int64(n), using: &rng)
            if a > b { swap(&a, &b) }
            let window = Array(vals[Int(a)...Int(b)])
            guard window.contains(where: { $0.isFinite }) else { continue }
            let r = try store.quantiles(run.id, "m", steps: a...b, levels: Self.levels)
            for (l, got) in zip(Self.levels, r.values) { #expect(Self.within(got, window, l), "\(shape) [\(a),\(b)] q\(l)") }
        }
        // Curves: buckets wider than a chunk use sketches; narrower ones are exact.
        for buckets in [2, 3, 40] {
            let curve = try store.curve(run.id, "m", steps: 0...Int64(n - 1), buckets: buckets, quantiles: [0.5, 0.9, 0.99])
            let b = Buckets(0...Int64(n - 1), count: buckets)
            for c in curve {
                let part = Array(vals[Int(b.start(c.bucket))...Int(b.end(c.bucket))])
                #expect(c.quantiles.count == 3)
                guard part.contains(where: { $0.isFinite }) else {
                    #expect(c.quantiles.allSatisfy { $0.isNaN })
                    continue
                }
                for (l, got) in zip([0.5, 0.9, 0.99], c.quantiles) {
                    #expect(Self.within(got, part, l), "\(shape) bucket \(c.bucket)/\(buckets) q\(l)")
                }
                if buckets == 40 { #expect(c.quantilesExact) }
            }
            if buckets == 2 { #expect(curve.contains { !$0.quantilesExact }) }
        }
        try store.close()
    }

    @Test func acrossSegmentsLiveLogsAndCompaction() throws {
        var rng = SeededRandom(seed: 99)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        var all: [Double] = []
        // Three segments with overlapping step ranges, then points left in the live log.
        for part in 0..<3 {
            let vals = Self.values(.bimodal, 2 * 4096 + 100, &rng)
            try run.append("m", steps: (0..<Int64(vals.count)).map { $0 * 3 + Int64(part) }, values: vals)
            try store.checkpoint()
            all += vals
        }
        let live = Self.values(.heavyTailed, 500, &rng)
        try run.append("m", steps: (0..<Int64(live.count)).map { 100_000 + $0 }, values: live)
        all += live
        let before = try store.quantiles(run.id, "m", levels: Self.levels)
        #expect(!before.exact)
        for (l, got) in zip(Self.levels, before.values) { #expect(Self.within(got, all, l), "before compaction q\(l)") }
        try store.checkpoint()
        _ = try store.compact(graceSeconds: 0)
        let after = try store.quantiles(run.id, "m", levels: Self.levels)
        #expect(!after.exact, "compaction rebuilds the sketches of the chunks it writes")
        for (l, got) in zip(Self.levels, after.values) { #expect(Self.within(got, all, l), "after compaction q\(l)") }
        let exact = try store.quantiles(run.id, "m", levels: Self.levels, exact: true)
        #expect(exact.values.map(\.bitPattern) == Quantile.exact(all, Self.levels).map { $0!.bitPattern })
        #expect(try store.verify().problems.isEmpty)
        try store.close()
    }

    @Test func mergeIsAssociativeOrderIndependentAndTheSketchOfTheUnion() {
        var rng = SeededRandom(seed: 7)
        let parts = (0..<4).map { i in Self.values(Shape.allCases[i + 1], 3000, &rng) }
        let sketches = parts.map { p in
            var s = QuantileSketch()
            for v in p { s.add(v) }
            return s
        }
        var union = QuantileSketch()
        for v in parts.joined() { union.add(v) }
        func merged(_ order: [Int]) -> QuantileSketch {
            var s = QuantileSketch()
            for i in order { s.merge(sketches[i]) }
            return s
        }
        var left = sketches[0]
        left.merge(sketches[1])
        left.merge(sketches[2])
        var bc = sketches[1]
        bc.merge(sketches[2])
        var right = sketches[0]
        right.merge(bc)
        #expect(left == right)
        #expect(merged([0, 1, 2, 3]) == union)
        #expect(merged([3, 1, 0, 2]) == union)
        #expect(merged([2, 3, 1, 0]) == union)
        for q in Self.levels { #expect(merged([3, 2, 1, 0]).quantile(q) == union.quantile(q)) }
    }

    @Test func sketchCodecRoundTripsAndRejectsDamage() throws {
        var rng = SeededRandom(seed: 3)
        for shape in Shape.allCases {
            let vals = Self.values(shape, 4096, &rng)
            var s = QuantileSketch()
            for v in vals { s.add(v) }
            var w = ByteWriter()
            s.encode(into: &w)
            let bytes = w.bytes
            let expected = vals.filter { !$0.isNaN }.count
            let back = try ByteView.with(bytes) { v throws(StrataError) in
                var r = ByteReader(v, path: "t")
                return try QuantileSketch.decode(&r, expected: expected)
            }
            #expect(back == s)
            // The chunk encoder's one-pass builder writes the same bytes.
            var fast = ByteWriter()
            vals.withUnsafeBufferPointer { QuantileSketch.encode(values: $0.baseAddress!, count: vals.count, into: &fast) }
            #expect(fast.bytes == bytes, "\(shape): one-pass sketch bytes differ")
            // Damaged bytes: a corrupt error or a sketch of the right size, never a trap.
            for trial in 0..<300 {
                var d = bytes
                if trial % 3 == 0 {
                    d = Array(d.prefix(Int.random(in: 0..<d.count, using: &rng)))
                } else {
                    for _ in 0..<(1 + trial % 4) { d[Int.random(in: 0..<d.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
                }
                do {
                    let x = try ByteView.with(d) { v throws(StrataError) in
                        var r = ByteReader(v, path: "t")
                        return try QuantileSketch.decode(&r, expected: expected)
                    }
                    #expect(x.count == expected)
                    if x.count > 0 { _ = x.quantile(0.5) }
                } catch {
                    #expect(error.code == .corrupt)
                }
            }
        }
    }

    @Test func verifyReportsADamagedSketch() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        do {
            let store = try Store.open(at: path)
            let run = try store.createRun(name: "r")
            try run.append("m", steps: (0..<4096).map { $0 }, values: (0..<4096).map { Double($0 % 97) + 0.5 })
            try store.close()
        }
        let segDir = path + "/segments"
        let seg = try FileManager.default.contentsOfDirectory(atPath: segDir).first { $0.hasSuffix(".seg") }!
        // Find the sketch: the tier blob of the one chunk, after its 32 tier entries.
        let s = try Segment(path: segDir + "/" + seg, name: seg)
        let e = try s.series[0].chunks()[0]
        #expect(e.hasSketch)
        let at = e.tier.offset + ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize + 3
        var data = try Data(contentsOf: URL(fileURLWithPath: segDir + "/" + seg))
        data[at] ^= 0x40
        try data.write(to: URL(fileURLWithPath: segDir + "/" + seg))
        let store = try Store.open(at: path)
        let report = try store.verify()
        #expect(!report.problems.isEmpty)
        let run = try store.run("r")
        // A query reports the damage instead of answering from a damaged sketch.
        do {
            _ = try store.quantiles(run.id, "m", levels: [0.5])
            Issue.record("a damaged sketch answered")
        } catch {
            #expect(error.code == .corrupt)
        }
        try store.close()
    }

    @Test func badInputIsAClearError() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        try run.append("m", steps: [1, 2, 3], values: [1, 2, 3])
        try run.append("n", steps: [1, 2], values: [.nan, .nan])
        for bad in [0.0, 1.0, -0.5, 1.5, .nan] {
            do {
                _ = try store.quantiles(run.id, "m", levels: [0.5, bad])
                Issue.record("quantile \(bad) accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("outside (0, 1)"))
            }
        }
        #expect(throws: StrataError.self) { try store.curve(run.id, "m", steps: 0...10, buckets: 2, quantiles: [1]) }
        for (metric, steps) in [("n", nil), ("m", 10...20 as ClosedRange<Int64>?), ("absent", nil)] {
            do {
                _ = try store.quantiles(run.id, metric, steps: steps, levels: [0.5])
                Issue.record("no finite value accepted for \(metric)")
            } catch {
                #expect(error.code == .notFound)
                #expect(error.message.contains("no finite value"))
            }
        }
        try store.close()
    }

    @Test func selectionGivesTheSortedOrderStatistics() {
        var rng = SeededRandom(seed: 11)
        for n in [1, 2, 3, 17, 100, 1000, 5000] {
            for shape in QuantileTests.Shape.allCases {
                let v = QuantileTests.values(shape, n, &rng).filter { !$0.isNaN }
                if v.isEmpty { continue }
                let sorted = v.sorted()
                // Few ranks, the histogram's nine levels (18 ranks), and many (a multi-selection
                // that partitions nearly to a sort), in any order, with repeats.
                let many = (0..<60).map { _ in Double.random(in: 0...1, using: &rng) }
                for qs in [[0.001, 0.1, 0.5, 0.73, 0.99, 0.999], Histogram.levels.reversed(), many + [0, 1, 0.5, 0.5]] {
                    let want = qs.map { q in Quantile.interpolate(n: sorted.count, q: q) { sorted[$0] } }
                    #expect(Quantile.exact(v, qs).map { $0!.bitPattern } == want.map(\.bitPattern), "n \(n) \(shape) \(qs.count) levels")
                }
            }
        }
    }

    @Test func exactDefinitionInterpolatesAndRanksInfinitiesAtTheEnds() {
        // h = (n - 1) q between order statistics (numpy's default, DuckDB's quantile_cont).
        #expect(Quantile.exact([4, 1, 3, 2], [0.5, 0.25, 0.1]) == [2.5, 1.75, 1.3])
        #expect(Quantile.exact([1, .nan, 2], [0.5]) == [1.5])
        #expect(Quantile.exact([-.infinity, 1, 2, .infinity], [0.1, 0.5, 0.9]) == [-.infinity, 1.5, .infinity])
        #expect(Quantile.exact([.nan], [0.5]) == [nil])
    }

    /// A store written by Strata before sketches (segment version 1, made by
    /// Fixtures/README.md) answers quantiles by reading its points.
    @Test func version1StoreAnswersQuantilesByReading() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/v1-store").path
        let dir = TempDir()
        let path = dir.sub("s")
        try FileManager.default.copyItem(atPath: fixture, toPath: path)
        for sub in ["wal", "tmp"] { try? FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true) }
        let store = try Store.open(at: path)
        let run = try store.run("old")
        var vals: [Double] = []
        try store.scan(run.id, "train/grad_norm") { _, v in for i in v.indices { vals.append(v[i]) } }
        #expect(vals.count == 8500)
        let q = try store.quantiles(run.id, "train/grad_norm", levels: Self.levels)
        #expect(q.exact, "version 1 chunks carry no sketch")
        #expect(q.values.map(\.bitPattern) == Quantile.exact(vals, Self.levels).map { $0!.bitPattern })
        let c = try store.curve(run.id, "neg", steps: 0...8499, buckets: 2, quantiles: [0.5])
        #expect(c.count == 2 && c.allSatisfy { $0.quantilesExact })
        #expect(try store.verify().problems.isEmpty)
        try store.close()
    }
}

/// Quantiles wherever summaries are used: filters, rank, band.
@Suite("Quantiles in filters, rank and band")
struct QuantileSurfaceTests {
    @Test func filterRankAndBandUseQuantiles() throws {
        var rng = SeededRandom(seed: 5)
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        var p90: [String: Double] = [:]
        var bySeed: [Int64: [Double]] = [:]
        for r in 0..<4 {
            let run = try store.createRun(name: "r\(r)", params: ["seed": .int(Int64(r)), "model": .string("a")])
            // Step times: mostly near 300 ms, with a tail whose weight grows with r.
            let n = 4096 + 300
            let vals = (0..<n).map { _ in
                Double.random(in: 0..<1, using: &rng) < 0.05 * Double(r)
                    ? Double.random(in: 400...500, using: &rng) : Double.random(in: 290...310, using: &rng)
            }
            try run.append("train/step_ms", steps: (0..<Int64(n)).map { $0 }, values: vals)
            p90["r\(r)"] = Quantile.exact(vals, [0.9])[0]!
            for (i, v) in vals.enumerated() where i < 10 { bySeed[Int64(i), default: []].append(v) }
        }
        try store.checkpoint()
        // runs --where metric(...).p90: the same runs as the exact p90.
        let f = try Filter(#"metric("train/step_ms").p90 < 350"#)
        #expect(f.description == #"metric("train/step_ms").p90 < 350"#)
        let matched = try store.runs(where: f).map(\.name).sorted()
        #expect(matched == p90.filter { $0.value < 350 }.keys.sorted())
        #expect(!matched.isEmpty && matched.count < 4)
        // rank by p90, ascending.
        let ranked = try store.rank("train/step_ms", quantile: 0.9, limit: 4)
        #expect(ranked.map(\.run.name) == p90.sorted { $0.value < $1.value }.map(\.key))
        for r in ranked { #expect(abs(r.value - p90[r.run.name]!) <= QuantileSummary.sketchRelativeError * p90[r.run.name]!) }
        // band with p10-p90 across the seeds: exact quantiles of each step's values.
        let band = try store.band("train/step_ms", groupBy: "model", bucketWidth: 1, quantiles: [0.1, 0.9])
        for row in band where row.bucket < 10 {
            #expect(row.quantiles == Quantile.exact(bySeed[row.bucket]!, [0.1, 0.9]).map { $0! })
        }
        #expect(throws: StrataError.self) { try store.rank("train/step_ms", quantile: 1.5) }
        #expect(throws: StrataError.self) { try store.band("train/step_ms", groupBy: "model", bucketWidth: 1, quantiles: [0]) }
        #expect(throws: StrataError.self) { try Filter(#"metric("m").p100 > 1"#) }
        try store.close()
    }

    @Test func quantileNamesRoundTrip() {
        #expect(Quantile.parseName("p50") == 0.5)
        #expect(Quantile.parseName("p5") == 0.05)
        #expect(Quantile.parseName("p999") == 0.999)
        #expect(Quantile.parseName("p0") == nil)
        #expect(Quantile.parseName("p100") == nil)
        #expect(Quantile.parseName("p99.9") == nil)
        #expect(Quantile.parseName("pmax") == nil)
        for q in [0.5, 0.9, 0.99, 0.999, 0.05, 0.1, 0.25, 0.9999] { #expect(Quantile.parseName(Quantile.name(q)) == q, "\(q)") }
    }
}

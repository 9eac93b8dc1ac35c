import Foundation
import Testing

@testable import Strata

/// What a bulk import of thousands of short runs holds in memory until its segment is written,
/// and the catalog state of the runs it creates (issue 10, I3).
@Suite("Bulk ingest memory and catalog state")
struct BulkIngestMemoryTests {
    /// Encoded columns keep only their bytes: encoding reserves room (LZ4 its worst case), and
    /// every chunk of a bulk import waits in memory until the segment is written.
    @Test func encodedChunksHoldOnlyTheirBytes() {
        var rng = SeededRandom(seed: 77)
        for n in [3, 17, 43, 100, 511, ChunkLayout.chunkCapacity] {
            let steps = (0..<Int64(n)).map { $0 * 3 }
            let values = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            let times = (0..<n).map { _ in Int64.random(in: 0..<1_000_000_000, using: &rng) }
            var cols = ChunkColumns()
            cols.steps = steps; cols.values = values; cols.times = times
            let c = ChunkEncoder.encode(cols)
            for (name, col) in [("steps", c.steps), ("values", c.values), ("times", c.times)] {
                #expect(col.capacity - col.count <= 32, "\(n) points: \(name) column of \(col.count) bytes holds \(col.capacity)")
            }
        }
    }

    /// Only the most recent runs remember their last steps and times columns for reuse: a bulk
    /// import of many runs does not hold two raw columns per run until close.
    @Test func columnReuseIsKeptForRecentRunsOnly() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        for r in 0..<(SeriesBuffers.reuseRuns * 3) {
            let run = try store.createRun(name: "t\(r)")
            let steps = (0..<Int64(30)).map { $0 }
            for m in ["a", "b"] { try run.append(m, steps: steps, values: steps.map { Double($0) * 0.1 + Double(r) }, times: steps) }
        }
        let remembering = try store.withWriter { w in
            Set(w.buffers.series.filter { $0.reuse.remembers }.map { ObjectIdentifier($0.reuse) }).count
        }
        #expect(remembering <= SeriesBuffers.reuseRuns)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        let last = try again.run("t\(SeriesBuffers.reuseRuns * 3 - 1)")
        #expect(try again.points(last.id, "b").count == 30)
        #expect(try again.points(try again.run("t0").id, "a").map(\.value) == (0..<30).map { Double($0) * 0.1 })
        try again.close()
    }

    /// The runs this process created and wrote are, in its catalog, exactly what another process
    /// decodes from the records (params of every shape, tags, metadata).
    @Test func writtenRunsEqualTheirDecodedRecords() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var rng = SeededRandom(seed: 4242)
        let store = try Store.open(at: path, options: BulkIngestTests.noTimer)
        for r in 0..<300 {
            var params: [String: ParamValue] = [:]
            for k in 0..<Int.random(in: 0..<12, using: &rng) {
                params["p\(k).q\(Int.random(in: 0..<5, using: &rng))"] = BulkIngestTests.randomValue(&rng, depth: 2)
            }
            let run = try store.createRun(name: "t\(r % 120)", params: params, tags: r % 3 == 0 ? ["x", "y\(r)"] : [])
            if r % 2 == 0 { try run.append("m", steps: [0, 1], values: [1, 2], times: [5, 6]) }
            if r % 97 == 0 { try store.writeCreatedRuns() }
        }
        try store.flush()
        let mine = try store.runs()
        let other = try Store.open(at: path)
        let theirs = try other.runs()
        #expect(mine.count == 300)
        #expect(mine == theirs)
        #expect(try store.run("t7").id == (try other.run("t7").id))  // newest of a repeated name
        try other.close()
        try store.close()
    }
}

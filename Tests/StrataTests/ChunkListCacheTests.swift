import Foundation
import Testing

@testable import Strata

/// `StoreReader.chunks` reuses the segment chunk list of a series between queries; it must never
/// return a stale list: rewinds, new segments and points still in a log are always seen.
@Suite("Segment chunk lists are reused between queries, never stale")
struct ChunkListCacheTests {
    static func storage(_ a: [ChunkHandle]) -> UInt {
        a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func repeatedQueriesOfASeriesReuseItsChunkList() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        try run.append("m", steps: Array(0..<20_000), values: (0..<20_000).map { Double($0) })
        try store.checkpoint()
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let a = try store.withChunks(key) { $0.chunks }
        let b = try store.withChunks(key) { $0.chunks }
        #expect(a.count == 5)
        #expect(Self.storage(a) == Self.storage(b), "the second query builds the chunk list again")
        try store.close()
    }

    @Test func rewindsNewSegmentsAndLoggedPointsAreSeen() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        try run.append("m", steps: Array(0..<10_000), values: (0..<10_000).map { Double($0) })
        try run.append("other", steps: [0], values: [1])
        try store.checkpoint()
        func stats(_ metric: String = "m") throws -> Stats? { try store.aggregate(run.id, metric) }
        #expect(try stats()?.count == 10_000)
        #expect(try stats()?.max == 9_999)
        // A rewind hides points of the cached segment chunks.
        try run.rewind(to: 4_999)
        #expect(try stats()?.count == 5_000)
        #expect(try stats()?.max == 4_999)
        // Points only in the log, then in a new segment.
        try run.append("m", steps: Array(5_000..<6_000), values: (5_000..<6_000).map { -Double($0) })
        #expect(try stats()?.count == 6_000)
        #expect(try stats()?.min == -5_999)
        try store.checkpoint()
        #expect(try stats()?.count == 6_000)
        let curve = try store.curve(run.id, "m", steps: 0..<6_000, buckets: 6)
        #expect(curve.map(\.stats.count) == [1_000, 1_000, 1_000, 1_000, 1_000, 1_000])
        #expect(curve.last?.stats.max == -5_000)
        // More series than the cache holds: every one still answers its own points.
        for k in 0..<(ChunkListCache.maxSeries + 4) {
            try run.append("s\(k)", steps: [Int64(k), Int64(k) + 1], values: [Double(k), Double(k) + 0.5])
        }
        try store.checkpoint()
        for _ in 0..<2 {
            for k in 0..<(ChunkListCache.maxSeries + 4) {
                let s = try #require(try stats("s\(k)"))
                #expect(s.count == 2 && s.min == Double(k) && s.max == Double(k) + 0.5)
            }
        }
        #expect(try stats()?.count == 6_000)
        try store.close()
        // Another process's view: reopened, the same.
        let again = try Store.open(at: dir.sub("s"), options: .init(create: false))
        #expect(try again.aggregate(try again.run("r").id, "m")?.count == 6_000)
        try again.close()
    }
}

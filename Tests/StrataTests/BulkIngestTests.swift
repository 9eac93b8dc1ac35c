import Foundation
import Testing

@testable import Strata

/// Bulk ingest of many small runs (issue 10, I3): what creating a run and appending its series
/// costs in checks and memory, and that batching creation keeps every acknowledged run.
@Suite("Bulk ingest of many small runs")
struct BulkIngestTests {
    /// A random param value, nested up to `depth` more levels.
    static func randomValue(_ rng: inout SeededRandom, depth: Int) -> ParamValue {
        let text = String(repeating: "é", count: Int.random(in: 0..<3, using: &rng)) + String(Int.random(in: 0..<1_000_000, using: &rng))
        switch Int.random(in: 0..<(depth > 0 ? 10 : 8), using: &rng) {
        case 0: return .string(text + String(repeating: "x", count: Int.random(in: 0..<200, using: &rng)))
        case 1: return .int(Int64.random(in: .min ... .max, using: &rng))
        case 2: return .double(Double.random(in: -1e9...1e9, using: &rng))
        case 3: return .bool(Bool.random(using: &rng))
        case 4: return .text(text)
        case 5: return .null
        case 6: return ParamValue.bigInteger("123456789012345678901234567890\(Int.random(in: 0..<10, using: &rng))")!
        case 7: return .list([])
        case 8: return .list((0..<Int.random(in: 0..<(depth == 3 ? 150 : 5), using: &rng)).map { _ in randomValue(&rng, depth: depth - 1) })
        default:
            var kv: [String: ParamValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &rng) { kv["k\(Int.random(in: 0..<300, using: &rng))"] = randomValue(&rng, depth: depth - 1) }
            return .object(kv)
        }
    }

    /// The size counted for the record-size limit is the size `ParamCoding.write` writes, for
    /// params of every shape (long strings and lists cross the one-byte varint lengths).
    @Test func paramSizeCountedEqualsWritten() {
        var rng = SeededRandom(seed: 10_003)
        for _ in 0..<60 {
            var params: [String: ParamValue] = [:]
            for k in 0..<Int.random(in: 0..<140, using: &rng) {
                params["p\(k).\(Int.random(in: 0..<9, using: &rng))"] = Self.randomValue(&rng, depth: 3)
            }
            var w = ByteWriter()
            ParamCoding.write(params, into: &w)
            #expect(ParamCoding.encodedSize(params) == w.count)
        }
    }

    /// Keys with an empty path segment are refused wherever the segment is; others pass, and the
    /// depth counts the segments.
    @Test func keySegmentsCheckedWithoutSplitting() {
        for bad in [".a", "a.", "a..b", ".", "..", "a.b.", "x...y"] {
            #expect(throws: StrataError.self, "\(bad)") { try Limits.check(key: bad, value: .int(1), what: "param") }
        }
        for good in ["a", "a.b", "optimizer.adam.beta1", "é.ü"] {
            #expect(throws: Never.self, "\(good)") { try Limits.check(key: good, value: .int(1), what: "param") }
        }
        let deep = (0..<Limits.maxParamDepth).map { "k\($0)" }.joined(separator: ".")
        #expect(throws: Never.self) { try Limits.check(key: deep, value: .int(1), what: "param") }
        #expect(throws: StrataError.self) { try Limits.check(key: deep, value: .list([.int(1)]), what: "param") }
        #expect(throws: StrataError.self) { try Limits.check(key: deep + ".x", value: .int(1), what: "param") }
    }

    /// Series that only receive whole arrays (`append`) hold no raw point buffers: 50,000 short
    /// series used to hold 1.5 KiB of empty buffers each until the store closed.
    @Test func appendedSeriesHoldNoRawBuffers() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        for r in 0..<50 {
            let run = try store.createRun(name: "t\(r)", params: ["lr": .double(1e-3)])
            for m in ["a", "b", "c"] {
                let steps = (0..<Int64(20 + r)).map { $0 }
                try run.append(m, steps: steps, values: steps.map { Double($0) }, times: steps)
            }
        }
        let held = try store.withWriter { w in w.buffers.series.reduce(0) { $0 + $1.capacity } }
        #expect(held == 0)
        // A series logged step by step still gets its buffer.
        let run = try store.createRun(name: "live")
        try run.log("x", 1, step: 0)
        let live = try store.withWriter { w in w.buffers.series.map(\.capacity).max() ?? 0 }
        #expect(live > 0)
        try store.close()
        let again = try Store.open(at: dir.sub("s"))
        #expect(try again.points(try again.run("t7").id, "b").count == 27)
        #expect(try again.points(run.id, "x").map(\.value) == [1])
        try again.close()
    }
}

import Foundation
import Strata

/// Issue 15: a curve read through a 3-level fork against the same curve on one unforked run.
///
///   strata-bench --forks DIR [--repeat 9]
///
/// The grandparent logs steps 0..<1M, the parent is forked from it at 799,999 and logs
/// 800,000..<1.4M, the child is forked from the parent at 1,199,999 and logs 1.2M..<2M: the
/// child's full lineage shows 2 M points (800k + 400k + 800k). A plain run logs the same 2 M
/// points (the same value at each step). Both are read as 1000-bucket curves over every step,
/// warm (one read each first), interleaved, median of `--repeat` reads each (at least 9).
enum ForkBench {
    /// The value logged at `step`, the same in every run (so the two curves must be equal).
    @inline(__always) static func value(_ step: Int64) -> Double {
        var x = UInt64(bitPattern: step) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        let u = Double(x >> 11) / Double(1 << 53)
        return Double(Float(2.0 / (1.0 + Double(step) / 50_000) + 0.05 * (u - 0.5)))
    }

    static func append(_ run: Run, _ steps: Range<Int64>) throws {
        var at = steps.lowerBound
        while at < steps.upperBound {
            let end = min(at + (1 << 18), steps.upperBound)
            let s = Array(at..<end)
            try run.append("train/loss", steps: s, values: s.map(value), times: s.map { 1_700_000_000_000 + $0 * 100 })
            at = end
        }
    }

    static func main() -> Bool {
        let a = CommandLine.arguments
        guard a.count >= 3, a[1] == "--forks" else { return false }
        do {
            try run(dir: a[2], repeats: max(9, Int(arg("--repeat") ?? "9") ?? 9))
            exit(0)
        } catch {
            log("strata-bench --forks: \(error)")
            exit(1)
        }
    }

    static func run(dir: String, repeats: Int) throws {
        try? FileManager.default.removeItem(atPath: dir)
        var store = try Store.open(at: dir)
        let g = try store.createRun(name: "grandparent")
        try append(g, 0..<1_000_000)
        try g.finish()
        let flat = try store.createRun(name: "flat")
        try append(flat, 0..<2_000_000)
        try flat.finish()
        try store.close()
        store = try Store.open(at: dir)
        let p = try store.fork(g.id, atStep: 799_999, name: "parent")
        try append(p, 800_000..<1_400_000)
        try p.finish()
        try store.close()
        store = try Store.open(at: dir)
        let c = try store.fork(p.id, atStep: 1_199_999, name: "child")
        try append(c, 1_200_000..<2_000_000)
        try c.finish()
        try store.close()
        store = try Store.open(at: dir)
        defer { try? store.close() }

        let steps: ClosedRange<Int64> = 0...1_999_999
        func curve(_ id: RunID) throws -> [CurveBucket] { try store.curve(id, "train/loss", steps: steps, buckets: 1000) }
        let forked = try curve(c.id), plain = try curve(flat.id)
        let points = forked.map(\.stats.count).reduce(0, +)
        guard points == 2_000_000, forked.map(\.stats.count) == plain.map(\.stats.count) else {
            throw BenchError("forked curve holds \(points) points, bucket counts differ from the plain run's")
        }
        let sameMeans = zip(forked, plain).allSatisfy { abs($0.stats.mean - $1.stats.mean) <= 1e-9 * max(1, abs($1.stats.mean)) }
        var tf: [Double] = [], tp: [Double] = []
        for _ in 0..<repeats {
            var t0 = DispatchTime.now().uptimeNanoseconds
            _ = try curve(c.id)
            tf.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            t0 = DispatchTime.now().uptimeNanoseconds
            _ = try curve(flat.id)
            tp.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let mf = median(tf), mp = median(tp)
        let out: [String: Any] = [
            "points": points, "buckets": 1000, "repeats": repeats, "same_means": sameMeans,
            "forked_ms_median": mf, "plain_ms_median": mp, "ratio": mf / mp
        ]
        let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

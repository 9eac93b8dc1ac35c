// Decode rate of each column codec: one iteration decodes one 65,536-value column (a chunk)
// made to fall into that codec (CodecColumns, shared with `strata-bench --codecs`), so
// points/s = throughput (iterations/s) × 65,536.
import Benchmark
import StrataCodecs

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(1), maxIterations: 100_000)
    let n = CodecColumns.count
    for (name, values) in CodecColumns.doubles() {
        var bytes: [UInt8] = []
        values.withUnsafeBufferPointer { DoubleColumn.encode($0, into: &bytes) }
        let column = bytes
        Benchmark("double \(name) (65536 values)") { benchmark in
            var dst = [Double](repeating: 0, count: n)
            for _ in benchmark.scaledIterations {
                column.withUnsafeBytes { b in
                    dst.withUnsafeMutableBufferPointer { d in try! DoubleColumn.decode(b, count: n, range: 0..<n, into: d.baseAddress!) }
                }
                blackHole(dst[n - 1])
            }
        }
    }
    for (name, values) in CodecColumns.int64s() {
        var bytes: [UInt8] = []
        values.withUnsafeBufferPointer { Int64Column.encode($0, into: &bytes) }
        let column = bytes
        Benchmark("int64 \(name) (65536 values)") { benchmark in
            var dst = [Int64](repeating: 0, count: n)
            for _ in benchmark.scaledIterations {
                column.withUnsafeBytes { b in
                    dst.withUnsafeMutableBufferPointer { d in try! Int64Column.decode(b, count: n, range: 0..<n, into: d.baseAddress!) }
                }
                blackHole(dst[n - 1])
            }
        }
    }
}

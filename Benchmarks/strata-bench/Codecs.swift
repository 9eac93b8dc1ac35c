import Foundation
import StrataCodecs

/// `strata-bench --codecs [SECONDS]`: decode rate of each column codec in points/s, on one
/// column of 65,536 values (a chunk) made to fall into that codec, decoded whole again and again
/// into a buffer that stays in cache. Prints a JSON object (codec → points/s) on stdout.
enum CodecRates {
    static let count = CodecColumns.count

    static func run(seconds: Double) -> [String: Double] {
        var rates: [String: Double] = [:]
        func time(_ name: String, _ body: () -> Void) {
            body()  // warm
            var reps = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            while elapsed < seconds {
                for _ in 0..<16 { body() }
                reps += 16
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            rates[name] = Double(reps * count) / elapsed
        }
        var dst = [Double](repeating: 0, count: count)
        for (name, values) in CodecColumns.doubles() {
            var bytes: [UInt8] = []
            values.withUnsafeBufferPointer { DoubleColumn.encode($0, into: &bytes) }
            let used = bytes.withUnsafeBytes { (try? DoubleColumn.describe($0, count: count)) ?? [] }
            let top = used.max { $0.values < $1.values }?.codec ?? "?"
            let label = top == name ? name : "\(name) (as \(top))"
            time("double " + label) {
                bytes.withUnsafeBytes { b in
                    dst.withUnsafeMutableBufferPointer { d in try! DoubleColumn.decode(b, count: count, range: 0..<count, into: d.baseAddress!) }
                }
            }
        }
        var idst = [Int64](repeating: 0, count: count)
        for (name, values) in CodecColumns.int64s() {
            var bytes: [UInt8] = []
            values.withUnsafeBufferPointer { Int64Column.encode($0, into: &bytes) }
            let used = bytes.withUnsafeBytes { (try? Int64Column.describe($0, count: count)) ?? [] }
            let top = used.max { $0.values < $1.values }?.codec ?? "?"
            let label = top == name ? name : "\(name) (as \(top))"
            time("int64 " + label) {
                bytes.withUnsafeBytes { b in
                    idst.withUnsafeMutableBufferPointer { d in try! Int64Column.decode(b, count: count, range: 0..<count, into: d.baseAddress!) }
                }
            }
        }
        return rates
    }

}

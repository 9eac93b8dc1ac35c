import Foundation
import Strata

/// A workload directory written by `shared/bench/workload.py`: `manifest.json` and one file per
/// series holding `int64 steps | float64 values | int64 ms`, little-endian, `count` each.
struct Workload {
    struct Series { var metric: String; var file: String; var count: Int }
    struct Run { var name: String; var params: [String: ParamValue]; var series: [Series] }
    let dir: String
    let runs: [Run]
    let points: Int

    init(_ dir: String) throws {
        self.dir = dir
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        let m = try JSONDecoder().decode(Manifest.self, from: data)
        runs = m.runs.map { r in
            Run(name: r.name, params: r.params, series: r.series.map { Series(metric: $0.metric, file: $0.file, count: $0.count) })
        }
        points = m.points
    }

    /// Reads a whole series.
    func load(_ s: Series) throws -> (steps: [Int64], values: [Double], times: [Int64]) {
        let r = try SeriesReader(path: dir + "/" + s.file, count: s.count)
        defer { r.close() }
        return try r.read(0..<s.count)
    }
}

/// Streams a series file in pieces (so the ingesting process stays small).
final class SeriesReader {
    let fd: Int32
    let count: Int
    let path: String
    init(path: String, count: Int) throws {
        self.path = path
        self.count = count
        fd = open(path, O_RDONLY)
        if fd < 0 { throw BenchError("cannot open \(path)") }
    }
    func close() { _ = Foundation.close(fd) }

    func read(_ r: Range<Int>) throws -> (steps: [Int64], values: [Double], times: [Int64]) {
        let n = r.count
        var s = [Int64](repeating: 0, count: n), v = [Double](repeating: 0, count: n), t = [Int64](repeating: 0, count: n)
        try s.withUnsafeMutableBytes { try pread(fd, $0, off_t(8 * r.lowerBound)) }
        try v.withUnsafeMutableBytes { try pread(fd, $0, off_t(8 * (count + r.lowerBound))) }
        try t.withUnsafeMutableBytes { try pread(fd, $0, off_t(8 * (2 * count + r.lowerBound))) }
        return (s, v, t)
    }

    private func pread(_ fd: Int32, _ b: UnsafeMutableRawBufferPointer, _ off: off_t) throws {
        var done = 0
        while done < b.count {
            let k = Foundation.pread(fd, b.baseAddress! + done, b.count - done, off + off_t(done))
            if k <= 0 { throw BenchError("short read of \(path)") }
            done += k
        }
    }
}

/// manifest.json as written by workload.py; params keep their JSON types and shapes (int, float,
/// string, bool, null, lists; nested objects flattened with dots, as `strata ingest` does).
private struct Manifest: Decodable {
    struct S: Decodable { var metric: String; var file: String; var count: Int }
    struct R: Decodable {
        var name: String
        var params: [String: ParamValue]
        var series: [S]
        enum CodingKeys: String, CodingKey { case name, params, series }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            series = try c.decode([S].self, forKey: .series)
            params = ParamTree.flatten(try c.decode([String: P].self, forKey: .params).mapValues(\.tree))
        }
    }
    struct P: Decodable {
        var tree: ParamTree
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if c.decodeNil() {
                tree = .value(.null)
            } else if let b = try? c.decode(Bool.self) {
                tree = .value(.bool(b))
            } else if let s = try? c.decode(String.self) {
                tree = .value(.string(s))
            } else if let i = try? c.decode(Int64.self) {
                tree = .value(.int(i))
            } else if let x = try? c.decode(Double.self) {
                tree = .value(.double(x))
            } else if let a = try? c.decode([P].self) {
                tree = .value(.list(a.map(\.element)))
            } else {
                tree = .nested(try c.decode([String: P].self).mapValues(\.tree))
            }
        }
        /// As a list element: an object stays an object.
        var element: ParamValue {
            switch tree {
            case .value(let v): return v
            case .nested(let kv): return .object(kv.mapValues { P(tree: $0).element })
            }
        }
        init(tree: ParamTree) { self.tree = tree }
    }
    var runs: [R]
    var points: Int
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

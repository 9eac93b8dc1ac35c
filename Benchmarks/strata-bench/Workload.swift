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

/// manifest.json as written by workload.py. Params keep their JSON types (int, float, string,
/// bool); nested objects are flattened with dots (`optimizer.name`); a list or `null` is stored as a
/// text param holding its JSON (until list params exist).
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
            params = [:]
            try P.flatten(try c.decode(P.self, forKey: .params), prefix: "", into: &params)
        }
    }
    /// Any JSON value.
    indirect enum P: Decodable {
        case scalar(ParamValue)
        case object([String: P])
        case list([P])
        case null
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .scalar(.bool(b))
            } else if let s = try? c.decode(String.self) {
                self = .scalar(.string(s))
            } else if let i = try? c.decode(Int64.self) {
                self = .scalar(.int(i))
            } else if let x = try? c.decode(Double.self) {
                self = .scalar(.double(x))
            } else if let o = try? c.decode([String: P].self) {
                self = .object(o)
            } else {
                self = .list(try c.decode([P].self))
            }
        }
        var json: String {
            switch self {
            case .null: return "null"
            case .scalar(.bool(let b)): return b ? "true" : "false"
            case .scalar(.int(let i)): return String(i)
            case .scalar(.double(let x)): return "\(x)"
            case .scalar(let v):
                let data = (try? JSONSerialization.data(withJSONObject: [v.description], options: [])) ?? Data("[\"\"]".utf8)
                return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
            case .list(let xs): return "[" + xs.map(\.json).joined(separator: ",") + "]"
            case .object(let o): return "{" + o.keys.sorted().map { "\"\($0)\":" + o[$0]!.json }.joined(separator: ",") + "}"
            }
        }
        static func flatten(_ p: P, prefix: String, into out: inout [String: ParamValue]) throws {
            switch p {
            case .object(let o):
                for (k, v) in o { try flatten(v, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
            case .scalar(let v): out[prefix] = v
            case .list, .null: out[prefix] = .string(p.json)
            }
        }
    }
    var runs: [R]
    var points: Int
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

import Foundation
import StrataTestSupport
import Testing

@testable import StrataCodecs

/// SplitMix64: a small, fast, seeded generator. Every randomized test states its seed in its
/// failure messages; set STRATA_TEST_SEED to replay with another seed.
typealias SeededRNG = SplitMix64

extension SplitMix64 {
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// The seed of a test: STRATA_TEST_SEED if set, else `fallback`.
func testSeed(_ fallback: UInt64) -> UInt64 {
    if let s = ProcessInfo.processInfo.environment["STRATA_TEST_SEED"], let v = UInt64(s) { return v }
    return fallback
}

func encodeInt64(_ values: [Int64]) -> [UInt8] {
    var out: [UInt8] = []
    values.withUnsafeBufferPointer { Int64Column.encode($0, into: &out) }
    return out
}

func encodeDouble(_ values: [Double]) -> [UInt8] {
    var out: [UInt8] = []
    values.withUnsafeBufferPointer { DoubleColumn.encode($0, into: &out) }
    return out
}

func decodeInt64(_ bytes: [UInt8], count: Int, range: Range<Int>? = nil) throws -> [Int64] {
    let r = range ?? 0..<count
    var dst = [Int64](repeating: 0x5A5A, count: max(r.count, 0))
    try bytes.withUnsafeBytes { b in
        try dst.withUnsafeMutableBufferPointer { d in
            try Int64Column.decode(b, count: count, range: r, into: d.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
        }
    }
    return dst
}

func decodeDouble(_ bytes: [UInt8], count: Int, range: Range<Int>? = nil) throws -> [Double] {
    let r = range ?? 0..<count
    var dst = [Double](repeating: 12345.678, count: max(r.count, 0))
    try bytes.withUnsafeBytes { b in
        try dst.withUnsafeMutableBufferPointer { d in
            try DoubleColumn.decode(b, count: count, range: r, into: d.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
        }
    }
    return dst
}

func describeInt64(_ bytes: [UInt8], count: Int) throws -> [CodecUsage] {
    try bytes.withUnsafeBytes { b in try Int64Column.describe(b, count: count) }
}

func describeDouble(_ bytes: [UInt8], count: Int) throws -> [CodecUsage] {
    try bytes.withUnsafeBytes { b in try DoubleColumn.describe(b, count: count) }
}

func bitsEqual(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// The first index where two double arrays differ bit-wise, for failure messages.
func firstDifference(_ a: [Double], _ b: [Double]) -> String {
    if a.count != b.count { return "counts \(a.count) vs \(b.count)" }
    for i in a.indices where a[i].bitPattern != b[i].bitPattern {
        return "index \(i): expected 0x\(String(a[i].bitPattern, radix: 16)) (\(a[i])), got 0x\(String(b[i].bitPattern, radix: 16)) (\(b[i]))"
    }
    return "equal"
}

/// Ranges worth checking for a column of `count` values: whole, empty, edges of blocks, random.
func interestingRanges(count: Int, rng: inout SeededRNG, random: Int = 40) -> [Range<Int>] {
    var out: [Range<Int>] = [0..<count, 0..<0, count..<count]
    for edge in [1, 2, 3, 127, 128, 129, 255, 256, 257] where edge <= count {
        out.append(0..<edge)
        out.append((count - edge)..<count)
        out.append((edge - 1)..<edge)
    }
    for _ in 0..<random where count > 0 {
        let a = Int.random(in: 0...count, using: &rng)
        let b = Int.random(in: 0...count, using: &rng)
        out.append(min(a, b)..<max(a, b))
    }
    return out
}

/// Series shaped like /work/shared/bench/workload.py (same formulas; a different RNG, so not the
/// same numbers). `steps` points, `dropout` and `lr` as in the workload's run parameters.
struct Workload {
    var steps: [Int64] = []
    var times: [Int64] = []
    var trainLoss: [Double] = []
    var gradNorm: [Double] = []
    var lr: [Double] = []
    var tokensPerSec: [Double] = []
    var gpuUtil: [Double] = []
    var valLoss: [Double] = []
    var valAccuracy: [Double] = []

    init(steps count: Int, seed: UInt64, lr peak: Double = 3e-4, dropout: Double = 0.1, batch: Double = 256, floor: Double = 0.6) {
        var rng = SeededRNG(seed: seed)
        let lrScale = min(1.0, peak / 1e-3)
        let tau = Double(count) / (2.0 + 8.0 * lrScale)
        var t: Int64 = 1_760_000_000_000
        let warm = max(1, count / 50)
        let baseTPS = 150_000.0 * Foundation.pow(512 / batch, 0.1)
        for i in 0..<count {
            let s = Double(i)
            steps.append(Int64(i))
            let dt = 180 + Int64.random(in: 0..<40, using: &rng)
            if i > 0 { t += dt }
            times.append(t)
            let clean = floor + 2.2 * Foundation.exp(-s / tau)
            let noise = Foundation.exp(rng.normal() * (0.03 + 0.02 * dropout))
            let spike = Double.random(in: 0..<1, using: &rng) < 1e-4
            let gain = spike ? Double.random(in: 3..<10, using: &rng) : 1.0
            trainLoss.append(Double(Float(clean * noise * gain)))
            let g = Foundation.exp(rng.normal() * 0.25) * (0.5 + Foundation.exp(-s / tau)) * (spike ? gain * 4 : 1)
            gradNorm.append(Double(Float(g)))
            let progress = min(max((s - Double(warm)) / Double(max(1, count - warm)), 0), 1)
            lr.append(i < warm ? peak * (s + 1) / Double(warm) : peak * (0.1 + 0.9 * 0.5 * (1.0 + Foundation.cos(Double.pi * progress))))
            // numpy.round(x, 1) is rint(x * 10) / 10.
            tokensPerSec.append(Foundation.rint((baseTPS + rng.normal() * 1500) * 10) / 10)
            var u = min(max(Foundation.rint(97 + rng.normal() * 2), 0), 100)
            if Double.random(in: 0..<1, using: &rng) < 0.002 { u = 0 }
            gpuUtil.append(u)
            if i % 100 == 0 {
                let vc = floor * 1.05 + 2.2 * Foundation.exp(-s / tau)
                let vl = Double(Float(vc * Foundation.exp(rng.normal() * 0.01)))
                valLoss.append(vl)
                let acc = min(max(1.0 - vl / 3.5 + rng.normal() * 0.005, 0), 1)
                valAccuracy.append(Double(Float(acc)))
            }
        }
    }
}

// Columns made to fall into each codec, shared by `strata-bench --codecs` and the
// package-benchmark micro-benchmarks (Benchmarks/codecs, which links this file).

import Foundation

/// One chunk-sized column (65,536 values) per codec, the same on every run (seeded).
enum CodecColumns {
    static let count = 65_536

    /// (name, values) of double columns, each chosen so that (nearly) every block takes the codec named.
    static func doubles() -> [(String, [Double])] {
        var g = SplitMix(seed: 42)
        let n = count
        var out: [(String, [Double])] = []
        out.append(("int-for", (0..<n).map { _ in Double(g.next() % 50_000) }))
        out.append(("decimal", (0..<n).map { _ in Double(Int64(g.next() % 100_000)) / 100 }))
        var loss = 3.0
        out.append(
            (
                "float32-for",
                (0..<n).map { _ in
                    loss *= 0.99999
                    return Double(Float(loss * (1 + Double(g.next() % 1000) * 1e-5)))
                }
            ))
        var v = 1.0
        out.append(
            (
                "float64-delta",
                (0..<n).map { _ in
                    v += Double(g.next() % 1000) * 1e-12 + 1e-9; return v
                }
            ))
        var t = 0.25, dt = 1e-3
        out.append(
            (
                "float64-dod",
                (0..<n).map { _ in
                    dt += Double(Int64(g.next() % 64) - 32) * 1e-15
                    t += dt
                    return t
                }
            ))
        out.append(("raw64", (0..<n).map { _ in Double(bitPattern: g.next()) }))
        out.append(("mean-for", (0..<n).map { _ in Double(Float(Double(g.next() % 100_000) / 997)) / 390 }))
        // Cosine learning-rate schedules of 4,000 steps, back to back, each with its own peak (the
        // sweep's train/lr; distinct peaks so that LZ4 does not find repeats).
        out.append(
            (
                "scaled-diff",
                (0..<n).map { i in
                    3e-4 * (1 + Double(i / 4000) / 7) * (0.1 + 0.45 * (1 + cos(Double.pi * Double(i % 4000) / 4000)))
                }
            ))
        return out
    }

    static func int64s() -> [(String, [Int64])] {
        var g = SplitMix(seed: 7)
        let n = count
        var ms: Int64 = 1_700_000_000_000
        return [
            ("linear", (0..<n).map { Int64($0) * 10 }),
            (
                "delta-for",
                (0..<n).map { _ in
                    ms += 200 + Int64(g.next() % 64); return ms
                }
            ),
            ("for", (0..<n).map { _ in Int64(g.next() % 1_000_000) })
        ]
    }

    /// A tiny seeded generator (the benchmark's data must not change between runs). The same
    /// algorithm as `Strata.SplitMix64`, written again because this file is also compiled into the
    /// codec micro-benchmark package (Benchmarks/codecs), which links only StrataCodecs.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

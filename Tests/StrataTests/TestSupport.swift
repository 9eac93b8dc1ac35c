import Foundation
@testable import Strata

/// A temporary directory removed when the value is released.
final class TempDir {
    let path: String
    init(_ name: String = "strata-test") {
        path = NSTemporaryDirectory() + "\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func sub(_ s: String) -> String { path + "/" + s }
}

/// A seeded generator (SplitMix64) so failures can be replayed from the printed seed.
struct SeededRandom: RandomNumberGenerator {
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

/// Path of an executable built next to the test bundle.
func builtProduct(_ name: String) -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    // swift test runs from the package root: fall back to the usual build folders.
    for folder in [".build/debug", ".build/release"] {
        let p = FileManager.default.currentDirectoryPath + "/" + folder + "/" + name
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return name
}

/// Bit-exact comparison of doubles (NaN payloads included).
func sameBits(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

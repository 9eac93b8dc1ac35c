// Writes a seed corpus for codec-fuzz: real encoded columns of every codec, with the 5-byte prefix
// (mode, count, range) the harness expects. Usage: make-corpus DIR
import StrataCodecs

#if canImport(Glibc)
import Glibc
#endif

let dir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "corpus"
mkdir(dir, 0o755)
var serial = 0

func write(_ mode: UInt8, _ column: [UInt8], range: (UInt8, UInt8) = (0, 255)) {
    let bytes: [UInt8] = [mode, 0, 0, range.0, range.1] + column
    let path = "\(dir)/seed-\(serial)"
    serial += 1
    guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

var state: UInt64 = 42
func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
func gauss() -> Double {
    let u1 = Double(next() >> 11 | 1) / Double(1 << 53), u2 = Double(next() >> 11) / Double(1 << 53)
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}

for n in [1, 2, 3, 100, 128, 129, 300] {
    let ints: [[Int64]] = [
        (0..<n).map { Int64($0) },
        (0..<n).map { 1_760_000_000_000 + Int64($0) * 200 + Int64(next() % 40) },
        (0..<n).map { _ in Int64(next() % 16) },
        (0..<n).map { _ in Int64(bitPattern: next()) },
        (0..<n).map { Int64($0 % 20) * 1_000_000_007 }
    ]
    for v in ints {
        var out: [UInt8] = []
        v.withUnsafeBufferPointer { Int64Column.encode($0, into: &out) }
        write(0, out)
        write(0, out, range: (UInt8(next() & 255), UInt8(next() & 255)))
    }
    var doubles: [[Double]] = [
        (0..<n).map { _ in Double(Float(1.5 * exp(gauss() * 0.03))) },
        (0..<n).map { _ in (150_000 + gauss() * 1500 * 10).rounded() / 10 },
        (0..<n).map { _ in min(100, max(0, (97 + gauss() * 2).rounded())) },
        (0..<n).map { 3e-4 * (0.55 + 0.45 * cos(Double($0) / 300)) },
        (0..<n).map { _ in Double(bitPattern: next()) },
        (0..<n).map { Double($0 % 7) + 0.25 },
        // Means of 390 float32 values (an epoch's loss): the mean-for codec.
        (0..<n).map { i in (0..<390).reduce(0.0) { s, _ in s + Double(Float((2.3 - Double(i) * 0.001) * exp(gauss() * 0.05))) } / 390 }
    ]
    for i in doubles.indices where n > 5 { doubles[i][n / 2] = .nan; doubles[i][1] = -0.0 }
    let pattern = (0..<20).map { _ in Double(bitPattern: next()) }
    doubles.append((0..<max(n, 600)).map { pattern[$0 % 20] })
    for v in doubles {
        var out: [UInt8] = []
        v.withUnsafeBufferPointer { DoubleColumn.encode($0, into: &out) }
        write(1, out)
        write(1, out, range: (UInt8(next() & 255), UInt8(next() & 255)))
    }
}
// Round-trip seeds: raw values.
for mode: UInt8 in [2, 3] {
    var b: [UInt8] = []
    for i in 0..<200 { let x = UInt64(i) * 0x0101_0101; for k in 0..<8 { b.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(k)))) } }
    write(mode, b)
}
print("wrote \(serial) seeds to \(dir)")

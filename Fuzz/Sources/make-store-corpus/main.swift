// Writes a seed corpus for store-fuzz: real files written by Strata. Builds a few small stores with
// the library (runs, `log` calls, bulk appends, NaN/±Inf/−0 values, repeated steps, labels, params,
// tags, a rewind, checkpoints, a compaction), and copies
//   segments/*.seg          → DIR/segment/
//   wal/*.wal of a live writer (the store is copied while its writer lives; trailing zeros of the
//   preallocated file trimmed) → DIR/log/
//   catalog.log             → DIR/catalog/
// Usage: make-store-corpus DIR
import Strata
#if canImport(Glibc)
import Glibc
#endif

let out = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "corpus-store"
for d in [out, out + "/segment", out + "/log", out + "/catalog"] { mkdir(d, 0o755) }
let work = "/tmp/strata-store-corpus-\(getpid())"
var serial = 0

func readFile(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { fatalError("cannot read \(path)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return bytes
}
func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}
func list(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
func seed(_ kind: String, _ bytes: [UInt8]) {
    writeFile("\(out)/\(kind)/seed-\(serial)", bytes)
    serial += 1
}
/// A preallocated log without its zero tail: ends 16 zero bytes after the last record.
func trimmedLog(_ bytes: [UInt8]) -> [UInt8] {
    var end = bytes.count
    while end > 64 && bytes[end - 1] == 0 { end -= 1 }
    end = min(bytes.count, (end + 7) / 8 * 8 + 16)
    return Array(bytes[0..<end])
}
func copyLogs(_ store: String) {
    for name in list(store + "/wal") where name.hasSuffix(".wal") { seed("log", trimmedLog(readFile(store + "/wal/" + name))) }
}
func copySegmentsAndCatalog(_ store: String) {
    for name in list(store + "/segments") where name.hasSuffix(".seg") { seed("segment", readFile(store + "/segments/" + name)) }
    seed("catalog", readFile(store + "/catalog.log"))
}

var state: UInt64 = 7
func rnd() -> Double {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return Double(state >> 11) / Double(1 << 53)
}
let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, Double(bitPattern: 0x7FF8_0000_0000_0BAD), .leastNonzeroMagnitude, .greatestFiniteMagnitude]

do {
    // 1. Tiny store: a handful of points, one of each kind of value.
    let small = work + "/small"
    do {
        let s = try Store.open(at: small, options: .init(logCapacity: 256 << 10))
        let r = try s.createRun(name: "tiny", params: ["lr": 0.001, "layers": 2, "model": "m", "amp": true], tags: ["t1"])
        for (i, v) in ([1.5, 2.5] + specials).enumerated() { try r.log("loss", v, step: Int64(i), time: 1_000 + Int64(i)) }
        try r.log(["a": 1, "b": .nan], step: 3, time: 1_010)
        try r.log(["a": 2, "b": 3], step: 3, time: 1_011)  // repeated step
        try r.log("acc", 0.5, step: 1, labels: ["rank": "0"])
        try r.append("bulk", steps: [0, 10, 20, 30], values: [1, .nan, -.infinity, 4], times: [5, 6, 7, 8])
        try s.flush()
        copyLogs(small)  // live writer: its log is still there, unlocked in the copy
        try s.checkpoint()
        try r.log("loss", 9, step: 100)
        try r.setParams(["lr": 0.002]); try r.setMetadata(["host": "x"]); try r.tag(add: ["t2"], remove: ["t1"])
        try s.flush()
        copyLogs(small)
        try r.finish()
        try s.close()
    }
    copySegmentsAndCatalog(small)

    // 2. Full chunks (tier blocks), linear and irregular steps, bulk appends, a rewind, several
    //    segments, then a compaction.
    let big = work + "/big"
    do {
        let s = try Store.open(at: big, options: .init(logCapacity: 256 << 10))
        let a = try s.createRun(name: "a", project: "p")
        let g = try a.metrics(["train/loss", "lr"])
        for i in 0..<4_500 {
            // Mostly two-decimal values (small columns: the fuzzer runs faster on small files).
            let v = i % 997 == 0 ? specials[(i / 997) % specials.count] : Double(Int(rnd() * 1000)) / 100
            try a.log(g, step: Int64(i), values: [v, 0.1 * Double(i % 100)], time: 10_000 + Int64(i) * 3)
        }
        try s.flush()
        copyLogs(big)
        try a.rewind(to: 4_000)
        for i in 4_001..<4_300 { try a.log("train/loss", Double(i).squareRoot(), step: Int64(i)) }
        let b = try s.createRun(name: "b", parent: a.id)
        let steps = (0..<4_096).map { Int64($0 * 5) }
        try b.append("bulk", steps: steps, values: steps.map { Double($0).squareRoot() }, times: steps.map { 50_000 + $0 })
        try b.append("bulk", steps: (0..<300).map { Int64($0 * $0 % 701) }.sorted(), values: (0..<300).map { _ in rnd() < 0.1 ? .nan : rnd() * 1e6 }, times: nil)  // raw doubles
        try b.append("ints", labels: ["k": "v"], steps: Array(0..<1_000), values: (0..<1_000).map { Double($0 % 17) }, times: nil)
        try s.flush()
        copyLogs(big)
        try s.close()
    }
    for name in list(big + "/segments") where name.hasSuffix(".seg") { seed("segment", readFile(big + "/segments/" + name)) }
    do {
        let s = try Store.open(at: big)
        _ = try s.compact(graceSeconds: 0)
        try s.close()
    }
    copySegmentsAndCatalog(big)
    _ = system("rm -rf '\(work)'")
} catch {
    fatalError("make-store-corpus: \(error)")
}
print("make-store-corpus: \(serial) seeds in \(out)")

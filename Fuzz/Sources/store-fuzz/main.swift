// libFuzzer entry point for the storage engine's on-disk readers: the input is the whole content
// of one file, handed to `_FuzzEntry` (Sources/Strata/API/FuzzEntry.swift):
//
//   STRATA_FUZZ_KIND=segment   a segment file (segments/*.seg)
//   STRATA_FUZZ_KIND=log       a write-ahead log (wal/*.wal)
//   STRATA_FUZZ_KIND=catalog   catalog.log
//
// Every input runs twice: as given (so damaged checksums are exercised), then with every checksum
// the format has recomputed over the bytes as they are ("fixed up"), so mutations get past the
// checksums and reach the parsers, the codecs and the query engine. STRATA_FUZZ_DUMP=FILE writes
// the fixed-up bytes of the (last) input to FILE, to turn a crash into a regression test.
import Strata
import StrataCodecs
#if canImport(Glibc)
import Glibc
#endif

enum Kind: String { case segment, log, catalog }

let kind: Kind = {
    guard let e = getenv("STRATA_FUZZ_KIND"), let k = Kind(rawValue: String(cString: e)) else {
        fputs("store-fuzz: set STRATA_FUZZ_KIND to segment, log or catalog\n", stderr)
        exit(2)
    }
    return k
}()
let dumpPath: String? = getenv("STRATA_FUZZ_DUMP").map { String(cString: $0) }

// MARK: checksum fix-ups (lenient walks of the format; anything out of range is left alone)

func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}
func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(b[at + i]) << (8 * UInt32(i)) }
    return v
}
func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}
func hash(_ b: [UInt8], _ from: Int, _ count: Int, seed: UInt64 = 0) -> UInt64 {
    b.withUnsafeBytes { Checksum.xxh64(UnsafeRawBufferPointer(rebasing: $0[from..<(from + count)]), seed: seed) }
}
/// In-range check for an (offset, length) pair read from the bytes.
func inside(_ off: UInt64, _ len: UInt64, _ limit: Int) -> Bool {
    off <= UInt64(limit) && len <= UInt64(limit) - off
}

struct Walk {
    let b: [UInt8]
    var pos: Int
    let end: Int
    mutating func varint() -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while pos < end && shift < 64 {
            let x = b[pos]; pos += 1
            v |= UInt64(x & 0x7F) << shift
            if x < 0x80 { return v }
            shift += 7
        }
        return nil
    }
    mutating func skip(_ n: UInt64) -> Bool {
        guard n <= UInt64(end - pos) else { return false }
        pos += Int(n)
        return true
    }
    mutating func string() -> Bool { guard let n = varint() else { return false }; return skip(n) }
}

func fixSegment(_ input: [UInt8]) -> [UInt8] {
    var b = input
    let n = b.count
    guard n >= 56 else { return b }
    let t = n - 40
    let dirAt = le64(b, t), dirLen = le64(b, t + 8)
    guard inside(dirAt, dirLen, t) else { return b }
    var w = Walk(b: b, pos: Int(dirAt), end: Int(dirAt + dirLen))
    var tables: [(at: Int, chunks: Int, sumAt: Int)] = []
    if let count = w.varint() {
        for _ in 0..<min(count, 1 << 16) {
            guard w.string(), w.string(), let chunks = w.varint(), w.end - w.pos >= 16 + 104 else { break }
            let tableAt = le64(b, w.pos)
            let sumAt = w.pos + 8
            w.pos += 16 + 104
            if chunks > 0, chunks <= 1 << 16, inside(tableAt, chunks * 192, n) {
                tables.append((Int(tableAt), Int(chunks), sumAt))
            }
        }
    }
    // Blobs first, then the tables that hold their checksums, then the directory.
    for table in tables {
        for i in 0..<table.chunks {
            let e = table.at + i * 192
            for k in 0..<4 {
                let off = le64(b, e + 112 + 12 * k), len = UInt64(le32(b, e + 112 + 12 * k + 8))
                if inside(off, len, n) { put64(&b, e + 160 + 8 * k, hash(b, Int(off), Int(len))) }
            }
        }
    }
    for table in tables { put64(&b, table.sumAt, hash(b, table.at, table.chunks * 192)) }
    put64(&b, t + 16, hash(b, Int(dirAt), Int(dirLen)))
    return b
}

func fixLog(_ input: [UInt8]) -> [UInt8] {
    var b = input
    var at = 64
    while b.count - at >= 16 {
        let len = Int(le32(b, at)), kind = le32(b, at + 4)
        if len == 0 && kind == 0 { break }
        guard len <= b.count - at - 16 else { break }
        if kind <= 255 { put64(&b, at + 8, hash(b, at + 16, len, seed: UInt64(len) << 8 | UInt64(kind))) }
        at += (16 + len + 7) & ~7
    }
    return b
}

func fixCatalog(_ input: [UInt8]) -> [UInt8] {
    var b = input
    var at = 0
    while b.count - at >= 16 {
        guard le32(b, at) == 0x5254_5343 else { at += 1; continue }
        let len = Int(le32(b, at + 4))
        guard len <= b.count - at - 16 else { break }
        put64(&b, at + 8, hash(b, at + 16, len))
        at += 16 + len
    }
    return b
}

func run(_ bytes: [UInt8]) {
    switch kind {
    case .segment: _FuzzEntry.segment(bytes)
    case .log: _FuzzEntry.log(bytes)
    case .catalog: _FuzzEntry.catalog(bytes)
    }
}

func fuzzOne(_ bytes: [UInt8]) {
    let fixed: [UInt8]
    switch kind {
    case .segment: fixed = fixSegment(bytes)
    case .log: fixed = fixLog(bytes)
    case .catalog: fixed = fixCatalog(bytes)
    }
    if let dumpPath, let f = fopen(dumpPath, "wb") {
        _ = fixed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
    run(bytes)
    if fixed != bytes { run(fixed) }
}

// SwiftPM links executables with the module's own `main`: start libFuzzer's driver explicitly
// (see codec-fuzz).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

_ = kind
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
let status = LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput)
exit(status)

// libFuzzer entry point: feeds arbitrary bytes and counts to Int64Column / DoubleColumn decode and
// describe, and arbitrary values to encode → decode. Input layout:
//
//   byte 0     mode: bit 0 = Double (else Int64); bit 1 = round-trip mode (bytes after the 5-byte
//              prefix are values to encode, then decoded and compared bit for bit: a mismatch traps);
//              bits 2–3 = count source: 0 = the count stored in the column (bytes 3… of the column),
//              1 = bytes 1–2 as UInt16, 2 = that + 65,536 − 32,768 (around maxValues), 3 = −(bytes 1–2)
//   bytes 1–2  count (little-endian), see above
//   bytes 3–4  range selector: lower = byte 3 mod (count+1), length = byte 4 mod (count−lower+1)
//              (scaled up for large counts)
//   bytes 5…   the column bytes (or the values, in round-trip mode)
import StrataCodecs
#if canImport(Glibc)
import Glibc
#endif

@inline(never) func check(_ ok: Bool, _ what: @autoclosure () -> String) {
    if !ok { fatalError(what()) }
}

func readStoredCount(_ b: UnsafeRawBufferPointer) -> Int {
    // kind, layout, then a varint
    var x: UInt64 = 0
    var shift: UInt64 = 0
    var i = 2
    while i < b.count && i < 12 {
        let v = b[i]
        x |= UInt64(v & 0x7F) << shift
        if v < 0x80 { return Int(truncatingIfNeeded: x & 0xFFFF_FFFF) }
        shift += 7
        i += 1
    }
    return 0
}

func fuzzOne(_ data: UnsafeRawBufferPointer) {
    guard data.count >= 5 else { return }
    let mode = data[0]
    let isDouble = mode & 1 != 0
    let body = UnsafeRawBufferPointer(rebasing: data[5...])

    if mode & 2 != 0 {
        // Round trip of arbitrary values.
        let n = min(body.count / 8, ColumnLimits.maxValues)
        if isDouble {
            let v = (0..<n).map { Double(bitPattern: body.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
            var out: [UInt8] = []
            v.withUnsafeBufferPointer { DoubleColumn.encode($0, into: &out) }
            var back = [Double](repeating: 0, count: n)
            do {
                try out.withUnsafeBytes { b in
                    try back.withUnsafeMutableBufferPointer { d in
                        try DoubleColumn.decode(b, count: n, range: 0..<n, into: d.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
                    }
                }
            } catch { fatalError("round trip: decode threw \(error)") }
            for i in 0..<n { check(back[i].bitPattern == v[i].bitPattern, "double round trip differs at \(i)") }
        } else {
            let v = (0..<n).map { body.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
            var out: [UInt8] = []
            v.withUnsafeBufferPointer { Int64Column.encode($0, into: &out) }
            var back = [Int64](repeating: 0, count: n)
            do {
                try out.withUnsafeBytes { b in
                    try back.withUnsafeMutableBufferPointer { d in
                        try Int64Column.decode(b, count: n, range: 0..<n, into: d.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
                    }
                }
            } catch { fatalError("round trip: decode threw \(error)") }
            check(back == v, "int64 round trip differs")
        }
        return
    }

    let raw16 = Int(data[1]) | Int(data[2]) << 8
    let count: Int
    switch (mode >> 2) & 3 {
    case 0: count = readStoredCount(body)
    case 1: count = raw16
    case 2: count = raw16 + 65_536 - 32_768
    default: count = -raw16
    }
    // The range: valid when count is valid, else whatever (the decoder must reject it).
    let c = max(count, 0)
    let scale = max(1, c / 256)
    let lower = min(c, Int(data[3]) * scale % (c + 1))
    let length = min(c - lower, Int(data[4]) * scale % (c - lower + 1))
    let range = lower..<(lower + length)

    // Copy the body into an exactly sized heap buffer so ASan sees any read past its end.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: body.count, alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: body)
    let bytes = UnsafeRawBufferPointer(start: body.count == 0 ? nil : copy.baseAddress, count: body.count)

    // Never more than a valid column can need: for an invalid count the decoder must throw before writing.
    let dstCount = max(min(range.count, ColumnLimits.maxValues), 1)
    if isDouble {
        let dst = UnsafeMutablePointer<Double>.allocate(capacity: dstCount)
        defer { dst.deallocate() }
        _ = try? DoubleColumn.decode(bytes, count: count, range: range, into: dst)
        if let usage = try? DoubleColumn.describe(bytes, count: count) {
            check(usage.reduce(0) { $0 + $1.bytes } == bytes.count, "describe bytes do not add up")
            check(usage.reduce(0) { $0 + $1.values } == count, "describe values do not add up")
            // A column describe accepts must decode in full.
            let all = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
            defer { all.deallocate() }
            do { try DoubleColumn.decode(bytes, count: count, range: 0..<count, into: all) } catch {
                fatalError("describe accepted a column that decode rejects: \(error)")
            }
        }
    } else {
        let dst = UnsafeMutablePointer<Int64>.allocate(capacity: dstCount)
        defer { dst.deallocate() }
        _ = try? Int64Column.decode(bytes, count: count, range: range, into: dst)
        if let usage = try? Int64Column.describe(bytes, count: count) {
            check(usage.reduce(0) { $0 + $1.bytes } == bytes.count, "describe bytes do not add up")
            check(usage.reduce(0) { $0 + $1.values } == count, "describe values do not add up")
            let all = UnsafeMutablePointer<Int64>.allocate(capacity: max(count, 1))
            defer { all.deallocate() }
            do { try Int64Column.decode(bytes, count: count, range: 0..<count, into: all) } catch {
                fatalError("describe accepted a column that decode rejects: \(error)")
            }
        }
    }
}

// SwiftPM links executables with the module's own `main`, so libFuzzer's `main` is not used: start
// libFuzzer's driver explicitly (LLVMFuzzerRunDriver is part of libFuzzer's public interface).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

// libFuzzer's own (unused) main references this symbol, so it must exist.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size))
    return 0
}

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
let status = LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput)
exit(status)

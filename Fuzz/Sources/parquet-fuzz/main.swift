// libFuzzer entry point for the Parquet reader (StrataParquet): the input is the whole content of
// one Parquet file, opened in memory and read whole by `_ParquetFuzz.readEverything` (footer, every
// column chunk of every row group, statistics). A ParquetError is the expected answer to a damaged
// file; a trap, a crash or an out-of-bounds read (AddressSanitizer) is a bug.
import StrataParquet

#if canImport(Glibc)
import Glibc
#endif

// SwiftPM links executables with the module's own `main`, so libFuzzer's `main` is not used: start
// libFuzzer's driver explicitly (as codec-fuzz does).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

// libFuzzer's own (unused) main references this symbol, so it must exist.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size))
    _ = _ParquetFuzz.readEverything(bytes)
    return 0
}

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
let status = LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput)
exit(status)

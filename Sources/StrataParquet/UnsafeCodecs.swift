// UNSAFE POINTER CODE: the calls into the system liblz4, libzstd, libsnappy and zlib (the only
// file of StrataParquet that imports CLZ4, CZstd, CSnappy or CZlib, and the only one using pointers).
//
// Why each call is safe:
// - Every pointer comes from `withUnsafeBytes`/`withUnsafeMutableBytes` of a Swift array and is
//   used only inside that closure; lengths passed are exactly the arrays' counts.
// - Compression writes into an array sized by the library's own bound (LZ4_compressBound,
//   ZSTD_compressBound, snappy_max_compressed_length), so it cannot write past it.
// - Decompression writes into an array of exactly the size the page header declares (the caller
//   caps it), with the library's bounds-checked decoder (LZ4_decompress_safe, ZSTD_decompress,
//   snappy_uncompress after snappy_validate_compressed_buffer, zlib's inflate with avail_out set to
//   the buffer's size), and the produced size must equal
//   the declared size. Hostile input makes these functions return an error, never write outside
//   the output buffer or read outside the input buffer.
// - Empty inputs and outputs never reach the libraries with a nil base address.
import CLZ4
import CSnappy
import CZlib
import CZstd

enum Codecs {
    /// Compresses one page body.
    static func compress(_ codec: ParquetCompression, _ input: [UInt8], zstdLevel: Int32) throws(DecodeFailure) -> [UInt8] {
        switch codec {
        case .uncompressed:
            return input
        case .lz4Raw:
            if input.isEmpty { return [0] }  // an LZ4 block of no literals: one zero token
            guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw .unsupported("LZ4 input of \(input.count) bytes") }
            let bound = Int(LZ4_compressBound(Int32(input.count)))
            var out = [UInt8](repeating: 0, count: bound)
            let n = input.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4_compress_default(
                        src.baseAddress!.assumingMemoryBound(to: CChar.self),
                        dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(src.count), Int32(dst.count))
                }
            }
            guard n > 0 else { throw .corrupt("LZ4 compression failed") }
            out.removeSubrange(Int(n)...)
            return out
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            var out = [UInt8](repeating: 0, count: max(bound, 1))
            let padded = input.isEmpty ? [0] : input
            let n = padded.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    ZSTD_compress(dst.baseAddress!, dst.count, src.baseAddress!, input.count, zstdLevel)
                }
            }
            guard ZSTD_isError(n) == 0 else { throw .corrupt("ZSTD compression failed: \(String(cString: ZSTD_getErrorName(n)))") }
            out.removeSubrange(n...)
            return out
        case .snappy:
            var outLen = snappy_max_compressed_length(input.count)
            var out = [UInt8](repeating: 0, count: max(outLen, 1))
            let padded = input.isEmpty ? [0] : input
            let status = padded.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    snappy_compress(
                        src.baseAddress!.assumingMemoryBound(to: CChar.self), input.count,
                        dst.baseAddress!.assumingMemoryBound(to: CChar.self), &outLen)
                }
            }
            guard status == SNAPPY_OK else { throw .corrupt("Snappy compression failed") }
            out.removeSubrange(outLen...)
            return out
        default:
            throw .unsupported("writing \(codec.rawValue.uppercased()) compression")
        }
    }

    /// Decompresses a page body of `input` into exactly `size` bytes.
    static func decompress(_ codec: ParquetCompression, _ input: ArraySlice<UInt8>, size: Int) throws(DecodeFailure) -> [UInt8] {
        if codec == .uncompressed {
            guard input.count == size else { throw .corrupt("uncompressed page of \(input.count) bytes declares \(size)") }
            return Array(input)
        }
        if size == 0 { return [] }
        guard !input.isEmpty else { throw .corrupt("empty \(codec.rawValue) page declares \(size) bytes") }
        let name = codec.rawValue.uppercased()
        var out = [UInt8](repeating: 0, count: size)
        switch codec {
        case .lz4Raw:
            guard input.count <= Int(Int32.max), size <= Int(Int32.max) else { throw .corrupt("LZ4 page too large") }
            let n = input.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4_decompress_safe(
                        src.baseAddress!.assumingMemoryBound(to: CChar.self),
                        dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(src.count), Int32(dst.count))
                }
            }
            guard n == Int32(size) else { throw .corrupt("LZ4_RAW page does not decompress to its declared \(size) bytes") }
        case .zstd:
            let n = input.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in ZSTD_decompress(dst.baseAddress!, dst.count, src.baseAddress!, src.count) }
            }
            guard ZSTD_isError(n) == 0, n == size else { throw .corrupt("ZSTD page does not decompress to its declared \(size) bytes") }
        case .snappy:
            let ok = input.withUnsafeBytes { src -> Bool in
                let s = src.baseAddress!.assumingMemoryBound(to: CChar.self)
                var declared = 0
                guard snappy_validate_compressed_buffer(s, src.count) == SNAPPY_OK,
                    snappy_uncompressed_length(s, src.count, &declared) == SNAPPY_OK, declared == size
                else { return false }
                var outLen = size
                return out.withUnsafeMutableBytes { dst in
                    snappy_uncompress(s, src.count, dst.baseAddress!.assumingMemoryBound(to: CChar.self), &outLen) == SNAPPY_OK
                        && outLen == size
                }
            }
            guard ok else { throw .corrupt("SNAPPY page does not decompress to its declared \(size) bytes") }
        case .gzip:
            guard input.count <= Int(UInt32.max), size <= Int(UInt32.max) else { throw .corrupt("GZIP page too large") }
            let ok = input.withUnsafeBytes { src -> Bool in
                out.withUnsafeMutableBytes { dst -> Bool in
                    var stream = z_stream()
                    guard strata_inflate_init_gzip(&stream) == Z_OK else { return false }
                    defer { inflateEnd(&stream) }
                    stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = uInt(src.count)
                    stream.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(dst.count)
                    return inflate(&stream, Z_FINISH) == Z_STREAM_END && Int(stream.total_out) == size
                }
            }
            guard ok else { throw .corrupt("GZIP page does not decompress to its declared \(size) bytes") }
        default:
            throw .unsupported("\(name) compression")
        }
        return out
    }
}

// Thin wrapper over the system liblz4 (LZ4 block format). The only file that imports CLZ4.
import CLZ4

package enum LZ4Codec {
    /// Compresses `src` as one LZ4 block, appends it to `out` and returns the number of bytes appended.
    /// Deterministic for a given liblz4 version (LZ4_compress_default, acceleration 1).
    @discardableResult
    package static func compress(_ src: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Int {
        let n = src.count
        guard n > 0, n <= Int(LZ4_MAX_INPUT_SIZE), let srcBase = src.baseAddress else {
            if n == 0 {
                // LZ4 encodes empty input as one zero token byte.
                out.append(0)
                return 1
            }
            preconditionFailure("LZ4Codec.compress: input of \(n) bytes exceeds LZ4_MAX_INPUT_SIZE")
        }
        let bound = Int(LZ4_compressBound(Int32(n)))
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { dst -> Int32 in
            let d = (dst.baseAddress! + start).assumingMemoryBound(to: CChar.self)
            return LZ4_compress_default(srcBase.assumingMemoryBound(to: CChar.self), d, Int32(n), Int32(bound))
        }
        // With a capacity of LZ4_compressBound, compression cannot fail.
        precondition(written > 0, "LZ4_compress_default failed")
        out.removeLast(bound - Int(written))
        return Int(written)
    }

    /// Decompresses one LZ4 block `src` whose decompressed size is exactly `dst.count`.
    package static func decompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws(CodecError) {
        guard src.count <= Int(Int32.max), dst.count <= Int(Int32.max) else {
            throw CodecError("lz4: input of \(src.count) bytes or output of \(dst.count) bytes too large")
        }
        if dst.count == 0 {
            // The only valid encoding of nothing is a single zero token.
            guard src.count == 1, src[0] == 0 else { throw CodecError("lz4: data does not decompress to 0 bytes") }
            return
        }
        guard let s = src.baseAddress, src.count > 0, let d = dst.baseAddress else {
            throw CodecError("lz4: empty input, expected \(dst.count) bytes of output")
        }
        let got = LZ4_decompress_safe(
            s.assumingMemoryBound(to: CChar.self), d.assumingMemoryBound(to: CChar.self),
            Int32(src.count), Int32(dst.count))
        guard got == Int32(dst.count) else {
            if got < 0 {
                throw CodecError("lz4: malformed block (error at input byte \(-Int(got) - 1) of \(src.count))")
            }
            throw CodecError("lz4: block decompresses to \(got) bytes, expected \(dst.count)")
        }
    }
}

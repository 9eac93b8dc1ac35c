import CZstd

/// zstd compression of catalog batch records (kind 7, docs/FORMAT.md "Catalog"), against an
/// optional raw-content dictionary (the body of an earlier plain record), and of the stored
/// statistics of packed series in segments (`PackedSummaries`, no dictionary).
///
/// UNSAFE POINTER CODE: the only file of Strata that imports CZstd. Why each call is safe:
/// - Every pointer comes from `withUnsafeBytes`/`withUnsafeMutableBytes` of a Swift array or a
///   `ByteView` (whose owner keeps it alive during the call) and is used only inside that closure;
///   the lengths passed are exactly the buffers' counts.
/// - Compression writes into an array sized by `ZSTD_compressBound`, so it cannot write past it.
/// - Decompression writes into an array of exactly the declared size (the caller caps it at
///   16 MiB) with zstd's bounds-checked decoder, and the produced size must equal it: hostile input
///   makes zstd return an error, never write outside the output or read outside the input.
/// - Empty buffers never reach zstd with a nil base address (a one-byte stand-in is passed with
///   length 0).
/// - The contexts are created in `init`, freed in `deinit`, and used by one thread at a time (the
///   owning `Catalog` is used under its store's lock; a segment writer or reader makes its own).
final class CatalogZstd {
    private let cctx: OpaquePointer
    private let dctx: OpaquePointer
    /// zstd level of catalog records (small inputs: fast at any level).
    static let level: Int32 = 3

    init() {
        cctx = ZSTD_createCCtx()
        dctx = ZSTD_createDCtx()
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        ZSTD_freeDCtx(dctx)
    }

    /// `input` compressed into one zstd frame, using `dictionary` (raw content) when not empty.
    func compress(_ input: [UInt8], dictionary: [UInt8], level: Int32 = CatalogZstd.level) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(ZSTD_compressBound(input.count), 1))
        let src = input.isEmpty ? [0] : input
        let dict = dictionary.isEmpty ? [0] : dictionary
        let n = src.withUnsafeBytes { s in
            dict.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    ZSTD_compress_usingDict(
                        cctx, o.baseAddress!, o.count, s.baseAddress!, input.count, d.baseAddress!, dictionary.count,
                        level)
                }
            }
        }
        guard ZSTD_isError(n) == 0 else { return nil }
        out.removeSubrange(n...)
        return out
    }

    /// The `size` bytes `frame` decompresses to with `dictionary` (raw content; none when
    /// empty), or nil when it does not decompress to exactly that many.
    func decompress(_ frame: ByteView, size: Int, dictionary: [UInt8]) -> [UInt8]? {
        guard !frame.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let dict = dictionary.isEmpty ? [0] : dictionary
        let n = frame.withUnsafeBytes { f in
            dict.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    ZSTD_decompress_usingDict(dctx, o.baseAddress!, size, f.baseAddress!, f.count, d.baseAddress!, dictionary.count)
                }
            }
        }
        guard ZSTD_isError(n) == 0, n == size else { return nil }
        if size == 0 { return [] }
        return out
    }
}

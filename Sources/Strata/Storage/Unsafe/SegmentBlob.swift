import StrataCodecs

/// The column bytes of a segment, handed to the chunk readers (`ChunkHandle`, `ChunkCursor`) and
/// the codecs as raw buffers.
///
/// Unsafe memory: a blob is a slice of the segment's read-only mapping (`MappedFile`), which lives
/// as long as the `Segment`; the readers hold the segment while they use its blobs. Every
/// `BlobRef` was checked against the data area of the file when its chunk table was parsed
/// (`Segment.parseTable`), and the slice below is bounds-checked again. Covered by the store fuzzer
/// (`FuzzEntry`, hostile segments) and `CorruptionTests`.
extension Segment {
    /// The bytes of a blob, checksum-verified on first use (a packed blob: its whole pack).
    func blob(_ ref: BlobRef) throws(StrataError) -> UnsafeRawBufferPointer {
        let all = file.bytes
        precondition(ref.offset >= 0 && ref.length >= 0 && ref.offset <= all.count - ref.length, "blob outside the segment")
        let bytes = UnsafeRawBufferPointer(rebasing: all[ref.offset..<(ref.offset + ref.length)])
        if ref.pack >= 0 {
            try verifyPack(ref.pack)
            return bytes
        }
        let key = BlobKey(offset: ref.offset, length: ref.length)
        if !verifiedBlobs.contains(key) {
            guard Checksum.xxh64(bytes) == ref.checksum else {
                throw StrataError.corrupt("column checksum mismatch", path: path, offset: ref.offset)
            }
            verifiedBlobs.insert(key)
        }
        return bytes
    }

    /// The bytes of a blob that `blob` already verified in this process (no checksum lookup);
    /// still bounds-checked against the file.
    func verifiedBlob(_ ref: BlobRef) -> UnsafeRawBufferPointer {
        let all = file.bytes
        precondition(ref.offset >= 0 && ref.length >= 0 && ref.offset <= all.count - ref.length, "blob outside the segment")
        return UnsafeRawBufferPointer(rebasing: all[ref.offset..<(ref.offset + ref.length)])
    }

    /// `verifiedBlob` for an offset and length kept apart from their `BlobRef` (`EdgeChunk`).
    func verifiedBytes(offset: Int, length: Int) -> UnsafeRawBufferPointer {
        let all = file.bytes
        precondition(offset >= 0 && length >= 0 && offset <= all.count - length, "blob outside the segment")
        return UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
    }
}

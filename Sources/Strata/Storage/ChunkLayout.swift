/// Points per chunk and per tier block. Chunks hold up to `chunkCapacity` points of one series,
/// sorted by step (stable by arrival); every `blockSize` points have a level-1 tier entry.
enum ChunkLayout {
    static let chunkCapacity = 4096
    static let blockSize = 128
    static let blocksPerChunk = chunkCapacity / blockSize
    /// Bytes of one level-1 tier entry: sum f64, m2 f64, min f64, max f64, NaN count u8.
    /// Only full chunks carry tier entries: a partial chunk is small enough to decode.
    static let tierEntrySize = 33
}

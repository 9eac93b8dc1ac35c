import StrataCodecs

/// One chunk of a series as the query engine sees it, from a segment or from a log tail: the
/// interface through which Storage offers chunks (statistics, step search, column decoding).
///
/// Unsafe memory: `decodeSteps/Values/Times(range, into:)` write exactly `range.count` elements
/// at the destination, which the caller sizes (`ChunkColumns`, `PointBlocks`); `range` lies within
/// the chunk (callers derive it from `count` and `lowerBound`). Segment columns are slices of the
/// segment's mapping, checked against the file size when the chunk table was parsed and against
/// their checksum before the first decode.
struct ChunkHandle {
    enum Source {
        case segment(Segment, ChunkEntry)
        case memory(MemoryChunk)
    }
    let source: Source
    /// Statistics of the whole chunk, with arrival ranks.
    let stats: Aggregate
    let minTime: Int64
    let maxTime: Int64
    /// Rank of point i is `rankBase + i` (orders equal steps across chunks by arrival).
    let rankBase: UInt64
    let linearSteps: Bool

    init(segment: Segment, entry: ChunkEntry, rankBase: UInt64) {
        self.init(
            source: .segment(segment, entry), stats: entry.stats, minTime: entry.minTime, maxTime: entry.maxTime,
            rankBase: rankBase, linearSteps: entry.linearSteps)
    }

    init(memory: MemoryChunk, rankBase: UInt64) {
        self.init(
            source: .memory(memory), stats: memory.stats, minTime: memory.minTime, maxTime: memory.maxTime,
            rankBase: rankBase, linearSteps: false)
    }

    private init(source: Source, stats: Aggregate, minTime: Int64, maxTime: Int64, rankBase: UInt64, linearSteps: Bool) {
        self.source = source
        var s = stats
        s.firstRank = rankBase
        s.lastRank = rankBase + UInt64(stats.count - 1)
        self.stats = s
        self.minTime = minTime
        self.maxTime = maxTime
        self.rankBase = rankBase
        self.linearSteps = linearSteps
    }

    /// The step increment of a chunk with linear steps (0 for a one-point chunk).
    var stride: Int64 { count > 1 ? (stats.lastStep &- stats.firstStep) / Int64(count - 1) : 0 }

    var count: Int { stats.count }

    /// Verifies the checksums of the steps and values columns now (later decodes only read).
    func verifyColumns() throws(StrataError) {
        if case .segment(let seg, let e) = source {
            _ = try seg.blob(e.steps)
            _ = try seg.blob(e.values)
        }
    }

    /// Verifies the checksums of every column a read decodes (steps unless linear, values, times).
    func verifyAllColumns() throws(StrataError) {
        if case .segment(let seg, let e) = source {
            if !linearSteps { _ = try seg.blob(e.steps) }
            _ = try seg.blob(e.values)
            _ = try seg.blob(e.times)
        }
    }

    private func fail(_ segment: Segment, _ ref: BlobRef, _ e: CodecError) -> StrataError {
        StrataError.corrupt("cannot decode column: \(e.message)", path: segment.path, offset: ref.offset)
    }

    /// dst[j] = first + j · stride for j in 0..<n (wrapping), eight steps a turn in four
    /// SIMD2 registers (the compiler's own vectorisation kept one register, four stores an
    /// iteration with the loop's overhead), then one at a time.
    @inline(__always)
    static func linearSteps(_ first: Int64, _ stride: Int64, _ n: Int, _ dst: UnsafeMutablePointer<Int64>) {
        let raw = UnsafeMutableRawPointer(dst)
        let d2 = SIMD2<Int64>(repeating: stride &* 2)
        var a = SIMD2<Int64>(first, first &+ stride)
        var b = a &+ d2, c = b &+ d2, d = c &+ d2
        let d8 = SIMD2<Int64>(repeating: stride &* 8)
        var j = 0
        while j &+ 8 <= n {
            raw.storeBytes(of: a, toByteOffset: j &* 8, as: SIMD2<Int64>.self)
            raw.storeBytes(of: b, toByteOffset: j &* 8 &+ 16, as: SIMD2<Int64>.self)
            raw.storeBytes(of: c, toByteOffset: j &* 8 &+ 32, as: SIMD2<Int64>.self)
            raw.storeBytes(of: d, toByteOffset: j &* 8 &+ 48, as: SIMD2<Int64>.self)
            a &+= d8
            b &+= d8
            c &+= d8
            d &+= d8
            j &+= 8
        }
        var v = first &+ stride &* Int64(j)
        while j < n {
            dst[j] = v
            v = v &+ stride
            j &+= 1
        }
    }

    func decodeSteps(_ range: Range<Int>, into dst: UnsafeMutablePointer<Int64>) throws(StrataError) {
        switch source {
        case .memory(let m):
            m.steps.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + range.lowerBound, count: range.count) }
        case .segment(let seg, let e):
            if linearSteps {
                let stride = self.stride  // computed once, not per point
                let first = e.stats.firstStep &+ stride &* Int64(range.lowerBound)
                ChunkHandle.linearSteps(first, stride, range.count, dst)
                return
            }
            let bytes = try seg.blob(e.steps)
            do { try Int64Column.decode(bytes, count: e.count, range: range, into: dst) } catch { throw fail(seg, e.steps, error) }
        }
    }

    func decodeValues(_ range: Range<Int>, into dst: UnsafeMutablePointer<Double>) throws(StrataError) {
        switch source {
        case .memory(let m):
            m.values.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + range.lowerBound, count: range.count) }
        case .segment(let seg, let e):
            let bytes = try seg.blob(e.values)
            do { try DoubleColumn.decode(bytes, count: e.count, range: range, into: dst) } catch { throw fail(seg, e.values, error) }
        }
    }

    func decodeTimes(_ range: Range<Int>, into dst: UnsafeMutablePointer<Int64>) throws(StrataError) {
        switch source {
        case .memory(let m):
            m.times.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + range.lowerBound, count: range.count) }
        case .segment(let seg, let e):
            let bytes = try seg.blob(e.times)
            do { try Int64Column.decode(bytes, count: e.count, range: range, into: dst) } catch { throw fail(seg, e.times, error) }
        }
    }

    /// Index of the first point with step >= `step` (count when none).
    func lowerBound(_ step: Int64, steps cache: inout [Int64]?) throws(StrataError) -> Int {
        if step <= stats.firstStep { return 0 }
        if step > stats.lastStep { return count }
        if linearSteps {
            let stride = self.stride
            if stride == 0 { return 0 }
            // ceil((step - first) / stride), without overflow: step is inside [first, last].
            let off = UInt64(bitPattern: step &- stats.firstStep)
            let s = UInt64(stride)
            return Int(off / s + (off % s == 0 ? 0 : 1))
        }
        if cache == nil {
            var all = [Int64](repeating: 0, count: count)
            try all.withUnsafeMutableBufferPointer { (p) throws(StrataError) in try decodeSteps(0..<count, into: p.baseAddress!) }
            cache = all
        }
        var lo = 0, hi = count
        cache!.withUnsafeBufferPointer { s in
            while lo < hi {
                let mid = (lo + hi) / 2
                if s[mid] < step { lo = mid + 1 } else { hi = mid }
            }
        }
        return lo
    }
}

extension ChunkHandle {
    /// The chunk's quantile sketch (nil when it has none: a partial chunk, a live log's chunk, a
    /// version 1 segment). Read from the tail of the tier blob, whose checksum `blob` verifies;
    /// the sketch must count exactly the chunk's non-NaN values.
    func sketch() throws(StrataError) -> QuantileSketch? {
        guard case .segment(let seg, let e) = source, e.hasSketch else { return nil }
        _ = try seg.blob(e.tier)  // checksum
        let from = e.tier.offset + ChunkLayout.blocksPerChunk * ChunkLayout.tierEntrySize
        var r = ByteReader(seg.file.view, from: from, to: e.tier.offset + e.tier.length, path: seg.path)
        let s = try QuantileSketch.decode(&r, expected: e.stats.numericCount)
        if !r.isAtEnd {
            throw StrataError.corrupt("\(r.remaining) unexpected bytes after the quantile sketch", path: seg.path, offset: r.offset)
        }
        return s
    }
}

// MARK: - Copying a stored chunk (compaction)

extension ChunkHandle {
    /// The chunk as stored, ready to be written again unchanged: header statistics and the bytes of
    /// its four blobs, each checked against its checksum first. Nil for a chunk that is not a
    /// segment's full chunk with tier blocks and a quantile sketch (a log's or a trimmed chunk, a
    /// partial chunk, a version 1 chunk): those are decoded and encoded again.
    func storedEncoding() throws(StrataError) -> EncodedChunk? {
        guard case .segment(let seg, let e) = source, e.hasSketch, e.count == ChunkLayout.chunkCapacity else { return nil }
        let steps = Array(try seg.blob(e.steps)), values = Array(try seg.blob(e.values))
        let times = Array(try seg.blob(e.times)), tier = Array(try seg.blob(e.tier))
        return EncodedChunk(
            stats: e.stats, minTime: e.minTime, maxTime: e.maxTime, linearSteps: e.linearSteps, steps: steps, values: values, times: times,
            tier: tier, hasSketch: true)
    }
}

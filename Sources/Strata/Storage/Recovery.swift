#if canImport(Glibc)
import Glibc
#endif
import StrataCodecs

/// Turns the log of a dead writer into a segment.
///
/// A log file is locked (`flock`) by its living writer; a log whose lock can be taken belongs to a
/// dead writer. Recovery holds that lock while it works, so two processes never recover the same
/// log. If the segment cut from the log already exists (the writer died between writing it and
/// deleting the log) the log is simply deleted. A log damaged in the middle is recovered up to the
/// damage and then moved to `damaged/` rather than deleted.
enum Recovery {
    struct Outcome {
        /// Runs that had points in the recovered log.
        var runs: Set<RunID> = []
        var writer = ""
        var recoveredPoints = 0
        var damage: String?
    }

    /// Recovers one log if its writer is dead; nil when the writer is alive.
    static func recoverIfDead(logPath: String, paths: StorePaths, catalog: Catalog) throws(StrataError) -> Outcome? {
        let fd: Int32
        do { fd = try Sys.open(logPath, O_RDONLY) } catch { return nil }  // gone already
        defer { Sys.close(fd) }
        guard try Sys.tryLockExclusive(fd, logPath) else { return nil }
        defer { Sys.unlock(fd) }
        // The file might have been deleted by another recoverer between our open and our lock.
        guard Sys.kind(logPath) == .file else { return nil }
        let file = try MappedFile(path: logPath)
        var outcome = Outcome()
        var scanner: LogScanner
        do {
            scanner = try LogScanner(bytes: file.bytes, path: logPath)
        } catch {
            // Not even a readable header: keep the bytes for inspection, out of the way.
            try moveToDamaged(logPath, paths: paths)
            outcome.damage = error.description
            return outcome
        }
        outcome.writer = scanner.header.writerId
        let segmentPath = paths.segment(StorePaths.segmentName(writer: scanner.header.writerId, generation: scanner.header.generation))
        if Sys.kind(segmentPath) == .file {
            try Sys.unlink(logPath)
            return outcome
        }
        let epoch = try RewindEpoch.fix(paths, catalog)
        var replay = LogReplay(rewinds: { catalog.runs[$0]?.rewinds ?? [] }, epoch: epoch)
        replay.run(&scanner, path: logPath)
        outcome.runs = replay.runs
        outcome.recoveredPoints = replay.points
        outcome.damage = replay.damage
        // A batch without its commit at the end is a batch the writer died in: dropped, not damage.
        if outcome.damage == nil, !scanner.pendingBatch, let reason = scanner.stopReason, hasDataAfter(file.bytes, scanner.offset) {
            outcome.damage = "\(reason) at byte \(scanner.offset), with more data after it"
        }
        let meta = SegmentMeta(writer: scanner.header.writerId, generation: scanner.header.generation,
                               firstSequence: scanner.header.createdNs, lastSequence: Clock.nanoseconds(), replaces: [],
                               rewindEpoch: epoch)
        // The batch keys first: whenever the segment exists, so do the keys of its log.
        try BatchKeys.write(replay.commits, writer: scanner.header.writerId, generation: scanner.header.generation, paths: paths)
        try replay.buffers.writeSegment(path: segmentPath, tmpDir: paths.tmp, meta: meta)
        if outcome.damage != nil {
            try moveToDamaged(logPath, paths: paths)
        } else {
            try Sys.unlink(logPath)
        }
        return outcome
    }

    static func decodeChunk(count: Int, steps: UnsafeRawBufferPointer, values: UnsafeRawBufferPointer, times: UnsafeRawBufferPointer,
                            into s: inout [Int64], _ v: inout [Double], _ t: inout [Int64], path: String) throws(StrataError) {
        s = [Int64](repeating: 0, count: count)
        v = [Double](repeating: 0, count: count)
        t = [Int64](repeating: 0, count: count)
        do {
            try s.withUnsafeMutableBufferPointer { (p) throws(CodecError) in try Int64Column.decode(steps, count: count, range: 0..<count, into: p.baseAddress!) }
            try v.withUnsafeMutableBufferPointer { (p) throws(CodecError) in try DoubleColumn.decode(values, count: count, range: 0..<count, into: p.baseAddress!) }
            try t.withUnsafeMutableBufferPointer { (p) throws(CodecError) in try Int64Column.decode(times, count: count, range: 0..<count, into: p.baseAddress!) }
        } catch {
            throw StrataError.corrupt("chunk record: \(error.message)", path: path)
        }
    }

    private static func hasDataAfter(_ b: UnsafeRawBufferPointer, _ offset: Int) -> Bool {
        var i = offset + LogFormat.recordHeaderSize
        while i < b.count {
            if b[i] != 0 { return true }
            i += 1
        }
        return false
    }

    static func moveToDamaged(_ path: String, paths: StorePaths) throws(StrataError) {
        try Sys.mkdir(paths.damaged)
        let name = path.split(separator: "/").last.map(String.init) ?? "log"
        try Sys.rename(path, paths.damaged + "/" + name)
    }
}

/// Replays the committed records of a log into segment buffers (recovery, and a cut after a
/// rewind), leaving out the points that rewinds recorded up to `epoch` hide: a rewind hides a
/// point of its run above its step when the rewind's sequence is later than the point's (the
/// log's latest `mark` before the point, else the log's creation). Records of a batch without
/// its commit are left out (`LogScanner`).
struct LogReplay {
    let rewinds: (RunID) -> [RunInfo.Rewind]
    let epoch: Int64
    let buffers = SeriesBuffers()
    private(set) var runs: Set<RunID> = []
    private(set) var points = 0
    private(set) var commits: [BatchCommit] = []
    private(set) var damage: String?

    init(rewinds: @escaping (RunID) -> [RunInfo.Rewind], epoch: Int64) {
        self.rewinds = rewinds
        self.epoch = epoch
    }

    /// The largest visible step of a point of `run` logged at `sequence`.
    func limit(_ run: RunID, sequence: Int64) -> Int64 {
        StoreReader.visibleLimit(rewinds(run).filter { $0.sequence <= epoch }, first: sequence, epoch: 0)
    }

    mutating func run(_ scanner: inout LogScanner, path: String) {
        var local: [UInt32: (index: Int, run: RunID)] = [:]
        // Per series number: (sequence, limit) of the last lookup.
        var limits: [UInt32: (Int64, Int64)] = [:]
        func visible(_ id: UInt32, _ run: RunID, _ seq: Int64) -> Int64 {
            if let (s, l) = limits[id], s == seq { return l }
            let l = limit(run, sequence: seq)
            limits[id] = (seq, l)
            return l
        }
        var scratch = [Int64](), vs = [Double](), ts = [Int64]()
        do {
            while let record = try scanner.next() {
                switch record {
                case .series(let id, let key):
                    local[id] = (buffers.add(key), key.run)
                    runs.insert(key.run)
                case .row(let step, let time, let pairs):
                    let n = pairs.count / 12
                    for i in 0..<n {
                        let id = UInt32(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12, as: UInt32.self))
                        let bits = UInt64(littleEndian: pairs.loadUnaligned(fromByteOffset: i * 12 + 4, as: UInt64.self))
                        guard let s = local[id] else { throw StrataError.corrupt("row names undefined series \(id)", path: path) }
                        if step > visible(id, s.run, scanner.sequence) { continue }
                        buffers.append(s.index, step: step, value: Double(bitPattern: bits), time: time)
                        points += 1
                    }
                case .chunk(let id, let count, let steps, let values, let times):
                    guard let s = local[id] else { throw StrataError.corrupt("chunk names undefined series \(id)", path: path) }
                    try Recovery.decodeChunk(count: count, steps: steps, values: values, times: times, into: &scratch, &vs, &ts, path: path)
                    let lim = visible(id, s.run, scanner.sequence)
                    if lim != .max {
                        var keep = 0
                        for j in 0..<scratch.count where scratch[j] <= lim {
                            scratch[keep] = scratch[j]; vs[keep] = vs[j]; ts[keep] = ts[j]
                            keep += 1
                        }
                        if keep == 0 { continue }
                        scratch.removeLast(scratch.count - keep); vs.removeLast(vs.count - keep); ts.removeLast(ts.count - keep)
                    }
                    let chunk = scratch.withUnsafeBufferPointer { sp in vs.withUnsafeBufferPointer { vp in ts.withUnsafeBufferPointer { tp in
                        ChunkEncoder.encode(steps: sp, values: vp, times: tp, reuse: buffers.reuseForCaller(s.index))
                    } } }
                    buffers.append(s.index, chunk: chunk)
                    points += scratch.count
                case .mark:
                    break
                case .commit(let c):
                    if !c.key.isEmpty { commits.append(c) }
                }
            }
        } catch {
            damage = "\(error)"
        }
    }
}

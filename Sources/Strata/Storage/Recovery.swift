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
        do { fd = try Sys.open(logPath, .readOnly) } catch { return nil }  // gone already
        defer { Sys.close(fd) }
        guard try Sys.tryLockExclusive(fd, logPath) else { return nil }
        defer { Sys.unlock(fd) }
        // The file might have been deleted by another recoverer between our open and our lock.
        guard Sys.kind(logPath) == .file else { return nil }
        let file = try MappedFile(path: logPath)
        var outcome = Outcome()
        var scanner: LogScanner
        do {
            scanner = try LogScanner(bytes: file.view, path: logPath)
        } catch {
            // Not even a readable header: keep the bytes for inspection, out of the way.
            try moveToDamaged(logPath, paths: paths)
            outcome.damage = error.description
            return outcome
        }
        outcome.writer = scanner.header.writerId
        // Runs whose creation is only in this log go into the catalog before the log can go.
        try LoggedCreates.recover(log: file.view, path: logPath, catalog: catalog)
        let segmentPath = paths.segment(StorePaths.segmentName(writer: scanner.header.writerId, generation: scanner.header.generation))
        if Sys.kind(segmentPath) == .file {
            try Sys.unlink(logPath)
            return outcome
        }
        let epoch = try RewindEpoch.fix(paths, catalog)
        var replay = LogReplay(rewinds: { catalog.rewinds(of: $0) }, epoch: epoch)
        replay.run(&scanner, path: logPath)
        outcome.runs = replay.runs
        outcome.recoveredPoints = replay.points
        outcome.damage = replay.damage
        // A batch without its commit at the end is a batch the writer died in: dropped, not damage.
        if outcome.damage == nil, !scanner.pendingBatch, let reason = scanner.stopReason, hasDataAfter(file.view, scanner.offset) {
            outcome.damage = "\(reason) at byte \(scanner.offset), with more data after it"
        }
        let meta = SegmentMeta(
            writer: scanner.header.writerId, generation: scanner.header.generation,
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

    /// Whether any byte after the record header at `offset` is not zero (damage, not a cut-off tail).
    private static func hasDataAfter(_ b: ByteView, _ offset: Int) -> Bool {
        let from = offset + LogFormat.recordHeaderSize
        return from < b.count && b[from..<b.count].array.contains { $0 != 0 }
    }

    static func moveToDamaged(_ path: String, paths: StorePaths) throws(StrataError) {
        try Sys.mkdir(paths.damaged)
        let name = path.split(separator: "/").last.map(String.init) ?? "log"
        try Sys.rename(path, paths.damaged + "/" + name)
    }
}

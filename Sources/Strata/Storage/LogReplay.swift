/// What a walk over a log's records reports, in log order (`LogScanner.walk`).
protocol LogRecordSink {
    /// Series number `id` of this log names `key`.
    mutating func series(_ id: UInt32, _ key: SeriesKey) throws(StrataError)
    /// One point of a row record, logged at `sequence` (the log's latest `mark` before it).
    mutating func point(_ id: UInt32, step: Int64, value: Double, time: Int64, sequence: Int64) throws(StrataError)
    /// A chunk record (bulk append), still encoded, logged at `sequence`.
    mutating func chunk(_ id: UInt32, _ record: LogChunkRecord, sequence: Int64) throws(StrataError)
    /// A committed batch.
    mutating func commit(_ c: BatchCommit)
    /// A run's create record logged before its catalog batch was written (`LoggedCreates`).
    mutating func run(_ body: ByteView)
}

extension LogRecordSink {
    /// Most walks leave logged create records to recovery (`LoggedCreates.recover`).
    mutating func run(_ body: ByteView) {}
}

extension LogScanner {
    /// The one walk over the committed records of a log, shared by live tails (`LogTail`) and
    /// recovery (`LogReplay`): rows are unpacked into points here, and only here. Stops at the end
    /// of the valid records; throws what the scanner or the sink throws.
    mutating func walk<S: LogRecordSink>(into sink: inout S) throws(StrataError) {
        while let record = try next() {
            switch record {
            case .series(let id, let key):
                try sink.series(id, key)
            case .row(let step, let time, let pairs):
                for i in 0..<(pairs.count / 12) {
                    let id = pairs.load(UInt32.self, at: i * 12)
                    let bits = pairs.load(UInt64.self, at: i * 12 + 4)
                    try sink.point(id, step: step, value: Double(bitPattern: bits), time: time, sequence: sequence)
                }
            case .chunk(let id, let count, let steps, let values, let times):
                try sink.chunk(id, LogChunkRecord(count: count, steps: steps, values: values, times: times), sequence: sequence)
            case .mark:
                break
            case .commit(let c):
                sink.commit(c)
            case .run(let body):
                sink.run(body)
            }
        }
    }
}

/// Replays the committed records of a log into segment buffers (recovery, and a cut after a
/// rewind), leaving out the points that rewinds recorded up to `epoch` hide (`RewindVisibility`).
/// Records of a batch without its commit are left out (`LogScanner`).
struct LogReplay: LogRecordSink {
    let rewinds: (RunID) -> [RunInfo.Rewind]
    let epoch: Int64
    let buffers = SeriesBuffers()
    private(set) var runs: Set<RunID> = []
    private(set) var points = 0
    private(set) var commits: [BatchCommit] = []
    private(set) var damage: String?
    private var path = ""
    private var local: [UInt32: (index: Int, run: RunID)] = [:]
    /// Per series number: (sequence, limit) of the last lookup.
    private var limits: [UInt32: (Int64, Int64)] = [:]

    init(rewinds: @escaping (RunID) -> [RunInfo.Rewind], epoch: Int64) {
        self.rewinds = rewinds
        self.epoch = epoch
    }

    /// The largest visible step of a point of `run` logged at `sequence`.
    func limit(_ run: RunID, sequence: Int64) -> Int64 {
        RewindVisibility.limit(rewinds(run), loggedAt: sequence, known: epoch)
    }

    private mutating func visible(_ id: UInt32, _ run: RunID, _ seq: Int64) -> Int64 {
        if let (s, l) = limits[id], s == seq { return l }
        let l = limit(run, sequence: seq)
        limits[id] = (seq, l)
        return l
    }

    mutating func run(_ scanner: inout LogScanner, path: String) {
        self.path = path
        do { try scanner.walk(into: &self) } catch { damage = "\(error)" }
    }

    mutating func series(_ id: UInt32, _ key: SeriesKey) throws(StrataError) {
        local[id] = (buffers.add(key), key.run)
        runs.insert(key.run)
    }

    mutating func point(_ id: UInt32, step: Int64, value: Double, time: Int64, sequence: Int64) throws(StrataError) {
        guard let s = local[id] else { throw StrataError.corrupt("row names undefined series \(id)", path: path) }
        if step > visible(id, s.run, sequence) { return }
        buffers.append(s.index, step: step, value: value, time: time)
        points += 1
    }

    mutating func chunk(_ id: UInt32, _ record: LogChunkRecord, sequence: Int64) throws(StrataError) {
        guard let s = local[id] else { throw StrataError.corrupt("chunk names undefined series \(id)", path: path) }
        var c = try ChunkColumns(record, path: path)
        c.keep(upTo: visible(id, s.run, sequence))
        if c.count == 0 { return }
        buffers.append(s.index, chunk: ChunkEncoder.encode(c, reuse: buffers.reuseForCaller(s.index)))
        points += c.count
    }

    mutating func commit(_ c: BatchCommit) {
        if !c.key.isEmpty { commits.append(c) }
    }
}

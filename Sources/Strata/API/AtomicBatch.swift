/// Points logged as one atomic step: after a crash of the process at any moment, either every
/// point of the batch is in the store or none is. Build it with metric groups of runs this
/// process logs to (`Run.metrics`), then hand it to `Store.log(_:commit:)`.
///
/// ```swift
/// var batch = AtomicBatch()
/// batch.log(try run.metrics(["loss", "acc"]), step: 10, values: [0.5, 0.8])
/// batch.append(try run.metrics(["val/loss"]), steps: [10, 20], values: [0.61, 0.58])
/// try store.log(batch, commit: BatchCommit(key: "job-7/batch-42", digest: digest, committedMs: now, response: []))
/// ```
public struct AtomicBatch: Sendable {
    enum Item: Sendable {
        case row(Run.MetricGroup, step: Int64, values: [Double], time: Int64?)
        case column(Run.MetricGroup, steps: [Int64], values: [Double], times: [Int64]?)
    }
    var items: [Item] = []

    /// An empty batch.
    public init() {}

    /// True when nothing has been added to the batch.
    public var isEmpty: Bool { items.isEmpty }

    /// One value per metric of `group` at `step` (as `Run.log(_:step:values:time:)`).
    ///
    /// - Parameters:
    ///   - group: Metrics resolved by ``Run/metrics(_:labels:)``.
    ///   - step: The training step.
    ///   - values: One value per metric of `group`.
    ///   - time: Wall-clock time, milliseconds since 1970 (the commit's time when nil).
    public mutating func log(_ group: Run.MetricGroup, step: Int64, values: [Double], time: Int64? = nil) {
        items.append(.row(group, step: step, values: values, time: time))
    }

    /// Whole arrays of the one metric of `group` (as `Run.append`); steps in any order.
    ///
    /// - Parameters:
    ///   - group: A group of exactly one metric.
    ///   - steps: The steps of the points.
    ///   - values: One value per step.
    ///   - times: One time per step, milliseconds since 1970 (the commit's time when nil).
    public mutating func append(_ group: Run.MetricGroup, steps: [Int64], values: [Double], times: [Int64]? = nil) {
        items.append(.column(group, steps: steps, values: values, times: times))
    }
}

extension Store {
    /// Logs every point of `batch` atomically, recording `commit` with it (its key and answer
    /// come back from `batchCommits(sinceMs:)`, also after a restart; an empty key is not kept).
    ///
    /// The batch is written to this process's log in one piece that counts only once its commit
    /// record is there: a crash before that leaves none of it (docs/FORMAT.md, "Atomic batches").
    /// - Throws: `.invalidArgument` when a group and its values disagree (nothing is written).
    ///
    /// - Parameters:
    ///   - batch: The points to log.
    ///   - commit: The batch's key, digest, time and answer.
    public func log(_ batch: AtomicBatch, commit: BatchCommit) throws(StrataError) {
        guard commit.key.utf8.count <= LogFormat.maxBatchKeyBytes else {
            throw .invalid("batch key is \(commit.key.utf8.count) bytes; the limit is \(LogFormat.maxBatchKeyBytes)")
        }
        guard commit.digest.count == 32 else { throw .invalid("batch digest must be 32 bytes") }
        for item in batch.items {
            switch item {
            case .row(let g, _, let values, _):
                guard values.count == g.ids.count else { throw .invalid("\(values.count) values for a group of \(g.ids.count) metrics") }
            case .column(let g, let steps, let values, let times):
                guard g.ids.count == 1 else { throw .invalid("a column of a batch needs a group of one metric, got \(g.ids.count)") }
                guard steps.count == values.count, times.map({ $0.count == steps.count }) ?? true else {
                    throw .invalid("column of \(g.names[0]): \(steps.count) steps, \(values.count) values, \(times?.count ?? steps.count) times")
                }
            }
        }
        let now = Clock.milliseconds()
        try withWriter { w throws(StrataError) in
            var items: [LogWriter.BatchItem] = []
            for item in batch.items {
                switch item {
                case .row(let g, let step, let values, let time):
                    items.append(.row(step: step, time: time ?? now, ids: g.ids, values: values))
                case .column(let g, let steps, let values, let times):
                    if steps.isEmpty { continue }
                    var s = steps, v = values
                    var t = times ?? [Int64](repeating: now, count: steps.count)
                    StableSort.sort(steps: &s, values: &v, times: &t)
                    items += w.chunkItems(id: Int(g.ids[0]), steps: s, values: v, times: t)
                }
            }
            try w.logBatch(items, commit: commit)
        }
    }

    /// The commits of atomic batches made since `sinceMs` (ms since 1970), oldest first: from
    /// the key files of cut logs and from the logs not cut yet. Key files holding only older
    /// commits are deleted.
    ///
    /// - Parameter sinceMs: The earliest commit time to return, milliseconds since 1970.
    /// - Returns: The commits, oldest first.
    /// - Throws: ``StrataError`` when the store cannot be read.
    public func batchCommits(sinceMs: Int64) throws(StrataError) -> [BatchCommit] {
        var out = BatchKeys.read(paths: paths, sinceMs: sinceMs)
        var seen = Set(out.map(\.key))
        for name in ((try? Sys.list(paths.logs)) ?? []) where name.hasSuffix(".wal") {
            let path = paths.logs + "/" + name
            guard let file = try? MappedFile(path: path), var scanner = try? LogScanner(bytes: file.view, path: path) else { continue }
            while let record = try? scanner.next() {
                if case .commit(let c) = record, !c.key.isEmpty, c.committedMs >= sinceMs, seen.insert(c.key).inserted { out.append(c) }
            }
        }
        return out.sorted { $0.committedMs < $1.committedMs }
    }
}

import Strata

/// What a session of `ingest` (or an import) did.
public struct IngestCounts: Sendable {
    /// Lines read.
    public var lines = 0
    /// Points written.
    public var points = 0
    /// Lines that changed a run (params, meta, tags, status).
    public var runRecords = 0
    /// Bad lines skipped (`--skip-bad`).
    public var skipped = 0
    /// The first skipped line's error, with its line number.
    public var firstSkipped: String?
}

/// Applies JSON lines to the store: each line is decoded by the `RecordDecoder` the server's
/// batches go through (in its line dialect), then written.
public final class JSONLineIngester {
    /// Resolves the runs lines name.
    public let book: RunBook
    /// The run of lines that name none (`--run`).
    public let defaultRun: String?
    /// What the lines did so far.
    public var counts = IngestCounts()
    private var decoder: RecordDecoder

    /// An ingester writing through `book`; `defaultRun` for lines without `run`.
    public init(book: RunBook, defaultRun: String?) {
        self.book = book
        self.defaultRun = defaultRun
        decoder = RecordDecoder(.line(defaultRun: defaultRun))
    }

    /// Handles one line; throws an `InteropError` without the line number (the caller adds it).
    public func handle(_ bytes: ArraySlice<UInt8>) throws {
        // Blank lines are allowed (and skipped).
        var blank = true
        for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0d) { blank = false; break }
        if blank { return }
        try apply(try decode(line: bytes))
    }

    /// Decodes one line (the whole line is one record) with the shared decoder.
    package func decode(line: ArraySlice<UInt8>) throws(InteropError) -> IngestRecord {
        let result = Result { () throws(RecordFailure) -> IngestRecord in
            try JSONScanner.scanning(line, end: "end of line") { (s: inout JSONScanner) throws(RecordFailure) -> IngestRecord in
                let r = try decoder.record(&s)
                s.skipSpace()
                if !s.atEnd { throw .malformed(s.fail("unexpected \(s.describeHere()) after the value"), key: nil) }
                return r
            }
        }
        switch result {
        case .success(let r): return r
        case .failure(.invalid(let message, _)): throw InteropError(message)
        case .failure(.malformed(let e, _)): throw InteropError("malformed JSON at column \(e.offset + 1): \(e.message)")
        }
    }

    /// Writes a decoded record: run records (params, meta, tags), then points, then the status.
    private func apply(_ r: IngestRecord) throws {
        let run = try book.run(name: r.run, id: r.runId, project: r.project)
        if r.isRunRecord {
            if !r.params.isEmpty { try run.setParams(r.params) }
            if !r.meta.isEmpty { try run.setMetadata(r.meta) }
            if !r.tags.isEmpty { try run.tag(add: r.tags) }
            counts.runRecords += 1
        }
        if !r.names.isEmpty, let step = r.step {
            if r.labels.isEmpty {
                try run.log(Dictionary(zip(r.names, r.values), uniquingKeysWith: { _, last in last }), step: step, time: r.time)
            } else {
                let t = r.time ?? nowMs()
                for (k, d) in zip(r.names, r.values) { try run.log(k, d, step: step, time: t, labels: r.labels) }
            }
            book.note(run, time: r.time)
        }
        counts.points += r.names.count
        if let status = r.status {
            try book.startFromData(run)
            try run.finish(status, endedMs: book.dataEnd(run))
        }
    }
}

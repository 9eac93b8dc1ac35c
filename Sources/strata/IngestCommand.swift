import ArgumentParser
import Foundation
import Strata
import StrataInterop

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read metric lines (JSON lines or CSV) from stdin into the store as they arrive.",
        discussion: """
            JSON lines, for example (all fields: docs/CLI.md):

              {"run": "r1", "step": 12, "metrics": {"train/loss": 0.5}}
              {"run": "r1", "params": {"lr": 0.0003}, "tags": ["baseline"]}

            NaN, Infinity and -Infinity are accepted as bare tokens and as strings. A run named for the \
            first time is created; a name already in the store is resumed (--new-runs creates new runs).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Run for lines that do not name one (and for wide CSV).") var runName: String?
    @Option(help: "Input format: jsonl or csv.") var format: InputFormat = .jsonl
    @Flag(help: "Count and skip bad lines instead of stopping at the first one.") var skipBad = false
    @Flag(help: "Create new runs even when the store has runs of the same names.") var newRuns = false
    @Option(help: "Make input durable (fsync) at least every N lines.") var flushEvery: Int = 1000
    @Option(help: "File to read instead of stdin.") var input: String?
    @Flag(help: "No summary on stderr.") var quiet = false
    @Flag(help: "Answer {\"ack\": ID} lines once all before them is durable, and report refused lines, on stdout.") var ack = false

    enum InputFormat: String, ExpressibleByArgument, CaseIterable { case jsonl, csv }

    func run() throws {
        if let r = runName, r.isEmpty { throw CLIError("--run: run name is empty", exitCode: 2) }
        var file: FileHandle?
        if let input {
            do { file = try FileHandle(forReadingFrom: URL(fileURLWithPath: input)) } catch {
                throw CLIError("cannot open \(input): \(fileErrorReason(error))")
            }
        }
        defer { try? file?.close() }
        let fd = file?.fileDescriptor ?? 0
        let store = try global.openForWriting()
        let book = RunBook(store: store, newRuns: newRuns)
        let policy = FlushPolicy(store: store, everyLines: flushEvery, everyMs: 100)
        let json = JSONLineIngester(book: book, defaultRun: runName)
        let csv = CSVIngester(book: book, defaultRun: runName, timeUnit: .auto)
        let acks = ack ? IngestAcks() : nil  // --ack: IngestAck.swift
        var failure: Error?
        do {
            try LineReader(fd: fd).forEachLine(needsIdle: { policy.unflushed > 0 }, idle: { try policy.flush() }) { bytes, lineNo in
                let ackID = acks?.control(bytes)
                do {
                    switch format {
                    case _ where ackID != nil: break
                    case .jsonl: try json.handle(bytes)
                    case .csv: try csv.handle(bytes, lineNo: lineNo)
                    }
                } catch {
                    let msg = "line \(lineNo): \(describe(error))"
                    acks?.refused(line: lineNo, describe(error))
                    if !skipBad { throw CLIError(msg) }
                    json.counts.skipped += 1
                    if json.counts.firstSkipped == nil { json.counts.firstSkipped = msg }
                }
                json.counts.lines = lineNo
                if let ackID { try policy.flush(); acks?.ack(ackID, line: lineNo) } else { try policy.lineDone() }
            }
            try book.finishFromData()
        } catch { failure = error }
        // Every line before a failure is kept: flush and close whatever happens.
        do {
            try policy.flush()
            try store.close()
        } catch {
            if failure == nil { failure = error }
        }
        if let failure { throw failure }
        if !quiet {
            let c = json.counts
            let points = c.points + csv.points
            var s = "ingested \(withCommas(c.lines)) lines: \(withCommas(points)) points, \(book.touched.count) runs (\(book.created) new)"
            if c.skipped > 0 { s += "; skipped \(withCommas(c.skipped)) bad lines (first: \(c.firstSkipped!))" }
            warn(s)
        }
    }
}

/// One-line description of any error.
func describe(_ error: Error) -> String {
    if let e = error as? CLIError { return e.message }
    if let e = error as? InteropError { return e.message }
    if let e = error as? StrataError { return e.description }
    return "\(error)"
}

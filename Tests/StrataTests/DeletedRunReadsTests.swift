import Foundation
import Testing

@testable import Strata

/// Reads of a deleted run by its id (``DeletedRuns``): hidden by default, readable when asked,
/// and the same as before the deletion; listings still hide the run.
@Suite("Deleted runs read by id")
struct DeletedRunReadsTests {
    @Test func deletedRunIsReadableOnlyWhenAsked() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let run = try store.createRun(name: "gone", project: "p")
        let steps = Array(Int64(0)..<500)
        try run.append("loss", steps: steps, values: steps.map { 1 / Double($0 + 1) })
        try run.finish()
        let keep = try store.createRun(name: "kept", project: "p")
        try keep.finish()
        try store.flush()
        let before = (
            series: try store.series(of: run.id), read: try store.read(run.id, "loss"), points: try store.points(run.id, "loss", steps: 10...20),
            curve: try store.curve(run.id, "loss", steps: 0...499, buckets: 7)
        )
        try store.deleteRun(run.id.text)
        #expect(try store.runs().map(\.id) == [keep.id])
        // The batch read of many runs' series leaves a deleted run out, as `series(of:)` refuses it.
        #expect(try store.series(ofRuns: [run.id, keep.id]).keys.sorted { $0.text < $1.text } == [keep.id])
        // Hidden: by default and with `.hidden`.
        #expect(throws: StrataError.self) { try store.series(of: run.id) }
        #expect(throws: StrataError.self) { try store.series(of: run.id, deleted: .hidden) }
        #expect(throws: StrataError.self) { try store.read(run.id, "loss", deleted: .hidden) }
        #expect(throws: StrataError.self) { try store.points(run.id, "loss", steps: 10...20, deleted: .hidden) }
        #expect(throws: StrataError.self) { try store.curve(run.id, "loss", steps: 0...499, buckets: 7, deleted: .hidden) }
        #expect(throws: StrataError.self) { try store.run(run.id, deleted: .hidden) }
        // Readable: exactly what it was.
        let info = try store.run(run.id, deleted: .readable)
        #expect(info.id == run.id && info.deletedMs != nil)
        #expect(try store.series(of: run.id, deleted: .readable) == before.series)
        let read = try store.read(run.id, "loss", deleted: .readable)
        #expect(read.steps == before.read.steps && read.values == before.read.values && read.times == before.read.times)
        #expect(try store.points(run.id, "loss", steps: 10...20, deleted: .readable) == before.points)
        #expect(try store.curve(run.id, "loss", steps: 0...499, buckets: 7, deleted: .readable) == before.curve)
        #expect(throws: StrataError.self) { try store.run(RunID.generate(), deleted: .readable) }
        // Restored: the default reads see it again.
        try store.restoreRun(run.id.text)
        #expect(try store.read(run.id, "loss").values == before.read.values)
        #expect(try store.series(ofRuns: [run.id])[run.id] == before.series)
        #expect(try store.run(run.id, deleted: .hidden).deletedMs == nil)
    }
}

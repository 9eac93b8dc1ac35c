import Foundation
import Testing

@testable import Strata

/// A rewind made by one process while another logs the run (issue #8, item 12): the rewind hides
/// what was logged before it and never what is logged after it — in live log tails, in segments
/// cut from a log that spans the rewind, in final segments and after compaction.
@Suite("Rewinds across processes", .serialized)
struct RewindProcessTests {
    /// A `strata-test-writer --phases` child: logs the next N steps of run `live` when told.
    final class PhasedWriter {
        let process = Process()
        let input = Pipe(), output = Pipe()
        var buffer = Data()

        init(store: String, capacity: Int) throws {
            process.executableURL = URL(fileURLWithPath: builtProduct("strata-test-writer"))
            process.arguments = [store, "live", "m", "0", "--phases", "--capacity", "\(capacity)"]
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            try process.run()
        }

        /// Logs `n` more steps and waits until the child has logged them.
        func phase(_ n: Int) throws {
            try input.fileHandleForWriting.write(contentsOf: Data("\(n)\n".utf8))
            while true {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    if line == "idle" { return }
                    continue
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { throw StrataError(.io, "the writer child exited early") }
                buffer.append(chunk)
            }
        }

        func finish() throws {
            try input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    @Test func rewindHidesOnlyWhatWasLoggedBeforeIt() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        // Small logs: each phase cuts at least one log, and one log spans the rewind.
        let child = try PhasedWriter(store: path, capacity: LogFormat.minimumCapacity)
        try child.phase(6000)  // steps 0..<6000
        let store = try Store.open(at: path)
        let run = try store.run("live")
        try store.rewind(run.id, to: 2000)
        try child.phase(3000)  // steps 6000..<9000, logged after the rewind
        try store.rewind(run.id, to: 7000)  // a second rewind, with the first one's points on both sides
        try child.phase(3000)  // steps 9000..<12000

        let expected = Array(0...2000) + Array(6000...7000) + Array(9000..<12000)
        func check(_ when: String) throws {
            try store.refresh()
            for (k, m) in ["ma", "mb", "mc"].enumerated() {
                let pts = try store.points(run.id, m)
                let steps = pts.map { Int($0.step) }
                let same = steps == expected
                #expect(
                    same,
                    "\(when) \(m): \(pts.count) points, \(Set(expected).subtracting(steps).count) missing, \(Set(steps).subtracting(expected).count) that should be hidden"
                )
                #expect(pts.allSatisfy { $0.value == Double($0.step) * 0.5 + Double(k) }, "\(when) \(m): values")
                let info = try store.series(of: run.id).first { $0.key.metric == m }
                #expect(info?.count == expected.count, "\(when) \(m): summary count")
            }
        }
        try check("while the writer lives (log tail and cut segments)")
        try child.finish()
        #expect(child.process.terminationStatus == 0)
        try check("after the writer closed (segments only)")
        let report = try store.compact(graceSeconds: 0)
        #expect(report.inputSegments > 1)
        try check("after compaction")
        // A fresh reader (no state from before) agrees.
        let again = try Store.open(at: path)
        for m in ["ma", "mb", "mc"] {
            let same = try again.points(run.id, m).map { Int($0.step) } == expected
            #expect(same, "reopened \(m)")
        }
        try again.close()
        try store.close()
    }

    /// The writer logs at full speed while this process rewinds at a random moment: each point
    /// whose `log` returned before the rewind began is hidden above the step, each point whose
    /// `log` began after the rewind returned is visible (the child stamps both with the clock).
    @Test func rewindWhileAnotherProcessLogsSteadily() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        for round in 0..<3 {
            let name = "steady-\(round)"
            let child = Process()
            child.executableURL = URL(fileURLWithPath: builtProduct("strata-test-writer"))
            child.arguments = [path, name, "m", "40000", "--ack", "--stamped", "--capacity", "\(LogFormat.minimumCapacity)"]
            let out = Pipe()
            child.standardOutput = out
            child.standardError = FileHandle.standardError
            try child.run()
            var stamps: [Int64: (before: Int64, after: Int64)] = [:]
            var pending = Data()
            func read(until: (Int64) -> Bool) {
                while true {
                    let d = out.fileHandleForReading.availableData
                    if d.isEmpty { return }
                    pending.append(d)
                    var last: Int64 = -1
                    while let nl = pending.firstIndex(of: 0x0A) {
                        let parts = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self).split(separator: " ")
                        pending.removeSubrange(pending.startIndex...nl)
                        if parts.count == 4, let s = Int64(parts[1]), let b = Int64(parts[2]), let a = Int64(parts[3]) {
                            stamps[s] = (b, a)
                            last = s
                        }
                    }
                    if last >= 0 && until(last) { return }
                }
            }
            read { $0 >= Int64(2000 + 3000 * round) }
            let store = try Store.open(at: path)
            let run = try store.run(name)
            let cut: Int64 = 1000
            let started = Clock.nanoseconds()
            try store.rewind(run.id, to: cut)
            let returned = Clock.nanoseconds()
            read { _ in false }  // to the end
            child.waitUntilExit()
            #expect(child.terminationStatus == 0)
            let hiddenBefore = stamps.filter { $0.key > cut && $0.value.after < started }.map(\.key)
            let loggedAfter = stamps.filter { $0.value.before > returned }.map(\.key)
            #expect(!hiddenBefore.isEmpty && !loggedAfter.isEmpty)
            func check(_ when: String) throws {
                try store.refresh()
                for m in ["ma", "mb", "mc"] {
                    let steps = Set(try store.points(run.id, m).map(\.step))
                    let wrongVisible = hiddenBefore.filter { steps.contains($0) }.count
                    let wrongHidden = loggedAfter.filter { !steps.contains($0) }.count
                    let low = (0...cut).filter { !steps.contains($0) }.count
                    #expect(
                        wrongVisible == 0 && wrongHidden == 0 && low == 0,
                        "round \(round), \(when), \(m): \(wrongVisible) of \(hiddenBefore.count) points logged before the rewind visible, \(wrongHidden) of \(loggedAfter.count) logged after it hidden, \(low) at or below the step missing"
                    )
                }
            }
            try check("after the writer closed")
            _ = try store.compact(graceSeconds: 0)
            try check("after compaction")
            try store.close()
        }
    }
}

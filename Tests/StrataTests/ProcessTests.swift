import Foundation
import Testing

@testable import Strata

/// Real processes: writers killed with SIGKILL, and several writers at once.
@Suite("Crash safety and concurrent writers (real processes)", .serialized)
struct ProcessTests {
    final class Child {
        let process = Process()
        let out = Pipe()
        var buffer = Data()
        var lastAck: Int64 = -1
        var done = false
        /// Every line printed so far.
        var lines: [String] = []

        init(_ args: [String]) throws {
            process.executableURL = URL(fileURLWithPath: builtProduct("strata-test-writer"))
            process.arguments = args
            process.standardOutput = out
            process.standardError = FileHandle.standardError
            try process.run()
        }

        /// Reads what the child printed so far (non-blocking after the first byte arrives).
        func pump(until deadline: Date) {
            let fd = out.fileHandleForReading.fileDescriptor
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while Date() < deadline {
                let ms = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
                if poll(&pfd, 1, ms) <= 0 { break }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                buffer.append(contentsOf: chunk[0..<n])
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    lines.append(line)
                    if line.hasPrefix("ack "), let s = Int64(line.dropFirst(4)) { lastAck = s }
                    if line == "done" { done = true }
                }
            }
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Acks written before death are still in the pipe.
            pump(until: Date().addingTimeInterval(0.2))
        }

        /// Reads the output of every child in turn, 10 ms each, until `deadline` (or, with
        /// `while`, until it is false).
        static func pumpAll(_ children: [Child], until deadline: Date, while going: () -> Bool = { true }) {
            while Date() < deadline && going() {
                for c in children { c.pump(until: Date().addingTimeInterval(0.01)) }
            }
        }

        /// SIGKILLs every child, in a random order.
        static func killAll(_ children: [Child], using rng: inout SeededRandom) {
            var order = children
            order.shuffle(using: &rng)
            for c in order { c.kill() }
        }
    }

    @Test func sigkillLosesNoAcknowledgedPoint() throws {
        let dir = TempDir()
        let storePath = dir.sub("s")
        var rng = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        let seed = rng.state
        var acked: [String: Int64] = [:]
        for round in 0..<20 {
            let bulk = round % 4 == 3
            let child = try Child([storePath, "crash-\(round)", "m", "100000000", "--ack", "--capacity", "\(1 << 18)"] + (bulk ? ["--bulk"] : []))
            // Let it get going, then kill at a random moment.
            let wait = Double.random(in: 0.05...0.6, using: &rng)
            child.pump(until: Date().addingTimeInterval(wait))
            if round == 19 {
                // The last writer must have a log for the open below to recover: wait for its
                // first acknowledgement (a loaded machine may not have started it yet).
                let deadline = Date().addingTimeInterval(30)
                while child.lastAck < 0 && Date() < deadline { child.pump(until: Date().addingTimeInterval(0.05)) }
            }
            child.kill()
            acked["crash-\(round)"] = child.lastAck
        }
        let store = try Store.open(at: storePath)
        #expect(!store.recoveredLogs.isEmpty)
        for (name, last) in acked.sorted(by: { $0.key < $1.key }) {
            // Killed before it acknowledged anything: the run may not even exist yet.
            if last < 0, (try? store.run(name)) == nil { continue }
            let run = try store.run(name)
            #expect(run.status == .crashed, "seed \(seed) \(name) status \(run.status)")
            for (k, metric) in ["ma", "mb", "mc"].enumerated() {
                let pts = try store.points(run.id, metric)
                // Every acknowledged step exactly once; unacknowledged later steps at most once.
                var seen = Set<Int64>()
                var duplicates = 0
                for p in pts {
                    if !seen.insert(p.step).inserted { duplicates += 1 }
                    #expect(p.value == Double(p.step) * 0.5 + Double(k), "seed \(seed) \(name) \(metric) value at \(p.step)")
                }
                #expect(duplicates == 0, "seed \(seed) \(name) \(metric): \(duplicates) duplicated points")
                if last >= 0 {
                    let missing = (0...last).filter { !seen.contains($0) }
                    #expect(
                        missing.isEmpty,
                        "seed \(seed) \(name) \(metric): acknowledged steps missing, first \(missing.first ?? -1) of \(missing.count), last ack \(last)"
                    )
                }
            }
        }
        let report = try store.verify()
        #expect(report.isHealthy, "\(report.problems)")
        try store.close()
    }

    @Test func severalWriterProcessesAtOnce() throws {
        let dir = TempDir()
        let storePath = dir.sub("s")
        // The shared run exists before its two writers resume it.
        do {
            let store = try Store.open(at: storePath)
            _ = try store.createRun(name: "shared")
            try store.close()
        }
        let steps: Int64 = 30_000
        var children: [Child] = []
        for i in 0..<4 {
            children.append(try Child([storePath, "own-\(i)", "m", "\(steps)", "--capacity", "\(1 << 20)"]))
        }
        children.append(try Child([storePath, "shared", "x", "\(steps)", "--resume", "--capacity", "\(1 << 20)"]))
        children.append(try Child([storePath, "shared", "y", "\(steps)", "--resume", "--capacity", "\(1 << 20)", "--bulk"]))
        // Meanwhile a reader watches the live tail.
        let watcher = try Store.open(at: storePath)
        var sawLive = false
        for child in children {
            child.process.waitUntilExit()
            child.pump(until: Date().addingTimeInterval(0.5))
            #expect(child.process.terminationStatus == 0)
            #expect(child.done)
            if !sawLive, let own = try? watcher.run("own-3"), let n = try? watcher.points(own.id, "ma").count, n > 0 { sawLive = true }
        }
        let store = try Store.open(at: storePath)
        #expect(store.recoveredLogs.isEmpty)
        for name in ["own-0", "own-1", "own-2", "own-3"] {
            let run = try store.run(name)
            #expect(run.status == .finished)
            for (k, m) in ["ma", "mb", "mc"].enumerated() {
                let pts = try store.points(run.id, m)
                #expect(pts.count == Int(steps), "\(name) \(m)")
                #expect(
                    pts.enumerated().allSatisfy { $0.element.step == Int64($0.offset) && $0.element.value == Double($0.offset) * 0.5 + Double(k) })
            }
        }
        let shared = try store.run("shared")
        let metrics = try store.series(of: shared.id).map(\.key.metric)
        #expect(metrics == ["xa", "xb", "xc", "ya", "yb", "yc"])
        for s in try store.series(of: shared.id) { #expect(s.count == Int(steps), "\(s.key)") }
        #expect(try store.verify().isHealthy)
        _ = sawLive
    }
}

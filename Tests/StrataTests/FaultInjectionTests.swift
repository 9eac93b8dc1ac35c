import Foundation
import Testing

@testable import Strata

/// File operations made to fail one after another (a full disk, an I/O error) while a store
/// ingests, cuts segments, compacts and appends to its catalog: every failure must be a clear
/// error, nothing acknowledged may be lost, and writing must work again once the fault clears.
/// Faults are scoped to each test's directory, so tests running in parallel are not affected.
@Suite(.serialized) struct FaultInjectionTests {
    /// What a scenario acknowledged: points whose `log` returned, params whose call returned.
    final class Acknowledged {
        var points: [Int64: (Double, Double)] = [:]
        var params: [String: ParamValue] = [:]
        var compacted = false
    }

    /// One store's life in steps, each retried after a failure once the fault is cleared.
    /// Logs of 256 KiB make the scenario cut several segments.
    static func steps(_ dir: String, _ ack: Acknowledged) -> [(String, (inout Store?, inout Run?) throws -> Void)] {
        var steps: [(String, (inout Store?, inout Run?) throws -> Void)] = []
        steps.append(
            (
                "open",
                { store, _ in
                    if store == nil { store = try Store.open(at: dir, options: .init(logCapacity: 256 << 10)) }
                }
            ))
        steps.append(
            (
                "create run",
                { store, run in
                    if run == nil { run = try store!.createRun(name: "r", params: ["lr": .double(0.1)]) }
                }
            ))
        for block in 0..<4 {
            steps.append(
                (
                    "log block \(block)",
                    { _, run in
                        for i in 0..<3000 {
                            let step = Int64(block * 3000 + i)
                            if ack.points[step] != nil { continue }
                            let a = Double(step) * 0.25, b = -Double(step)
                            try run!.log(["a": a, "b": b], step: step, time: 1_700_000_000_000 + step)
                            ack.points[step] = (a, b)
                        }
                    }
                ))
            if block == 1 { steps.append(("cut", { store, _ in try store!.checkpoint() })) }
            if block == 2 {
                steps.append(
                    (
                        "catalog append",
                        { _, run in
                            try run!.setParams(["batch": .int(64)])
                            ack.params["batch"] = .int(64)
                        }
                    ))
                steps.append(
                    (
                        "compact",
                        { store, _ in
                            try store!.checkpoint()
                            _ = try store!.compact(graceSeconds: 0)
                            ack.compacted = true
                        }
                    ))
            }
        }
        steps.append(("finish", { _, run in try run!.finish() }))
        steps.append(("close", { store, _ in try store!.close() }))
        return steps
    }

    /// Every acknowledged point and param reads back from a fresh opening, exactly once.
    static func checkEverythingAcknowledgedIsThere(_ dir: String, _ ack: Acknowledged, _ label: String) throws {
        let store = try Store.open(at: dir, options: .init(create: false))
        defer { try? store.close() }
        let info = try store.run("r")
        for (k, v) in ack.params { #expect(info.params[k] == v, "\(label): param \(k)") }
        let a = try store.points(info.id, "a"), b = try store.points(info.id, "b")
        #expect(a.count == ack.points.count, "\(label): \(a.count) points of a, \(ack.points.count) acknowledged")
        #expect(b.count == ack.points.count, "\(label): \(b.count) points of b, \(ack.points.count) acknowledged")
        for p in a { #expect(ack.points[p.step]?.0 == p.value, "\(label): a at step \(p.step)") }
        for p in b { #expect(ack.points[p.step]?.1 == p.value, "\(label): b at step \(p.step)") }
        let report = try store.verify()
        #expect(report.isHealthy, "\(label): \(report.problems)")
    }

    @Test(arguments: FaultInjection.Operation.allCases)
    func eachCallOfAnOperationFailsInTurn(_ op: FaultInjection.Operation) throws {
        let root = TempDir("faults-\(op.rawValue)")
        var failures = 0
        for nth in 1...400 {
            let dir = root.sub("s\(nth)")
            // Odd turns: a disk that stays full until space is freed; even turns: one I/O error.
            let full = nth % 2 == 1
            let rule = FaultInjection.add(.init(op, nth: nth, errno: full ? ENOSPC : EIO, times: full ? nil : 1, pathContains: dir))
            let ack = Acknowledged()
            var store: Store?
            var run: Run?
            let steps = FaultInjectionTests.steps(dir, ack)
            var i = 0
            var failedAt: String?
            var firedBefore = 0
            while i < steps.count {
                do {
                    try steps[i].1(&store, &run)
                    i += 1
                } catch let e as StrataError {
                    let label = "\(op) #\(nth) in \(steps[i].0)"
                    #expect(failedAt == nil, "\(label): failed again after the fault cleared: \(e)")
                    if failedAt != nil { break }
                    failedAt = steps[i].0
                    failures += 1
                    #expect(e.code == (full ? .noSpace : .io), "\(label): \(e)")
                    #expect(e.path?.hasPrefix(dir) == true, "\(label): the error names the file: \(e)")
                    if full {
                        #expect(e.description.contains("no space left on device"), "\(label): \(e)")
                        if store != nil { #expect(e.description.contains("store \(dir)"), "\(label): names the store: \(e)") }
                        // While the disk is full the store still reads, in this process and in another opening.
                        if ack.points.count > 0, let run {
                            // (A failed close leaves the store closed; its log is recovered by the next opening.)
                            if steps[i].0 != "close" { #expect(try store!.points(run.id, "a").count == ack.points.count, "\(label)") }
                            let reader = try Store.open(at: dir, options: .init(create: false))
                            #expect(try reader.points(run.id, "b").count == ack.points.count, "\(label): a second opening reads")
                            #expect(try reader.verify().isHealthy, "\(label)")
                        }
                    }
                    // A failed write leaves no temporary file behind.
                    let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/tmp")) ?? [])
                    #expect(leftovers.isEmpty, "\(label): \(leftovers)")
                    firedBefore = FaultInjection.fired(rule)
                    FaultInjection.remove(rule)  // space freed: the step is retried
                }
            }
            let fired = firedBefore + FaultInjection.fired(rule)
            FaultInjection.remove(rule)
            store = nil
            run = nil
            if i == steps.count {
                try FaultInjectionTests.checkEverythingAcknowledgedIsThere(dir, ack, "\(op) #\(nth)")
                #expect(ack.compacted)
            }
            try? FileManager.default.removeItem(atPath: dir)
            if fired == 0 { break }  // the scenario makes fewer calls than nth: every call was failed once
        }
        if op != .pwrite { #expect(failures > 0, "no \(op) call was made") }
    }

    @Test func openingForReadingNeedsNoWriteEvenWithADeadWritersLog() throws {
        let dir = TempDir("faults-read")
        let path = dir.sub("s")
        let store = try Store.open(at: path, options: .init(logCapacity: 256 << 10))
        let run = try store.createRun(name: "r")
        for s in 0..<100 { try run.log(["m": Double(s)], step: Int64(s)) }
        try store.close()
        // A writer that died: its log is left unlocked in wal/, waiting to be recovered.
        let dead = try LogWriter(paths: StorePaths(root: path), writerId: RunID.generate().text, capacity: 256 << 10)
        let key = try SeriesKey(run: run.id, metric: "m", labels: [:])
        let sid = Int32(try dead.seriesId(key))
        for s in Int64(100)..<200 {
            var v = Double(s)
            try [sid].withUnsafeBufferPointer { ids in
                try withUnsafePointer(to: &v) { vp in
                    try dead.logRow(step: s, time: 0, ids: ids, values: UnsafeBufferPointer(start: vp, count: 1))
                }
            }
        }
        dead.wal.abandon()
        // Now nothing can be written at all.
        let rules = FaultInjection.Operation.allCases.map { FaultInjection.add(.init($0, times: nil, pathContains: path)) }
        defer { for r in rules { FaultInjection.remove(r) } }
        let reader = try Store.open(at: path, options: .init(create: false))
        #expect(try reader.runs().map(\.name) == ["r"])
        #expect(try reader.points(run.id, "m").map(\.step) == Array(0..<200))
        #expect(try reader.verify().isHealthy)
        #expect(reader.recoveredLogs.isEmpty)
        try reader.close()
        for r in rules { FaultInjection.remove(r) }
        // Once writing works again, the next opening recovers the log.
        let later = try Store.open(at: path, options: .init(create: false))
        #expect(later.recoveredLogs.count == 1)
        #expect(try later.points(run.id, "m").map(\.step) == Array(0..<200))
        try later.close()
    }

    @Test func aLogIsFullyBackedBeforeItIsMappedAndShrinksWhenTheDiskIsShort() throws {
        let dir = TempDir("faults-alloc")
        let paths = StorePaths(root: dir.sub("s"))
        try Sys.mkdirs(paths.logs); try Sys.mkdirs(paths.tmp)
        let w = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: RunID.generate().text, generation: 1, capacity: 1 << 20)
        var st = stat()
        #expect(stat(w.path, &st) == 0)
        #expect(Int(st.st_blocks) * 512 >= 1 << 20, "every block of the log is allocated: \(st.st_blocks) blocks")
        try w.remove()
        // No room for 1 MiB: a 512 KiB log is made instead; no room at all: a clear error.
        let once = FaultInjection.add(.init(.fallocate, times: 1, pathContains: dir.path))
        let small = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: RunID.generate().text, generation: 1, capacity: 1 << 20)
        #expect(small.capacity == 512 << 10)
        try small.remove()
        FaultInjection.remove(once)
        let always = FaultInjection.add(.init(.fallocate, times: nil, pathContains: dir.path))
        defer { FaultInjection.remove(always) }
        let e = #expect(throws: StrataError.self) {
            _ = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: RunID.generate().text, generation: 1, capacity: 1 << 20)
        }
        #expect(e?.code == .noSpace)
        #expect(try Sys.list(paths.tmp).isEmpty, "the failed log's file is removed")
        FaultInjection.remove(always)
        // A filesystem without fallocate: the log is written with zeros instead, which a full disk refuses.
        let unsupported = FaultInjection.add(.init(.fallocate, errno: EOPNOTSUPP, times: nil, pathContains: dir.path))
        defer { FaultInjection.remove(unsupported) }
        let zeroed = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: RunID.generate().text, generation: 1, capacity: 1 << 20)
        #expect(stat(zeroed.path, &st) == 0)
        #expect(Int(st.st_blocks) * 512 >= 1 << 20, "every block of the log is allocated: \(st.st_blocks) blocks")
        try zeroed.remove()
        let full = FaultInjection.add(.init(.pwrite, nth: 3, times: nil, pathContains: dir.path))
        defer { FaultInjection.remove(full) }
        let e2 = #expect(throws: StrataError.self) {
            // From the third write on the disk is full: 4 MiB, 2 MiB ... 256 KiB are tried, and each fails.
            _ = try WriteAheadLog(directory: paths.logs, tmpDir: paths.tmp, writerId: RunID.generate().text, generation: 1, capacity: 4 << 20)
        }
        #expect(e2?.code == .noSpace)
        #expect(try Sys.list(paths.tmp).isEmpty, "the failed log's file is removed")
    }
}

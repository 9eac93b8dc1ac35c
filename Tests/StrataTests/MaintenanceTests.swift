import Foundation
import Testing

@testable import Strata

@Suite struct MaintenanceTests {
    /// Compaction leaves the segments it replaced on disk for a grace period: `verify` must count
    /// their points once (in the replacement), not twice.
    @Test func verifyCountsEachPointOnceDuringTheGracePeriod() throws {
        let dir = TempDir("verify-grace")
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "r")
        for s in 0..<1000 { try run.log(["m": Double(s)], step: Int64(s)) }
        try store.checkpoint()
        for s in 1000..<1500 { try run.log(["m": Double(s)], step: Int64(s)) }
        try store.checkpoint()
        let before = try store.verify()
        #expect(before.points == 1500)
        let c = try store.compact(graceSeconds: 3600)
        #expect(c.inputSegments == 2 && c.deletedSegments == 0)
        #expect(try Sys.list(dir.sub("s/segments")).count == 3, "the replaced segments are still there")
        let during = try store.verify()
        #expect(during.points == 1500)
        #expect(during.segments == 1)
        #expect(during.replacedSegments == 2)
        #expect(during.isHealthy, "\(during.problems)")
        try store.close()
    }

    /// A temporary file of a writer that is gone is removed when the store is opened; a live
    /// writer's (locked) temporary file is left alone, whatever pid its name carries.
    @Test func staleTemporaryFilesOfDeadWritersOnlyAreRemoved() throws {
        let dir = TempDir("stale-tmp")
        let path = dir.sub("s")
        try Store.open(at: path).close()
        let paths = StorePaths(root: path)
        // A pid that is certainly gone: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let deadPid = child.processIdentifier
        let stale = paths.tmp + "/\(deadPid)-1-1.seg.tmp"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data(count: 4096)))
        // A live writer's file named with the same dead pid, but locked (as every writer locks its file).
        let lockedPath = paths.tmp + "/\(deadPid)-2-2.seg.tmp"
        #expect(FileManager.default.createFile(atPath: lockedPath, contents: Data(count: 4096)))
        let lockedFd = open(lockedPath, O_RDONLY)
        #expect(flock(lockedFd, LOCK_EX) == 0)
        // A real segment being written by this (live) process.
        var writer = try SegmentWriter(path: paths.segment("x.seg"), tmpDir: paths.tmp)
        let store = try Store.open(at: path, options: .init(create: false))
        let left = Set(try Sys.list(paths.tmp))
        #expect(!left.contains("\(deadPid)-1-1.seg.tmp"), "a dead writer's file is removed")
        #expect(left.contains("\(deadPid)-2-2.seg.tmp"), "a locked file is kept")
        #expect(left.contains(String(writer.tmpPath.split(separator: "/").last!)), "a live writer's file is kept")
        // Compaction cleans too, and still spares live files.
        _ = try store.compact()
        #expect(Set(try Sys.list(paths.tmp)).count == 2)
        writer.abandon()
        close(lockedFd)
        _ = try store.compact()
        #expect(try Sys.list(paths.tmp).isEmpty, "unlocked, the dead pid's file goes too")
        try store.close()
    }
}

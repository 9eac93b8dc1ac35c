import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import Strata

/// Signals caught by `SystemCallsTests.readSurvivesSignals` (a C signal handler cannot capture).
private let caughtSignals = Atomic<Int>(0)

/// The I/O layer (`Sys`): errors surfaced with their `Errno`, EINTR retried, whole-file and
/// line-by-line reading, and the failures a full or broken disk gives.
@Suite(.serialized) struct SystemCallsTests {
    @Test func openOfAMissingFileNamesThePathAndKeepsTheErrno() throws {
        let dir = TempDir()
        let missing = dir.sub("nope")
        do {
            _ = try Sys.open(missing, O_RDONLY)
            Issue.record("opened a missing file")
        } catch {
            #expect(error.code == .io)
            #expect(error.errno == ENOENT)
            #expect(error.cause as? Errno == .noSuchFileOrDirectory)
            #expect(error.path == missing)
            #expect(error.description.contains("No such file or directory"))
        }
        #expect(try Sys.status(missing) == nil)
    }

    @Test func fsyncFailureIsSurfacedAndTheFileIsNotReplaced() throws {
        let dir = TempDir()
        try Sys.mkdir(dir.sub("tmp"))
        let target = dir.sub("file")
        try Sys.writeAtomically(Array("old".utf8), to: target, tmpDir: dir.sub("tmp"))
        let rule = FaultInjection.add(.init(.fsync, errno: EIO, pathContains: dir.path))
        defer { FaultInjection.remove(rule) }
        do {
            try Sys.writeAtomically(Array("new".utf8), to: target, tmpDir: dir.sub("tmp"))
            Issue.record("a failed fsync was not reported")
        } catch StrataError.Code.io {
            // Matched by its code, as a `catch` names it.
        }
        #expect(FaultInjection.fired(rule) == 1)
        #expect(try Sys.readFile(target) == Array("old".utf8))
        #expect(try Sys.list(dir.sub("tmp")).isEmpty, "the temporary file is removed")
    }

    @Test(arguments: [ENOSPC, EDQUOT])
    func fallocateFailureIsNoSpace(errno err: Int32) throws {
        let dir = TempDir()
        let path = dir.sub("f")
        let fd = try Sys.open(path, O_RDWR | O_CREAT)
        defer { Sys.close(fd) }
        let rule = FaultInjection.add(.init(.fallocate, errno: err, pathContains: dir.path))
        defer { FaultInjection.remove(rule) }
        do {
            try Sys.allocate(fd, 0, 1 << 20, path)
            Issue.record("a failed posix_fallocate was not reported")
        } catch {
            guard case StrataError.Code.noSpace = error else { Issue.record("expected noSpace, got \(error)"); return }
            #expect(error.errno == err)
            #expect((error.cause as? Errno)?.rawValue == err)
            #expect(error.path == path)
        }
        #expect(try Sys.status(fd, path).size == 0, "nothing was allocated")
    }

    @Test func writeFailureMidwayIsNoSpaceAndKeepsTheCause() throws {
        let dir = TempDir()
        let path = dir.sub("w")
        let fd = try Sys.open(path, O_WRONLY | O_CREAT)
        defer { Sys.close(fd) }
        let rule = FaultInjection.add(.init(.write, errno: ENOSPC, pathContains: dir.path))
        defer { FaultInjection.remove(rule) }
        #expect(throws: StrataError.self) { try Sys.writeAll(fd, [UInt8](repeating: 7, count: 1000), path) }
        do { try Sys.writeAll(fd, [1], path) } catch { Issue.record("the fault was cleared: \(error)") }
    }

    /// A read blocked on an empty pipe while signals (installed without SA_RESTART) interrupt it:
    /// swift-system retries the EINTR, and the reader gets every byte, then the end.
    @Test func readSurvivesSignals() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { Sys.close(readEnd) }

        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in caughtSignals.add(1, ordering: .relaxed) }
        action.sa_flags = 0  // no SA_RESTART: a blocked read returns EINTR
        var old = sigaction()
        sigaction(SIGUSR1, &action, &old)
        defer { sigaction(SIGUSR1, &old, nil) }

        let reader = Atomic<UInt>(0)
        let result = Mutex<Result<[UInt8], StrataError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            // Threads may start with signals blocked: this one must receive SIGUSR1.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            reader.store(UInt(pthread_self()), ordering: .releasing)
            let r = Result { () throws(StrataError) in try Sys.readAll(readEnd, "pipe") }
            result.withLock { $0 = r }
            done.signal()
        }
        thread.start()
        while reader.load(ordering: .acquiring) == 0 { usleep(1000) }
        let before = caughtSignals.load(ordering: .relaxed)
        // Interrupt the blocked read several times before any byte arrives (the payload fits in the
        // pipe buffer, so a reader that gave up cannot block the writer).
        var sent = 0
        while caughtSignals.load(ordering: .relaxed) < before + 5 && sent < 5000 {
            pthread_kill(pthread_t(reader.load(ordering: .acquiring)), SIGUSR1)
            sent += 1
            usleep(2000)
        }
        #expect(caughtSignals.load(ordering: .relaxed) >= before + 5, "the reader thread caught the signals")
        let payload = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Sys.writeAll(writeEnd, payload, "pipe")
        Sys.close(writeEnd)
        // A guard against a hung reader only (not a measurement): it has all its input by now.
        #expect(done.wait(timeout: .now() + 120) == .success)
        let got = try #require(result.withLock { $0 })
        #expect(try got.get() == payload)
    }

    @Test func linesAreSplitOnNewlinesWithOrWithoutCarriageReturns() throws {
        let dir = TempDir()
        let path = dir.sub("lines")
        try Sys.mkdir(dir.sub("tmp"))
        try Sys.writeAtomically(Array("one\r\ntwo\n\nlast".utf8), to: path, tmpDir: dir.sub("tmp"))
        var lines: [(String, Int)] = []
        try Sys.forEachLine(path) { line, n in lines.append((String(decoding: line, as: UTF8.self), n)) }
        #expect(lines.map(\.0) == ["one", "two", "", "last"])
        #expect(lines.map(\.1) == [1, 2, 3, 4])
        #expect(try Sys.readFile(path) == Array("one\r\ntwo\n\nlast".utf8))
    }

    @Test func aLineOverTheLimitIsAnErrorNamingIt() throws {
        let dir = TempDir()
        let path = dir.sub("long")
        try Sys.mkdir(dir.sub("tmp"))
        try Sys.writeAtomically(Array("short\n".utf8) + [UInt8](repeating: 65, count: 300), to: path, tmpDir: dir.sub("tmp"))
        #expect {
            try Sys.forEachLine(path, maxLineBytes: 100) { _, _ in }
        } throws: { error in
            guard let e = error as? StrataError, case .limitExceeded = e else { return false }
            return e.message.contains("line 2") && e.path == path
        }
    }
}

/// `StrataError`: matching by code in `catch` and `case`, and the underlying cause.
@Suite struct StrataErrorTests {
    @Test func catchByCode() throws {
        let dir = TempDir()
        do {
            _ = try Store.open(at: dir.sub("absent"), options: .init(create: false))
            Issue.record("opened a store that does not exist")
        } catch StrataError.Code.notAStore {
            Issue.record("wrong code matched")
        } catch StrataError.Code.notFound {
            // The clause naming the code catches it.
        } catch {
            Issue.record("not matched by code: \(error)")
        }
    }

    @Test func caseMatchesTheCodeOnly() {
        let e: any Error = StrataError(.noSpace, "disk full", path: "/x")
        switch e {
        case StrataError.Code.io: Issue.record("io matched noSpace")
        case StrataError.Code.noSpace: break
        default: Issue.record("noSpace not matched")
        }
        let typed = StrataError(.corrupt, "bad")
        if case .corrupt = typed {} else { Issue.record("case .corrupt did not match") }
        if case .parse = typed { Issue.record("case .parse matched corrupt") }
        #expect(!(StrataError.Code.notFound ~= (CancellationError() as any Error)))
    }

    @Test func causeIsKeptButNotCompared() {
        let a = StrataError(.io, "read failed", path: "/p", errno: EIO, cause: Errno.ioError)
        let b = StrataError(.io, "read failed", path: "/p", errno: EIO)
        #expect(a == b)
        #expect(a.cause as? Errno == .ioError)
        #expect(b.cause == nil)
        let wrapped = try? typed { () throws -> Int in throw CancellationError() }
        #expect(wrapped == nil)
        do {
            _ = try typed { () throws -> Int in throw CancellationError() }
        } catch {
            #expect(error.cause is CancellationError)
        }
    }
}

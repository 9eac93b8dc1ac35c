import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// `strata serve` and `strata token` as a user runs them (docs/SECURITY.md).

/// Runs `strata args...`; kills it and fails when it has not exited after `seconds` (a command
/// that should refuse to start must not start serving instead).
func strataBounded(_ args: [String], seconds: Int = 60) throws -> Result {
    let p = strataProcess(args)
    let outPipe = Pipe(), errPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(TimeInterval(seconds))
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        throw TestFailure2("strata \(args.joined(separator: " ")) was still running after \(seconds) s")
    }
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    return Result(code: p.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
}

struct TestFailure2: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Starts `strata serve args...`, waits for its "serving" line on stderr, stops it with SIGTERM and
/// returns that line (or throws with what it printed when it exited instead).
func serveOnce(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: strataBinary())
    p.arguments = ["serve", "--port", "0"] + args
    let errPipe = Pipe()
    p.standardError = errPipe
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) }; p.waitUntilExit() }
    var text = ""
    let fd = errPipe.fileHandleForReading.fileDescriptor
    var buf = [UInt8](repeating: 0, count: 4096)
    while !text.contains("strata: serving") || !text.hasSuffix("\n") {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 60_000) > 0 else { throw TestFailure2("no output from strata serve in 60 s") }
        let n = read(fd, &buf, buf.count)
        if n <= 0 { throw TestFailure2("strata serve exited: \(text)") }
        text += String(decoding: buf[0..<n], as: UTF8.self)
    }
    kill(p.processIdentifier, SIGTERM)
    return text
}

@Suite struct SecurityCLITests {
    /// Item 10: `--store` before the command works for every command, nested ones included.
    @Test func globalStoreOptionFirst() throws {
        let s = Scratch()
        try strata(["ingest", "--run", "a"], input: #"{"step": 1, "metrics": {"x": 1}}"# + "\n", store: s.store)
        for args in [
            ["--store", s.store, "token", "create", "--scope", "read", "--name", "viewer"],
            ["--store=\(s.store)", "token", "list"],
            ["--store", s.store, "token", "revoke", "viewer"],
            ["--store", s.store, "runs"],
            ["--store", s.store, "verify"],
            ["--store", s.store, "show", "a"],
            ["--store", s.store, "import", "wandb", "--run", "w", s.sub("missing.jsonl")]
        ] {
            let r = try strataBounded(args)
            #expect(!r.err.contains("Unknown option"), "\(args): \(r.err)")
            if args.contains("import") {
                #expect(r.code == 1 && r.err.contains("missing.jsonl"), "\(args): \(r.code) \(r.err)")
            } else {
                #expect(r.code == 0, "\(args): \(r.err)")
            }
        }
        #expect(try strataBounded(["--store", s.store, "token", "list"]).out.contains("no tokens"))
        #expect(try strataBounded(["--store", s.store, "runs"]).out.contains("a"))
    }

    /// Item 10: an out-of-range port is a usage error, not some other port.
    @Test func portIsValidated() throws {
        let s = Scratch()
        for port in ["99999", "65536", "-1"] {
            let r = try strataBounded(["serve", "--store", s.store, "--port=\(port)"])
            #expect(r.code == 2, "--port \(port): \(r.code) \(r.err)")
            #expect(r.err.contains("--port must be 0 to 65535"), "\(r.err)")
        }
    }

    /// Item 10: `token create` never writes through a symbolic link (token file or marker).
    @Test func tokenCreateRefusesSymlinks() throws {
        let s = Scratch()
        try strata(["log", "r", "--create", "--step", "1", "x=1"], store: s.store)
        let target = s.sub("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: s.store + "/tokens", withDestinationPath: target)
        let r = try strataBounded(["token", "create", "--scope", "write", "--store", s.store])
        #expect(r.code == 1 && r.err.contains("symbolic link"), "\(r.code) \(r.err)")
        #expect(!FileManager.default.fileExists(atPath: target))
        try FileManager.default.removeItem(atPath: s.store + "/tokens")
        try? FileManager.default.removeItem(atPath: s.store + "/tokens.required")
        try FileManager.default.createSymbolicLink(atPath: s.store + "/tokens.required", withDestinationPath: target)
        let m = try strataBounded(["token", "create", "--scope", "write", "--store", s.store])
        #expect(m.code == 1 && m.err.contains("symbolic link"), "\(m.code) \(m.err)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(!FileManager.default.fileExists(atPath: s.store + "/tokens"))
    }

    /// Item 10: names are unique, and revoking a name removes that one token.
    @Test func tokenNamesAreUnique() throws {
        let s = Scratch()
        try strata(["log", "r", "--create", "--step", "1", "x=1"], store: s.store)
        #expect(try strataBounded(["token", "create", "--scope", "write", "--name", "ci", "--store", s.store]).code == 0)
        let dup = try strataBounded(["token", "create", "--scope", "read", "--name", "ci", "--store", s.store])
        #expect(dup.code == 1 && dup.err.contains("already exists"), "\(dup.err)")
        #expect(try strataBounded(["token", "create", "--scope", "read", "--name", "ci2", "--store", s.store]).code == 0)
        let revoked = try strataBounded(["token", "revoke", "ci", "--store", s.store])
        #expect(revoked.code == 0 && revoked.out.contains("\"ci\""), "\(revoked.err)")
        let list = try strataBounded(["token", "list", "--store", s.store]).out
        #expect(list.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["ci2"])
    }

    /// Item 2: a store that had tokens stays closed: `--no-auth` is refused with none left, and a
    /// token-less store is refused on a wildcard address; loopback is judged on the address.
    @Test func serveRefusesToOpenAStoreThatHadTokens() throws {
        let s = Scratch()
        try strata(["log", "r", "--create", "--step", "1", "x=1"], store: s.store)
        // Never had tokens: loopback by any spelling serves, a wildcard address is refused.
        #expect(try serveOnce(["--store", s.store, "--host", "127.1"]).contains("open to loopback clients"))
        let wildcard = try strataBounded(["serve", "--store", s.store, "--port", "0", "--host", "0.0.0.0"])
        #expect(wildcard.code == 2 && wildcard.err.contains("not loopback"), "\(wildcard.err)")
        // Had tokens, all revoked: locked, and --no-auth cannot reopen it.
        #expect(try strataBounded(["token", "create", "--scope", "write", "--name", "ci", "--store", s.store]).code == 0)
        #expect(try strataBounded(["token", "revoke", "ci", "--store", s.store]).code == 0)
        let reopen = try strataBounded(["serve", "--store", s.store, "--port", "0", "--no-auth"])
        #expect(reopen.code == 2 && reopen.err.contains("--no-auth"), "\(reopen.err)")
        try FileManager.default.removeItem(atPath: s.store + "/tokens")
        let deleted = try strataBounded(["serve", "--store", s.store, "--port", "0", "--no-auth"])
        #expect(deleted.code == 2, "\(deleted.err)")
        #expect(try serveOnce(["--store", s.store]).contains("locked"))
        #expect(try strataBounded(["token", "list", "--store", s.store]).out.contains("locked"))
    }
}

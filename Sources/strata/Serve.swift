import ArgumentParser
import Dispatch
import Hummingbird
import Strata
import StrataServer

#if canImport(Glibc)
import Glibc
#endif

/// `strata serve`: the HTTP API (docs/API.md) and the web page at `/`.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the store over HTTP: ingest and query API, and a web page of runs and charts.",
        discussion: """
        Binds to 127.0.0.1:7070 unless told otherwise. When the store has tokens (`strata token create`),
        every /api request needs "Authorization: Bearer TOKEN" and ingest needs a write token.
        A store without tokens is served openly, on loopback only unless --no-auth is given.
        API: docs/API.md. Stop with Ctrl-C (SIGINT) or SIGTERM.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0: any free port, printed at start).") var port = 7070
    @Option(help: "Largest request body in bytes (larger ones get 413).") var maxBody = StrataServer.defaultMaxBodyBytes
    @Flag(help: "Serve a store without tokens on a non-loopback address (anyone who can reach it can read and write).")
    var noAuth = false

    func run() throws {
        let store = try global.openForWriting()
        let tokens: [TokenEntry]
        do { tokens = try Tokens.list(store: store.path) } catch { throw CLIError(error.message) }
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "::1"
        if noAuth && !tokens.isEmpty {
            throw CLIError("--no-auth: store \(store.path) has \(tokens.count) token(s), so the API requires them; revoke them with `strata token revoke NAME` to serve openly", exitCode: 2)
        }
        if tokens.isEmpty && !loopback && !noAuth {
            throw CLIError("refusing to serve a store without tokens on \(host): create one with `strata token create --scope write`, or pass --no-auth to serve openly", exitCode: 2)
        }
        if maxBody < 1024 { throw CLIError("--max-body must be at least 1024 bytes", exitCode: 2) }
        let auth = tokens.isEmpty ? "open (no tokens in the store)" : "tokens required (\(tokens.count) in the store)"
        let storePath = store.path
        let app = StrataServer.buildApplication(store: store, host: host, port: port, maxBodyBytes: maxBody) { bound in
            warn("strata: serving \(storePath) on http://\(host):\(bound)/ — API \(auth)")
        }
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var error: Error? }
        let box = Box()
        Task {
            do { try await app.runService() } catch { box.error = error }
            done.signal()
        }
        done.wait()
        do { try store.close() } catch { warn("strata: closing the store: \(error)") }
        if let e = box.error { throw CLIError("server stopped: \(e)") }
    }
}

/// `strata token create|list|revoke`: API tokens, stored hashed in STORE/tokens.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list or revoke API tokens of `strata serve`.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (once: only its SHA-256 is stored).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "read (queries) or write (queries and ingest).") var scope: String
        @Option(help: "A name to list and revoke it by.") var name: String?

        func run() throws {
            guard let s = TokenScope(rawValue: scope) else { throw CLIError("--scope must be read or write, got \"\(scope)\"", exitCode: 2) }
            let store = try global.openForWriting()
            defer { try? store.close() }
            do {
                let (token, entry) = try Tokens.create(store: store.path, scope: s, name: name)
                print(token)
                if isTerminal(2) { warn("strata: created \(entry.scope.rawValue) token \"\(entry.name)\"; it is shown only now") }
            } catch { throw CLIError(error.message) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (name, scope, created, hash prefix).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            let all: [TokenEntry]
            do { all = try Tokens.list(store: store.path) } catch { throw CLIError(error.message) }
            if all.isEmpty { print("no tokens (the API is open on loopback)"); return }
            for e in all { print("\(e.name)\t\(e.scope.rawValue)\t\(formatTime(e.created))\tsha256:\(e.hash.prefix(12))") }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke tokens by name (or by hash prefix of 8+ hex digits).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token name or hash prefix.") var name: String
        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            do {
                let n = try Tokens.revoke(store: store.path, name: name)
                if n == 0 { throw CLIError("no token named \"\(name)\"") }
                print("revoked \(n) token(s)")
            } catch let e as APIError { throw CLIError(e.message) }
        }
    }
}

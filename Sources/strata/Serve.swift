import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import Strata
import StrataInterop
import StrataServer

#if canImport(Glibc)
import Glibc
#endif

/// `strata serve`: the HTTP API (docs/API.md) and the web page at `/`.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the store over HTTP: ingest and query API, and a web page of runs and charts.",
        discussion: """
            Binds to 127.0.0.1:7070 unless told otherwise. When the store has or once had tokens \
            (`strata token create`), every /api request needs "Authorization: Bearer TOKEN" and ingest \
            needs a write token. A store that never had tokens is served openly, on loopback addresses \
            only unless --no-auth is given. Rules and limits: docs/SECURITY.md; API: docs/API.md. \
            It also serves MLflow's tracking API: MLflow code logs here with \
            MLFLOW_TRACKING_URI=http://127.0.0.1:7070 (and MLFLOW_TRACKING_TOKEN with tokens); \
            docs/MLFLOW.md. Stop with Ctrl-C (SIGINT) or SIGTERM.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to bind (a name is resolved; the first address is bound).") var host = "127.0.0.1"
    @Option(help: "Port to bind, 0 to 65535 (0: any free port, printed at start).") var port = 7070
    @Option(help: "Largest request body in bytes (larger ones get 413).") var maxBody = StrataServer.defaultMaxBodyBytes
    @Option(
        help: ArgumentHelp(
            "A name clients use for this server in the Host header (repeatable; localhost, IP literals and --host are always accepted).",
            valueName: "name"))
    var allowHost: [String] = []
    @Flag(help: "Serve a store that never had tokens on a non-loopback address (anyone who can reach it can read and write).")
    var noAuth = false
    @Option(
        help: ArgumentHelp(
            "Seconds a connection may sit without a request, a body may pause, or a client may take none of a response (default 60).",
            valueName: "seconds"))
    var idleTimeout: Double = 60
    @Option(
        help: ArgumentHelp("Seconds from the head of a request to the end of its body (default 120).", valueName: "seconds"))
    var requestTimeout: Double = 120
    @Option(
        help: ArgumentHelp(
            "Seconds the rest of a body is read and dropped after an early answer (413, 401, …) before closing (default 5).",
            valueName: "seconds"))
    var lingerTimeout: Double = 5

    /// The connection time limits of the options (each 0.001 s to one day).
    func limits() throws -> ServerLimits {
        for (seconds, option) in [(idleTimeout, "idle-timeout"), (requestTimeout, "request-timeout"), (lingerTimeout, "linger-timeout")] {
            guard seconds.isFinite, seconds >= 0.001, seconds <= 86_400 else {
                throw CLIError("--\(option) must be 0.001 to 86400 seconds, got \(seconds)", exitCode: 2)
            }
        }
        return ServerLimits(idleSeconds: idleTimeout, requestSeconds: requestTimeout, lingerSeconds: lingerTimeout)
    }

    func run() throws {
        guard (0...65535).contains(port) else { throw CLIError("--port must be 0 to 65535, got \(port)", exitCode: 2) }
        if maxBody < 1024 { throw CLIError("--max-body must be at least 1024 bytes", exitCode: 2) }
        let limits = try limits()
        let listen: ListenAddress
        do { listen = try ListenAddress.resolve(host) } catch { throw CLIError(error.message, exitCode: 2) }
        let store = try global.openForWriting()
        let policy: TokenPolicy
        do { policy = try Tokens.policy(store: store.path) } catch {
            try? store.close()
            throw CLIError(error.message)
        }
        if let refusal = AccessRule.refusal(policy: policy, listen: listen, noAuth: noAuth, store: store.path) {
            try? store.close()
            throw CLIError(refusal, exitCode: 2)
        }
        let auth: String
        switch policy {
        case .open: auth = noAuth ? "open to anyone (--no-auth)" : "open to loopback clients (the store has no tokens)"
        case .required(let e): auth = e.isEmpty ? "locked (the store had tokens and has none left)" : "tokens required (\(e.count) in the store)"
        }
        let storePath = store.path
        let shown = listen.addresses.first.map { $0.contains(":") ? "[\($0)]" : $0 } ?? host
        let app = StrataServer.buildApplication(
            store: store, host: host, port: port, maxBodyBytes: maxBody, limits: limits,
            noAuth: noAuth, allowedHosts: allowHost
        ) { bound in
            warn("strata: serving \(storePath) on http://\(shown):\(bound)/ — API \(auth)")
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
        if let e = box.error {
            // NIO's bind error ends with "(errno: N)": say what it means for a port.
            let text = String(describing: e)
            if text.hasSuffix("(errno: \(EADDRINUSE))") {
                throw CLIError("port \(port) is in use on \(shown) (choose another with --port, or --port 0 for any free port)")
            }
            if text.hasSuffix("(errno: \(EACCES))") {
                throw CLIError("no permission to listen on port \(port) (ports below 1024 need privileges; choose another with --port)")
            }
            throw CLIError("server stopped: \(e)")
        }
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
            // Setting up a server's store starts here, so this may create the store; it says so,
            // so that a mistyped --store does not go unnoticed.
            let existed = FileManager.default.fileExists(atPath: global.storePath + "/STRATA")
            let store = try global.openForWriting()
            if !existed { warn("strata: created a new store at \(store.path) (check --store if you meant an existing one)") }
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
            if all.isEmpty {
                let locked: Bool
                do { locked = try Tokens.policy(store: store.path) != .open } catch { throw CLIError(error.message) }
                print(
                    locked
                        ? "no tokens (the store has had tokens, so its API is locked until one is created)"
                        : "no tokens (the API is open to loopback clients)")
                return
            }
            for e in all { print("\(e.name)\t\(e.scope.rawValue)\t\(formatTime(e.created))\tsha256:\(e.hash.prefix(12))") }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one token by its name (or by a hash prefix of 8+ hex digits).",
            discussion: "The API stays closed when the last token is revoked (docs/SECURITY.md).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token name or hash prefix.") var name: String
        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            do {
                let e = try Tokens.revoke(store: store.path, name: name)
                print("revoked \(e.scope.rawValue) token \"\(e.name)\" (sha256:\(e.hash.prefix(12)))")
            } catch { throw CLIError(error.message) }
        }
    }
}

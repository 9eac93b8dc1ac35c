import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

#if canImport(Glibc)
import Glibc
#endif

// Hostile requests and the access rules of docs/SECURITY.md: each case asserts the exact status and
// that the store is unchanged afterwards.

/// Every run, series and point count of a store, to compare before and after hostile requests.
func fingerprint(_ store: Store) throws -> [String] {
    var out: [String] = []
    for r in try store.runs() {
        out.append("run \(r.id.text) \(r.name) \(r.status)")
        for s in try store.series(of: r.id) { out.append("  \(s.key.canonical) count \(s.count) last \(s.lastStep)") }
    }
    return out.sorted()
}

/// A record that would create run `evil` with a point, were it accepted.
let evilBatch = Array(#"{"run": "evil", "step": 1, "metrics": {"pwned": 1}}"#.utf8) + [10]

/// One raw HTTP exchange over a new TCP connection to 127.0.0.1: `head` is sent verbatim (request
/// line and headers, without the blank line), then `Content-Length` and the body. Times out (and
/// fails) after 30 s instead of hanging.
func exchange(port: Int, _ head: String, body: [UInt8] = []) throws -> RawHTTP.Reply {
    let s = try RawSocket(port: port)
    try s.send(Array((head + "\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8) + body)
    let data = try s.receiveAll()
    return try RawHTTP.parse(data)
}

/// The state (hex, as in /proc/net/tcp: "01" ESTABLISHED) of the IPv4 socket whose local port is
/// `localPort` and remote port `remotePort`, or "gone".
func tcpState(localPort: Int, remotePort: Int) -> String {
    guard let text = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return "gone" }
    let l = String(format: ":%04X", localPort), r = String(format: ":%04X", remotePort)
    for line in text.split(separator: "\n").dropFirst() {
        let f = line.split(separator: " ")
        if f.count > 3, f[1].hasSuffix(l), f[2].hasSuffix(r) { return String(f[3]) }
    }
    return "gone"
}

/// Fails the test (from a plain thread, where `#expect` is not attributed to the test).
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw TestFailure(message()) }
}

/// A blocking TCP client socket with send and receive time-outs (a hang fails the test).
final class RawSocket {
    let fd: Int32
    init(port: Int, timeoutSeconds: Int = 30, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connectLoopback(fd, port: port) == 0 else { close(fd); throw TestFailure("connect to port \(port) failed: errno \(errno)") }
    }
    deinit { close(fd) }

    var localPort: Int {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Sends everything; throws on any error (a time-out is EAGAIN).
    func send(_ bytes: [UInt8]) throws {
        if let e = trySend(bytes) { throw TestFailure("send failed: errno \(e)") }
    }

    /// Sends everything; returns the errno that stopped it, or nil.
    func trySend(_ bytes: [UInt8]) -> Int32? {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; return errno }
            off += n
        }
        return nil
    }

    /// Reads until the peer closes; throws on a time-out. A reset after some bytes ends the read.
    func receiveAll() throws -> [UInt8] {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return data }
                throw TestFailure("recv failed: errno \(errno) (EAGAIN \(EAGAIN): the server kept the connection open)")
            }
            if n == 0 { return data }
            data.append(contentsOf: buf[0..<n])
        }
    }

    /// Reads until `data` holds a whole response head and `Content-Length` body.
    func receiveResponse() throws -> RawHTTP.Reply {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            if let r = try? RawHTTP.parse(data), r.body.count >= Int(r.headers["content-length"] ?? "0") ?? 0 { return r }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; throw TestFailure("recv failed: errno \(errno)") }
            if n == 0 { throw TestFailure("connection closed before a whole response: \(String(decoding: data, as: UTF8.self))") }
            data.append(contentsOf: buf[0..<n])
        }
    }
}

extension LockedList {
    func add(contentsOf items: [String]) { for i in items { add(i) } }
}

@Suite struct HostileRequestTests {
    struct Case {
        var name: String
        var head: String
        var status: Int
    }

    /// Starts a live server on a store holding one run and two tokens, then runs `body`.
    func withServer(
        tokens: Bool, maxBody: Int = 4096,
        _ body: @escaping @Sendable (_ port: Int, _ write: String, _ read: String, _ store: Store) throws -> Void
    ) async throws -> (TempStore, [String]) {
        let t = try TempStore()
        let seed = try t.store.createRun(name: "seed")
        try seed.log(try seed.metrics(["loss"]), step: 0, values: [1])
        try t.store.flush()
        let before = try fingerprint(t.store)
        let write = tokens ? try Tokens.create(store: t.path, scope: .write, name: "ci").token : ""
        let read = tokens ? try Tokens.create(store: t.path, scope: .read, name: "viewer").token : ""
        let app = StrataServer.buildApplication(store: t.store, port: 0, maxBodyBytes: maxBody)
        try await withServerThreads {
            try await app.test(.live) { client in
                let port = client.port!
                let (w, r) = (write, read)
                let store = t.store
                try await onThread { try body(port, w, r, store) }
            }
        }
        return (t, before)
    }

    func run(_ cases: [Case], port: Int, body: [UInt8] = evilBatch) throws -> [String] {
        var failures: [String] = []
        for c in cases {
            let r = try exchange(port: port, c.head, body: body)
            if r.status != c.status { failures.append("\(c.name): expected \(c.status), got \(r.status) \(r.text.prefix(200))") }
        }
        return failures
    }

    /// With tokens configured: path variants, methods, bad credentials, Host, Origin, content types
    /// and sizes. Nothing may get through; the store must not change.
    @Test func corpusWithTokens() async throws {
        let log = LockedList()
        let count = LockedList()
        let (t, before) = try await withServer(tokens: true) { port, write, read, _ in
            let host = "Host: 127.0.0.1:\(port)"
            let json = "Content-Type: application/json"
            let none = "", r = "\r\nAuthorization: Bearer \(read)", w = "\r\nAuthorization: Bearer \(write)"
            var cases: [Case] = []
            // Path variants of the write route, without a token and with a read token.
            let nonCanonical = [
                "//api/ingest", "///api/ingest", "/./api/ingest", "/api/./ingest", "/api/../api/ingest",
                "/api//ingest", "/api/ingest/", "/api/ingest//", "/%61pi/ingest", "/api%2Fingest",
                "/api%2fingest", "/api/ingest%2F", "/api/%69ngest", "/api/ingest%00", "/api\\ingest",
                "/api/ingest/.", "/api/ingest/..", "/api/x/../ingest", "/.%2e/api/ingest", "/api/ingest%"
            ]
            for (auth, label) in [(none, "no token"), (r, "read token")] {
                for p in nonCanonical {
                    cases.append(Case(name: "POST \(p) \(label)", head: "POST \(p) HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: 400))
                }
                let closedStatus = auth == none ? 401 : 403
                for p in ["/API/ingest", "/Api/Ingest", "/api/INGEST", "/api/ingest?sync=1", "/api/ingest;x", "/api/runs", "/nowhere", "/"] {
                    cases.append(Case(name: "POST \(p) \(label)", head: "POST \(p) HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: closedStatus))
                }
                cases.append(
                    Case(name: "absolute-form \(label)", head: "POST http://x/api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: closedStatus)
                )
                cases.append(
                    Case(
                        name: "absolute-form own host \(label)",
                        head: "POST http://127.0.0.1:\(port)//api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: 400))
                for m in ["PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "TRACE"] {
                    cases.append(
                        Case(name: "\(m) /api/ingest \(label)", head: "\(m) /api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: closedStatus))
                    cases.append(
                        Case(name: "\(m) //api/ingest \(label)", head: "\(m) //api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: 400))
                }
            }
            // Write methods other than POST with a write token reach no handler.
            for m in ["PUT", "PATCH", "DELETE", "OPTIONS"] {
                cases.append(Case(name: "\(m) /api/ingest write token", head: "\(m) /api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(w)", status: 404))
            }
            // Reads without a token, through every path variant.
            for p in ["//api/runs", "/api//runs", "/api/runs/", "/./api/runs", "/%61pi/runs", "/api%2Fruns", "//api/runs/seed", "//health"] {
                cases.append(Case(name: "GET \(p)", head: "GET \(p) HTTP/1.1\r\n\(host)", status: 400))
            }
            for p in ["/api/runs", "/API/RUNS", "/api/runs/seed", "/api/runs/seed/series", "/api/points?run=seed&metric=loss", "/api", "/x"] {
                cases.append(Case(name: "GET \(p)", head: "GET \(p) HTTP/1.1\r\n\(host)", status: 401))
                cases.append(Case(name: "HEAD \(p)", head: "HEAD \(p) HTTP/1.1\r\n\(host)", status: 401))
            }
            // Bad credentials on the canonical write route.
            for (label, auth, status) in [
                ("Basic", "\r\nAuthorization: Basic Y2k6Y2k=", 401), ("empty bearer", "\r\nAuthorization: Bearer ", 401),
                ("token with suffix", "\r\nAuthorization: Bearer \(write)x", 401),
                ("token prefix", "\r\nAuthorization: Bearer \(write.dropLast())", 401),
                ("hash as token", "\r\nAuthorization: Bearer \(Digest.sha256Hex(write))", 401),
                ("read token lower-case scheme", "\r\nAuthorization: bearer \(read)", 403),
                ("read token", r, 403), ("no token", none, 401)
            ] {
                cases.append(Case(name: "POST /api/ingest \(label)", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", status: status))
            }
            // Host (DNS rebinding) and Origin, with a valid write token.
            for h in [
                "evil.example", "evil.example:\(port)", "127.0.0.1:1", "localhost:\(port + 1)", "localhost.evil.example:\(port)",
                "127.0.0.1.nip.io:\(port)", "", ":\(port)", "127.0.0.1:\(port)x", "[::1]:1"
            ] {
                cases.append(Case(name: "Host \(h)", head: "POST /api/ingest HTTP/1.1\r\nHost: \(h)\r\n\(json)\(w)", status: 421))
            }
            for o in [
                "http://evil.example", "null", "http://127.0.0.1:\(port).evil.example", "https://127.0.0.1:\(port)",
                "http://127.0.0.1:\(port + 1)", "http://localhost:\(port)", "file://", ""
            ] {
                cases.append(Case(name: "Origin \(o)", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: \(o)\r\n\(json)\(w)", status: 403))
            }
            // Content types of a write.
            for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json", "application/jsonx", ""] {
                cases.append(Case(name: "Content-Type \(ct)", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nContent-Type: \(ct)\(w)", status: 415))
            }
            cases.append(Case(name: "no Content-Type", head: "POST /api/ingest HTTP/1.1\r\n\(host)\(w)", status: 415))
            log.add(contentsOf: try run(cases, port: port))
            count.add("\(cases.count)")
            // Sizes: over the limit (with and without a token), and bad bodies, with a write token.
            let big = evilBatch + [UInt8](repeating: 32, count: 5000)
            for (auth, status) in [(w, 413), (r, 403), (none, 401)] {
                let reply = try exchange(port: port, "POST /api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(auth)", body: big)
                if reply.status != status { log.add("big body: expected \(status), got \(reply.status)") }
            }
            for bad in ["{", "[", "\u{0}", "{\"run\": \"evil\", \"step\": \"1\", \"metrics\": {\"pwned\": 1}}"] {
                let reply = try exchange(port: port, "POST /api/ingest HTTP/1.1\r\n\(host)\r\n\(json)\(w)", body: Array(bad.utf8))
                if reply.status != 400 { log.add("bad body \(bad): expected 400, got \(reply.status)") }
            }
        }
        #expect(log.items == [])
        #expect(Int(count.items.first ?? "0")! >= 140)
        #expect(try fingerprint(t.store) == before)
        #expect(try t.store.runs().map(\.name) == ["seed"])
    }

    /// The positive controls of the corpus: the canonical request with a write token is accepted,
    /// also with its own Origin, so the refusals above are not vacuous.
    @Test func canonicalWritesAreAccepted() async throws {
        let (t, _) = try await withServer(tokens: true) { port, write, _, _ in
            for (i, extra) in ["", "\r\nOrigin: http://127.0.0.1:\(port)", "\r\nContent-Type: application/x-ndjson; charset=utf-8"].enumerated() {
                let type = extra.contains("Content-Type") ? "" : "\r\nContent-Type: application/json"
                let r = try exchange(
                    port: port, "POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1:\(port)\(type)\(extra)\r\nAuthorization: Bearer \(write)",
                    body: Array(#"{"run": "ok\#(i)", "step": 1, "metrics": {"x": 1}}"#.utf8))
                guard r.status == 200 else { throw TestFailure("case \(i): \(r.status) \(r.text)") }
            }
            for h in ["localhost:\(port)", "127.0.0.1", "[::1]:\(port)", "127.0.0.1:\(port)"] {
                let r = try exchange(port: port, "GET /api/runs HTTP/1.1\r\nHost: \(h)\r\nAuthorization: Bearer \(write)")
                guard r.status == 200 else { throw TestFailure("Host \(h): \(r.status) \(r.text)") }
            }
        }
        #expect(try t.store.runs().map(\.name).sorted() == ["ok0", "ok1", "ok2", "seed"])
    }

    /// Token-less loopback mode (item 3): no cross-site write, no DNS-rebound read, and the plain
    /// same-origin JSON write still works.
    @Test func corpusWithoutTokens() async throws {
        let log = LockedList()
        let (t, _) = try await withServer(tokens: false) { port, _, _, store in
            let host = "Host: 127.0.0.1:\(port)"
            let cases = [
                Case(
                    name: "text/plain from a foreign page",
                    head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: http://evil.example\r\nContent-Type: text/plain", status: 403),
                Case(
                    name: "JSON from a foreign page",
                    head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: http://evil.example\r\nContent-Type: application/json", status: 403),
                Case(
                    name: "opaque origin", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: null\r\nContent-Type: application/json", status: 403
                ),
                Case(
                    name: "form post without Origin", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nContent-Type: application/x-www-form-urlencoded",
                    status: 415),
                Case(name: "text/plain without Origin", head: "POST /api/ingest HTTP/1.1\r\n\(host)\r\nContent-Type: text/plain", status: 415),
                Case(
                    name: "rebound name, write",
                    head:
                        "POST /api/ingest HTTP/1.1\r\nHost: evil.example:\(port)\r\nOrigin: http://evil.example:\(port)\r\nContent-Type: application/json",
                    status: 421),
                Case(name: "rebound name, read", head: "GET /api/runs HTTP/1.1\r\nHost: evil.example:\(port)", status: 421),
                Case(name: "rebound name, page", head: "GET / HTTP/1.1\r\nHost: evil.example:\(port)", status: 421),
                Case(
                    name: "double slash, foreign origin",
                    head: "POST //api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: http://evil.example\r\nContent-Type: text/plain", status: 400),
                Case(
                    name: "PUT from a foreign page",
                    head: "PUT /api/ingest HTTP/1.1\r\n\(host)\r\nOrigin: http://evil.example\r\nContent-Type: application/json", status: 403)
            ]
            log.add(contentsOf: try run(cases, port: port))
            let now = try fingerprint(store)
            if now != ["run \(try store.run("seed").id.text) seed running", "  loss count 1 last 0"].sorted() {
                log.add("store changed by refused requests: \(now)")
            }
            // The same-origin write of the web page's own origin, and a plain client, are accepted.
            for extra in ["\r\nOrigin: http://127.0.0.1:\(port)", ""] {
                let r = try exchange(
                    port: port, "POST /api/ingest HTTP/1.1\r\n\(host)\r\nContent-Type: application/json\(extra)",
                    body: Array(#"{"run": "mine", "step": 1, "metrics": {"x": 1}}"#.utf8))
                if r.status != 200 { log.add("same-origin write: \(r.status) \(r.text)") }
            }
        }
        #expect(log.items == [])
        #expect(try t.store.runs().map(\.name).sorted() == ["mine", "seed"])
        #expect(try t.store.points(t.store.run("mine").id, "x").count == 2)
    }
}

@Suite struct AccessRuleTests {
    func status(_ client: some TestClientProtocol, _ uri: String, method: HTTPRequest.Method = .get, token: String? = nil) async throws -> Int {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer " + token }
        return try await client.execute(
            uri: uri, method: method, headers: headers,
            body: method == .post ? ByteBuffer(bytes: evilBatch) : ByteBuffer()
        ) { Int($0.status.code) }
    }

    /// Item 1 through the router: no path variant reaches a handler without the token check.
    @Test func pathVariantsCannotSkipTheTokenCheck() async throws {
        let t = try TempStore()
        let (read, _) = try Tokens.create(store: t.path, scope: .read, name: "viewer")
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            for token in [nil, read] {
                for p in ["//api/ingest", "/api//ingest", "/api/ingest/", "/./api/ingest", "/%61pi/ingest", "/api%2Fingest"] {
                    #expect(try await status(client, p, method: .post, token: token) == 400, "\(p)")
                }
                #expect(try await status(client, "/API/ingest", method: .post, token: token) == (token == nil ? 401 : 403))
                #expect(try await status(client, "/api/ingest", method: .post, token: token) == (token == nil ? 401 : 403))
                #expect(try await status(client, "/api/ingest", method: .put, token: token) == (token == nil ? 401 : 403))
            }
            for p in ["//api/runs", "/api//runs", "/api/runs/"] {
                #expect(try await status(client, p) == 400, "\(p)")
            }
            #expect(try await status(client, "/api/runs") == 401)
            #expect(try await status(client, "/api/runs", token: read) == 200)
        }
        #expect(try t.store.runs().isEmpty)
    }

    /// The page's assets are public GETs on a store with tokens, listed exactly: a variant of an
    /// asset path is refused (400 when not canonical, 401 when it is another path), a write to one
    /// needs a token, and each comes with its content type and an ETag honoured by If-None-Match.
    @Test func pageAssetsArePublicExactly() async throws {
        let t = try TempStore()
        _ = try Tokens.create(store: t.path, scope: .read, name: "viewer")
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            #expect(try await status(client, "/") == 200)
            #expect(try await status(client, "/api/runs") == 401)
            #expect(!WebPage.assets.isEmpty)
            for (path, asset) in WebPage.assets {
                try await client.execute(uri: path, method: .get) { r in
                    #expect(r.status == .ok, "\(path)")
                    #expect(r.headers[.contentType] == asset.contentType, "\(path)")
                    #expect(r.headers[.eTag] == asset.etag && r.headers[.cacheControl] == "no-cache", "\(path)")
                    #expect(Array(r.body.readableBytesView) == asset.bytes, "\(path)")
                }
                try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: asset.etag]) { r in
                    #expect(r.status == .notModified && r.body.readableBytes == 0, "\(path)")
                }
                try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: "\"0\""]) { r in
                    #expect(r.status == .ok, "\(path)")
                }
                #expect(try await status(client, path + "?v=1") == 200, "\(path)")
                let name = String(path.dropFirst("/assets/".count))
                for variant in ["/" + path, "/assets//" + name, path + "/", "/assets/./" + name, "/assets/x/../" + name, "/%61ssets/" + name] {
                    #expect(try await status(client, variant) == 400, "\(variant)")
                }
                for variant in [
                    "/ASSETS/" + name, "/assets/" + name.uppercased(), path + ";x", path + ".map", "/assets/" + name + "%20", "/api/../assets/" + name
                ] {
                    let s = try await status(client, variant)
                    #expect(s == 400 || s == 401, "\(variant): \(s)")
                    #expect(s != 200, "\(variant)")
                }
                #expect(try await status(client, path, method: .post) == 401, "\(path)")
            }
            #expect(try await status(client, "/assets/nothing.js") == 401)
            #expect(try await status(client, "/assets") == 401)
            // The page links its assets by exactly the paths served.
            try await client.execute(uri: "/", method: .get) { r in
                let page = String(buffer: r.body)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                for path in WebPage.assets.keys { #expect(page.contains("\"\(path)\""), "\(path) linked from the page") }
                #expect(!page.contains("http://") && !page.contains("https://"), "no CDN")
            }
        }
    }

    /// Item 2: revoking the last token, or deleting the token file, locks the API instead of opening it.
    @Test func revokingTheLastTokenLocksTheAPI() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        let (write, _) = try Tokens.create(store: t.path, scope: .write, name: "ci")
        try await app.test(.router) { client async throws in
            #expect(try await status(client, "/api/runs", token: write) == 200)
            try Tokens.revoke(store: t.path, name: "ci")
            try await Task.sleep(for: .milliseconds(300))  // the token files are re-checked every 250 ms
            #expect(try await status(client, "/api/runs") == 401)
            #expect(try await status(client, "/api/ingest", method: .post) == 401)
            #expect(try await status(client, "/api/runs", token: write) == 401)
            try FileManager.default.removeItem(atPath: Tokens.path(store: t.path))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await status(client, "/api/runs") == 401)
            #expect(try await status(client, "/api/ingest", method: .post) == 401)
            #expect(try await status(client, "/health") == 200)
        }
        #expect(try Tokens.policy(store: t.path) == .required([]))
        #expect(try t.store.runs().isEmpty)
    }

    /// A store whose token file predates the marker (or lost it) stays closed with no token left.
    @Test func tokenFileWithoutMarkerIsClosed() async throws {
        let t = try TempStore()
        try Tokens.header.write(toFile: Tokens.path(store: t.path), atomically: true, encoding: .utf8)
        #expect(try Tokens.policy(store: t.path) == .required([]))
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            #expect(try await status(client, "/api/runs") == 401)
        }
    }

    /// Item 1: a damaged, symlinked or unreadable token file locks the API (500), never opens it.
    @Test func brokenTokenFilesFailClosed() async throws {
        let t = try TempStore()
        let (write, _) = try Tokens.create(store: t.path, scope: .write, name: "ci")
        let app = StrataServer.buildApplication(store: t.store)
        let tokens = Tokens.path(store: t.path), marker = Tokens.markerPath(store: t.path)
        let good = try String(contentsOfFile: tokens, encoding: .utf8)
        let elsewhere = t.path + "-elsewhere"
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try await app.test(.router) { client async throws in
            let breakages: [(String, () throws -> Void)] = [
                ("damaged line", { try (good + "write\tnot-a-hash\t1\tx\n").write(toFile: tokens, atomically: true, encoding: .utf8) }),
                (
                    "symlinked token file",
                    {
                        try good.write(toFile: elsewhere, atomically: true, encoding: .utf8)
                        try FileManager.default.removeItem(atPath: tokens)
                        try FileManager.default.createSymbolicLink(atPath: tokens, withDestinationPath: elsewhere)
                    }
                ),
                (
                    "token file is a directory",
                    {
                        try FileManager.default.removeItem(atPath: tokens)
                        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: false)
                    }
                ),
                (
                    "marker is a symlink, token file gone",
                    {
                        try FileManager.default.removeItem(atPath: tokens)
                        try FileManager.default.removeItem(atPath: marker)
                        try FileManager.default.createSymbolicLink(atPath: marker, withDestinationPath: elsewhere)
                    }
                )
            ]
            for (name, breakIt) in breakages {
                try breakIt()
                try await Task.sleep(for: .milliseconds(300))
                let read = try await status(client, "/api/runs", token: write)
                let post = try await status(client, "/api/ingest", method: .post, token: write)
                let anon = try await status(client, "/api/ingest", method: .post)
                #expect(read == 500 && post == 500 && anon == 500, "\(name): \(read) \(post) \(anon)")
                #expect(try await status(client, "/health") == 200, "\(name)")
            }
        }
        #expect(try t.store.runs().isEmpty)
    }

    /// Item 2 at request time: a server on a non-loopback address never serves a token-less store
    /// openly (unless --no-auth), even if the tokens vanish while it runs.
    @Test func nonLoopbackServerNeedsTokens() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store, host: "0.0.0.0")
        try await app.test(.router) { client async throws in
            #expect(try await status(client, "/api/runs") == 403)
            #expect(try await status(client, "/api/ingest", method: .post) == 403)
            #expect(try await status(client, "/health") == 200)
        }
        let open = StrataServer.buildApplication(store: t.store, host: "0.0.0.0", noAuth: true)
        try await open.test(.router) { client async throws in
            #expect(try await status(client, "/api/runs") == 200)
        }
        #expect(try t.store.runs().isEmpty)
    }

    /// The loopback rule is judged on resolved addresses, not on the text of --host.
    @Test func loopbackIsJudgedOnResolvedAddresses() throws {
        for h in ["127.0.0.1", "127.1", "127.0.0.2", "::1", "::ffff:127.0.0.1", "localhost", "0x7f000001"] {
            #expect(try ListenAddress.resolve(h).isLoopback, "\(h)")
        }
        for h in ["0.0.0.0", "::", "0", "10.1.2.3", "::ffff:10.0.0.1", "192.168.0.1"] {
            #expect(!(try ListenAddress.resolve(h).isLoopback), "\(h)")
        }
        let lo = ListenAddress(host: "127.1", addresses: ["127.0.0.1"])
        let any = ListenAddress(host: "0.0.0.0", addresses: ["0.0.0.0"])
        #expect(AccessRule.refusal(policy: .open, listen: lo, noAuth: false, store: "s") == nil)
        #expect(AccessRule.refusal(policy: .open, listen: any, noAuth: false, store: "s") != nil)
        #expect(AccessRule.refusal(policy: .open, listen: any, noAuth: true, store: "s") == nil)
        #expect(AccessRule.refusal(policy: .required([]), listen: lo, noAuth: true, store: "s") != nil)
        #expect(AccessRule.refusal(policy: .required([]), listen: any, noAuth: false, store: "s") == nil)
    }

    /// Canonical paths (the router and the gate agree on every path that reaches a handler).
    @Test func canonicalPaths() {
        for p in ["/", "/health", "/api/runs", "/api/runs/a%20b", "/api/runs/%C3%A9t%C3%A9", "/api/runs/x:y"] {
            #expect(Gate.nonCanonical(p) == nil, "\(p)")
        }
        for p in [
            "", "api", "//", "//api", "/api/", "/api//runs", "/./api", "/api/..", "/%61pi", "/api%2Fruns", "/api%5Cruns",
            "/a%2", "/a%zz", "/a b", "/a\\b", "/api/%2e%2e"
        ] {
            #expect(Gate.nonCanonical(p) != nil, "\(p)")
        }
    }

    /// Item 10: names are unique; revoke by exact name removes exactly one token; an old file with
    /// duplicate names refuses to guess.
    @Test func tokenNamesAreUnique() throws {
        let t = try TempStore()
        #expect(throws: APIError.self) { try Tokens.revoke(store: t.path, name: "ci") }
        #expect(try Tokens.policy(store: t.path) == .open)  // a revoke on an open store leaves it open
        let (a, _) = try Tokens.create(store: t.path, scope: .write, name: "ci")
        #expect(throws: APIError.self) { try Tokens.create(store: t.path, scope: .read, name: "ci") }
        _ = try Tokens.create(store: t.path, scope: .read, name: "ci-2")
        #expect(try Tokens.list(store: t.path).map(\.name) == ["ci", "ci-2"])
        #expect(try Tokens.revoke(store: t.path, name: "ci").hash == Digest.sha256Hex(a))
        #expect(try Tokens.list(store: t.path).map(\.name) == ["ci-2"])
        // A file written before names were unique.
        let h1 = Digest.sha256Hex("one"), h2 = Digest.sha256Hex("two")
        try (Tokens.header + "write\t\(h1)\t1\tdup\nread\t\(h2)\t2\tdup\n").write(
            toFile: Tokens.path(store: t.path), atomically: true, encoding: .utf8)
        #expect(throws: APIError.self) { try Tokens.revoke(store: t.path, name: "dup") }
        #expect(try Tokens.list(store: t.path).count == 2)
        #expect(try Tokens.revoke(store: t.path, name: String(h2.prefix(10))).hash == h2)
        #expect(try Tokens.list(store: t.path).map(\.hash) == [h1])
    }
}

/// The connection limits, against a real `strata serve` process started with the time limits as
/// options: the limits run on that server's own event loops, as in production, so they are judged
/// apart from whatever else this test process runs at the same time (in-process servers shared its
/// cooperative threads with every other test, and a busy test run could hold them past a limit).
@Suite struct ConnectionTests {
    /// Item 10: an early 413 to a `Connection: close` request must not leave the client blocked
    /// writing its body: the server reads and drops the rest, answers, then closes.
    @Test func earlyRejectionClosesTheConnection() async throws {
        let dir = TempDir("strata-server")
        let server = try ServeCrashTests.Server(store: dir.store, extra: ["--max-body", "4096", "--linger-timeout", "120"])
        defer { server.stop() }
        let port = server.port
        try await onThread {
            let size = 64 << 20
            let s = try RawSocket(port: port)
            try s.send(
                Array(
                    "POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\nConnection: close\r\n\r\n"
                        .utf8))
            let reply = try s.receiveResponse()
            guard reply.status == 413 else { throw TestFailure("expected 413, got \(reply.status)") }
            // The whole body goes through (the server drains it) instead of blocking.
            let chunk = [UInt8](repeating: 32, count: 1 << 20)
            for i in 0..<(size >> 20) {
                if let e = s.trySend(chunk) {
                    throw TestFailure("sending chunk \(i) failed: errno \(e) (EAGAIN \(EAGAIN): the server stopped reading)")
                }
            }
            _ = try s.receiveAll()  // then the connection is closed
        }
        server.stop()
        #expect(try Store.open(at: dir.store).runs().isEmpty)
    }

    /// The time limits of `strata serve` are options; out-of-range values are refused.
    @Test func timeLimitOptionsAreChecked() throws {
        let dir = TempDir("strata-server")
        for bad in [["--idle-timeout", "0"], ["--request-timeout=-1"], ["--linger-timeout", "nan"], ["--idle-timeout", "100000"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: ServeCrashTests.binary())
            p.arguments = ["serve", "--store", dir.store, "--port", "0"] + bad
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 2 && text.contains(bad[0].split(separator: "=")[0]), "\(bad): \(p.terminationStatus) \(text)")
        }
    }

    /// Item 10: idle connections and slow headers are closed.
    @Test func idleConnectionsAreClosed() async throws {
        let dir = TempDir("strata-server")
        let server = try ServeCrashTests.Server(store: dir.store, extra: ["--idle-timeout", "0.5", "--request-timeout", "60"])
        defer { server.stop() }
        let port = server.port
        try await onThread {
            // Silent after connecting.
            let quiet = try RawSocket(port: port)
            try check(try quiet.receiveAll().isEmpty, "a silent connection got an answer")
            // Idle after a keep-alive request.
            let kept = try RawSocket(port: port)
            try kept.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
            let reply = try RawHTTP.parse(try kept.receiveAll())
            try check(reply.status == 200, "keep-alive request: \(reply.status)")
            // A head trickled a byte at a time never completes.
            let slow = try RawSocket(port: port)
            var closed = false
            for b in Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-Slow: ".utf8) + [UInt8](repeating: 97, count: 400) {
                if slow.trySend([b]) != nil { closed = true; break }
                usleep(100_000)
                var pfd = pollfd(fd: slow.fd, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 0) > 0 { closed = true; break }
            }
            try check(closed, "a head trickled byte by byte was never cut off")
            try check(try slow.receiveAll().isEmpty, "the trickled head got an answer")
        }
    }

    /// Item 10: a client that stops reading a large response is disconnected (the server-side
    /// socket leaves ESTABLISHED, seen in /proc/net/tcp) instead of holding it forever.
    @Test func stalledReadersAreDisconnected() async throws {
        let dir = TempDir("strata-server")
        do {
            let store = try Store.open(at: dir.store)
            let run = try store.createRun(name: "big")
            let h = try run.metrics(["x"])
            for i in 0..<300_000 { try run.log(h, step: Int64(i), values: [Double(i) * 0.001]) }
            try store.close()
        }
        let server = try ServeCrashTests.Server(store: dir.store, extra: ["--idle-timeout", "0.3", "--request-timeout", "60"])
        defer { server.stop() }
        let port = server.port
        do {
            try await onThread {
                let s = try RawSocket(port: port, receiveBuffer: 4096)
                try s.send(Array("GET /api/points?run=big&metric=x HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
                let local = s.localPort
                // Read nothing; wait (up to 60 s) for the server to drop the connection.
                var state = tcpState(localPort: port, remotePort: local)
                for _ in 0..<600 where state == "01" {
                    usleep(100_000)
                    state = tcpState(localPort: port, remotePort: local)
                }
                try check(state != "01", "the server still holds the connection of a reader that stopped")
            }
        }
    }

    /// Item 10: a body sent slowly (each byte in time for the idle limit) is cut off by the
    /// request limit, and nothing is stored.
    @Test func slowBodiesAreCutOff() async throws {
        let dir = TempDir("strata-server")
        let server = try ServeCrashTests.Server(store: dir.store, extra: ["--idle-timeout", "30", "--request-timeout", "1"])
        defer { server.stop() }
        let port = server.port
        do {
            try await onThread {
                let body = Array(#"{"run": "slow", "step": 1, "metrics": {"x": 1}}"#.utf8) + [UInt8](repeating: 32, count: 300)
                let s = try RawSocket(port: port)
                try s.send(
                    Array(
                        "POST /api/ingest HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                            .utf8))
                var closed = false
                for b in body {
                    if s.trySend([b]) != nil { closed = true; break }
                    usleep(50_000)
                    var pfd = pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)
                    if poll(&pfd, 1, 0) > 0 { closed = true; break }
                }
                try check(closed, "the whole body was accepted at a byte every 50 ms")
                try check(try s.receiveAll().isEmpty, "the slow body got an answer (it was not cut off)")
            }
        }
        server.stop()
        #expect(try Store.open(at: dir.store).runs().isEmpty)
    }
}

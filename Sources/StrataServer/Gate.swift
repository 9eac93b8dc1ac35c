import Foundation
import Hummingbird
import Strata

/// Who may reach the API when the store has no token (docs/SECURITY.md), decided once for both
/// `strata serve` at start and the server at every request.
public enum AccessRule {
    /// True when a store that never had tokens may be served openly: on loopback addresses, or
    /// to anyone with `--no-auth`.
    public static func openAccessAllowed(listen: ListenAddress, noAuth: Bool) -> Bool {
        listen.isLoopback || noAuth
    }

    /// Why a server on `listen` may not serve a store with token rule `policy`, or nil when it may.
    ///
    /// - A store that has (or had) tokens is never served with `--no-auth`.
    /// - A store without tokens is served only on loopback addresses, unless `--no-auth`.
    public static func refusal(policy: TokenPolicy, listen: ListenAddress, noAuth: Bool, store: String) -> String? {
        switch policy {
        case .required(let entries):
            if noAuth {
                return entries.isEmpty
                    ? "--no-auth: store \(store) has had tokens, so its API stays closed (locked until a token is created with `strata token create`; docs/SECURITY.md)"
                    : "--no-auth: the store has \(entries.count) token(s), so the API requires them"
            }
            return nil
        case .open:
            if openAccessAllowed(listen: listen, noAuth: noAuth) { return nil }
            return
                "refusing to serve a store without tokens on \(listen.host) (\(listen.addresses.joined(separator: ", ")) is not loopback): create one with `strata token create --scope write`, or pass --no-auth to serve openly"
        }
    }
}

/// The one gate in front of the router: every request passes it before any route is matched.
///
/// In order: the request path must be canonical (the router then matches exactly the path judged
/// here); `Host` must name this server (DNS rebinding); a write (any method but GET and HEAD) must
/// not come from a foreign `Origin`; the token rule decides access from the method and the path
/// (only `GET /`, the page's assets `GET /assets/NAME` listed in `WebPage.assets`, and
/// `GET /health` are public; everything else needs a token when the store has tokens); and a write
/// must declare a JSON content type. Rules and statuses: docs/SECURITY.md.
struct Gate: HTTPResponder {
    typealias Context = BasicRequestContext
    let next: RouterResponder<BasicRequestContext>
    let tokens: TokenCache
    let site: Site

    /// What the gate knows about where the server listens.
    final class Site: @unchecked Sendable {
        // @unchecked Sendable: `boundPort` is guarded by `lock`; everything else is immutable.
        let listen: ListenAddress
        let noAuth: Bool
        /// Lower-case names accepted in `Host` besides `localhost` and IP literals.
        let names: Set<String>
        private let lock = Lock()
        private var boundPort: Int

        init(listen: ListenAddress, port: Int, noAuth: Bool, allowedHosts: [String]) {
            self.listen = listen
            self.noAuth = noAuth
            self.boundPort = port
            var n = Set(allowedHosts.map { Gate.normalHostName($0) })
            n.insert(Gate.normalHostName(listen.host))
            n.insert("localhost")
            names = n
        }

        var port: Int { lock.withLock { boundPort } }

        func setPort(_ p: Int) { lock.withLock { boundPort = p } }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        if let refusal = check(request) {
            // The MLflow client reads MLflow's error form (docs/MLFLOW.md).
            if MLflowAPI.isMLflowPath(request.uri.path) {
                return MLflowError(MLflowError.code(status: refusal.status), refusal.message, status: refusal.status).response
            }
            return errorResponse(refusal)
        }
        return try await next.respond(to: request, context: context)
    }

    /// The refusal of `request`, or nil when it may go on to the router.
    func check(_ request: Request) -> APIError? {
        let target = request.head.path ?? ""
        let path = String(target.prefix(while: { $0 != "?" }))
        if let why = Gate.nonCanonical(path) {
            return APIError(
                400, "request path \"\(path.prefix(200))\" is not canonical (\(why)); send the path exactly as documented, e.g. /api/runs")
        }
        let authority = request.head.authority
        if let authority, !hostAccepted(authority) {
            return APIError(
                421,
                "Host \"\(authority.prefix(200))\" is not a name of this server (DNS rebinding defence): use http://127.0.0.1:\(site.port)/, or start the server with --allow-host NAME"
            )
        }
        let isWrite = request.method != .get && request.method != .head
        if isWrite, let origin = request.headers[.origin], !sameOrigin(origin, authority: authority) {
            return APIError(
                403, "cross-origin write refused: Origin \"\(origin.prefix(200))\" is not this server\(authority.map { " (http://\($0))" } ?? "")")
        }
        let isPublic = !isWrite && WebPage.isPublic(path)
        if !isPublic, let refusal = authorize(request, path: path, isWrite: isWrite) { return refusal }
        if isWrite {
            let type = request.headers[.contentType].map { Gate.mediaType($0) }
            guard let type, Gate.writeTypes.contains(type) else {
                return APIError(
                    415,
                    "a write needs Content-Type application/json or application/x-ndjson, got \(request.headers[.contentType].map { "\"\($0.prefix(100))\"" } ?? "none")"
                )
            }
        }
        return nil
    }

    /// Media types a write may declare (JSON array or JSON lines).
    static let writeTypes: Set<String> = [
        "application/json", "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"
    ]

    private func authorize(_ request: Request, path: String, isWrite: Bool) -> APIError? {
        let policy: TokenPolicy
        do { policy = try tokens.current() } catch { return error }  // damaged token file: closed
        let entries: [TokenEntry]
        switch policy {
        case .open:
            if AccessRule.openAccessAllowed(listen: site.listen, noAuth: site.noAuth) { return nil }
            return APIError(
                403,
                "the store has no tokens and this server listens on a non-loopback address (\(site.listen.addresses.joined(separator: ", "))): create a token with `strata token create`"
            )
        case .required(let e):
            entries = e
        }
        guard let header = request.headers[.authorization] else {
            if entries.isEmpty {
                return APIError(
                    401,
                    "this store requires a token but has none left (revoked, or the token file was deleted): create one with `strata token create`")
            }
            return APIError(
                401, "this store requires a token: send \"Authorization: Bearer TOKEN\" (create one with `strata token create --scope read`)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return APIError(401, "the Authorization header must be \"Bearer TOKEN\"")
        }
        let hash = Digest.sha256Hex(parts[1].trimmingCharacters(in: .whitespaces))
        var match: TokenEntry?
        for e in entries where Gate.constantTimeEqual(e.hash, hash) { match = e }
        guard let entry = match else { return APIError(401, "unknown or revoked token") }
        // MLflow's searches are POST requests that only read: a read token may make them.
        if isWrite && entry.scope != .write && !MLflowAPI.isRead(method: request.method, path: path) {
            return APIError(403, "token \"\(entry.name)\" has read scope; \(request.method.rawValue) \(path) needs a write token")
        }
        return nil
    }

    /// Why `path` is not in the one form the router and the gate agree on, or nil.
    ///
    /// Canonical: starts with `/`; no empty segment (`//`, or a trailing `/` except the root); no
    /// `.` or `..` segment; no backslash; percent-escapes are two hex digits and never encode an
    /// unreserved character, `/`, `\`, or a control character.
    static func nonCanonical(_ path: String) -> String? {
        let b = Array(path.utf8)
        guard b.first == UInt8(ascii: "/") else { return "it must start with /" }
        if b.count == 1 { return nil }
        if b.last == UInt8(ascii: "/") { return "trailing /" }
        var segments: [ArraySlice<UInt8>] = []
        var start = 1
        for i in 1...b.count where i == b.count || b[i] == UInt8(ascii: "/") {
            segments.append(b[start..<i])
            start = i + 1
        }
        for s in segments {
            if s.isEmpty { return "empty segment //" }
            if s.elementsEqual(".".utf8) || s.elementsEqual("..".utf8) { return "dot segment" }
        }
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\\") { return "backslash" }
            if c < 0x21 || c == 0x7f { return "control character or space" }
            if c == UInt8(ascii: "%") {
                guard i + 2 < b.count, let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) else { return "bad percent-escape" }
                let v = hi << 4 | lo
                let unreserved =
                    (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5a) || (v >= 0x61 && v <= 0x7a)
                    || v == 0x2d || v == 0x2e || v == 0x5f || v == 0x7e
                if unreserved || v == 0x2f || v == 0x5c || v < 0x20 || v == 0x7f { return "needless or unsafe percent-escape" }
                i += 3
                continue
            }
            i += 1
        }
        return nil
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// `host[:port]` → (lower-case host without brackets or a final dot, port text or nil).
    static func splitAuthority(_ a: String) -> (host: String, port: Substring?)? {
        if a.hasPrefix("[") {
            guard let close = a.firstIndex(of: "]") else { return nil }
            let host = String(a[a.index(after: a.startIndex)..<close])
            let rest = a[a.index(after: close)...]
            if rest.isEmpty { return (host.lowercased(), nil) }
            guard rest.first == ":" else { return nil }
            return (host.lowercased(), rest.dropFirst())
        }
        let parts = a.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (normalHostName(String(parts[0])), parts.count == 2 ? parts[1] : nil)
    }

    static func normalHostName(_ h: String) -> String {
        var h = h.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h.hasSuffix(".") { h.removeLast() }
        return h
    }

    /// True when `Host` names this server: `localhost`, an IP literal (which no DNS rebinding can
    /// produce), `--host` or an `--allow-host` name; with a port, only the bound one.
    func hostAccepted(_ authority: String) -> Bool {
        guard let (host, port) = Gate.splitAuthority(authority), !host.isEmpty else { return false }
        if let port {
            guard !port.isEmpty, port.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let p = Int(port), p == site.port else { return false }
        }
        return site.names.contains(host) || ListenAddress.isIPLiteral(host)
    }

    /// True when `origin` is `http://` + the request's `Host` (same name, same port).
    func sameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let authority, origin.lowercased().hasPrefix("http://") else { return false }
        guard let o = Gate.splitAuthority(String(origin.dropFirst(7))), let h = Gate.splitAuthority(authority) else { return false }
        return o.host == h.host && Int(o.port ?? "80") == Int(h.port ?? "80")
    }

    static func mediaType(_ value: String) -> String {
        value.prefix(while: { $0 != ";" }).trimmingCharacters(in: .whitespaces).lowercased()
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}

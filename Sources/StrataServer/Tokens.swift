import Foundation
import Hummingbird
import Strata

#if canImport(Glibc)
import Glibc
#endif

/// What a token may do: `read` answers GET requests; `write` also ingests.
public enum TokenScope: String, Sendable, CaseIterable {
    case read, write
}

/// One line of the token file (the token itself is never stored, only its SHA-256).
public struct TokenEntry: Sendable, Hashable {
    public var scope: TokenScope
    /// Lower-case hex SHA-256 of the token text.
    public var hash: String
    /// Milliseconds since 1970.
    public var created: Int64
    public var name: String
}

/// API tokens of a store, kept hashed in `STORE/tokens` (format in docs/API.md):
///
/// ```
/// # strata tokens v1: scope<TAB>sha256-hex<TAB>created-ms<TAB>name
/// write	9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08	1760000000000	ci
/// ```
///
/// A token is `strata_` followed by 40 hex digits (160 random bits); it is printed once by
/// `strata token create` and cannot be recovered from the file.
public enum Tokens {
    static let header = "# strata tokens v1: scope<TAB>sha256-hex<TAB>created-ms<TAB>name\n"

    public static func path(store: String) -> String { store + "/tokens" }

    /// Reads the token file; empty when there is none.
    public static func list(store: String) throws(APIError) -> [TokenEntry] {
        let p = path(store: store)
        guard FileManager.default.fileExists(atPath: p) else { return [] }
        guard let data = FileManager.default.contents(atPath: p) else {
            throw APIError(500, "cannot read the token file \(p)")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: p)
    }

    static func parse(_ text: String, path: String) throws(APIError) -> [TokenEntry] {
        var out: [TokenEntry] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4, let scope = TokenScope(rawValue: String(f[0])), f[1].count == 64, let created = Int64(f[2]) else {
                throw APIError(500, "token file \(path) line \(n + 1) is damaged (expected scope, hash, created, name separated by tabs)")
            }
            out.append(TokenEntry(scope: scope, hash: String(f[1]), created: created, name: String(f[3])))
        }
        return out
    }

    /// Creates a token and appends its hash to the token file (one `write` with `O_APPEND`, so two
    /// concurrent creations never lose a line). Returns the token text: the only time it is shown.
    public static func create(store: String, scope: TokenScope, name: String? = nil) throws(APIError) -> (token: String, entry: TokenEntry) {
        var rng = SystemRandomNumberGenerator()
        let hexDigits = Array("0123456789abcdef".utf8)
        var token = "strata_"
        for _ in 0..<20 {
            let b = UInt8.random(in: 0...255, using: &rng)
            token += String(decoding: [hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]], as: UTF8.self)
        }
        let created = Int64(Date().timeIntervalSince1970 * 1000)
        let label = name ?? "token-\(created)"
        if label.isEmpty || label.utf8.count > 200 || label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw APIError(400, "token name must be 1 to 200 bytes without tabs, newlines or control characters", field: "name")
        }
        let entry = TokenEntry(scope: scope, hash: SHA256.hex(token), created: created, name: label)
        let p = path(store: store)
        let fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { throw APIError(500, "cannot open \(p): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        var line = ""
        if fstat(fd, &st) == 0 && st.st_size == 0 { line += header }
        line += "\(scope.rawValue)\t\(entry.hash)\t\(created)\t\(label)\n"
        let bytes = Array(line.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count { throw APIError(500, "cannot write \(p): \(String(cString: strerror(errno)))") }
        fsync(fd)
        return (token, entry)
    }

    /// Removes the tokens named `name` (or whose hash starts with `name`, at least 8 hex digits).
    /// Returns how many were removed. The file is rewritten atomically (temporary file + rename).
    public static func revoke(store: String, name: String) throws(APIError) -> Int {
        let all = try list(store: store)
        let keep = all.filter { !($0.name == name || (name.count >= 8 && $0.hash.hasPrefix(name.lowercased()))) }
        let removed = all.count - keep.count
        if removed == 0 { return 0 }
        let p = path(store: store)
        var text = header
        for e in keep { text += "\(e.scope.rawValue)\t\(e.hash)\t\(e.created)\t\(e.name)\n" }
        let tmp = p + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw APIError(500, "cannot write \(tmp)")
        }
        if rename(tmp, p) != 0 { throw APIError(500, "cannot replace \(p): \(String(cString: strerror(errno)))") }
        return removed
    }
}

/// The server's view of the token file, re-read whenever the file changes (checked with `stat`
/// at most every 250 ms), so `strata token create` and `revoke` take effect without a restart.
final class TokenCache: @unchecked Sendable {
    // @unchecked Sendable: all state is guarded by `lock`.
    private let path: String
    private let lock = NSLock()
    private var byHash: [String: TokenEntry] = [:]
    private var signature: (Int, Int, Int) = (-1, -1, -1)
    private var checkedAt: UInt64 = 0
    private var loadError: APIError?

    init(store: String) { path = Tokens.path(store: store) }

    /// The tokens now in force (empty: the store has none and the API is open).
    func current() throws(APIError) -> [String: TokenEntry] {
        lock.lock()
        defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        if checkedAt != 0 && now &- checkedAt < 250_000_000 {
            if let loadError { throw loadError }
            return byHash
        }
        checkedAt = now
        var st = stat()
        let sig: (Int, Int, Int)
        if stat(path, &st) == 0 {
            sig = (Int(st.st_size), Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec), Int(st.st_ino))
        } else {
            sig = (0, 0, 0)
        }
        if sig != signature {
            signature = sig
            do {
                let store = String(path.dropLast("/tokens".count))
                let entries = try Tokens.list(store: store)
                byHash = Dictionary(entries.map { ($0.hash, $0) }, uniquingKeysWith: { a, _ in a })
                loadError = nil
            } catch {
                // A damaged token file locks the API rather than opening it.
                loadError = error
                throw error
            }
        }
        if let loadError { throw loadError }
        return byHash
    }

    /// Forces a re-read on the next request (tests).
    func invalidate() {
        lock.lock()
        checkedAt = 0
        signature = (-1, -1, -1)
        lock.unlock()
    }
}

/// Checks `Authorization: Bearer TOKEN` on `/api/` requests when the store has tokens:
/// 401 without a known token, 403 for a read token on a write.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        let known: [String: TokenEntry]
        do { known = try tokens.current() } catch { return errorResponse(error) }
        if known.isEmpty { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            return errorResponse(APIError(401, "this store requires a token: send \"Authorization: Bearer TOKEN\" (create one with `strata token create --scope read`)"))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return errorResponse(APIError(401, "the Authorization header must be \"Bearer TOKEN\""))
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        let hash = SHA256.hex(token)
        var match: TokenEntry?
        for (h, e) in known where constantTimeEqual(h, hash) { match = e }
        guard let entry = match else { return errorResponse(APIError(401, "unknown or revoked token")) }
        let isWrite = request.method != .get && request.method != .head
        if isWrite && entry.scope != .write {
            return errorResponse(APIError(403, "token \"\(entry.name)\" has read scope; \(request.method.rawValue) \(request.uri.path) needs a write token"))
        }
        return try await next(request, context)
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}

func errorResponse(_ e: APIError) -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if e.status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"strata\"" }
    return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: e.json)))
}

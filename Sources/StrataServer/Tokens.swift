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

/// What the token files of a store say about access to its API (the rule is in docs/SECURITY.md).
public enum TokenPolicy: Sendable, Equatable {
    /// The store never had a token (neither `tokens` nor `tokens.required` exists): the API is open,
    /// to loopback clients only unless the server was started with `--no-auth`.
    case open
    /// The store has or once had tokens: every request except `GET /` and `GET /health` needs one
    /// of these. An empty list (every token revoked, or `tokens` deleted) locks the API.
    case required([TokenEntry])
}

/// API tokens of a store, kept hashed in `STORE/tokens` (format in docs/API.md):
///
/// ```
/// # strata tokens v1: scope<TAB>sha256-hex<TAB>created-ms<TAB>name
/// write	9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08	1760000000000	ci
/// ```
///
/// A token is `strata_` followed by 40 hex digits (160 random bits); it is printed once by
/// `strata token create` and cannot be recovered from the file. Names are unique.
///
/// The first `create` also writes `STORE/tokens.required`, a marker that the store has had tokens:
/// while it (or `tokens`) exists the API stays closed, even with no token left. Both files must be
/// regular files (never followed if they are symbolic links), and `create`/`revoke` serialise on an
/// exclusive `flock` of the marker.
public enum Tokens {
    static let header = "# strata tokens v1: scope<TAB>sha256-hex<TAB>created-ms<TAB>name\n"
    static let markerText =
        "strata: this store has had API tokens, so its API requires one (docs/SECURITY.md).\n"
        + "Deleting this file and `tokens` together reopens the API to loopback clients.\n"

    public static func path(store: String) -> String { store + "/tokens" }
    /// The marker that the store has had tokens (`STORE/tokens.required`).
    public static func markerPath(store: String) -> String { store + "/tokens.required" }

    /// Reads the token file; empty when there is none.
    public static func list(store: String) throws(APIError) -> [TokenEntry] {
        try readEntries(store: store) ?? []
    }

    /// The access rule the token files give: fails (500) when either file is unreadable, damaged or
    /// not a regular file, so a broken file locks the API instead of opening it.
    public static func policy(store: String) throws(APIError) -> TokenPolicy {
        let marker = markerPath(store: store)
        let st: FileStatus?
        do throws(StrataError) { st = try Sys.status(marker, followLinks: false) } catch {
            throw APIError(500, "cannot check \(marker): \(reason(error))")
        }
        if let st, st.kind != .file {
            throw APIError(500, "\(marker) is not a regular file (a symbolic link?): the API stays locked until it is one")
        }
        let hasMarker = st != nil
        if let entries = try readEntries(store: store) { return .required(entries) }
        return hasMarker ? .required([]) : .open
    }

    /// The entries of the token file, or nil when it does not exist.
    static func readEntries(store: String) throws(APIError) -> [TokenEntry]? {
        let p = path(store: store)
        let fd: Int32
        do throws(StrataError) {
            fd = try Sys.open(p, O_RDONLY | O_NOFOLLOW)
        } catch {
            if error.errno == ENOENT { return nil }
            if error.errno == ELOOP { throw APIError(500, "token file \(p) is a symbolic link; it must be a regular file") }
            throw APIError(500, "cannot read the token file \(p): \(reason(error))")
        }
        defer { Sys.close(fd) }
        guard (try? Sys.status(fd, p))?.kind == .file else {
            throw APIError(500, "token file \(p) is not a regular file")
        }
        let data: [UInt8]
        do throws(StrataError) { data = try Sys.readAll(fd, p) } catch {
            throw APIError(500, "cannot read the token file \(p): \(reason(error))")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw APIError(500, "token file \(p) is damaged (not UTF-8)")
        }
        return try parse(text, path: p)
    }

    static func parse(_ text: String, path: String) throws(APIError) -> [TokenEntry] {
        var out: [TokenEntry] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4, let scope = TokenScope(rawValue: String(f[0])), f[1].count == 64,
                f[1].utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }), let created = Int64(f[2])
            else {
                throw APIError(500, "token file \(path) line \(n + 1) is damaged (expected scope, hash, created, name separated by tabs)")
            }
            out.append(TokenEntry(scope: scope, hash: String(f[1]), created: created, name: String(f[3])))
        }
        return out
    }

    /// Creates a token and appends its hash to the token file. Returns the token text: the only time
    /// it is shown. Refuses a name already in use, and a token file or marker that is a symbolic link.
    public static func create(store: String, scope: TokenScope, name: String? = nil) throws(APIError) -> (token: String, entry: TokenEntry) {
        var rng = SystemRandomNumberGenerator()
        let hexDigits = Array("0123456789abcdef".utf8)
        var token = "strata_"
        for _ in 0..<20 {
            let b = UInt8.random(in: 0...255, using: &rng)
            token += String(decoding: [hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]], as: UTF8.self)
        }
        let created = Clock.milliseconds()
        let hash = Digest.sha256Hex(token)
        let label = name ?? "token-\(hash.prefix(8))"
        if label.isEmpty || label.utf8.count > 200 || label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw APIError(400, "token name must be 1 to 200 bytes without tabs, newlines or control characters", field: "name")
        }
        let entry = TokenEntry(scope: scope, hash: hash, created: created, name: label)
        try withLock(store: store) { () throws(APIError) in
            let existing = try readEntries(store: store) ?? []
            if existing.contains(where: { $0.name == label }) {
                throw APIError(
                    409, "a token named \"\(label)\" already exists (names are unique: revoke it first, or choose another --name)", field: "name")
            }
            let p = path(store: store)
            let (fd, size) = try openRegularFile(p, O_WRONLY | O_APPEND, named: "token file \(p)")
            defer { Sys.close(fd) }
            var line = size == 0 ? header : ""
            line += "\(scope.rawValue)\t\(entry.hash)\t\(created)\t\(label)\n"
            try writeAndSync(fd, line, path: p)
            try syncDirectory(store)
        }
        return (token, entry)
    }

    /// Revokes one token: the one named exactly `name`, else the one whose hash starts with `name`
    /// (8+ hex digits). Refuses when no token or more than one matches. The file is rewritten
    /// atomically (temporary file + rename); the API stays closed even when no token is left.
    @discardableResult
    public static func revoke(store: String, name: String) throws(APIError) -> TokenEntry {
        // A store that never had tokens has none to revoke (and must not get the marker from a typo).
        if try policy(store: store) == .open { throw APIError(404, "no token named \"\(name)\" (the store has no tokens)") }
        return try withLock(store: store) { () throws(APIError) -> TokenEntry in
            let all = try readEntries(store: store) ?? []
            var matches = all.indices.filter { all[$0].name == name }
            if matches.count > 1 {
                throw APIError(
                    409,
                    "\(matches.count) tokens are named \"\(name)\" (made before names were unique): revoke one by its hash prefix from `strata token list`"
                )
            }
            if matches.isEmpty, name.count >= 8, name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) })
            {
                matches = all.indices.filter { all[$0].hash.hasPrefix(name.lowercased()) }
                if matches.count > 1 { throw APIError(409, "hash prefix \(name) matches \(matches.count) tokens: give more digits") }
            }
            guard let i = matches.first else { throw APIError(404, "no token named \"\(name)\"") }
            var text = header
            for (j, e) in all.enumerated() where j != i { text += "\(e.scope.rawValue)\t\(e.hash)\t\(e.created)\t\(e.name)\n" }
            let p = path(store: store)
            let tmp = p + ".tmp-\(Sys.pid)"
            try? Sys.unlink(tmp)
            let fd: Int32
            do throws(StrataError) { fd = try Sys.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600) } catch {
                throw APIError(500, "cannot create \(tmp): \(reason(error))")
            }
            do throws(APIError) {
                defer { Sys.close(fd) }
                try writeAndSync(fd, text, path: tmp)
            } catch {
                try? Sys.unlink(tmp)
                throw error
            }
            do throws(StrataError) { try Sys.rename(tmp, p) } catch {
                try? Sys.unlink(tmp)
                throw APIError(500, "cannot replace \(p): \(reason(error))")
            }
            try syncDirectory(store)
            return all[i]
        }
    }

    /// Runs `body` holding an exclusive `flock` on the marker `STORE/tokens.required`, creating the
    /// marker first if needed (so a store that gets a token is marked before the token exists).
    static func withLock<T>(store: String, _ body: () throws(APIError) -> T) throws(APIError) -> T {
        let m = markerPath(store: store)
        let (fd, size) = try openRegularFile(m, O_RDWR, named: m)
        defer { Sys.close(fd) }
        do throws(StrataError) { try Sys.lockExclusive(fd, m) } catch {
            throw APIError(500, "cannot lock \(m): \(reason(error))")
        }
        if size == 0 {
            try writeAndSync(fd, markerText, path: m)
            try syncDirectory(store)
        }
        return try body()
    }

    /// Opens (creating, mode 0600) the regular file `path` for writing without following a
    /// symbolic link: a link or anything but a regular file is refused. `name` is how errors call it.
    private static func openRegularFile(_ path: String, _ flags: Int32, named name: String) throws(APIError) -> (fd: Int32, size: Int) {
        let fd: Int32
        do throws(StrataError) { fd = try Sys.open(path, flags | O_CREAT | O_NOFOLLOW, 0o600) } catch {
            if error.errno == ELOOP { throw APIError(500, "\(name) is a symbolic link; refusing to write through it") }
            throw APIError(500, "cannot open \(path): \(reason(error))")
        }
        guard let st = try? Sys.status(fd, path), st.kind == .file else {
            Sys.close(fd)
            throw APIError(500, "\(name) is not a regular file")
        }
        return (fd, st.size)
    }

    /// Writes all of `text` and syncs it to the disk: a failed write or fsync is an error (500).
    static func writeAndSync(_ fd: Int32, _ text: String, path: String) throws(APIError) {
        do throws(StrataError) { try Sys.writeAll(fd, Array(text.utf8), path) } catch {
            throw APIError(500, "cannot write \(path): \(reason(error))")
        }
        do throws(StrataError) { try Sys.fsync(fd, path) } catch {
            throw APIError(500, "cannot sync \(path): \(reason(error))")
        }
    }

    /// Makes a new or renamed entry of `dir` durable.
    private static func syncDirectory(_ dir: String) throws(APIError) {
        do throws(StrataError) { try Sys.fsyncDirectory(dir) } catch {
            throw APIError(500, "cannot sync the directory \(dir): \(reason(error))")
        }
    }

    /// The system's sentence for a failed call (as strerror), else the error's message.
    static func reason(_ e: StrataError) -> String { e.errno.map(Sys.reason) ?? e.message }
}

/// The server's view of the token files, re-read whenever either changes (checked with `lstat`
/// at most every 250 ms), so `strata token create` and `revoke` take effect without a restart.
final class TokenCache: @unchecked Sendable {
    // @unchecked Sendable: all state is guarded by `lock`.
    private let store: String
    private let lock = Lock()
    private var policy: TokenPolicy = .open
    private var signature: [Int] = []
    private var checkedAt: UInt64 = 0
    private var loadError: APIError?

    init(store: String) { self.store = store }

    /// The access rule now in force; throws (the API fails closed) while a token file is damaged.
    func current() throws(APIError) -> TokenPolicy {
        try lock.withLock { () throws(APIError) -> TokenPolicy in
            let now = Clock.monotonicNanoseconds()
            if checkedAt == 0 || now &- checkedAt >= 250_000_000 {
                checkedAt = now
                var sig: [Int] = []
                for p in [Tokens.path(store: store), Tokens.markerPath(store: store)] {
                    do throws(StrataError) {
                        if let st = try Sys.status(p, followLinks: false) {
                            sig += [st.size, Int(st.modifiedNs), Int(truncatingIfNeeded: st.inode), Int(st.mode)]
                        } else {
                            sig += [-1, Int(ENOENT)]
                        }
                    } catch {
                        sig += [-1, Int(error.errno ?? -1)]
                    }
                }
                if sig != signature || loadError != nil {
                    signature = sig
                    do throws(APIError) {
                        policy = try Tokens.policy(store: store)
                        loadError = nil
                    } catch {
                        loadError = error
                    }
                }
            }
            if let loadError { throw loadError }
            return policy
        }
    }

    /// Forces a re-read on the next request (tests).
    func invalidate() {
        lock.withLock {
            checkedAt = 0
            signature = []
        }
    }
}

func errorResponse(_ e: APIError) -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if e.status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"strata\"" }
    return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: e.json)))
}

// Unsafe pointer code: walks the `addrinfo` list of getaddrinfo(3) and reads raw address bytes.
import Strata

#if canImport(Glibc)
import Glibc
#endif

/// The address a server binds, resolved once (the loopback rule is judged on what is bound, not on
/// the text of `--host`).
public struct ListenAddress: Sendable, Equatable {
    /// `--host` as given.
    public let host: String
    /// Every address `host` resolves to, numeric; the server binds the first.
    public let addresses: [String]

    /// True when every resolved address is loopback (127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104).
    public var isLoopback: Bool { !addresses.isEmpty && addresses.allSatisfy(ListenAddress.isLoopbackLiteral) }

    public init(host: String, addresses: [String]) {
        self.host = host
        self.addresses = addresses
    }

    /// Resolves `host` with `getaddrinfo` (names, `127.1`, `::ffff:127.0.0.1`, `0.0.0.0` all as the
    /// system resolves them).
    public static func resolve(_ host: String) throws(APIError) -> ListenAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &res)
        guard rc == 0, let first = res else {
            throw APIError(400, "cannot resolve --host \"\(host)\": \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(a.pointee.ai_addr, a.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(s) { out.append(s) }
            }
            p = a.pointee.ai_next
        }
        if out.isEmpty { throw APIError(400, "--host \"\(host)\" resolves to no address") }
        return ListenAddress(host: host, addresses: out)
    }

    /// `resolve`, or (when it fails) an unresolved address that counts as non-loopback.
    static func resolveOrUnknown(_ host: String) -> ListenAddress {
        (try? resolve(host)) ?? ListenAddress(host: host, addresses: [])
    }

    static func isIPLiteral(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }

    static func isLoopbackLiteral(_ s: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, s, &v6) == 1 else { return false }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }  // ::1
        return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff && b[12] == 127  // ::ffff:127/104
    }
}

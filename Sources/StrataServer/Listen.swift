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
        let out: [String]
        switch AddressInfo.numericAddresses(host) {
        case .success(let found): out = found
        case .failure(let why): throw APIError(400, "cannot resolve --host \"\(host)\": \(why.message)")
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
        guard let b = AddressInfo.ipv6Bytes(s) else { return false }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }  // ::1
        return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff && b[12] == 127  // ::ffff:127/104
    }
}

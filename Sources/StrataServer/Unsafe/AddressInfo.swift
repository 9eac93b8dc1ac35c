// Unsafe pointer code of the server, kept to this file: the `addrinfo` list of getaddrinfo(3) and
// the raw bytes of an `in6_addr`.
//
// Invariants: the list returned by a successful `getaddrinfo` is walked through `ai_next` until
// nil and freed once (`defer`), and no pointer into it outlives the call; `getnameinfo` writes at
// most the `NI_MAXHOST` bytes of the array it is given, NUL-terminated; an `in6_addr` is 16 bytes
// and is copied out whole. Covered by `AccessRuleTests` (Tests/StrataServerTests/SecurityTests.swift: `ListenAddress.resolve` of `--host`
// names, IPv4, IPv6 and mapped forms).
#if canImport(Glibc)
import Glibc
#endif

enum AddressInfo {
    /// Why `getaddrinfo` failed (`gai_strerror`).
    struct Failure: Error { var message: String }

    /// Every address `host` resolves to for a stream socket, as numeric text, without repeats.
    static func numericAddresses(_ host: String) -> Result<[String], Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &res)
        guard rc == 0, let first = res else { return .failure(Failure(message: String(cString: gai_strerror(rc)))) }
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
        return .success(out)
    }

    /// The 16 bytes of an IPv6 literal, or nil when `s` is not one.
    static func ipv6Bytes(_ s: String) -> [UInt8]? {
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, s, &v6) == 1 else { return nil }
        return withUnsafeBytes(of: v6) { Array($0) }
    }
}

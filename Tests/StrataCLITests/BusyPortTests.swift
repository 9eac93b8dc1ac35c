import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct BusyPort {
    /// A port another process listens on is named as such, not as NIO's bind error.
    @Test func aBusyPortIsNamed() throws {
        let s = Scratch()
        #expect(try strata(["log", "r", "--create", "--step", "1", "x=1"], store: s.store).code == 0)
        // Hold a listening socket on a free loopback port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let r = try strataBounded(["serve", "--store", s.store, "--host", "127.0.0.1", "--port", String(port)])
        #expect(r.code == 1)
        #expect(
            r.err.hasSuffix("strata: port \(port) is in use on 127.0.0.1 (choose another with --port, or --port 0 for any free port)\n"), "\(r.err)")
        #expect(!r.err.contains("errno"), "\(r.err)")
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataInterop
// TempDir and builtProduct, shared by every test target.
@_exported import StrataTestSupport

@testable import StrataServer

#if canImport(Glibc)
import Glibc
#endif

/// A fresh store, open, in a directory removed at the end of the test.
final class TempStore: Sendable {
    let path: String
    let store: Store
    private let dir = TempDir("strata-server")
    init() throws {
        path = dir.store
        store = try Store.open(at: path)
    }
    deinit {
        try? store.close()
    }
}

/// Parses a JSON response body into Foundation-like values (objects `[String: Any]`, integers
/// `Int`, other numbers `Double`) with the server's own scanner: Foundation's JSON parser on Linux
/// does not round every double correctly, and these tests compare bit-exactly.
func json(_ body: ByteBuffer) throws -> [String: Any] { try json(Array(body.readableBytesView)) }

func json(_ bytes: [UInt8]) throws -> [String: Any] {
    var s = JSONScanner(bytes)
    let v = try s.value()
    guard let obj = plain(v) as? [String: Any] else {
        throw TestFailure("body is not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }
    return obj
}

func plain(_ v: JSONValue) -> Any {
    switch v {
    case .null: return NSNull()
    case .bool(let b): return b
    case .number(let d, let i): return i.map { Int($0) as Any } ?? d
    case .string(let s): return s
    case .bigInteger(let t): return t
    case .array(let a): return a.map(plain)
    case .object(let kv): return Dictionary(kv.map { ($0.0, plain($0.1)) }, uniquingKeysWith: { _, b in b })
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

/// Headers of a JSON write (the server refuses writes without a JSON content type).
let jsonType: HTTPFields = [.contentType: "application/json"]

/// JSON lines for `runs` runs × `steps` steps of `train/loss` and `acc`, with params lr and seed.
func sampleBatch(runs: [String], steps: Range<Int>, t0: Int64 = 1_760_000_000_000) -> String {
    var lines: [String] = []
    for (i, r) in runs.enumerated() {
        lines.append(#"{"run": "\#(r)", "params": {"lr": \#(i % 2 == 0 ? "0.001" : "0.01"), "seed": \#(i)}, "tags": ["sweep"]}"#)
        for s in steps {
            let loss = 1.0 / Double(s + 1) + Double(i) * 0.01
            lines.append(
                #"{"run": "\#(r)", "step": \#(s), "time": \#(t0 + Int64(s) * 100), "metrics": {"train/loss": \#(loss), "acc": \#(Double(s) / 1000)}}"#
            )
        }
    }
    return lines.joined(separator: "\n") + "\n"
}

/// A minimal blocking HTTP/1.1 client over a TCP socket (one connection per call), for the live
/// tests: many of them run truly in parallel on their own threads.
enum RawHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] { try StrataServerTests.json(body) }
    }

    static func request(port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        defer { close(fd) }
        guard connectLoopback(fd, port: port) == 0 else { throw TestFailure("connect to port \(port) failed: errno \(errno)") }
        var all = ["Host": "127.0.0.1:\(port)", "Connection": "close", "Content-Length": "\(body.count)"]
        if method == "POST" { all["Content-Type"] = "application/x-ndjson" }
        for (k, v) in headers { all[k] = v }
        var head = "\(method) \(path) HTTP/1.1\r\n"
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + body)
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; throw TestFailure("recv failed: errno \(errno)") }
            if n == 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        return try parse(data)
    }

    /// Parses one response (status line, headers, body; chunked bodies are decoded).
    static func parse(_ data: [UInt8]) throws -> Reply {
        guard let split = find(data, [13, 10, 13, 10]) else { throw TestFailure("no header end in reply") }
        let headText = String(decoding: data[0..<split], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line") }
        var hs: [String: String] = [:]
        for l in lines {
            if let c = l.firstIndex(of: ":") { hs[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces) }
        }
        var bodyBytes = Array(data[(split + 4)...])
        if hs["transfer-encoding"]?.lowercased() == "chunked" { bodyBytes = try dechunk(bodyBytes) }
        return Reply(status: status, headers: hs, body: bodyBytes)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw TestFailure("send failed: errno \(errno)") }
            off += n
        }
    }

    private static func find(_ data: [UInt8], _ pat: [UInt8]) -> Int? {
        guard data.count >= pat.count else { return nil }
        for i in 0...(data.count - pat.count) where data[i] == pat[0] && Array(data[i..<(i + pat.count)]) == pat { return i }
        return nil
    }

    private static func dechunk(_ b: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            guard let lineEnd = find(Array(b[i...]), [13, 10]) else { throw TestFailure("bad chunk") }
            let sizeText = String(decoding: b[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText, radix: 16) else { throw TestFailure("bad chunk size") }
            i += lineEnd + 2
            if size == 0 { break }
            out.append(contentsOf: b[i..<(i + size)])
            i += size + 2
        }
        return out
    }
}

/// Connects the TCP socket `fd` to 127.0.0.1:`port`; returns `connect`'s result.
func connectLoopback(_ fd: Int32, port: Int) -> Int32 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// Threads of their own for the in-process servers of live tests (`app.test(.live)`), as a task
/// executor: run under ``withServerThreads(_:)``, a server's tasks (accepting connections,
/// parsing requests, answering them) never wait for the cooperative thread pool, which the test
/// runner shares with every other test and which long synchronous tests can hold for many seconds
/// (a live test's client, on a thread of its own, then timed out waiting for an answer).
final class ServerThreads: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs` is only touched under `condition`.
    static let shared = ServerThreads(count: 4)
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(count: Int) {
        for i in 0..<count {
            let t = Thread { [unowned self] in self.work() }
            t.name = "test-server-\(i)"
            t.start()
        }
    }

    func enqueue(_ job: UnownedJob) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `body` (a live server test) with its tasks on ``ServerThreads``.
func withServerThreads<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(ServerThreads.shared) { try await body() }
}

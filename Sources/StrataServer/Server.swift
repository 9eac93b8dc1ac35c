import Foundation
import Hummingbird
import Strata

/// The HTTP server of `strata serve`: ingest and query API (docs/API.md) and the web page at `/`.
public enum StrataServer {
    /// Largest accepted request body (16 MiB); a larger one is answered 413.
    public static let defaultMaxBodyBytes = 16 << 20

    /// Builds the application serving `store`: used by `strata serve` and by the tests.
    ///
    /// - Parameters:
    ///   - maxBodyBytes: request bodies over this size are refused with 413.
    ///   - onStarted: called with the bound port once the server listens (useful with port 0).
    public static func buildApplication(store: Store, host: String = "127.0.0.1", port: Int = 7070,
                                        maxBodyBytes: Int = defaultMaxBodyBytes,
                                        onStarted: (@Sendable (Int) async -> Void)? = nil) -> some ApplicationProtocol {
        let api = API(store: store, maxBodyBytes: maxBodyBytes)
        let router = Router()
        router.middlewares.add(AuthMiddleware(tokens: api.tokens))
        router.get("/health") { _, _ in "ok" }
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.post("/api/ingest") { request, context in await api.wrap { try await api.ingest(request, context: context) } }
        router.get("/api/runs") { request, _ in await api.wrap { try await api.runs(request) } }
        router.get("/api/runs/{run}") { request, context in
            await api.wrap { try await api.run(context.parameters.get("run") ?? "", series: true) }
        }
        router.get("/api/runs/{run}/series") { request, context in
            await api.wrap { try await api.run(context.parameters.get("run") ?? "", series: true, onlySeries: true) }
        }
        router.get("/api/curve") { request, _ in await api.wrap { try await api.curve(request) } }
        router.get("/api/points") { request, _ in await api.wrap { try await api.points(request) } }
        router.get("/api/rank") { request, _ in await api.wrap { try await api.rank(request) } }
        router.get("/api/band") { request, _ in await api.wrap { try await api.band(request) } }
        router.get("/api/summary") { request, _ in await api.wrap { try await api.summary(request) } }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "strata"),
            onServerRunning: { channel in
                if let onStarted { await onStarted(channel.localAddress?.port ?? port) }
            })
    }
}

/// Threads of their own for blocking store calls, off the cooperative thread pool (which has one
/// thread per core and must keep parsing requests). Queries and ingest have separate pools, so a
/// burst of large batches (CPU-bound decoding) never queues a curve query behind it: the kernel
/// time-slices the threads instead.
final class WorkerPool: @unchecked Sendable {
    // @unchecked Sendable: `jobs` is guarded by `cond`.
    private let cond = NSCondition()
    private var jobs: [() -> Void] = []

    init(name: String, threads: Int) {
        for i in 0..<threads {
            let t = Thread { [unowned self] in self.work() }
            t.name = "\(name)-\(i)"
            t.start()
        }
    }

    private func work() {
        while true {
            cond.lock()
            while jobs.isEmpty { cond.wait() }
            let job = jobs.removeFirst()
            cond.unlock()
            job()
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
            cond.lock()
            jobs.append {
                do { k.resume(returning: try body()) } catch { k.resume(throwing: error) }
            }
            cond.signal()
            cond.unlock()
        }
    }

    /// Shared by every application in the process (threads live as long as the process).
    static let queries = WorkerPool(name: "strata-query", threads: 8)
    static let ingest = WorkerPool(name: "strata-ingest", threads: 4)
}

/// Runs a blocking query on the query pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await WorkerPool.queries.run(body)
}

func jsonResponse(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// Maps library errors to HTTP: bad arguments 400, unknown runs 404, a full disk 507, anything else 500.
func apiError(_ e: StrataError) -> APIError {
    switch e.code {
    case .invalidArgument, .parse, .limitExceeded: return APIError(400, e.description)
    case .notFound: return APIError(404, e.description)
    case .closed: return APIError(503, e.description)
    case .noSpace: return APIError(507, e.description)
    default: return APIError(500, e.description)
    }
}

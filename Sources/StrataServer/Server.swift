import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOPosix
import Strata

/// The HTTP server of `strata serve`: ingest and query API (docs/API.md) and the web page at `/`.
public enum StrataServer {
    /// Largest accepted request body (16 MiB); a larger one is answered 413.
    public static let defaultMaxBodyBytes = 16 << 20

    /// Builds the application serving `store`: used by `strata serve` and by the tests.
    ///
    /// Every request passes one gate before the router (canonical path, `Host`, `Origin`, tokens,
    /// content type of writes: docs/SECURITY.md), and connections are bounded by `limits`.
    ///
    /// - Parameters:
    ///   - host: address to bind; resolved once, and the first address is bound. Whether the API may
    ///     be open without tokens is judged on the resolved addresses.
    ///   - maxBodyBytes: request bodies over this size are refused with 413.
    ///   - noAuth: serve a store without tokens to non-loopback clients (`--no-auth`).
    ///   - allowedHosts: names accepted in the `Host` header besides `localhost`, IP literals and `host`.
    ///   - onStarted: called with the bound port once the server listens (useful with port 0).
    public static func buildApplication(
        store: Store, host: String = "127.0.0.1", port: Int = 7070,
        maxBodyBytes: Int = defaultMaxBodyBytes,
        limits: ServerLimits = ServerLimits(),
        noAuth: Bool = false, allowedHosts: [String] = [],
        onStarted: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        let api = API(store: store, maxBodyBytes: maxBodyBytes)
        let listen = ListenAddress.resolveOrUnknown(host)
        let site = Gate.Site(listen: listen, port: port, noAuth: noAuth, allowedHosts: allowedHosts)
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        router.get("/") { request, _ in WebPage.response(WebPage.index, request: request) }
        for (path, asset) in WebPage.assets {
            router.get(RouterPath(path)) { request, _ in WebPage.response(asset, request: request) }
        }
        router.post("/api/ingest") { request, context in try await api.wrap { try await api.ingest(request, context: context) } }
        router.get("/api/runs") { request, _ in try await api.wrap { try await api.runs(request) } }
        router.get("/api/runs/{run}") { request, context in
            try await api.wrap { try await api.run(context.parameters.get("run") ?? "", request, series: true) }
        }
        router.post("/api/runs/{run}/fork") { request, context in
            try await api.wrap { try await api.fork(request, run: context.parameters.get("run") ?? "") }
        }
        router.get("/api/runs/{run}/series") { request, context in
            try await api.wrap { try await api.run(context.parameters.get("run") ?? "", request, series: true, onlySeries: true) }
        }
        router.get("/api/curve") { request, _ in try await api.wrap { try await api.curve(request) } }
        router.get("/api/curves") { request, _ in try await api.wrap { try await api.curves(request) } }
        router.get("/api/points") { request, _ in try await api.wrap { try await api.points(request) } }
        router.get("/api/rank") { request, _ in try await api.wrap { try await api.rank(request) } }
        router.get("/api/band") { request, _ in try await api.wrap { try await api.band(request) } }
        router.get("/api/quantiles") { request, _ in try await api.wrap { try await api.quantiles(request) } }
        router.get("/api/summary") { request, _ in try await api.wrap { try await api.summary(request) } }
        router.get("/api/compare") { request, _ in try await api.wrap { try await api.compare(request) } }
        router.get("/api/hist") { request, _ in try await api.wrap { try await api.hist(request) } }
        MLflowAPI.register(on: router, store: store, keys: api.keys, maxBodyBytes: maxBodyBytes)
        router.get("/api/export") { request, _ in try await api.wrap { try await api.export(request) } }
        // Run management, artifacts and deployments (ManageAPI.swift).
        router.post("/api/runs/{run}/{action}") { request, context in
            try await api.wrap {
                try await api.manage(request, run: context.parameters.get("run") ?? "", action: context.parameters.get("action") ?? "")
            }
        }
        router.get("/api/artifacts") { request, _ in try await api.wrap { try await api.artifacts(request) } }
        router.post("/api/deploy") { request, _ in try await api.wrap { try await api.deploy(request) } }
        router.get("/api/deployments") { request, _ in try await api.wrap { try await api.deployments(request) } }
        AlertsAPI.register(on: router, api: api)
        api.alerts.start()
        let gate = Gate(next: router.buildResponder(), tokens: api.tokens, site: site)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limits: limits)],
            idleTimeout: limits.idleTimeout)
        return Application(
            responder: gate,
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(listen.addresses.first ?? host, port: port), serverName: "strata"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                site.setPort(bound)
                if let onStarted { await onStarted(bound) }
            })
    }
}

/// Threads of their own for blocking store calls, off the cooperative thread pool (which has one
/// thread per core and must keep parsing requests). Queries and ingest have separate pools, so a
/// burst of large batches (CPU-bound decoding) never queues a curve query behind it: the kernel
/// time-slices the threads instead. Each is a `NIOThreadPool`.
enum WorkerPool {
    /// Shared by every application in the process (threads live as long as the process).
    static let queries = started(threads: 8)
    static let ingest = started(threads: 4)

    private static func started(threads: Int) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }
}

/// Runs a blocking query on the query pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await WorkerPool.queries.runIfActive(body)
}

func jsonResponse(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// A JSON answer built on a query worker (`blocking`): the handlers' one way to answer a read.
func jsonBlocking(_ body: @escaping @Sendable () throws -> [UInt8]) async throws -> Response {
    jsonResponse(try await blocking(body))
}

/// An API error as Hummingbird answers it: its status, and the JSON body
/// `{"error": {"status": …, "message": …}}` (with `WWW-Authenticate` for 401). Every error a route
/// throws becomes one of these (``init(_:maxBodyBytes:)``), so the router answers it.
struct APIFailure: HTTPResponseError {
    let error: APIError

    init(_ error: APIError) { self.error = error }

    /// Maps what a route threw: an `APIError` as it is, a `StrataError` by its code (``apiError(_:)``),
    /// NIO's too-many-bytes error of a body over the limit to 413, anything else to 500.
    init(_ thrown: any Error, maxBodyBytes: Int) {
        switch thrown {
        case let e as APIFailure: self = e
        case let e as APIError: error = e
        case let e as StrataError: error = apiError(e)
        case is NIOTooManyBytesError: error = APIError(413, "request body is larger than the limit of \(maxBodyBytes) bytes")
        default: error = APIError(500, "internal error: \(thrown)")
        }
    }

    var status: HTTPResponse.Status { .init(code: error.status) }

    func response(from request: Request, context: some RequestContext) throws -> Response { errorResponse(error) }
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

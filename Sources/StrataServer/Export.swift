import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop
import StrataParquet

// `GET /api/export?format=parquet`: one table of a Parquet export (StrataInterop's ParquetExport,
// the same code as `strata export --format parquet`) as one Parquet file, streamed.

extension API {
    /// `format=parquet` (required), `table=points|runs|artifacts|deployments` (points by default), `where=FILTER`,
    /// `metric=NAME` (repeatable, or comma-separated), `project=NAME`, `compression=zstd|lz4_raw|snappy|uncompressed`.
    /// Everything that can be refused is checked before the 200 status is sent.
    func export(_ request: Request) async throws -> Response {
        let q = Query(request)
        let format = try q.require("format")
        guard format == "parquet" else {
            throw APIError.bad("format must be parquet, got \"\(format.prefix(40))\" (JSON points: GET /api/points)", field: "format")
        }
        let table = q.string("table") ?? "points"
        guard ["points", "runs", "artifacts", "deployments"].contains(table) else {
            throw APIError.bad("table must be points, runs, artifacts or deployments, got \"\(table.prefix(40))\"", field: "table")
        }
        let compressionText = q.string("compression") ?? "zstd"
        guard let compression = ParquetCompression(rawValue: compressionText), [.zstd, .lz4Raw, .snappy, .uncompressed].contains(compression) else {
            throw APIError.bad(
                "compression must be zstd, lz4_raw, snappy or uncompressed, got \"\(compressionText.prefix(40))\"", field: "compression")
        }
        let filter = try q.filter()
        let project = q.string("project")
        var metrics = Set<String>()
        for (k, v) in request.uri.queryParameters where k == "metric" {
            for m in v.split(separator: ",") where !m.isEmpty { metrics.insert(String(m)) }
        }
        let store = self.store
        let runs: [RunInfo] = try await blocking {
            try store.runs(where: filter).filter { project == nil || $0.project == project }
        }
        var options = ParquetExportOptions()
        options.compression = compression
        options.metrics = metrics
        let pipe = ChunkPipe()
        let selected = runs, settings = options
        let body = ResponseBody { writer in
            // The export runs on a thread of its own (it blocks on the store and on the pipe's
            // credit); this task writes what it produces, a chunk at a time.
            let producer = Thread {
                do {
                    let export = try ParquetExport(store: store, runs: selected, options: settings)
                    var buffer: [UInt8] = []
                    buffer.reserveCapacity(ChunkPipe.chunkBytes)
                    let sink: ([UInt8]) throws -> Void = { bytes in
                        buffer += bytes
                        if buffer.count >= ChunkPipe.chunkBytes {
                            try pipe.send(buffer)
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                    switch table {
                    case "points": try export.writePoints(name: "points.parquet", to: sink)
                    case "artifacts": try export.writeArtifacts(name: "artifacts.parquet", to: sink)
                    case "deployments": try export.writeDeployments(name: "deployments.parquet", to: sink)
                    default: try export.writeRuns(name: "runs.parquet", to: sink)
                    }
                    if !buffer.isEmpty { try pipe.send(buffer) }
                    pipe.finish(nil)
                } catch {
                    pipe.finish(error)
                }
            }
            producer.start()
            defer { pipe.cancel() }
            for await item in pipe.stream {
                switch item {
                case .success(let bytes):
                    try await writer.write(ByteBuffer(bytes: bytes))
                    pipe.credit.signal()
                case .failure(let error):
                    // After the 200 status the only way to say "incomplete" is to cut the response.
                    throw error
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/vnd.apache.parquet",
                .contentDisposition: "attachment; filename=\"strata-\(table).parquet\""
            ],
            body: body)
    }
}

/// Hands the bytes of an export from its producer thread to the response writer, with at most
/// ``credits`` chunks in flight, so memory stays bounded however slow the client reads.
final class ChunkPipe: @unchecked Sendable {
    static let chunkBytes = 1 << 20
    static let credits = 4
    let credit = DispatchSemaphore(value: ChunkPipe.credits)
    let stream: AsyncStream<Result<[UInt8], Error>>
    private let continuation: AsyncStream<Result<[UInt8], Error>>.Continuation
    private let lock = Lock()
    private var cancelled = false

    init() { (stream, continuation) = AsyncStream.makeStream(of: Result<[UInt8], Error>.self) }

    /// Blocks until a chunk may be sent; throws when the response was abandoned.
    func send(_ bytes: [UInt8]) throws {
        credit.wait()
        if lock.withLock({ cancelled }) { throw APIError(499, "the client went away") }
        continuation.yield(.success(bytes))
    }

    func finish(_ error: Error?) {
        if let error { continuation.yield(.failure(error)) }
        continuation.finish()
    }

    /// The writer stopped: wake the producer so that it ends.
    func cancel() {
        lock.withLock { cancelled = true }
        for _ in 0..<ChunkPipe.credits { credit.signal() }
    }
}

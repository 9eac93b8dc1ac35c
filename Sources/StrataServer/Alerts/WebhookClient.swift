import NIOCore
import NIOPosix

/// Posts one JSON body to an `http://` URL and reports the answer's status code: the webhook
/// delivery of alert events. HTTP/1.1 with `Connection: close`; only the status line is read.
enum WebhookClient {
    struct Target: Sendable {
        var host: String
        var port: Int
        var path: String
        var hostHeader: String
    }

    /// Splits `http://host[:port][/path]` (already validated by `validateWebhookURL`).
    static func target(_ url: String) -> Target? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authority = String(rest.prefix { $0 != "/" })
        let path = String(rest.dropFirst(authority.count))
        var host = authority
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? 0 }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...]) ?? 0
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return Target(host: host, port: port, path: path.isEmpty ? "/" : path, hostHeader: authority)
    }

    /// Posts `body`; returns the status code, or throws when the connection fails, the answer is
    /// not HTTP or `timeout` passes first.
    static func post(_ url: String, body: [UInt8], timeout: TimeAmount = .seconds(10)) async throws -> Int {
        guard let t = target(url) else { throw WebhookError("bad webhook URL \(url)") }
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: Int.self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StatusReader(promise)) }
            }
            .connect(host: t.host, port: t.port).get()
        let timer = loop.scheduleTask(in: timeout) { promise.fail(WebhookError("no answer from \(url) within the timeout")) }
        var head = "POST \(t.path) HTTP/1.1\r\nHost: \(t.hostHeader)\r\nContent-Type: application/json\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\nUser-Agent: strata-alerts\r\n\r\n"
        var buffer = channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        channel.writeAndFlush(buffer, promise: nil)
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    /// Reads the status line of the answer.
    final class StatusReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<Int>
        var head: [UInt8] = []

        init(_ promise: EventLoopPromise<Int>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var b = unwrapInboundIn(data)
            if head.count < 4096, let bytes = b.readBytes(length: b.readableBytes) { head += bytes }
            if let end = head.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: head[..<end], as: UTF8.self)
                let parts = line.split(separator: " ")
                if parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) {
                    promise.succeed(code)
                } else {
                    promise.fail(WebhookError("not an HTTP answer: \(line.prefix(80))"))
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(WebhookError("connection closed before an answer"))
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}

struct WebhookError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

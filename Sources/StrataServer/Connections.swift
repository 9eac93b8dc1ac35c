import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Time limits on a connection (docs/SECURITY.md "Limits").
public struct ServerLimits: Sendable {
    /// A connection with no request in progress is closed after this long; the head of a request
    /// must arrive within it, a body may pause no longer than it, and a client that stops reading a
    /// response (the server cannot write) is disconnected after it. Default 60 s.
    public var idleTimeout: TimeAmount
    /// A request (head to the end of its body) must arrive within this long, or the connection is
    /// closed: bounds slow-body ("slowloris") senders. Default 120 s (16 MiB at ~1.1 Mbit/s).
    public var requestTimeout: TimeAmount
    /// After a response sent before its request body was read (413, 401, …), the rest of the body
    /// is read and dropped for at most this long, then the connection is closed. Default 5 s.
    public var lingerTimeout: TimeAmount

    public init(
        idleTimeout: TimeAmount = .seconds(60), requestTimeout: TimeAmount = .seconds(120),
        lingerTimeout: TimeAmount = .seconds(5)
    ) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.lingerTimeout = lingerTimeout
    }

    /// The limits in seconds (`strata serve --idle-timeout`, `--request-timeout`,
    /// `--linger-timeout`), rounded to the nanosecond; each must be finite and positive.
    public init(idleSeconds: Double, requestSeconds: Double, lingerSeconds: Double) {
        func amount(_ s: Double) -> TimeAmount {
            precondition(s.isFinite && s > 0 && s < 9e9, "a time limit must be finite and positive")
            return .nanoseconds(Int64((s * 1e9).rounded()))
        }
        self.init(idleTimeout: amount(idleSeconds), requestTimeout: amount(requestSeconds), lingerTimeout: amount(lingerSeconds))
    }
}

/// One per connection, between HTTP decoding and the request handlers:
///
/// - closes the connection when a request has not fully arrived `requestTimeout` after its head;
/// - closes it when the client has not taken any of a response for `idleTimeout` (the channel
///   stayed unwritable), so a reader that stalls cannot hold a connection and its buffers forever;
/// - when a response ends before its request was read to the end (an early 413 or 401), drops the
///   rest of the request body for at most `lingerTimeout` (so the client can finish sending and read
///   the answer) and then closes the connection, instead of leaving it open with the body unread.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ServerLimits
    private var headsRead = 0
    private var endsRead = 0
    private var responsesEnded = 0
    private var draining = false
    private var requestTimer: Scheduled<Void>?
    private var lingerTimer: Scheduled<Void>?
    private var stallTimer: Scheduled<Void>?

    init(limits: ServerLimits) { self.limits = limits }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if draining {
            if case .end = part {
                endsRead += 1
                if endsRead >= responsesEnded { context.close(promise: nil) }
            }
            return
        }
        switch part {
        case .head:
            headsRead += 1
            if headsRead == endsRead + 1 {
                requestTimer?.cancel()
                requestTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.requestTimeout) {
                    context.close(promise: nil)
                }
            }
        case .body:
            break
        case .end:
            endsRead += 1
            if endsRead == headsRead {
                requestTimer?.cancel()
                requestTimer = nil
            }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if draining { context.read() }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        responsesEnded += 1
        context.write(data, promise: promise)
        if endsRead < responsesEnded && !draining {
            // Answered before the request body was read: drain it briefly, then close.
            draining = true
            context.flush()
            lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.lingerTimeout) {
                context.close(promise: nil)
            }
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.idleTimeout) {
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimers() }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    private func cancelTimers() {
        requestTimer?.cancel()
        lingerTimer?.cancel()
        stallTimer?.cancel()
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}

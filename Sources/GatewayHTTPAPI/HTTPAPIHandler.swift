import GatewayClient
import NIOCore
import NIOHTTP1

/// One connection to the HTTP API: checks each request (route, token, size), runs it on the
/// backend and writes one JSON response. `HTTPServerPipelineHandler` in front of it holds
/// pipelined requests back, so at most one request per connection is in flight.
///
/// Refusals wait for the end of the request's body so the connection stays usable, except
/// 413: it is sent at once, the rest of the body is dropped unread, and the connection closes.
final class HTTPAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Collecting the body of a request that will be served.
        case reading(HTTPRequestHead, HTTPAPIRoute, ByteBuffer)
        /// Skipping the body of a refused request; the refusal goes out when it ends.
        case refusing(HTTPRequestHead, HTTPAPIResponse)
        /// 413 sent; dropping the rest of the body, then closing.
        case discardingBeforeClose
        /// Waiting for the backend.
        case serving
    }

    /// How long a client refused with 413 may go on sending before the connection is closed.
    static let discardGrace: TimeAmount = .seconds(2)
    /// How long a connection may stay silent (no request, no response) before it is closed.
    static let idleTimeout: TimeAmount = .seconds(60)

    private let backend: HTTPAPIBackend
    private let token: BearerToken
    private let maxBodyBytes: Int
    private let statistics: HTTPAPIStatistics
    private let metrics: MasterMetrics?
    private var state = State.idle
    private var closeTimer: Scheduled<Void>?

    init(backend: HTTPAPIBackend, token: String, maxBodyBytes: Int, statistics: HTTPAPIStatistics, metrics: MasterMetrics? = nil) {
        self.metrics = metrics
        self.backend = backend
        self.token = BearerToken(token)
        self.maxBodyBytes = maxBodyBytes
        self.statistics = statistics
    }

    func channelActive(context: ChannelHandlerContext) {
        statistics.openConnections += 1
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        statistics.openConnections -= 1
        closeTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): received(head, context: context)
        case .body(var chunk): received(&chunk, context: context)
        case .end: receivedEnd(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Idle while a request is served is the backend's business (it has its own timeout).
        if event is IdleStateHandler.IdleStateEvent, case .idle = state {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Request parts

    private func received(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        statistics.requests += 1
        switch HTTPAPIRoute.resolve(method: head.method, uri: head.uri) {
        case .refuse(let response):
            state = .refusing(head, response)
        case .route(let route):
            // Health tells only that the role is up and how many gateways it sees: no token, so
            // load balancers can probe it. Metrics hold counts, never a secret: no token, as on
            // metrics_listen, so Prometheus needs no credentials.
            if route != .health, route != .metrics, !token.accepts(head.headers) {
                state = .refusing(head, .unauthorized)
            } else if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBodyBytes {
                refuseTooLarge(context: context)
            } else {
                state = .reading(head, route, context.channel.allocator.buffer(capacity: 0))
            }
        }
    }

    private func received(_ chunk: inout ByteBuffer, context: ChannelHandlerContext) {
        guard case .reading(let head, let route, var body) = state else { return }
        guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else { return refuseTooLarge(context: context) }
        state = .serving  // drop the state's reference so the append does not copy
        body.writeBuffer(&chunk)
        state = .reading(head, route, body)
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        switch state {
        case .refusing(let head, let response):
            state = .serving
            respond(response, keepAlive: head.isKeepAlive, context: context)
        case .reading(let head, let route, let body):
            state = .serving
            serve(route, body: body, keepAlive: head.isKeepAlive, context: context)
        case .discardingBeforeClose:
            context.close(promise: nil)
        case .idle, .serving:
            break
        }
    }

    private func refuseTooLarge(context: ChannelHandlerContext) {
        state = .serving
        respond(.tooLarge(limit: maxBodyBytes), keepAlive: false, context: context, closeAfterwards: false)
        state = .discardingBeforeClose
        // Reading on lets the client finish its upload and see the 413 rather than a reset.
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: Self.discardGrace) { channel.close(promise: nil) }
    }

    // MARK: - Serving

    private func serve(_ route: HTTPAPIRoute, body: ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
        let backend = self.backend
        let answer: EventLoopFuture<HTTPAPIResponse>
        switch route {
        case .health:
            answer = context.eventLoop.makeFutureWithTask { await Self.health(backend) }
        case .metrics:
            guard let metrics else {
                return respond(.error(.notFound, "no metrics here"), keepAlive: keepAlive, context: context)
            }
            answer = metrics.fetch(on: context.eventLoop).map { text in
                var response = HTTPAPIResponse(status: .ok, body: .null)
                response.text = (MasterMetrics.contentType, Array(text.utf8))
                return response
            }.recover { error in
                .error(.serviceUnavailable, "the master did not give its metrics: \(error)")
            }
        case .function(let function):
            let arguments: JSONValue
            do {
                arguments = body.readableBytes == 0 ? .object([]) : try JSONValue.parse(body.readableBytesView)  // no body: no arguments
            } catch {
                return respond(
                    .error(.badRequest, "the body is not JSON: \(error.reason) at byte \(error.offset)"), keepAlive: keepAlive, context: context)
            }
            answer = context.eventLoop.makeFutureWithTask { await Self.call(backend, function, arguments) }
        }
        answer.assumeIsolated().whenSuccess { response in
            self.respond(response, keepAlive: keepAlive, context: context)
        }
    }

    private static func call(_ backend: HTTPAPIBackend, _ function: GatewayFunction, _ arguments: JSONValue) async -> HTTPAPIResponse {
        do {
            return HTTPAPIResponse(try await backend.call(function, arguments: arguments))
        } catch {
            return HTTPAPIResponse(error)
        }
    }

    private static func health(_ backend: HTTPAPIBackend) async -> HTTPAPIResponse {
        do {
            let gateways = try await backend.gatewayAddresses()
            return HTTPAPIResponse(status: .ok, body: ["status": "ok", "gateways": .int(gateways.count)])
        } catch {
            return HTTPAPIResponse(status: .serviceUnavailable, body: ["status": "unavailable", "error": .string(error.description)])
        }
    }

    private func respond(_ response: HTTPAPIResponse, keepAlive: Bool, context: ChannelHandlerContext, closeAfterwards: Bool = true) {
        guard context.channel.isActive else { return }
        var bytes: [UInt8]
        if let text = response.text {
            bytes = text.bytes
        } else {
            bytes = response.body.serialized(escaping: .minimal)
            bytes.append(UInt8(ascii: "\n"))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.text?.contentType ?? "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(bytes.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        statistics.record(response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if case .serving = state { state = .idle }
        if !keepAlive && closeAfterwards {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension HTTPAPIHandler: Sendable {}

import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Where to connect: `ws://host:port/path` or `wss://host:port/path`.
struct WebSocketTarget: Sendable {
    var host: String
    var port: Int
    var path: String
    /// Offer permessage-deflate (`--deflate`).
    var offersDeflate = false
    /// wss://: TLS (any certificate accepted: benchmarks use self-signed ones).
    var tls: NIOSSLContext?

    init(url: String) throws {
        let secure = url.hasPrefix("wss://")
        guard secure || url.hasPrefix("ws://") else { throw UsageError("only ws:// and wss:// URLs are supported: \(url)") }
        if secure {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = try NIOSSLContext(configuration: configuration)
        }
        let rest = url.dropFirst(secure ? "wss://".count : "ws://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw UsageError("the URL needs an explicit port: \(url)")
        }
        self.host = String(authority[..<colon])
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct UpgradeRefused: Error, CustomStringConvertible {
    var description: String
}

/// Sends the HTTP upgrade request when the connection opens; an HTTP response that reaches
/// this handler means the server did not upgrade.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let target: WebSocketTarget
    private let upgraded: EventLoopPromise<Channel>

    init(target: WebSocketTarget, upgraded: EventLoopPromise<Channel>) {
        self.target = target
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(target.host):\(target.port)")
        if target.offersDeflate { headers.add(name: "Sec-WebSocket-Extensions", value: PermessageDeflateClient.offer) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            upgraded.fail(UpgradeRefused(description: "HTTP \(head.status.code) instead of 101"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(UpgradeRefused(description: "connection closed during the handshake"))
        context.fireChannelInactive()
    }
}

/// Opens WebSocket connections with NIO's client upgrader and installs the caller's handler.
///
/// At most `concurrency` handshakes are in progress at once, so a 10 000-connection ramp does
/// not overflow the server's accept backlog.
struct WebSocketConnector: Sendable {
    let group: any EventLoopGroup
    let target: WebSocketTarget
    let maxFrameSize: Int

    /// Opens `count` connections; `makeHandler(index, channel)` runs on the channel's event
    /// loop once the upgrade succeeded. Returns the channels that opened, and the errors.
    func connect(
        count: Int, concurrency: Int, timeout: TimeAmount = .seconds(30),
        makeHandler: @escaping @Sendable (Int, Channel) -> ChannelHandler
    ) -> (channels: [Channel], errors: [String]) {
        let gate = DispatchSemaphore(value: max(1, concurrency))
        let done = DispatchGroup()
        let results = NIOLockedValueBox<(channels: [Channel], errors: [String])>(([], []))
        for index in 0..<count {
            gate.wait()
            done.enter()
            connectOne(timeout: timeout) { channel in makeHandler(index, channel) }.whenComplete { result in
                results.withLockedValue {
                    switch result {
                    case .success(let channel): $0.channels.append(channel)
                    case .failure(let error): $0.errors.append("\(error)")
                    }
                }
                gate.signal()
                done.leave()
            }
        }
        done.wait()
        return results.withLockedValue { $0 }
    }

    func connectOne(timeout: TimeAmount, makeHandler: @escaping @Sendable (Channel) -> ChannelHandler) -> EventLoopFuture<Channel> {
        let loop = group.next()
        let upgraded = loop.makePromise(of: Channel.self)
        let target = self.target
        let maxFrameSize = self.maxFrameSize
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = target.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    let request = UpgradeRequestHandler(target: target, upgraded: upgraded)
                    let boundRequest = NIOLoopBound(request, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: maxFrameSize, automaticErrorHandling: false,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(makeHandler(channel))
                                upgraded.succeed(channel)
                            }
                        })
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(boundRequest.value, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        bootstrap.connect(host: target.host, port: target.port).whenFailure { upgraded.fail($0) }
        let deadline = loop.scheduleTask(in: timeout) { upgraded.fail(UpgradeRefused(description: "handshake timed out")) }
        upgraded.futureResult.whenComplete { _ in deadline.cancel() }
        return upgraded.futureResult
    }
}

/// Closes every channel and waits (bounded) for them to be closed.
func closeAll(_ channels: [Channel]) {
    let closed = channels.map { channel -> EventLoopFuture<Void> in
        channel.close().recover { _ in }
    }
    if let first = channels.first {
        _ = try? EventLoopFuture.andAllComplete(closed, on: first.eventLoop).wait()
    }
}

/// Mask keys for client frames (RFC 6455 wants them unpredictable; a benchmark only needs them
/// present, and a fixed key per connection costs nothing per frame).
func randomMaskKey() -> WebSocketMaskingKey {
    WebSocketMaskingKey.random()
}

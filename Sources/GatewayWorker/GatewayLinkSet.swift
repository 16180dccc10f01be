import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOPosix

/// A worker's connections to every gateway the register lists.
///
/// Per gateway there are two TCP connections, as in GatewayWorker: the main one carries
/// WORKER_CONNECT, then events in and commands out; the query one carries request/reply pairs
/// (replies are bare length-prefixed payloads that cannot share a stream with frames).
/// A link that drops is reconnected every second while the register still lists its gateway.
/// Confined to the worker's event loop.
final class GatewayLinkSet: @unchecked Sendable {
    struct Settings: Sendable {
        var workerKey: String
        var secretKey: String
        var queryTimeout: TimeAmount
    }

    private final class Link: @unchecked Sendable {  // confined to the event loop
        let address: String
        let host: String
        let port: Int
        var main: Channel?
        var query: Channel?
        var pendingQueries = CircularBuffer<PendingQuery>()
        var wanted = true
        var loggedFailure = false

        init?(address: String) {
            guard let endpoint = try? HostPort(parsing: address) else { return nil }
            self.address = address
            self.host = endpoint.host
            self.port = endpoint.port
        }
    }

    private final class PendingQuery: @unchecked Sendable {  // confined to the event loop
        let promise: EventLoopPromise<ByteBuffer>
        var done = false
        init(promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }
    }

    private let eventLoop: EventLoop
    private let logger: Logger
    private let settings: Settings
    private let deliver: @Sendable ([PluginEvent]) -> Void
    private var links: [String: Link] = [:]
    private(set) var droppedCommands: UInt64 = 0

    init(eventLoop: EventLoop, logger: Logger, settings: Settings, deliver: @escaping @Sendable ([PluginEvent]) -> Void) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.settings = settings
        self.deliver = deliver
    }

    var connectedCount: Int { links.values.filter { $0.main != nil }.count }
    var addresses: [String] { links.keys.sorted() }

    /// Follows the register's list: connects to new gateways, drops those that left.
    func update(_ addresses: [String]) {
        let wanted = Set(addresses)
        for (address, link) in links where !wanted.contains(address) {
            link.wanted = false
            link.main?.close(promise: nil)
            link.query?.close(promise: nil)
            links[address] = nil
            logger.info("gateway left the register's list", metadata: ["gw.gateway": "\(address)"])
        }
        for address in addresses where links[address] == nil {
            guard let link = Link(address: address) else {
                logger.warning("ignoring malformed gateway address from the register: \(address)")
                continue
            }
            links[address] = link
            connectMain(link)
            connectQuery(link)
        }
    }

    func closeAll() -> EventLoopFuture<Void> {
        let closing = links.values.flatMap { link -> [EventLoopFuture<Void>] in
            link.wanted = false
            return [link.main?.close(), link.query?.close()].compactMap { $0 }
        }
        links.removeAll()
        return EventLoopFuture.whenAllComplete(closing, on: eventLoop).map { _ in }
    }

    // MARK: - Commands

    func write(_ segments: [OutgoingBatch.Segment]) {
        var touched: [ObjectIdentifier: Channel] = [:]
        func send(_ buffer: ByteBuffer, to link: Link) {
            guard let channel = link.main else {
                droppedCommands += 1
                return
            }
            channel.write(buffer, promise: nil)
            touched[ObjectIdentifier(channel)] = channel
        }
        for segment in segments {
            switch segment {
            case .gateway(let address, let buffer):
                if let link = links[address] {
                    send(buffer, to: link)
                } else {
                    droppedCommands += 1
                }
            case .all(let buffer):
                for link in links.values { send(buffer, to: link) }
            case .perGateway(let make):
                for link in links.values { send(make(link.address), to: link) }
            }
        }
        for channel in touched.values { channel.flush() }
    }

    // MARK: - Queries

    func query(_ address: String, _ request: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard let link = links[address], let channel = link.query else {
            return eventLoop.makeFailedFuture(HostError.unavailable)
        }
        let pending = PendingQuery(promise: eventLoop.makePromise(of: ByteBuffer.self))
        link.pendingQueries.append(pending)
        channel.writeAndFlush(request, promise: nil)
        eventLoop.scheduleTask(in: settings.queryTimeout) {
            guard !pending.done else { return }
            pending.done = true
            pending.promise.fail(HostError.timeout)
        }
        return pending.promise.futureResult
    }

    func queryAll(_ request: ByteBuffer) -> EventLoopFuture<[Result<ByteBuffer, Error>]> {
        let futures = links.keys.map { query($0, request) }
        return EventLoopFuture.whenAllComplete(futures, on: eventLoop)
    }

    private func replyReceived(_ payload: ByteBuffer, on link: Link) {
        guard let pending = link.pendingQueries.popFirst() else { return }
        guard !pending.done else { return }  // it timed out; the late answer is dropped in order
        pending.done = true
        pending.promise.succeed(payload)
    }

    // MARK: - Connections

    private func connectMain(_ link: Link) {
        guard link.wanted, links[link.address] === link else { return }
        let deliver = self.deliver
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: 64 << 20)),
                        WorkerEventHandler(deliver: deliver),
                    ])
                }
            }
            .connect(host: link.host, port: link.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard link.wanted else {
                        channel.close(promise: nil)
                        return
                    }
                    link.main = channel
                    link.loggedFailure = false
                    let hello = ByteBuffer.command(
                        .workerConnect,
                        body: WorkerConnectBody(
                            workerKey: self.settings.workerKey, secretKey: self.settings.secretKey,
                            extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))]
                        ).encoded())
                    channel.writeAndFlush(hello, promise: nil)
                    self.logger.info("connected to gateway", metadata: ["gw.gateway": "\(link.address)"])
                    channel.closeFuture.whenComplete { _ in
                        link.main = nil
                        guard link.wanted else { return }
                        self.logger.warning("lost gateway; reconnecting", metadata: ["gw.gateway": "\(link.address)"])
                        self.eventLoop.scheduleTask(in: .seconds(1)) { self.connectMain(link) }
                    }
                case .failure(let error):
                    if !link.loggedFailure {
                        link.loggedFailure = true
                        self.logger.warning(
                            "cannot reach gateway; retrying every second",
                            metadata: ["gw.gateway": "\(link.address)", "gw.error": "\(error)"])
                    }
                    self.eventLoop.scheduleTask(in: .seconds(1)) { self.connectMain(link) }
                }
            }
    }

    private func connectQuery(_ link: Link) {
        guard link.wanted, links[link.address] === link else { return }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(GatewayReplyDecoder(maximumLength: 64 << 20)),
                        QueryReplyHandler(onReply: { self.replyReceived($0, on: link) }),
                    ])
                }
            }
            .connect(host: link.host, port: link.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard link.wanted else {
                        channel.close(promise: nil)
                        return
                    }
                    link.query = channel
                    if !self.settings.secretKey.isEmpty {
                        // Authentication is sticky for the connection's lifetime.
                        let auth = ByteBuffer.command(
                            .gatewayClientConnect, body: GatewayClientConnectBody(secretKey: self.settings.secretKey).encoded())
                        channel.writeAndFlush(auth, promise: nil)
                    }
                    channel.closeFuture.whenComplete { _ in
                        link.query = nil
                        while let pending = link.pendingQueries.popFirst() {
                            guard !pending.done else { continue }
                            pending.done = true
                            pending.promise.fail(HostError.unavailable)
                        }
                        guard link.wanted else { return }
                        self.eventLoop.scheduleTask(in: .seconds(1)) { self.connectQuery(link) }
                    }
                case .failure:
                    self.eventLoop.scheduleTask(in: .seconds(1)) { self.connectQuery(link) }
                }
            }
    }
}

/// Collects client events from a gateway's main connection and hands them to the plugin
/// thread once per read batch.
private final class WorkerEventHandler: ChannelInboundHandler {
    typealias InboundIn = GatewayFrame

    private let deliver: @Sendable ([PluginEvent]) -> Void
    private var batch: [PluginEvent] = []

    init(deliver: @escaping @Sendable ([PluginEvent]) -> Void) {
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let event = PluginEvent(frame: unwrapInboundIn(data)) { batch.append(event) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !batch.isEmpty else { return }
        deliver(batch)
        batch.removeAll(keepingCapacity: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

private final class QueryReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let onReply: (ByteBuffer) -> Void

    init(onReply: @escaping (ByteBuffer) -> Void) {
        self.onReply = onReply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onReply(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WorkerEventHandler: Sendable {}
@available(*, unavailable)
extension QueryReplyHandler: Sendable {}

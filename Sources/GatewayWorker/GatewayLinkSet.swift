import GatewayAPI
import GatewayCore
import GatewayRuntime
import GatewayWire
import Logging
import NIOCore
import NIOPosix

/// A worker's connections to every gateway the register lists.
///
/// Per gateway there are two TCP connections, as in GatewayWorker: the main one carries
/// WORKER_CONNECT, then events in and commands out; the query one carries request/reply pairs
/// (replies are bare length-prefixed payloads that cannot share a stream with frames).
/// A link that drops is reconnected with back-off while the register still lists its gateway.
/// A gateway the register stops listing keeps its open link until that closes (as PHP's
/// BusinessWorker does): a register that restarts, or a second register still filling up, lists
/// fewer gateways for a moment, and dropping live links then would lose events in flight.
/// Gateways that really went away close their links, or fall silent and are timed out by the
/// inner heartbeat. Confined to the worker's event loop.
final class GatewayLinkSet: @unchecked Sendable {
    struct Settings: Sendable {
        var workerKey: String
        var secretKey: String
        var queryTimeout: TimeAmount
        /// Pings to gateways, and timing out gatewayd gateways that fall silent; nil: neither.
        var heartbeat: InnerHeartbeat? = nil
    }

    private final class Link: @unchecked Sendable {  // confined to the event loop
        /// The key commands are routed by.
        let address: GatewayAddress
        /// The register's text for it, for logs.
        let name: String
        let endpoint: HostPort
        var main: ReconnectingConnection?
        var query: ReconnectingConnection?
        var pendingQueries = CircularBuffer<PendingQuery>()
        /// In the register's latest list; an unlisted link is not reconnected once it closes.
        var listed = true

        init(address: GatewayAddress, name: String, endpoint: HostPort) {
            self.address = address
            self.name = name
            self.endpoint = endpoint
        }

        /// A register entry as an address to connect to; nil for one that is not IPv4 host:port.
        static func parse(_ name: String) -> (address: GatewayAddress, endpoint: HostPort)? {
            guard let endpoint = try? HostPort(parsing: name), let ipv4 = IPv4Address(endpoint.host),
                let port = UInt16(exactly: endpoint.port)
            else { return nil }
            return (GatewayAddress(ipv4: ipv4.value, port: port), endpoint)
        }

        var mainChannel: Channel? { main?.channel }
        var queryChannel: Channel? { query?.channel }

        func stop() {
            main?.stop()
            query?.stop()
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
    /// Hands events to the plugin thread; true means its queue is full (stop reading).
    private let deliver: @Sendable ([PluginEvent]) -> Bool
    private var links: [GatewayAddress: Link] = [:]
    private(set) var droppedCommands: UInt64 = 0
    /// Reading from the gateways is paused while the plugin thread catches up.
    private var readingPaused = false
    private(set) var backPressurePauses: UInt64 = 0
    /// Called when a gateway's main connection is lost (a drain no longer waits for it).
    var linkLost: @Sendable (GatewayAddress) -> Void = { _ in }
    /// Called when a gateway's main connection is up and WORKER_CONNECT is written.
    var linkAttached: @Sendable () -> Void = {}

    /// Every gateway the register listed has our WORKER_CONNECT.
    var allAttached: Bool { links.values.allSatisfy { $0.mainChannel != nil } }

    init(eventLoop: EventLoop, logger: Logger, settings: Settings, deliver: @escaping @Sendable ([PluginEvent]) -> Bool) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.settings = settings
        self.deliver = deliver
    }

    var connectedCount: Int { links.values.filter { $0.mainChannel != nil }.count }

    // MARK: - Back-pressure

    /// The plugin's queue is full: stop reading events from every gateway until it drains, so
    /// a slow plugin holds back its gateways (which then pause its clients' reads) instead of
    /// growing this process.
    private func pauseReading() {
        guard !readingPaused else { return }
        readingPaused = true
        backPressurePauses += 1
        logger.warning("the plugin is not keeping up; pausing events from the gateways")
        for link in links.values { link.mainChannel?.setOption(.autoRead, value: false).whenFailure { _ in } }
    }

    /// The plugin thread took its queue: read events again.
    func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        for link in links.values { link.mainChannel?.setOption(.autoRead, value: true).whenFailure { _ in } }
    }

    /// Called on the loop with one read batch of events.
    private func eventsArrived(_ events: [PluginEvent]) {
        if deliver(events) { pauseReading() }
    }
    var addresses: [GatewayAddress] { links.keys.sorted() }

    /// Follows the register's list: connects to new gateways, drops those that left.
    func update(_ names: [String]) {
        let parsed = names.map { (name: $0, parsed: Link.parse($0)) }
        let wanted = Set(parsed.compactMap { $0.parsed?.address })
        for (address, link) in links where !wanted.contains(address) && link.listed {
            logger.info("gateway left the register's list", metadata: ["gw.gateway": "\(link.name)"])
            link.listed = false
            if link.mainChannel == nil { remove(link) }
        }
        for (name, parsed) in parsed {
            guard let parsed else {
                logger.warning("ignoring malformed gateway address from the register: \(name)")
                continue
            }
            if let link = links[parsed.address] {
                link.listed = true
                continue
            }
            let link = Link(address: parsed.address, name: name, endpoint: parsed.endpoint)
            links[parsed.address] = link
            link.main = mainConnection(for: link)
            link.query = queryConnection(for: link)
            link.main?.start()
            link.query?.start()
        }
    }

    private func remove(_ link: Link) {
        link.stop()
        if links[link.address] === link { links[link.address] = nil }
    }

    func closeAll() -> EventLoopFuture<Void> {
        let closing = links.values.flatMap { [$0.mainChannel?.closeFuture, $0.queryChannel?.closeFuture].compactMap { $0 } }
        for link in links.values { link.stop() }
        links.removeAll()
        return EventLoopFuture.whenAllComplete(closing, on: eventLoop).map { _ in }
    }

    /// Asks every connected gateway to stop sending events (DRAIN_REQUEST) and returns the
    /// addresses whose drain marks are now on their way.
    func requestDrain() -> Set<GatewayAddress> {
        var asked: Set<GatewayAddress> = []
        for link in links.values {
            guard let channel = link.mainChannel else { continue }
            channel.writeAndFlush(ByteBuffer.command(.drainRequest), promise: nil)
            asked.insert(link.address)
        }
        return asked
    }

    // MARK: - Commands

    func write(_ segments: [OutgoingBatch.Segment]) {
        var touched: [ObjectIdentifier: Channel] = [:]
        func send(_ buffer: ByteBuffer, to link: Link) {
            guard let channel = link.mainChannel else {
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
                for link in links.values { if let frame = make(link.address) { send(frame, to: link) } }
            }
        }
        for channel in touched.values { channel.flush() }
    }

    // MARK: - Queries

    private func query(_ address: GatewayAddress, _ request: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard let link = links[address], let channel = link.queryChannel else {
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

    /// Sends a query's request to every gateway it reaches, all at once, and gathers the
    /// replies; each fails on its own (timeout, lost link) without holding up the others.
    func ask(_ dispatch: GatewayDispatch) -> EventLoopFuture<[GatewayReply]> {
        let futures = dispatch.targets(among: addresses).compactMap { address -> EventLoopFuture<GatewayReply>? in
            guard let request = dispatch.frame(for: address) else { return nil }
            return query(address, request).map { GatewayReply(gateway: address, result: .success($0)) }
                .recover { GatewayReply(gateway: address, result: .failure($0 as? HostError ?? .unavailable)) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop)
    }

    private func replyReceived(_ payload: ByteBuffer, on link: Link) {
        guard let pending = link.pendingQueries.popFirst() else { return }
        guard !pending.done else { return }  // it timed out; the late answer is dropped in order
        pending.done = true
        pending.promise.succeed(payload)
    }

    // MARK: - Connections

    /// The main connection: WORKER_CONNECT (announcing gatewayd's capabilities), then events
    /// in and commands out.
    private func mainConnection(for link: Link) -> ReconnectingConnection {
        let deliver: @Sendable ([PluginEvent]) -> Void = { self.eventsArrived($0) }
        let logger = self.logger
        let hello = ByteBuffer.command(
            .workerConnect,
            body: WorkerConnectBody(
                workerKey: settings.workerKey, secretKey: settings.secretKey,
                extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))]
            ).encoded())
        let heartbeat = settings.heartbeat
        // The pings go out whatever the gateway is, so TCP_USER_TIMEOUT also finds a cut link to
        // a PHP gateway (one that never pings back): pings nobody acknowledges abort it.
        return ReconnectingConnection(
            endpoints: [link.endpoint], eventLoop: eventLoop, userTimeout: heartbeat?.timeout,
            callbacks: .init(
                initialize: { channel in
                    let heartbeatHandler = heartbeat.map { settings in
                        InnerHeartbeatHandler(heartbeat: settings, ping: GatewaydHeartbeat.pingFrame()) { _ in
                            logger.warning(
                                "gateway silent for more than \(settings.timeout.nanoseconds / 1_000_000) ms; closing the link",
                                metadata: ["gw.gateway": "\(link.name)"])
                        }
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        (heartbeatHandler.map { [$0] } ?? []) + [
                            WorkerEventHandler(gateway: link.address, heartbeat: heartbeatHandler, deliver: deliver)
                        ])
                },
                connected: { channel, _ in
                    channel.writeAndFlush(hello, promise: nil)
                    try? channel.pipeline.syncOperations.handler(type: InnerHeartbeatHandler.self).startPinging()
                    logger.info("connected to gateway", metadata: ["gw.gateway": "\(link.name)"])
                    self.linkAttached()
                },
                disconnected: {
                    // Its query connection may be just as dead (a cut cable): start it afresh too.
                    link.queryChannel?.close(promise: nil)
                    if link.listed {
                        logger.warning("lost gateway; reconnecting", metadata: ["gw.gateway": "\(link.name)"])
                    } else {
                        logger.info("link to a gateway no longer listed closed", metadata: ["gw.gateway": "\(link.name)"])
                        self.remove(link)
                    }
                    self.linkLost(link.address)
                },
                failed: { error, failures in
                    guard failures == 1 else { return }
                    logger.warning(
                        "cannot reach gateway; retrying with back-off",
                        metadata: ["gw.gateway": "\(link.name)", "gw.error": "\(error)"])
                }))
    }

    /// The query connection: request/reply pairs, authenticated once when a secret is set
    /// (authentication is sticky for the connection's lifetime).
    private func queryConnection(for link: Link) -> ReconnectingConnection {
        let authentication =
            settings.secretKey.isEmpty
            ? nil
            : ByteBuffer.command(.gatewayClientConnect, body: GatewayClientConnectBody(secretKey: settings.secretKey).encoded())
        return ReconnectingConnection(
            host: link.endpoint.host, port: link.endpoint.port, eventLoop: eventLoop,
            callbacks: .init(
                initialize: { channel in
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(GatewayReplyDecoder(maximumLength: 64 << 20)),
                        QueryReplyHandler(onReply: { self.replyReceived($0, on: link) }),
                    ])
                },
                connected: { channel, _ in
                    if let authentication { channel.writeAndFlush(authentication, promise: nil) }
                },
                disconnected: {
                    // Replies will never come for what was asked on the lost connection.
                    while let pending = link.pendingQueries.popFirst() {
                        guard !pending.done else { continue }
                        pending.done = true
                        pending.promise.fail(HostError.unavailable)
                    }
                }))
    }
}

/// Splits a gateway's main connection into frames and hands the client events to the plugin
/// thread once per read batch. Parsing here rather than in a `ByteToMessageHandler` spares
/// boxing every frame into a `NIOAny` and NIO's generic decoder machinery on the hot path.
private final class WorkerEventHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let gateway: GatewayAddress
    private let heartbeat: InnerHeartbeatHandler?
    private let deliver: @Sendable ([PluginEvent]) -> Void
    private var parser = GatewayFrameParser(maximumFrameLength: 64 << 20)
    private var reassembly = FrameReassembly()
    private var batch: [PluginEvent] = []
    private var broken = false

    init(gateway: GatewayAddress, heartbeat: InnerHeartbeatHandler?, deliver: @escaping @Sendable ([PluginEvent]) -> Void) {
        self.gateway = gateway
        self.heartbeat = heartbeat
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !broken else { return }
        reassembly.read(unwrapInboundIn(data), allocator: context.channel.allocator) { buffer in
            while true {
                let frame: GatewayFrame?
                do {
                    frame = try parser.parse(&buffer)
                } catch {
                    broken = true  // a gateway speaking something else: drop the link, reconnect
                    context.close(promise: nil)
                    return false
                }
                guard let frame else { return true }
                handle(frame)
            }
        }
    }

    private func handle(_ frame: GatewayFrame) {
        if frame.command == .ping {
            // A gatewayd gateway pings every interval: from now on its silence means it is gone.
            if GatewaydHeartbeat.isMarkedPing(frame) { heartbeat?.arm() }
        } else if frame.command == .drainMark {
            batch.append(PluginEvent(drainMarkFrom: gateway))
        } else if let event = PluginEvent(frame: frame) {
            batch.append(event)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !batch.isEmpty else { return }
        deliver(batch)
        batch = []  // the delivered array now belongs to the plugin thread
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

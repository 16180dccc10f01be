import GatewayCompression
import GatewayCore
import GatewayTLS
import GatewayHub
import struct GatewayEventLoop.Instant
import GatewayRuntime
import GatewayWire
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Settings of one gateway process.
public struct GatewayServerConfiguration: Sendable {
    /// The address announced to workers and encoded in client ids.
    public var lanIP: IPv4Address
    /// The inner (worker-facing) port of this process.
    public var innerPort: Int
    public var secretKey: String
    public var maxMessageBytes: Int
    /// How long to wait for the worker's verdict on a handshake before refusing with 503.
    public var verdictTimeout: TimeAmount
    /// How long a client may take from TCP accept to a completed WebSocket handshake.
    public var handshakeDeadline: TimeAmount
    /// Local workers that must be attached before this gateway reports ready.
    public var expectedWorkers: Int
    /// Every register; the gateway registers with each of them.
    public var registers: [HostPort]
    public var register: HostPort { registers[0] }
    /// Pings to workers and closing gatewayd workers that fall silent; nil: neither.
    public var innerHeartbeat: InnerHeartbeat?
    /// The client listeners, in the order of the inherited sockets.
    public var listeners: [ListenAddress]
    /// Heartbeats and closing silent clients (one timer for the whole process).
    public var heartbeat: HeartbeatPolicy = HeartbeatPolicy(interval: 0, notResponseLimit: 0, pingData: [])
    /// Clients this process holds at most; more are closed right after accept.
    public var maxConnections = 100_000
    /// Bytes that may wait to be written to one client before it is a slow consumer.
    public var sendBufferBytes = 1 << 20
    public var slowClientPolicy = SlowClientPolicy.close
    /// Bytes that may wait to be written to one worker before its clients stop being read
    /// (back-pressure: their TCP windows close instead of gateway memory growing).
    public var workerBufferBytes = 16 << 20
    /// permessage-deflate for WebSocket clients that offer it (the engine only); nil: off.
    public var compression: PermessageDeflateSettings?
    /// The certificate files of `wss://` listeners (the engine only); nil without one.
    public var tls: TLSFiles?

    public init(
        lanIP: IPv4Address, innerPort: Int, secretKey: String, maxMessageBytes: Int, verdictTimeout: TimeAmount,
        handshakeDeadline: TimeAmount = .seconds(10), expectedWorkers: Int, register: HostPort,
        listeners: [ListenAddress], heartbeat: HeartbeatPolicy = HeartbeatPolicy(interval: 0, notResponseLimit: 0, pingData: [])
    ) {
        self.heartbeat = heartbeat
        self.lanIP = lanIP
        self.innerPort = innerPort
        self.secretKey = secretKey
        self.maxMessageBytes = maxMessageBytes
        self.verdictTimeout = verdictTimeout
        self.handshakeDeadline = handshakeDeadline
        self.expectedWorkers = expectedWorkers
        self.registers = [register]
        self.listeners = listeners
    }
}

/// The gateway role on SwiftNIO: client sockets and the inner port as NIO channels, the
/// decisions in `Hub` (GatewayHub), for which this is the transport. It never runs business
/// logic and is never reloaded, so client connections outlive every worker.
///
/// Everything runs on one event loop; no locks.
public final class GatewayServer: RoleService, HubTransport, @unchecked Sendable {
    typealias Incident = HubIncident
    public typealias ClientSocket = NIOClientSocket
    public typealias InnerSocket = NIOInnerSocket
    public typealias Payload = OutboundQueue.Payload

    private let configuration: GatewayServerConfiguration
    private let eventLoop: EventLoop
    private let logger: Logger
    private let reporter: ChildReporter
    private let outbound: OutboundQueue
    private(set) var hub: Hub<GatewayServer>!
    private var serverChannels: [Channel] = []
    private var clientServerChannels: [Channel] = []
    private var registerClients: [RegisterClient] = []
    private var registered = false
    private var reportedReady = false
    /// Bytes through client sockets, counted by `ClientByteCounter` (for `/metrics`).
    var clientBytesIn: UInt64 = 0
    var clientBytesOut: UInt64 = 0
    /// The hub's next deadline, and the task that runs it.
    private var timer: (deadline: Instant, task: Scheduled<Void>)?

    public init(configuration: GatewayServerConfiguration, eventLoop: EventLoop, logger: Logger, reporter: ChildReporter) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.reporter = reporter
        self.outbound = OutboundQueue(eventLoop: eventLoop)
        self.hub = Hub(configuration: configuration.hubConfiguration, transport: self, logger: logger, now: Self.instant(eventLoop.now))
    }

    /// A client's receive buffer: 512 bytes (a WebSocket handshake fits) instead of NIO's
    /// 2 KiB, up to 64 KiB for a client that sends a lot.
    static let clientReceiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 64 << 10)

    private var innerAddress: String { "\(configuration.lanIP):\(configuration.innerPort)" }

    // MARK: - Start and stop

    /// Starts serving on the sockets the master bound, then registers with the register.
    public func start(clientDescriptors: [Int32], innerDescriptor: Int32) -> EventLoopFuture<Void> {
        var started: [EventLoopFuture<Void>] = []
        started.append(
            ServerBootstrap(group: eventLoop)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(
                    .writeBufferWaterMark,
                    value: .init(low: configuration.workerBufferBytes / 2, high: configuration.workerBufferBytes)
                )
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(self.innerHandlers())
                    }
                }
                .withBoundSocket(innerDescriptor)
                .map { self.serverChannels.append($0) })
        for (descriptor, listener) in zip(clientDescriptors, configuration.listeners) {
            let listenPort = UInt16(listener.endpoint.port)
            let transport = listener.scheme
            let sendBuffer = configuration.sendBufferBytes
            started.append(
                ServerBootstrap(group: eventLoop)
                    .serverChannelOption(.backlog, value: 1024)
                    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                    // isWritable turns false once this much waits for a client: a slow consumer.
                    .childChannelOption(.writeBufferWaterMark, value: .init(low: sendBuffer / 2, high: sendBuffer))
                    // Every channel keeps its receive buffer between reads: start it small, as
                    // most clients are idle most of the time (it grows for busy ones).
                    .childChannelOption(.recvAllocator, value: Self.clientReceiveBuffers)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            guard let connection = self.clientAccepted(channel, listenPort: listenPort, transport: transport) else {
                                channel.close(promise: nil)
                                return
                            }
                            try channel.pipeline.syncOperations.addHandlers([ClientByteCounter(server: self)] + self.clientHandlers(for: connection))
                        }
                    }
                    .withBoundSocket(descriptor)
                    .map {
                        self.serverChannels.append($0)
                        self.clientServerChannels.append($0)
                    })
        }
        return EventLoopFuture.andAllSucceed(started, on: eventLoop).map {
            self.rescheduleTimer()
            self.registerWithEveryRegister()
            self.logger.info(
                "gateway serving",
                metadata: [
                    "gw.inner": "\(self.innerAddress)",
                    "gw.listen": "\(self.configuration.listeners.map(\.description).joined(separator: ","))",
                ])
        }
    }

    /// Registers with every register listed, each through its own client (reconnecting with
    /// back-off); serving once any of them has us.
    private func registerWithEveryRegister() {
        registerClients = configuration.startRegisterClients(innerAddress: innerAddress, eventLoop: eventLoop, logger: logger) {
            self.registered = true
            self.reportReadyIfServing()
        }
    }

    /// The pipeline of a new inner-port connection: heartbeats (when configured), frames, commands.
    func innerHandlers() -> [ChannelHandler] {
        let heartbeat = innerHeartbeatHandler()
        return (heartbeat.map { [$0] } ?? []) + [InnerConnectionHandler(server: self, heartbeat: heartbeat)]
    }

    /// One inner connection's heartbeat: pings once the peer turns out to be a worker, and
    /// closes a gatewayd worker that falls silent (a cut link sends no FIN).
    private func innerHeartbeatHandler() -> InnerHeartbeatHandler? {
        guard let heartbeat = configuration.innerHeartbeat else { return nil }
        return InnerHeartbeatHandler(heartbeat: heartbeat, ping: GatewaydHeartbeat.pingFrame()) {
            channel in
            self.count(.innerHeartbeatTimeout)
            self.logger.warning(
                "worker silent for more than \(heartbeat.timeout.nanoseconds / 1_000_000) ms; closing its link",
                metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
        }
    }

    /// The pipeline of a new client: the WebSocket handshake (which later swaps itself for the
    /// frame handlers), or the decoder and message handler of text:// and frame://.
    func clientHandlers(for connection: ClientConnection) -> [ChannelHandler] {
        let limit = configuration.maxMessageBytes
        switch connection.transport {
        case .websocket:
            return [
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                WebSocketHandshakeHandler(server: self, connection: connection, maxMessageBytes: limit),
            ]
        case .text:
            return [
                ByteToMessageHandler(LineFrameDecoder(maximumLineLength: limit)),
                StreamClientHandler(server: self, connection: connection, binary: false),
            ]
        case .frame:
            return [
                ByteToMessageHandler(LengthPrefixedFrameDecoder(maximumBodyLength: limit)),
                StreamClientHandler(server: self, connection: connection, binary: true),
            ]
        }
    }

    private func reportReadyIfServing() {
        guard !reportedReady, registered, hub.router.count >= configuration.expectedWorkers else { return }
        reportedReady = true
        reporter.ready(["inner": innerAddress])
    }

    /// Stops accepting clients (graceful stop); the inner port stays open for the workers.
    public func quiesce() {
        for channel in clientServerChannels { channel.close(promise: nil) }
        logger.info("no longer accepting clients")
    }

    /// Closes every client with 1001 (going away) after what was already sent to it, then stops.
    public func shutdown() -> EventLoopFuture<Void> {
        for client in registerClients { client.stop() }
        timer?.task.cancel()
        timer = nil
        outbound.flush()
        let servers = serverChannels.map { $0.close() }
        let goingAway = WebSocketFrameWriter.closeFrame(code: 1001)
        let clients = hub.directory.connections.values.map { client -> EventLoopFuture<Void> in
            hub.closing(client, because: .shutdown)
            let channel = client.channel
            guard client.isOpen, client.transport == .websocket else { return channel.close() }
            return channel.writeAndFlush(goingAway).flatMap { channel.close() }
        }
        return EventLoopFuture.whenAllComplete(servers + clients, on: eventLoop).map { _ in }
    }

    public func counters() -> ProcessCounters {
        hub.processCounters(
            innerAddress: innerAddress, registersConnected: registerClients.map { $0.connectedAddress != nil }, bytesIn: clientBytesIn,
            bytesOut: clientBytesOut)
    }

    public func connections() -> [ConnectionInfo] {
        hub.connections(now: now)
    }

    /// The client maps, for tests.
    var tableForTesting: ClientDirectory<ClientConnection> {
        get { hub.directory }
        set { hub.replaceDirectoryForTesting(newValue) }
    }

    /// The router, for tests.
    var routerForTesting: WorkerRouter<WorkerLink> { hub.router }

    func count(_ incident: Incident) {
        hub.count(incident)
    }

    func closing(_ connection: ClientConnection, because reason: ClientCloseReason) {
        hub.closing(connection, because: reason)
    }

    /// Writes out everything queued so far (before a close frame, say, so it does not overtake).
    func flushPending() {
        outbound.flush()
    }

    // MARK: - Time

    private var now: Instant { Self.instant(eventLoop.now) }

    /// The loop's clock as the hub's (virtual on an embedded loop in tests).
    private static func instant(_ deadline: NIODeadline) -> Instant {
        Instant(nanoseconds: Int64(clamping: deadline.uptimeNanoseconds))
    }

    private static func instant(_ instant: Instant, plus amount: TimeAmount) -> Instant {
        Instant(nanoseconds: instant.nanoseconds &+ amount.nanoseconds)
    }

    /// Runs the hub's timers at its next deadline: one task for the whole process. Asks the hub
    /// (which looks at every client still handshaking) only after a tick; an event that adds a
    /// deadline says which, with `scheduleTimer(notLaterThan:)`.
    private func rescheduleTimer() {
        guard let deadline = hub.nextDeadline else {
            timer?.task.cancel()
            timer = nil
            return
        }
        scheduleTimer(notLaterThan: deadline)
    }

    /// Makes the timer fire no later than `deadline`.
    private func scheduleTimer(notLaterThan deadline: Instant) {
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let task = eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(UInt64(max(deadline.nanoseconds, 0)))) {
            self.timer = nil
            self.hub.tick(now: self.now)
            self.rescheduleTimer()
        }
        timer = (deadline, task)
    }

    // MARK: - Client side (called by the pipelines)

    /// A client connected; nil when over `maxConnections` (the caller closes it).
    func clientAccepted(_ channel: Channel, listenPort: UInt16, transport: ListenAddress.Scheme = .websocket) -> ClientConnection? {
        let remote = channel.remoteAddress
        let remoteIP = remote?.ipAddress.flatMap { IPv4Address($0)?.value } ?? 0
        guard
            let connection = hub.clientAccepted(
                NIOClientSocket(channel: channel), remoteIP: remoteIP, remotePort: UInt16(remote?.port ?? 0),
                listenPort: listenPort, transport: transport, now: now)
        else { return nil }
        channel.closeFuture.whenComplete { _ in self.clientClosed(connection) }
        if transport == .websocket { scheduleTimer(notLaterThan: Self.instant(connection.connectedAt, plus: configuration.handshakeDeadline)) }
        return connection
    }

    /// Sends ON_WEBSOCKET_CONNECT to the client's worker; the future gives 0 to accept or an HTTP status.
    func handshakeRequested(_ connection: ClientConnection, info: WebSocketConnectInfo) -> EventLoopFuture<Int> {
        let promise = eventLoop.makePromise(of: Int.self)
        connection.socket.verdict = promise
        let requested = now
        hub.handshakeRequested(connection, info: info, now: requested)
        scheduleTimer(notLaterThan: Self.instant(requested, plus: configuration.verdictTimeout))
        return promise.futureResult
    }

    func clientUpgraded(_ connection: ClientConnection) {
        hub.clientUpgraded(connection)
    }

    func clientHeardFrom(_ connection: ClientConnection) {
        hub.clientHeardFrom(connection)
    }

    func clientMessage(_ connection: ClientConnection, _ message: ByteBuffer, binary: Bool) {
        hub.clientMessage(connection, message, binary: binary, now: now)
    }

    /// A whole WebSocket message still masked, straight from the client's read buffer: it is
    /// unmasked while being copied into the worker's frame, its only copy. Returns false for
    /// text that is not UTF-8 (nothing is sent; the caller fails the connection with 1007).
    func clientMessage(
        _ connection: ClientConnection, masked: ByteBuffer, maskingKey: (UInt8, UInt8, UInt8, UInt8), binary: Bool
    ) -> Bool {
        masked.withUnsafeReadableBytes { maskedBytes in
            hub.clientMessage(connection, length: maskedBytes.count, binary: binary, now: now) { buffer in
                let bodyStart = buffer.writerIndex
                buffer.writeUnmaskedWebSocketPayload(maskedBytes, maskingKey: maskingKey)
                return binary || WebSocketConnectionHandler.isValidUTF8(buffer, from: bodyStart)
            }
        }
    }

    private func clientClosed(_ connection: ClientConnection) {
        hub.clientClosed(connection, now: now)
    }

    // MARK: - Inner side (called by the pipelines)

    /// Handles one frame from an inner connection; returns the peer's new state, or nil to close it.
    func innerFrame(_ frame: GatewayFrame, peer: InnerConnectionHandler.Peer, socket: NIOInnerSocket) -> InnerConnectionHandler.Peer? {
        let next = hub.innerFrame(frame, from: peer, socket: socket) { socket.channel.remoteAddress?.ipAddress ?? "?" }
        if case .unauthenticated = peer, case .worker(let link) = next {
            // Its GATEWAYD_HELLO goes out now, ahead of the first heartbeat ping.
            if link.framedReplies { outbound.flush() }
            reportReadyIfServing()
        }
        return next
    }

    /// `innerFrame` for a channel without a handler of its own (tests): one socket per channel.
    func innerFrame(_ frame: GatewayFrame, peer: InnerConnectionHandler.Peer, channel: Channel) -> InnerConnectionHandler.Peer? {
        let key = ObjectIdentifier(channel)
        let socket = innerSocketsForTesting[key] ?? NIOInnerSocket(channel: channel)
        innerSocketsForTesting[key] = socket
        return innerFrame(frame, peer: peer, socket: socket)
    }

    private var innerSocketsForTesting: [ObjectIdentifier: NIOInnerSocket] = [:]

    func workerLeft(_ link: WorkerLink) {
        hub.workerLeft(link)
    }

    func resumeClients(of worker: WorkerLink) {
        hub.resumeClients(of: worker)
    }

    func logInnerError(_ error: Error, channel: Channel) {
        logger.warning("inner connection error: \(error)", metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
    }

    // MARK: - HubTransport

    public func encode(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Payload? {
        outbound.encodeIf(size: size, encode)
    }

    public func detached(_ payload: Payload) -> ByteBuffer {
        outbound.detached(payload)
    }

    public func payload(_ bytes: ByteBuffer) -> Payload {
        .buffer(bytes)
    }

    public func write(_ payload: Payload, to client: NIOClientSocket) -> Bool {
        // Past the send buffer the client is not reading: a slow consumer.
        guard client.channel.isWritable else { return false }
        outbound.enqueue(payload, to: client)
        return true
    }

    public func close(_ client: NIOClientSocket, flush: Bool) {
        if flush { outbound.flush() }
        client.channel.close(promise: nil)
    }

    public func setReading(_ client: NIOClientSocket, _ reading: Bool) {
        client.channel.setOption(.autoRead, value: reading).whenFailure { _ in }
    }

    public func handshakeDecided(_ client: NIOClientSocket, status: Int) {
        let promise = client.verdict
        client.verdict = nil
        promise?.succeed(status)
    }

    public func write(_ payload: Payload, to inner: NIOInnerSocket) {
        outbound.enqueue(payload, to: inner)
    }

    public func isCongested(_ inner: NIOInnerSocket) -> Bool {
        !inner.channel.isWritable
    }

    public func close(_ inner: NIOInnerSocket) {
        inner.channel.close(promise: nil)
    }
}

/// A client's channel, as the hub's socket.
public final class NIOClientSocket: OutboundTarget, @unchecked Sendable {  // confined to the gateway's event loop
    let channel: Channel
    var queuedWrites = 0
    /// The pending handshake's answer, while the worker decides.
    var verdict: EventLoopPromise<Int>?

    init(channel: Channel) {
        self.channel = channel
    }
}

/// An inner-port channel (a worker, a GatewayClient, a query connection), as the hub's socket.
public final class NIOInnerSocket: OutboundTarget, @unchecked Sendable {  // confined to the gateway's event loop
    let channel: Channel
    var queuedWrites = 0

    init(channel: Channel) {
        self.channel = channel
    }
}

typealias ClientConnection = HubClient<GatewayServer>
typealias WorkerLink = HubWorker<GatewayServer>

extension HubClient where Transport == GatewayServer {
    var channel: Channel { socket.channel }
}

extension HubWorker where Transport == GatewayServer {
    var channel: Channel { socket.channel }
}

/// First in every client pipeline: counts the bytes read from and written to the socket (the
/// engine counts its own reads and writes). One add per read or write, nothing kept.
final class ClientByteCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private unowned let server: GatewayServer

    init(server: GatewayServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        server.clientBytesIn &+= UInt64(unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(let buffer) = unwrapOutboundIn(data) { server.clientBytesOut &+= UInt64(buffer.readableBytes) }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension ClientByteCounter: Sendable {}

import GatewayCore
import GatewayHub
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

/// The gateway role: holds client sockets, sessions, uid and group maps, forwards client
/// events to workers and executes their commands. It never runs business logic and is never
/// reloaded, so client connections outlive every worker.
///
/// Everything runs on one event loop; no locks.
public final class GatewayServer: RoleService, @unchecked Sendable {
    /// Things worth counting that are not errors of the gateway itself.
    enum Incident: String {
        case malformedHandshake = "malformed_handshakes"
        case handshakeTimeout = "handshake_timeouts"
        case malformedFrame = "malformed_frames"
        case refusedConnection = "refused_connections"
        case slowClientClosed = "slow_client_closes"
        case slowClientDrop = "slow_client_drops"
        case workerBackPressure = "worker_backpressure_pauses"
        case oversizedMessage = "oversized_messages"
        case noWorker = "events_without_worker"
        case refusedHandshake = "refused_handshakes"
        case authenticationFailure = "auth_failures"
        case droppedHeld = "dropped_held_events"
        case heartbeatTimeout = "heartbeat_timeouts"
        case innerHeartbeatTimeout = "inner_heartbeat_timeouts"
    }

    private let configuration: GatewayServerConfiguration
    private let eventLoop: EventLoop
    private let logger: Logger
    private let reporter: ChildReporter
    private let outbound: OutboundQueue
    private var table = ClientDirectory<ClientConnection>()
    private var router = WorkerRouter<WorkerLink>()
    private var pendingVerdicts: [UInt32: (promise: EventLoopPromise<Int>, timeout: Scheduled<Void>)] = [:]
    /// Clients with events held for a draining worker (closed ones included, until released).
    private var heldClients: [ObjectIdentifier: ClientConnection] = [:]
    private var heldBytes = 0
    private var serverChannels: [Channel] = []
    private var clientServerChannels: [Channel] = []
    private var registerClients: [RegisterClient] = []
    private var registered = false
    private var reportedReady = false
    private var messagesIn: UInt64 = 0
    private var messagesOut: UInt64 = 0
    private var incidents: [Incident: UInt64] = [:]
    private var lastNoWorkerLog: NIODeadline = .distantPast
    /// WebSocket clients accepted and not yet upgraded (see `awaitHandshake`).
    private var handshaking: [ClientConnection] = []
    private var handshakeSweep: RepeatedTask?

    public init(configuration: GatewayServerConfiguration, eventLoop: EventLoop, logger: Logger, reporter: ChildReporter) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.reporter = reporter
        self.outbound = OutboundQueue(eventLoop: eventLoop)
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
                            guard self.table.count < self.configuration.maxConnections else {
                                self.count(.refusedConnection)
                                channel.close(promise: nil)
                                return
                            }
                            let connection = self.clientAccepted(channel, listenPort: listenPort, transport: transport)
                            try channel.pipeline.syncOperations.addHandlers(self.clientHandlers(for: connection))
                            if transport != .websocket { self.clientUpgraded(connection) }
                        }
                    }
                    .withBoundSocket(descriptor)
                    .map {
                        self.serverChannels.append($0)
                        self.clientServerChannels.append($0)
                    })
        }
        return EventLoopFuture.andAllSucceed(started, on: eventLoop).map {
            self.startHeartbeat()
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
        for address in configuration.registers {
            let client = RegisterClient(
                address: address, hello: .gatewayConnect(address: innerAddress, secretKey: configuration.secretKey),
                eventLoop: eventLoop, logger: logger, heartbeat: configuration.innerHeartbeat ?? .standard,
                onConnected: {
                    self.registered = true
                    self.reportReadyIfServing()
                })
            registerClients.append(client)
            client.start()
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

    /// One timer for every client of this process, not one per connection.
    private func startHeartbeat() {
        let policy = configuration.heartbeat
        guard policy.isEnabled else { return }
        let period = TimeAmount.nanoseconds(Int64(policy.tickSeconds * 1e9))
        eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in self.heartbeatTick(policy) }
    }

    private func heartbeatTick(_ policy: HeartbeatPolicy) {
        // Encoded once per tick and protocol, written to every client that needs it. Without
        // ping data, WebSocket clients get a ping frame and text/frame clients nothing (they
        // must still speak within the limit), as in GatewayWorker.
        var heartbeat = OutgoingMessage(body: ByteBuffer(bytes: policy.pingData), flags: .scalarBody)
        let webSocketPing = WebSocketFrameWriter.frame(opcode: 0x9, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        for client in table.connections.values where client.isOpen && !client.isClosed {
            switch policy.tick(&client.heartbeatCount) {
            case .nothing:
                break
            case .sendHeartbeat:
                if !policy.pingData.isEmpty {
                    outbound.enqueue(heartbeat.bytes(for: client.transport, in: outbound), to: client)
                } else if client.transport == .websocket {
                    outbound.enqueue(webSocketPing, to: client)
                }
            case .close:
                count(.heartbeatTimeout)
                client.channel.close(promise: nil)
            }
        }
    }

    private func reportReadyIfServing() {
        guard !reportedReady, registered, router.count >= configuration.expectedWorkers else { return }
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
        outbound.flush()
        let servers = serverChannels.map { $0.close() }
        let goingAway = WebSocketFrameWriter.closeFrame(code: 1001)
        let clients = table.connections.values.map { client -> EventLoopFuture<Void> in
            let channel = client.channel
            guard client.isOpen, client.transport == .websocket else { return channel.close() }
            return channel.writeAndFlush(goingAway).flatMap { channel.close() }
        }
        return EventLoopFuture.whenAllComplete(servers + clients, on: eventLoop).map { _ in }
    }

    public func counters() -> ProcessCounters {
        var details = ["inner": innerAddress, "workers": "\(router.count)"]
        let connected = registerClients.filter { $0.connectedAddress != nil }.count
        details["registers"] = "\(connected)/\(registerClients.count)"
        let held = heldClients.values.reduce(0) { $0 + $1.heldEvents.count }
        if held > 0 { details["held_events"] = "\(held)" }
        for (incident, count) in incidents { details[incident.rawValue] = "\(count)" }
        return ProcessCounters(connections: table.count, messagesIn: messagesIn, messagesOut: messagesOut, details: details)
    }

    public func connections() -> [ConnectionInfo] {
        let now = NIODeadline.now()
        return table.connections.values.map { connection in
            ConnectionInfo(
                clientID: clientID(of: connection).description,
                remoteAddress: "\(IPv4Address(value: connection.remoteIP)):\(connection.remotePort)",
                transport: connection.transport.rawValue, uid: connection.uid, groups: connection.groups.sorted(),
                messagesIn: connection.messagesIn, messagesOut: connection.messagesOut,
                connectedSeconds: Double((now - connection.connectedAt).nanoseconds) / 1e9)
        }
    }

    /// The client maps, for tests.
    var tableForTesting: ClientDirectory<ClientConnection> {
        get { table }
        set { table = newValue }
    }

    /// The router, for tests.
    var routerForTesting: WorkerRouter<WorkerLink> { router }

    func count(_ incident: Incident) {
        incidents[incident, default: 0] += 1
    }

    /// Writes out everything queued so far (before a close frame, say, so it does not overtake).
    func flushPending() {
        outbound.flush()
    }

    private func clientID(of connection: ClientConnection) -> ClientID {
        ClientID(ipv4: configuration.lanIP.value, port: UInt16(configuration.innerPort), connectionID: connection.id)
    }

    // MARK: - Client side

    func clientAccepted(_ channel: Channel, listenPort: UInt16, transport: ListenAddress.Scheme = .websocket) -> ClientConnection {
        let remote = channel.remoteAddress
        let remoteIP = remote?.ipAddress.flatMap { IPv4Address($0)?.value } ?? 0
        let connection = ClientConnection(
            id: table.nextID(), channel: channel, remoteIP: remoteIP, remotePort: UInt16(remote?.port ?? 0),
            listenPort: listenPort, transport: transport)
        table.insert(connection)
        channel.closeFuture.whenComplete { _ in self.clientClosed(connection) }
        if transport == .websocket { awaitHandshake(of: connection) }
        dispatch(HeldEvent(command: .onConnect, flags: .scalarBody, body: nil), for: connection)
        return connection
    }

    /// Watches a new WebSocket client until it completes its handshake. One timer for all
    /// of them, not one per connection: a scheduled task per client would cost a few hundred
    /// bytes each for as long as the deadline, which adds up in a connection storm.
    private func awaitHandshake(of connection: ClientConnection) {
        handshaking.append(connection)
        guard handshakeSweep == nil else { return }
        let deadline = configuration.handshakeDeadline
        // A quarter of the deadline (25 ms ... 1 s): a client is closed at most that late.
        let period = TimeAmount.nanoseconds(min(max(deadline.nanoseconds / 4, 25_000_000), 1_000_000_000))
        handshakeSweep = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            self.sweepHandshakes(deadline: deadline)
        }
    }

    private func sweepHandshakes(deadline: TimeAmount) {
        let now = NIODeadline.now()
        var expired: [ClientConnection] = []
        handshaking.removeAll { connection in
            if connection.isOpen || connection.isClosed { return true }
            guard now - connection.connectedAt >= deadline else { return false }
            expired.append(connection)
            return true
        }
        for connection in expired {
            count(.handshakeTimeout)
            connection.channel.close(promise: nil)
        }
        if handshaking.isEmpty {
            handshakeSweep?.cancel()
            handshakeSweep = nil
        }
    }

    /// Sends ON_WEBSOCKET_CONNECT to the client's worker; the future gives 0 to accept or an HTTP status.
    func handshakeRequested(_ connection: ClientConnection, info: WebSocketConnectInfo) -> EventLoopFuture<Int> {
        let promise = eventLoop.makePromise(of: Int.self)
        let id = connection.id
        let timeout = eventLoop.scheduleTask(in: configuration.verdictTimeout) {
            guard let pending = self.pendingVerdicts.removeValue(forKey: id) else { return }
            self.logger.warning(
                "no handshake verdict from the worker in time; refusing with 503",
                metadata: ["gw.client_id": "\(self.clientID(of: connection))"])
            pending.promise.succeed(503)
        }
        pendingVerdicts[id] = (promise, timeout)
        // The verdict comes from the worker (or at once from one that does not give verdicts).
        dispatch(HeldEvent(command: .onWebSocketConnect, flags: [], body: ByteBuffer(bytes: info.serializedBody())), for: connection)
        return promise.futureResult.map { status in
            if status != 0 { self.count(.refusedHandshake) }
            return status
        }
    }

    private func resolveVerdict(of connection: ClientConnection, _ status: Int) {
        guard let pending = pendingVerdicts.removeValue(forKey: connection.id) else { return }
        pending.timeout.cancel()
        pending.promise.succeed(status)
    }

    func clientUpgraded(_ connection: ClientConnection) {
        connection.isOpen = true
        let queued = connection.pendingSends
        connection.pendingSends.removeAll()
        for bytes in queued { write(.buffer(bytes), to: connection) }
    }

    func clientMessage(_ connection: ClientConnection, _ message: ByteBuffer, binary: Bool) {
        messagesIn += 1
        connection.messagesIn += 1
        dispatch(HeldEvent(command: .onMessage, flags: binary ? [.scalarBody, .binary] : .scalarBody, body: message), for: connection)
    }

    /// A whole WebSocket message still masked, straight from the client's read buffer: it is
    /// unmasked while being copied into the worker's frame, its only copy. Returns false for
    /// text that is not UTF-8 (nothing is sent; the caller fails the connection with 1007).
    func clientMessage(
        _ connection: ClientConnection, masked: ByteBuffer, maskingKey: (UInt8, UInt8, UInt8, UInt8), binary: Bool
    ) -> Bool {
        guard connection.heldEvents.isEmpty, let worker = router.worker(for: connection), !worker.draining else {
            // Held, or no worker: the event waits with a copy of its own (the slow path).
            let body = WebSocketConnectionHandler.unmasked(masked, key: maskingKey)
            guard binary || WebSocketConnectionHandler.isValidUTF8(body, from: body.readerIndex) else { return false }
            clientMessage(connection, body, binary: binary)
            return true
        }
        let flags: GatewayFrameFlags = binary ? [.scalarBody, .binary] : .scalarBody
        let session = connection.session
        let length = masked.readableBytes
        let frame = masked.withUnsafeReadableBytes { maskedBytes in
            outbound.encodeIf(size: GatewayFrame.headerLength + session.readableBytes + length) { buffer in
                writeEventHeader(
                    .onMessage, flags: flags, for: connection, extLength: session.readableBytes, bodyLength: length, into: &buffer)
                buffer.writeImmutableBuffer(session)
                let bodyStart = buffer.writerIndex
                buffer.writeUnmaskedWebSocketPayload(maskedBytes, maskingKey: maskingKey)
                return binary || WebSocketConnectionHandler.isValidUTF8(buffer, from: bodyStart)
            }
        }
        guard let frame else { return false }
        messagesIn += 1
        connection.messagesIn += 1
        outbound.enqueue(frame, to: worker)
        pauseIfWorkerCongested(connection, worker: worker)
        return true
    }

    private func clientClosed(_ connection: ClientConnection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        resolveVerdict(of: connection, 503)
        table.remove(connection.id)
        dispatch(HeldEvent(command: .onClose, flags: .scalarBody, body: nil), for: connection)
        // Its last events may still wait behind a draining worker; it leaves the router after them.
        if connection.heldEvents.isEmpty { router.release(connection) }
    }

    private func noWorker(for connection: ClientConnection) {
        count(.noWorker)
        let now = NIODeadline.now()
        if now - lastNoWorkerLog > .seconds(5) {
            lastNoWorkerLog = now
            logger.warning(
                "no business worker attached; holding client events until one is",
                metadata: ["gw.client_id": "\(clientID(of: connection))"])
        }
    }

    /// The one way a client event goes to a worker: behind the client's earlier held events,
    /// held while its worker drains, dropped (and counted) when there is no worker at all.
    private func dispatch(_ event: HeldEvent, for client: ClientConnection) {
        if !client.heldEvents.isEmpty { return hold(event, for: client) }
        guard let worker = router.worker(for: client) else {
            // No worker right now (all crashed, or between two generations): wait for one
            // rather than lose the event, as PHP's gateway would.
            noWorker(for: client)
            return hold(event, for: client)
        }
        if worker.draining { return hold(event, for: client) }
        send(event, for: client, to: worker)
    }

    /// The most events one client may have waiting, and the most bytes all clients together
    /// may have waiting; beyond either, events are dropped and counted, so a drain that never
    /// ends or a cluster with no worker cannot grow gateway memory without bound.
    static let maximumHeldEvents = 4096
    static let maximumHeldBytes = 64 << 20

    private func hold(_ event: HeldEvent, for client: ClientConnection) {
        let size = event.heldBytes
        guard client.heldEvents.count < Self.maximumHeldEvents, heldBytes + size <= Self.maximumHeldBytes else {
            if event.command == .onWebSocketConnect { resolveVerdict(of: client, 503) }
            return count(.droppedHeld)
        }
        heldBytes += size
        client.heldEvents.append(event)
        heldClients[ObjectIdentifier(client)] = client
    }

    /// Hands held events, in order, to each client's (new) worker where one is available.
    private func releaseHeldEvents() {
        for (key, client) in heldClients {
            guard let worker = router.worker(for: client), !worker.draining else { continue }
            for event in client.heldEvents {
                heldBytes -= event.heldBytes
                send(event, for: client, to: worker)
            }
            client.heldEvents.removeAll()
            heldClients[key] = nil
            if client.isClosed { router.release(client) }
        }
    }

    private func send(_ event: HeldEvent, for client: ClientConnection, to worker: WorkerLink) {
        var flags = event.flags
        if event.command == .onWebSocketConnect {
            if worker.speaksGatewayd {
                flags.insert(.awaitsVerdict)
            } else {
                resolveVerdict(of: client, 0)  // a PHP worker gives no verdict: accept, as PHP does
            }
        }
        let body = event.body ?? ByteBuffer()
        let session = client.session
        let frame = outbound.encode(size: GatewayFrame.headerLength + session.readableBytes + body.readableBytes) { buffer in
            writeEventHeader(event.command, flags: flags, for: client, extLength: session.readableBytes, bodyLength: body.readableBytes, into: &buffer)
            buffer.writeImmutableBuffer(session)
            buffer.writeImmutableBuffer(body)
        }
        outbound.enqueue(frame, to: worker)
        pauseIfWorkerCongested(client, worker: worker)
    }

    /// The header of a client event's frame (its session and body follow).
    private func writeEventHeader(
        _ command: GatewayCommand, flags: GatewayFrameFlags, for client: ClientConnection, extLength: Int, bodyLength: Int,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeGatewayFrameHeader(
            command: command, connectionID: client.id, flags: flags, extLength: extLength, bodyLength: bodyLength,
            localIP: configuration.lanIP.value, localPort: UInt16(configuration.innerPort),
            clientIP: client.remoteIP, clientPort: client.remotePort, gatewayPort: client.listenPort)
    }

    // MARK: - Inner side

    /// Handles one frame from an inner connection; returns the peer's new state, or nil to close it.
    func innerFrame(_ frame: GatewayFrame, peer: InnerConnectionHandler.Peer, channel: Channel) -> InnerConnectionHandler.Peer? {
        switch frame.command {
        case .workerConnect:
            guard case .unauthenticated = peer else { return peer }
            guard let body = try? WorkerConnectBody(body: frame.body) else {
                return refuseInner(channel, "malformed WORKER_CONNECT")
            }
            guard body.secretKey == configuration.secretKey else {
                return refuseInner(channel, "WORKER_CONNECT with a wrong secret key")
            }
            let remote = channel.remoteAddress?.ipAddress ?? "?"
            let speaksGatewayd = body.extra.contains { $0.key == GatewaydCapability.key }
            let link = WorkerLink(key: "\(remote):\(body.workerKey)", channel: channel, speaksGatewayd: speaksGatewayd)
            link.sendsHeartbeats = GatewaydHeartbeat.workerPings(body)
            link.framedReplies = GatewaydCapability.wantsFramedReplies(body)
            if link.framedReplies {
                // Its first frame, ahead of any event (held ones are released below) and of
                // the first ping: this gateway answers queries on this connection.
                outbound.enqueue(GatewaydCapability.helloFrame(), to: link)
                outbound.flush()
            }
            if let replaced = router.add(link) {
                logger.info("worker reconnected; closing its previous connection", metadata: ["gw.worker": "\(link.key)"])
                replaced.channel.close(promise: nil)
            }
            logger.info("worker attached", metadata: ["gw.worker": "\(link.key)", "gw.workers": "\(router.count)"])
            reportReadyIfServing()
            releaseHeldEvents()
            return .worker(link)
        case .gatewayClientConnect:
            guard let body = try? GatewayClientConnectBody(body: frame.body), body.secretKey == configuration.secretKey
            else {
                return refuseInner(channel, "GATEWAY_CLIENT_CONNECT with a wrong secret key")
            }
            if case .unauthenticated = peer { return .client }
            return peer
        case .drainRequest:
            guard case .worker(let link) = peer else { return peer }
            startDrain(of: link)
            return peer
        case .drainDone:
            guard case .worker(let link) = peer else { return peer }
            finishDrain(of: link)
            return peer
        default:
            if case .unauthenticated = peer, !configuration.secretKey.isEmpty {
                return refuseInner(channel, "command \(frame.command) before authentication")
            }
            execute(frame, replyTo: replyRoute(for: peer, channel: channel))
            return peer
        }
    }

    private func refuseInner(_ channel: Channel, _ reason: String) -> InnerConnectionHandler.Peer? {
        count(.authenticationFailure)
        logger.warning(
            "closing inner connection: \(reason)", metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
        return nil
    }

    func workerLeft(_ link: WorkerLink) {
        guard router.contains(link) else { return }
        router.remove(link)
        logger.info("worker detached", metadata: ["gw.worker": "\(link.key)", "gw.workers": "\(router.count)"])
        resumeClients(of: link)
        // A worker that died mid-drain: what it was sent is lost, what was held is not.
        releaseHeldEvents()
    }

    /// DRAIN_REQUEST: no more events for this worker; its clients' events wait from now on.
    private func startDrain(of link: WorkerLink) {
        guard !link.draining else { return }
        link.draining = true
        outbound.enqueue(ByteBuffer.command(.drainMark), to: link)
        logger.info("worker draining", metadata: ["gw.worker": "\(link.key)", "gw.clients": "\(link.assignedClients)"])
    }

    /// DRAIN_DONE: everything sent before the mark is handled, and the commands it caused came
    /// before this frame; the worker's clients move on, held events first, in order.
    private func finishDrain(of link: WorkerLink) {
        guard router.contains(link) else { return }
        router.remove(link)
        let held = heldClients.values.reduce(0) { $0 + $1.heldEvents.count }
        logger.info("worker drained", metadata: ["gw.worker": "\(link.key)", "gw.held_events": "\(held)"])
        releaseHeldEvents()
    }

    /// Where the replies to queries read from `channel` go: framed on the main connection of
    /// a worker that asked for it, bare otherwise (GatewayClients, query connections, PHP and
    /// older gatewayd workers).
    private func replyRoute(for peer: InnerConnectionHandler.Peer, channel: Channel) -> ReplyRoute {
        if case .worker(let link) = peer, link.framedReplies { return .framed(link) }
        return .bare(channel)
    }

    func logInnerError(_ error: Error, channel: Channel) {
        logger.warning(
            "inner connection error: \(error)", metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
    }

    // MARK: - Commands

    private func execute(_ frame: GatewayFrame, replyTo route: ReplyRoute) {
        switch frame.command {
        case .sendToOne:
            if let client = table[frame.connectionID] { send(frame.body, flags: frame.flags, to: client) }
        case .sendToAll:
            guard let scope = try? SendToAllScope(extData: frame.extData) else { return }
            var message = OutgoingMessage(body: frame.body, flags: frame.flags)
            switch scope {
            case .everyone:
                for client in table.connections.values { deliver(&message, to: client) }
            case .excluding(let excluded):
                let skip = Set(excluded)
                for (id, client) in table.connections where !skip.contains(id) { deliver(&message, to: client) }
            case .only(let ids):
                for id in ids { if let client = table[id] { deliver(&message, to: client) } }
            }
        case .kick:
            guard let client = table[frame.connectionID] else { return }
            if frame.flags.contains(.scalarBody), frame.body.readableBytes > 0 {
                send(frame.body, flags: frame.flags, to: client)
            }
            outbound.flush()
            client.channel.close(promise: nil)
        case .destroy:
            table[frame.connectionID]?.channel.close(promise: nil)
        case .updateSession:
            guard let client = table[frame.connectionID] else { return }
            client.session = mergedSession(client.session, update: frame.extData)
        case .setSession:
            table[frame.connectionID]?.session = Self.owned(frame.extData)
        case .getSessionByClientID:
            guard let client = table[frame.connectionID] else { return reply(rawPayload: ByteBuffer(string: "N;"), to: route) }
            reply(rawPayload: client.session.readableBytes == 0 ? ByteBuffer(string: "a:0:{}") : client.session, to: route)
        case .isOnline:
            reply(.int(table[frame.connectionID] == nil ? 0 : 1), to: route)
        case .bindUID:
            table.bind(frame.connectionID, uid: String(buffer: frame.extData))
        case .unbindUID:
            table.unbind(frame.connectionID, uid: String(buffer: frame.extData))
        case .sendToUID:
            guard let uids = try? UIDListExt.decode(frame.extData) else { return }
            var message = OutgoingMessage(body: frame.body, flags: frame.flags)
            for uid in uids {
                for id in table.clients(of: uid) { if let client = table[id] { deliver(&message, to: client) } }
            }
        case .joinGroup:
            table.join(frame.connectionID, group: String(buffer: frame.extData))
        case .leaveGroup:
            table.leave(frame.connectionID, group: String(buffer: frame.extData))
        case .ungroup:
            table.ungroup(String(buffer: frame.extData))
        case .sendToGroup:
            guard let target = try? SendToGroupExt(extData: frame.extData) else { return }
            var message = OutgoingMessage(body: frame.body, flags: frame.flags)
            let skip = Set(target.exclude ?? [])
            var sent: Set<UInt32> = []
            for group in target.groups {
                for id in table.members(of: group) where !skip.contains(id) && sent.insert(id).inserted {
                    if let client = table[id] { deliver(&message, to: client) }
                }
            }
        case .getClientCountByGroup:
            reply(table.clientCount(inGroup: String(buffer: frame.extData)), to: route)
        case .getAllClientSessions:
            reply(table.allSessions(), to: route)
        case .getClientSessionsByGroup:
            reply(table.sessions(inGroup: String(buffer: frame.extData)), to: route)
        case .getClientIDByUID:
            reply(table.connectionIDs(ofUID: String(buffer: frame.extData)), to: route)
        case .batchGetClientIDByUID:
            // Unreadable ext_data answers an empty array, as a PHP gateway's json_decode would.
            reply(table.connectionIDs(ofUIDs: (try? UIDListExt.decode(frame.extData)) ?? []), to: route)
        case .batchGetClientCountByGroup:
            reply(table.clientCounts(inGroups: (try? UIDListExt.decode(frame.extData)) ?? []), to: route)
        case .getGroupIDList:
            reply(table.groupNames(), to: route)
        case .select:
            guard let request = try? SelectExt(extData: frame.extData) else { return reply(.array(PHPArray()), to: route) }
            reply(table.select(request), to: route)
        case .handshakeVerdict:
            guard let pending = pendingVerdicts.removeValue(forKey: frame.connectionID) else { return }
            pending.timeout.cancel()
            let status = Int(String(buffer: frame.body)) ?? 0
            pending.promise.succeed((400...599).contains(status) ? status : 0)
        case .ping:
            break
        default:
            // Unknown commands are ignored and the connection stays open, as in GatewayWorker.
            break
        }
    }

    private func send(_ body: ByteBuffer, flags: GatewayFrameFlags, to client: ClientConnection) {
        var message = OutgoingMessage(body: body, flags: flags)
        deliver(&message, to: client)
    }

    private func deliver(_ message: inout OutgoingMessage, to client: ClientConnection) {
        guard !client.isClosed else { return }
        let bytes = message.bytes(for: client.transport, in: outbound)
        guard client.isOpen else {
            // Sent before the handshake completed (e.g. from on_connect): delivered after the 101.
            if client.pendingSends.count < 64 { client.pendingSends.append(outbound.detached(bytes)) } else { count(.slowClientDrop) }
            return
        }
        write(bytes, to: client)
    }

    private func write(_ bytes: OutboundQueue.Payload, to client: ClientConnection) {
        // Past the send buffer the client is not reading: its memory stays bounded either way.
        guard client.channel.isWritable else { return slowConsumer(client) }
        messagesOut += 1
        client.messagesOut += 1
        outbound.enqueue(bytes, to: client)
    }

    private func slowConsumer(_ client: ClientConnection) {
        switch configuration.slowClientPolicy {
        case .drop:
            count(.slowClientDrop)
        case .close:
            guard !client.isClosed else { return }
            count(.slowClientClosed)
            logger.info(
                "closing a client that stopped reading (send buffer full)",
                metadata: ["gw.client_id": "\(clientID(of: client))"])
            client.channel.close(promise: nil)  // what was queued for it is released with it
        }
    }

    // MARK: - Back-pressure towards workers

    /// Stops reading from a client whose worker has more than `workerBufferBytes` waiting:
    /// the client's TCP window closes instead of the gateway buffering without bound.
    private func pauseIfWorkerCongested(_ client: ClientConnection, worker: WorkerLink) {
        guard !worker.channel.isWritable, !client.readingPaused, !client.isClosed else { return }
        client.readingPaused = true
        worker.pausedClients.append(client)
        client.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        if worker.pausedClients.count == 1 {
            count(.workerBackPressure)
            logger.warning("worker is not keeping up; pausing its clients", metadata: ["gw.worker": "\(worker.key)"])
        }
    }

    /// The worker caught up (or left): its paused clients are read again.
    func resumeClients(of worker: WorkerLink) {
        guard worker.channel.isWritable || !router.contains(worker) else { return }
        let paused = worker.pausedClients
        worker.pausedClients.removeAll()
        for client in paused where !client.isClosed {
            client.readingPaused = false
            client.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
    }

    private func reply(_ value: PHPValue, to route: ReplyRoute) {
        switch route {
        case .bare(let channel):
            var buffer = channel.allocator.buffer(capacity: 16)
            buffer.writeGatewayReply(value)
            outbound.enqueue(buffer, to: ReplyTarget(channel: channel))
        case .framed(let link):
            var payload = link.channel.allocator.buffer(capacity: 16)
            PHPSerializer.serialize(value, into: &payload)
            reply(rawPayload: payload, to: route)
        }
    }

    private func reply(rawPayload: ByteBuffer, to route: ReplyRoute) {
        switch route {
        case .bare(let channel):
            var buffer = channel.allocator.buffer(capacity: 4 + rawPayload.readableBytes)
            buffer.writeInteger(UInt32(rawPayload.readableBytes))
            buffer.writeImmutableBuffer(rawPayload)
            outbound.enqueue(buffer, to: ReplyTarget(channel: channel))
        case .framed(let link):
            // Queued for the link itself: behind every event and mark queued for it before.
            var frame = link.channel.allocator.buffer(capacity: GatewayFrame.headerLength + rawPayload.readableBytes)
            frame.writeQueryReply(payload: rawPayload)
            outbound.enqueue(frame, to: link)
        }
    }

    /// A copy of `slice` in memory of its own: a session kept as a slice of the worker link's
    /// read buffer would pin that whole buffer for as long as the client stays connected.
    private static func owned(_ slice: ByteBuffer) -> ByteBuffer {
        ByteBufferAllocator().buffer(buffer: slice)
    }

    /// UPDATE_SESSION: array_replace_recursive(old, new) on the gateway. With no old session the
    /// update is stored as it is, as GatewayWorker does.
    private func mergedSession(_ old: ByteBuffer, update: ByteBuffer) -> ByteBuffer {
        guard old.readableBytes > 0 else { return Self.owned(update) }
        guard let current = try? PHPSerializer.unserialize(old), let change = try? PHPSerializer.unserialize(update) else {
            logger.warning("UPDATE_SESSION with an unreadable session; keeping the old one")
            return old
        }
        return ByteBuffer(bytes: PHPSerializer.serialize(current.replacingRecursive(with: change)))
    }
}

/// Where a query's reply goes, and in which form.
private enum ReplyRoute {
    /// A bare length-prefixed payload on the connection the query came on.
    case bare(Channel)
    /// A QUERY_REPLY frame on the main connection of a worker that announced capability 3.
    case framed(WorkerLink)
}

/// A query's reply channel as an outbound target (queries are not on the hot path).
private final class ReplyTarget: OutboundTarget {
    let channel: Channel
    var queuedWrites = 0

    init(channel: Channel) {
        self.channel = channel
    }
}

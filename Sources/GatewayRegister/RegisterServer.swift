import GatewayCore
import GatewayRuntime
import GatewayWire
import Logging
import NIOCore
import NIOPosix

/// The register: discovery only. Gateways announce their inner address; workers and
/// GatewayClients get the list, and workers get a fresh list whenever a gateway comes or goes.
///
/// Wire-compatible with GatewayWorker 4.x's Register (JSON lines): a wrong secret or an
/// unknown event closes the connection silently; a line that is not JSON gets one
/// "Bad request" line first; a connection that sends nothing within 10 s is closed.
/// A peer that sent gatewayd's marked ping (it pings every heartbeat interval) and then stays
/// silent past the heartbeat timeout is dropped — a gateway behind a cut cable leaves the list.
/// Confined to one event loop.
public final class RegisterServer: RoleService, @unchecked Sendable {
    /// How long a new connection may stay silent, as GatewayWorker's register allows.
    public static let authenticationTimeout: TimeAmount = .seconds(10)

    private let secretKey: String
    private let heartbeat: InnerHeartbeat?
    private let logger: Logger
    private let eventLoop: EventLoop
    private var serverChannel: Channel?
    private var gateways: [ObjectIdentifier: (channel: Channel, address: String)] = [:]
    private var gatewayOrder: [ObjectIdentifier] = []
    private var workers: [ObjectIdentifier: Channel] = [:]
    private var connectionCount = 0
    private var linesIn: UInt64 = 0
    private var linesOut: UInt64 = 0
    private var heartbeatTimeouts: UInt64 = 0

    public init(secretKey: String, eventLoop: EventLoop, logger: Logger, heartbeat: InnerHeartbeat? = nil) {
        self.secretKey = secretKey
        self.heartbeat = heartbeat
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Starts accepting on an already bound and listening socket.
    public func start(listeningDescriptor: Int32) -> EventLoopFuture<Void> {
        ServerBootstrap(group: eventLoop)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let heartbeat = self.heartbeat.map { settings in
                        InnerHeartbeatHandler(heartbeat: settings, ping: nil) { channel in
                            self.peerTimedOut(channel, after: settings.timeout)
                        }
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        (heartbeat.map { [$0] } ?? []) + [
                            ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 64 * 1024)),
                            RegisterConnectionHandler(server: self, heartbeat: heartbeat),
                        ])
                }
            }
            .withBoundSocket(listeningDescriptor)
            .map { self.serverChannel = $0 }
    }

    public func counters() -> ProcessCounters {
        let gatewayCount = addresses().count
        var details = ["gateways": "\(gatewayCount)", "workers": "\(workers.count)"]
        if heartbeatTimeouts > 0 { details["heartbeat_timeouts"] = "\(heartbeatTimeouts)" }
        var metrics = ProcessMetrics()
        metrics.add("gatewayd_messages_in_total", linesIn)
        metrics.add("gatewayd_messages_out_total", linesOut)
        metrics.add("gatewayd_register_gateways", gatewayCount)
        metrics.add("gatewayd_register_workers", workers.count)
        metrics.add("gatewayd_inner_heartbeat_timeouts_total", heartbeatTimeouts)
        return ProcessCounters(
            connections: connectionCount, messagesIn: linesIn, messagesOut: linesOut, details: details, metrics: metrics)
    }

    public func shutdown() -> EventLoopFuture<Void> {
        guard let serverChannel else { return eventLoop.makeSucceededVoidFuture() }
        return serverChannel.close()
    }

    // MARK: - Called by connection handlers, on the event loop

    private func peerTimedOut(_ channel: Channel, after timeout: TimeAmount) {
        heartbeatTimeouts += 1
        let what = gateways[ObjectIdentifier(channel)].map { "gateway \($0.address)" } ?? "peer"
        logger.warning(
            "\(what) silent for more than \(timeout.nanoseconds / 1_000_000) ms; dropping it",
            metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
    }

    func connectionOpened() { connectionCount += 1 }

    func connectionClosed(_ channel: Channel) {
        connectionCount -= 1
        let id = ObjectIdentifier(channel)
        workers[id] = nil
        if let gateway = gateways.removeValue(forKey: id) {
            gatewayOrder.removeAll { $0 == id }
            logger.info("gateway left", metadata: ["gw.address": "\(gateway.address)"])
            broadcastToWorkers()
        }
    }

    /// Handles one line; returns false when the connection must be closed.
    func received(_ line: ByteBuffer, from channel: Channel) -> Bool {
        linesIn += 1
        let message: RegisterMessage
        do {
            message = try RegisterMessage.parse(line.readableBytesView)
        } catch {
            let remote = channel.remoteAddress?.ipAddress ?? "?"
            switch error {
            case .notJSON, .missingEvent:
                channel.writeAndFlush(
                    ByteBuffer(bytes: RegisterMessage.badRequestLine(remoteIP: remote, line: line.readableBytesView)),
                    promise: nil)
                linesOut += 1
            case .unknownEvent, .missingAddress:
                break
            }
            logger.warning("closing register connection: \(error)", metadata: ["gw.remote": "\(remote)"])
            return false
        }
        switch message {
        case .gatewayConnect(let address, let secret):
            guard secret == secretKey else { return refuse(channel, "gateway_connect with a wrong secret key") }
            let id = ObjectIdentifier(channel)
            if gateways[id] == nil { gatewayOrder.append(id) }
            gateways[id] = (channel, address)
            logger.info("gateway joined", metadata: ["gw.address": "\(address)"])
            broadcastToWorkers()
        case .workerConnect(let secret):
            guard secret == secretKey else { return refuse(channel, "worker_connect with a wrong secret key") }
            workers[ObjectIdentifier(channel)] = channel
            send(.broadcastAddresses(addresses()), to: channel)
        case .ping:
            break
        case .broadcastAddresses:
            return refuse(channel, "unexpected broadcast_addresses from a peer")
        }
        return true
    }

    private func refuse(_ channel: Channel, _ reason: String) -> Bool {
        logger.warning("closing register connection: \(reason)", metadata: ["gw.remote": "\(channel.remoteAddress?.description ?? "?")"])
        return false
    }

    private func addresses() -> [String] {
        var seen: Set<String> = []
        return gatewayOrder.compactMap { gateways[$0]?.address }.filter { seen.insert($0).inserted }
    }

    private func broadcastToWorkers() {
        let line = ByteBuffer(bytes: RegisterMessage.broadcastAddresses(addresses()).encodedLine())
        for worker in workers.values {
            worker.writeAndFlush(line, promise: nil)
            linesOut += 1
        }
    }

    private func send(_ message: RegisterMessage, to channel: Channel) {
        channel.writeAndFlush(ByteBuffer(bytes: message.encodedLine()), promise: nil)
        linesOut += 1
    }
}

/// One register connection: closes it after 10 s of silence, feeds lines to the server.
private final class RegisterConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let server: RegisterServer
    private let heartbeat: InnerHeartbeatHandler?
    private var silenceTimer: Scheduled<Void>?

    init(server: RegisterServer, heartbeat: InnerHeartbeatHandler?) {
        self.server = server
        self.heartbeat = heartbeat
    }

    func channelActive(context: ChannelHandlerContext) {
        server.connectionOpened()
        let channel = context.channel
        silenceTimer = context.eventLoop.scheduleTask(in: RegisterServer.authenticationTimeout) {
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        silenceTimer?.cancel()
        silenceTimer = nil
        let line = unwrapInboundIn(data)
        // Only a gatewayd peer says it pings every interval; only it is timed out for silence.
        if let heartbeat, !heartbeat.isArmed, GatewaydHeartbeat.isMarkedRegisterPing(line.readableBytesView) { heartbeat.arm() }
        if !server.received(line, from: context.channel) {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        silenceTimer?.cancel()
        server.connectionClosed(context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RegisterConnectionHandler: Sendable {}

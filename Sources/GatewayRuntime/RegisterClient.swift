import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOPosix

/// Keeps one connection to a register open: says hello (`gateway_connect` or
/// `worker_connect`), hands every `broadcast_addresses` list to `onAddresses`, and reconnects
/// with back-off while the register is away — existing gateway↔worker links are unaffected.
///
/// Given several registers it is connected to one at a time, the first that answers, and fails
/// over to the next when it goes away (what workers do; a gateway registers with every register
/// through one client each). It pings every heartbeat interval with gatewayd's marked ping, so a
/// gatewayd register can drop it when the link is cut; and since a register never answers, a
/// cut is noticed here by TCP_USER_TIMEOUT: pings that stay unacknowledged for the heartbeat
/// timeout abort the connection. Confined to its event loop.
public final class RegisterClient: @unchecked Sendable {
    private let hello: RegisterMessage
    private let logger: Logger
    private var connection: ReconnectingConnection!

    public init(
        addresses: [HostPort], hello: RegisterMessage, eventLoop: EventLoop, logger: Logger,
        heartbeat: InnerHeartbeat = .standard,
        onConnected: @escaping @Sendable () -> Void = {},
        onAddresses: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.hello = hello
        self.logger = logger
        let many = addresses.count > 1
        connection = ReconnectingConnection(
            endpoints: addresses, eventLoop: eventLoop, userTimeout: heartbeat.timeout,
            callbacks: .init(
                initialize: { channel in
                    try channel.pipeline.syncOperations.addHandlers([
                        InnerHeartbeatHandler(
                            heartbeat: heartbeat, ping: ByteBuffer(bytes: GatewaydHeartbeat.registerPingLine),
                            onTimeout: { _ in }),
                        ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
                        RegisterClientHandler(onAddresses: onAddresses),
                    ])
                },
                connected: { channel, recovered in
                    let address = self.connection.endpoint
                    if recovered || many { logger.info("connected to register \(address)") }
                    channel.writeAndFlush(ByteBuffer(bytes: hello.encodedLine()), promise: nil)
                    try? channel.pipeline.syncOperations.handler(type: InnerHeartbeatHandler.self).startPinging()
                    onConnected()
                },
                disconnected: {
                    let address = self.connection.endpoint
                    logger.warning(many ? "lost register \(address); trying the next one" : "lost register \(address); reconnecting")
                },
                failed: { error, failures in
                    if failures == 1 || failures % 30 == 0 {
                        logger.warning(
                            "register \(self.connection.endpoint) unreachable; retrying with back-off",
                            metadata: ["gw.error": "\(error)"])
                    }
                }))
    }

    public convenience init(
        address: HostPort, hello: RegisterMessage, eventLoop: EventLoop, logger: Logger,
        heartbeat: InnerHeartbeat = .standard,
        onConnected: @escaping @Sendable () -> Void = {},
        onAddresses: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.init(
            addresses: [address], hello: hello, eventLoop: eventLoop, logger: logger, heartbeat: heartbeat,
            onConnected: onConnected, onAddresses: onAddresses)
    }

    public func start() {
        connection.start()
    }

    public func stop() {
        connection.stop()
    }

    /// The register this client is connected to right now, if any.
    public var connectedAddress: HostPort? { connection.channel == nil ? nil : connection.endpoint }
}

private final class RegisterClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let onAddresses: @Sendable ([String]) -> Void

    init(onAddresses: @escaping @Sendable ([String]) -> Void) {
        self.onAddresses = onAddresses
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if case .broadcastAddresses(let addresses)? = try? RegisterMessage.parse(line.readableBytesView) {
            onAddresses(addresses)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RegisterClientHandler: Sendable {}

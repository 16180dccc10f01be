import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOPosix

/// Keeps one connection to the register open: says hello (`gateway_connect` or
/// `worker_connect`), hands every `broadcast_addresses` list to `onAddresses`, and reconnects
/// every second while the register is away — existing gateway↔worker links are unaffected.
///
/// Like GatewayWorker, it sends `{"event":"ping"}` every 25 s unless the register address
/// starts with "127.0.0.1". Confined to its event loop.
public final class RegisterClient: @unchecked Sendable {
    private let address: HostPort
    private let hello: RegisterMessage
    private let logger: Logger
    private var connection: ReconnectingConnection!
    private var pingTask: RepeatedTask?

    /// Seconds between reconnection attempts, as GatewayWorker does.
    public static let reconnectInterval: TimeAmount = .seconds(1)

    public init(
        address: HostPort, hello: RegisterMessage, eventLoop: EventLoop, logger: Logger,
        onConnected: @escaping @Sendable () -> Void = {},
        onAddresses: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.address = address
        self.hello = hello
        self.logger = logger
        connection = ReconnectingConnection(
            host: address.host, port: address.port, eventLoop: eventLoop, retryInterval: Self.reconnectInterval,
            callbacks: .init(
                initialize: { channel in
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
                        RegisterClientHandler(onAddresses: onAddresses),
                    ])
                },
                connected: { channel, recovered in
                    if recovered { logger.info("register \(address) reachable again") }
                    self.sayHello(on: channel)
                    onConnected()
                },
                disconnected: {
                    self.pingTask?.cancel()
                    self.pingTask = nil
                    logger.warning("lost the register \(address); reconnecting")
                },
                failed: { error, failures in
                    if failures == 1 || failures % 30 == 0 {
                        logger.warning("register \(address) unreachable; retrying every second", metadata: ["gw.error": "\(error)"])
                    }
                }))
    }

    public func start() {
        connection.start()
    }

    public func stop() {
        pingTask?.cancel()
        connection.stop()
    }

    private func sayHello(on channel: Channel) {
        channel.writeAndFlush(ByteBuffer(bytes: hello.encodedLine()), promise: nil)
        // GatewayWorker keeps non-local register connections alive with a ping every 25 s.
        if !address.host.hasPrefix("127.0.0.1") {
            pingTask = channel.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(25), delay: .seconds(25)) { _ in
                channel.writeAndFlush(ByteBuffer(bytes: RegisterMessage.ping.encodedLine()), promise: nil)
            }
        }
    }
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

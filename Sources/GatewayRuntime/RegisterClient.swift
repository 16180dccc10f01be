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
    private let eventLoop: EventLoop
    private let logger: Logger
    private let onConnected: @Sendable () -> Void
    private let onAddresses: @Sendable ([String]) -> Void
    private var channel: Channel?
    private var stopped = false
    private var pingTask: RepeatedTask?
    private var failures = 0

    /// Seconds between reconnection attempts, as GatewayWorker does.
    public static let reconnectInterval: TimeAmount = .seconds(1)

    public init(
        address: HostPort, hello: RegisterMessage, eventLoop: EventLoop, logger: Logger,
        onConnected: @escaping @Sendable () -> Void = {},
        onAddresses: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.address = address
        self.hello = hello
        self.eventLoop = eventLoop
        self.logger = logger
        self.onConnected = onConnected
        self.onAddresses = onAddresses
    }

    public func start() {
        eventLoop.execute { self.connect() }
    }

    public func stop() {
        eventLoop.execute {
            self.stopped = true
            self.pingTask?.cancel()
            self.channel?.close(promise: nil)
        }
    }

    private func connect() {
        guard !stopped else { return }
        let onAddresses = self.onAddresses
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
                        RegisterClientHandler(onAddresses: onAddresses),
                    ])
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.connected(channel)
                case .failure(let error):
                    self.failures += 1
                    if self.failures == 1 || self.failures % 30 == 0 {
                        self.logger.warning(
                            "register \(self.address) unreachable; retrying every second", metadata: ["gw.error": "\(error)"])
                    }
                    self.scheduleReconnect()
                }
            }
    }

    private func connected(_ channel: Channel) {
        if stopped {
            channel.close(promise: nil)
            return
        }
        if failures > 0 { logger.info("register \(address) reachable again") }
        failures = 0
        self.channel = channel
        channel.writeAndFlush(ByteBuffer(bytes: hello.encodedLine()), promise: nil)
        if !address.host.hasPrefix("127.0.0.1") {
            pingTask = channel.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(25), delay: .seconds(25)) { _ in
                channel.writeAndFlush(ByteBuffer(bytes: RegisterMessage.ping.encodedLine()), promise: nil)
            }
        }
        channel.closeFuture.whenComplete { _ in
            self.pingTask?.cancel()
            self.pingTask = nil
            self.channel = nil
            guard !self.stopped else { return }
            self.logger.warning("lost the register \(self.address); reconnecting")
            self.scheduleReconnect()
        }
        onConnected()
    }

    private func scheduleReconnect() {
        guard !stopped else { return }
        eventLoop.scheduleTask(in: Self.reconnectInterval) { self.connect() }
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

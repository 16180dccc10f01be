import NIOCore
import NIOPosix

/// Keeps one outgoing TCP connection open: connects, and after a failed attempt or a lost
/// connection tries again every `retryInterval` until stopped — how GatewayWorker's gateways
/// and workers treat the register, and workers treat gateways.
///
/// The owner says what happens on each transition through the callbacks, all called on the
/// event loop. Confined to its event loop.
public final class ReconnectingConnection: @unchecked Sendable {
    public struct Callbacks: Sendable {
        /// Adds the pipeline's handlers (called on the new channel's loop).
        public var initialize: @Sendable (Channel) throws -> Void
        /// Connected; `recovered` is true when earlier attempts had failed.
        public var connected: @Sendable (Channel, _ recovered: Bool) -> Void
        /// A connection that was up is gone (not called after `stop`).
        public var disconnected: @Sendable () -> Void
        /// An attempt failed; `failures` counts consecutive failed attempts.
        public var failed: @Sendable (Error, _ failures: Int) -> Void

        public init(
            initialize: @escaping @Sendable (Channel) throws -> Void,
            connected: @escaping @Sendable (Channel, Bool) -> Void,
            disconnected: @escaping @Sendable () -> Void = {},
            failed: @escaping @Sendable (Error, Int) -> Void = { _, _ in }
        ) {
            self.initialize = initialize
            self.connected = connected
            self.disconnected = disconnected
            self.failed = failed
        }
    }

    private let host: String
    private let port: Int
    private let eventLoop: EventLoop
    private let retryInterval: TimeAmount
    private let callbacks: Callbacks
    private var stopped = false
    private var failures = 0
    /// The live connection, if any.
    public private(set) var channel: Channel?

    public init(host: String, port: Int, eventLoop: EventLoop, retryInterval: TimeAmount = .seconds(1), callbacks: Callbacks) {
        self.host = host
        self.port = port
        self.eventLoop = eventLoop
        self.retryInterval = retryInterval
        self.callbacks = callbacks
    }

    public func start() {
        onLoop { self.connect() }
    }

    /// Closes the connection and stops retrying.
    public func stop() {
        onLoop {
            self.stopped = true
            self.channel?.close(promise: nil)
        }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    private func connect() {
        guard !stopped else { return }
        let initialize = callbacks.initialize
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try initialize(channel) } }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.connected(channel)
                case .failure(let error):
                    self.failures += 1
                    if !self.stopped { self.callbacks.failed(error, self.failures) }
                    self.retry()
                }
            }
    }

    private func connected(_ channel: Channel) {
        guard !stopped else {
            channel.close(promise: nil)
            return
        }
        let recovered = failures > 0
        failures = 0
        self.channel = channel
        channel.closeFuture.whenComplete { _ in
            self.channel = nil
            guard !self.stopped else { return }
            self.callbacks.disconnected()
            self.retry()
        }
        callbacks.connected(channel, recovered)
    }

    private func retry() {
        guard !stopped else { return }
        eventLoop.scheduleTask(in: retryInterval) { self.connect() }
    }
}

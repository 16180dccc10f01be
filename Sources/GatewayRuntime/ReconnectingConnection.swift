import GatewayCore
import NIOCore
import NIOPosix

/// Keeps one outgoing TCP connection open: connects, and after a failed attempt or a lost
/// connection tries again, with back-off, until stopped — how gateways and workers treat the
/// register, and workers treat gateways.
///
/// With several endpoints (a register list) it is connected to one at a time: the first that
/// answers; when that one goes away or an attempt fails it moves on to the next, and only after
/// a whole round failed does it wait (``ReconnectBackoff``).
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

    private let endpoints: [HostPort]
    private let eventLoop: EventLoop
    private let backoff: ReconnectBackoff
    private let userTimeout: TimeAmount?
    private let callbacks: Callbacks
    private var stopped = false
    private var failures = 0
    private var failuresThisRound = 0
    private var failedRounds = 0
    private var index = 0
    /// The live connection, if any.
    public private(set) var channel: Channel?
    /// The endpoint connected to, or tried next.
    public var endpoint: HostPort { endpoints[index] }

    /// - Parameter userTimeout: TCP_USER_TIMEOUT: a connection whose written data stays
    ///   unacknowledged this long is aborted by the kernel — how a peer that never answers
    ///   (a register, which only listens) is found dead when the cable is cut.
    public init(
        endpoints: [HostPort], eventLoop: EventLoop, backoff: ReconnectBackoff = .standard,
        userTimeout: TimeAmount? = nil, callbacks: Callbacks
    ) {
        precondition(!endpoints.isEmpty, "a connection needs an endpoint")
        self.endpoints = endpoints
        self.eventLoop = eventLoop
        self.backoff = backoff
        self.userTimeout = userTimeout
        self.callbacks = callbacks
    }

    public convenience init(
        host: String, port: Int, eventLoop: EventLoop, backoff: ReconnectBackoff = .standard, callbacks: Callbacks
    ) {
        self.init(endpoints: [HostPort(host: host, port: port)], eventLoop: eventLoop, backoff: backoff, callbacks: callbacks)
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
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let userTimeout {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: 18 /* TCP_USER_TIMEOUT */)),
                value: SocketOptionValue(userTimeout.nanoseconds / 1_000_000))
        }
        bootstrap
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try initialize(channel) } }
            .connect(host: endpoint.host, port: endpoint.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.connected(channel)
                case .failure(let error):
                    self.failures += 1
                    if !self.stopped { self.callbacks.failed(error, self.failures) }
                    self.attemptFailed()
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
        failuresThisRound = 0
        failedRounds = 0
        self.channel = channel
        channel.closeFuture.whenComplete { _ in
            self.channel = nil
            guard !self.stopped else { return }
            self.callbacks.disconnected()
            // Fail over: the next endpoint first (with one endpoint, the same one again).
            self.index = (self.index + 1) % self.endpoints.count
            self.retry(after: self.backoff.initial)
        }
        callbacks.connected(channel, recovered)
    }

    /// The next endpoint at once while this round has untried ones; back-off after a round.
    private func attemptFailed() {
        index = (index + 1) % endpoints.count
        failuresThisRound += 1
        guard failuresThisRound >= endpoints.count else { return retry(after: .zero) }
        failuresThisRound = 0
        failedRounds += 1
        retry(after: backoff.delay(afterFailedRounds: failedRounds))
    }

    private func retry(after delay: TimeAmount) {
        guard !stopped else { return }
        eventLoop.scheduleTask(in: delay) { self.connect() }
    }
}

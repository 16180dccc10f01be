import NIOCore

/// The heartbeat of inner links (gateway↔worker, gateway/worker→register): a ping every
/// `interval`, and a peer silent for `timeout` is taken for dead (a cut cable sends no FIN).
public struct InnerHeartbeat: Sendable, Hashable {
    public var interval: TimeAmount
    public var timeout: TimeAmount

    public init(interval: TimeAmount, timeout: TimeAmount) {
        self.interval = interval
        self.timeout = timeout
    }

    /// The defaults of inner_heartbeat_interval_ms and inner_heartbeat_timeout_ms.
    public static let standard = InnerHeartbeat(interval: .seconds(5), timeout: .seconds(15))

    public init(intervalMilliseconds: Int, timeoutMilliseconds: Int) {
        self.init(interval: .milliseconds(Int64(intervalMilliseconds)), timeout: .milliseconds(Int64(timeoutMilliseconds)))
    }
}

/// First handler of an inner link's pipeline: once told to, writes `ping` at once and then every
/// interval; once armed, closes the link when nothing at all was read for longer than the timeout.
///
/// Both are the owner's calls. Pinging starts after the peer's hello (a gateway's first frame
/// must be WORKER_CONNECT; a GatewayClient connection must never see a ping). Arming is only for
/// a peer known to ping back (a gatewayd peer, see GatewaydHeartbeat): a PHP peer must never be
/// closed for being quiet. A silent peer is found within `timeout + interval`. Confined to its
/// channel's event loop.
public final class InnerHeartbeatHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let heartbeat: InnerHeartbeat
    private let ping: ByteBuffer?
    private let onTimeout: (Channel) -> Void
    private var pinging = false
    private var context: ChannelHandlerContext?
    /// Whether silence closes the link (see `arm()`).
    public private(set) var isArmed = false
    private var lastHeard = NIODeadline.distantPast
    private var timer: RepeatedTask?

    /// - Parameters:
    ///   - ping: what to write every interval (nil: never write, only time out).
    ///   - onTimeout: called just before a silent link is closed (to log and count it).
    public init(heartbeat: InnerHeartbeat, ping: ByteBuffer?, onTimeout: @escaping (Channel) -> Void) {
        self.heartbeat = heartbeat
        self.ping = ping
        self.onTimeout = onTimeout
    }

    /// Pings now and every interval from now on. The first one at once, so that a gatewayd
    /// peer arms its own timeout right after the hello, not an interval later.
    public func startPinging() {
        guard !pinging else { return }
        pinging = true
        if let context, let ping { context.writeAndFlush(wrapOutboundOut(ping), promise: nil) }
    }

    /// From now on a silence longer than the timeout closes the link.
    public func arm() {
        guard !isArmed else { return }
        isArmed = true
        if let context { lastHeard = context.eventLoop.now }
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        lastHeard = context.eventLoop.now
        if context.channel.isActive { startTimer(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        startTimer(context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastHeard = context.eventLoop.now
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
        self.context = nil
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: heartbeat.interval, delay: heartbeat.interval) { _ in
            let (handler, context) = bound.value
            handler.tick(context)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    private func tick(_ context: ChannelHandlerContext) {
        if isArmed, context.eventLoop.now - lastHeard > heartbeat.timeout {
            stopTimer()
            onTimeout(context.channel)
            context.close(promise: nil)
            return
        }
        if pinging, let ping { context.writeAndFlush(wrapOutboundOut(ping), promise: nil) }
    }
}

@available(*, unavailable)
extension InnerHeartbeatHandler: Sendable {}

import GatewayCore
import GatewayWire
import NIOCore
import NIOPosix

/// The child's end of the control socketpair with the master, driven by the child's event loop.
///
/// Requests (`stats?`, `connections?`, `stop`) arrive as JSON lines and are handed to
/// `onMessage` on the event loop; `send` may be called from any thread. When the master goes
/// away the link closes and `onClose` runs (the child should then exit: the kernel's
/// parent-death signal normally gets there first).
public final class ControlLink: Sendable {
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    public static func attach(
        descriptor: Int32, on eventLoop: EventLoop,
        onMessage: @escaping @Sendable (ControlMessage, ControlLink) -> Void,
        onClose: @escaping @Sendable () -> Void
    ) -> EventLoopFuture<ControlLink> {
        let linkPromise = eventLoop.makePromise(of: ControlLink.self)
        return ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
                        ControlLinkHandler(link: linkPromise.futureResult, onMessage: onMessage, onClose: onClose),
                    ])
                }
            }
            .withConnectedSocket(descriptor)
            .map { channel in
                let link = ControlLink(channel: channel)
                linkPromise.succeed(link)
                return link
            }
    }

    public func send(_ message: ControlMessage) {
        channel.writeAndFlush(ByteBuffer(bytes: message.encodedLine()), promise: nil)
    }

    /// Sends and completes once the bytes are written (used for `fatal` right before exiting).
    public func sendAndFlush(_ message: ControlMessage) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(bytes: message.encodedLine()))
    }
}

private final class ControlLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let link: EventLoopFuture<ControlLink>
    private let onMessage: @Sendable (ControlMessage, ControlLink) -> Void
    private let onClose: @Sendable () -> Void

    init(
        link: EventLoopFuture<ControlLink>, onMessage: @escaping @Sendable (ControlMessage, ControlLink) -> Void,
        onClose: @escaping @Sendable () -> Void
    ) {
        self.link = link
        self.onMessage = onMessage
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard let message = ControlMessage.decode(line: line.readableBytesView) else { return }
        let onMessage = self.onMessage
        link.whenSuccess { onMessage(message, $0) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ControlLinkHandler: Sendable {}

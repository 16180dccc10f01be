import NIOCore

/// One request on a gateway connection: a frame and, for a query, the promise its reply fulfils.
struct GatewayRequest: Sendable {
    var frame: ByteBuffer
    var reply: EventLoopPromise<ByteBuffer>?

    init(frame: ByteBuffer, reply: EventLoopPromise<ByteBuffer>? = nil) {
        self.frame = frame
        self.reply = reply
    }
}

/// Why a request on a gateway connection got no reply.
enum GatewayLinkError: Error {
    case timedOut
    case closed
}

/// Pipelines requests on one gateway connection and hands each reply to its query.
///
/// A gateway answers queries in the order it received them and answers nothing else (replies
/// are bare `u32 length + payload`, with nothing naming the question), so the oldest waiting
/// query owns the next reply. A query its caller stopped waiting for (timed out) keeps its
/// place: its late reply completes a promise nobody reads any more, and the ones behind it
/// still get theirs. Confined to the channel's event loop.
final class GatewayLinkHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = GatewayRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<ByteBuffer>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let reply = request.reply {
            guard context.channel.isActive else {
                reply.fail(GatewayLinkError.closed)
                promise?.fail(ChannelError.ioOnClosedChannel)
                return
            }
            waiting.append(reply)
        }
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Bytes nobody asked for have no query to go to.
        waiting.popFirst()?.succeed(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        while let reply = waiting.popFirst() { reply.fail(GatewayLinkError.closed) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension GatewayLinkHandler: Sendable {}

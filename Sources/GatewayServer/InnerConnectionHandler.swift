import GatewayRuntime
import GatewayWire
import NIOCore

/// One connection on the gateway's inner port: a BusinessWorker (WORKER_CONNECT) or a
/// GatewayClient (GATEWAY_CLIENT_CONNECT). Decoded frames go to the gateway, which executes
/// them; with a secret key nothing is executed before the peer authenticated.
final class InnerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = GatewayFrame
    typealias OutboundOut = ByteBuffer

    enum Peer {
        case unauthenticated
        case worker(WorkerLink)
        case client
    }

    private let server: GatewayServer
    private let heartbeat: InnerHeartbeatHandler?
    private var peer = Peer.unauthenticated
    /// Refused: frames already decoded from the same read are ignored, not refused again.
    private var refused = false

    init(server: GatewayServer, heartbeat: InnerHeartbeatHandler? = nil) {
        self.server = server
        self.heartbeat = heartbeat
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let frame = unwrapInboundIn(data)
        if let next = server.innerFrame(frame, peer: peer, channel: context.channel) {
            if case .unauthenticated = peer, case .worker(let link) = next {
                // Workers get pings (never a GatewayClient: they would corrupt its replies);
                // only a worker that pings back is ever closed for silence.
                heartbeat?.startPinging()
                if link.sendsHeartbeats { heartbeat?.arm() }
            }
            peer = next
        } else {
            refused = true
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .worker(let link) = peer, context.channel.isWritable { server.resumeClients(of: link) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .worker(let link) = peer { server.workerLeft(link) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.logInnerError(error, channel: context.channel)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension InnerConnectionHandler: Sendable {}

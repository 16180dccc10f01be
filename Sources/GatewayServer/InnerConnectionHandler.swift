import GatewayHub
import GatewayRuntime
import GatewayWire
import NIOCore

/// One connection on the gateway's inner port: a BusinessWorker (WORKER_CONNECT) or a
/// GatewayClient (GATEWAY_CLIENT_CONNECT). It splits the byte stream into frames itself and
/// hands each to the gateway, which executes it; with a secret key nothing is executed before
/// the peer authenticated.
///
/// Parsing here rather than in a `ByteToMessageHandler` saves boxing every frame (two buffers
/// and ten header fields) into a `NIOAny` on the hottest path of the gateway.
final class InnerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    typealias Peer = InnerPeer<GatewayServer>

    private let server: GatewayServer
    private let heartbeat: InnerHeartbeatHandler?
    private var parser: GatewayFrameParser
    private var reassembly = FrameReassembly()
    private var peer = Peer.unauthenticated
    private var socket: NIOInnerSocket?
    /// Refused: frames already read are ignored, not refused again.
    private var refused = false

    init(server: GatewayServer, heartbeat: InnerHeartbeatHandler? = nil, maximumFrameLength: Int = 64 << 20) {
        self.server = server
        self.heartbeat = heartbeat
        self.parser = GatewayFrameParser(maximumFrameLength: maximumFrameLength)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        reassembly.read(unwrapInboundIn(data), allocator: context.channel.allocator) { buffer in
            handleFrames(in: &buffer, context: context)
            return !refused
        }
    }

    private func handleFrames(in buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while !refused {
            let frame: GatewayFrame?
            do {
                frame = try parser.parse(&buffer)
            } catch {
                refused = true
                server.logInnerError(error, channel: context.channel)
                context.close(promise: nil)
                return
            }
            guard let frame else { return }
            handle(frame, context: context)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        socket = NIOInnerSocket(channel: context.channel)
    }

    private func handle(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        let socket = self.socket ?? NIOInnerSocket(channel: context.channel)
        self.socket = socket
        if let next = server.innerFrame(frame, peer: peer, socket: socket) {
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

import GatewayHub
import GatewayWire
import NIOCore

/// A `text://` or `frame://` client after its decoder: every decoded message goes to the
/// client's worker. Text lines arrive as text messages, frames as binary ones (a frame's body
/// is arbitrary bytes). A message over the size limit (the decoder refuses it from its header
/// or before its newline) closes the connection and is counted; these protocols have no close
/// code to send.
final class StreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let server: GatewayServer
    private let connection: ClientConnection
    private let binary: Bool

    init(server: GatewayServer, connection: ClientConnection, binary: Bool) {
        self.server = server
        self.connection = connection
        self.binary = binary
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        server.clientHeardFrom(connection)
        server.clientMessage(connection, unwrapInboundIn(data), binary: binary)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case is LineTooLongError, LengthPrefixedFrameError.tooLong:
            server.count(.oversizedMessage)
            server.closing(connection, because: .sizeLimit)
        default:
            server.count(.malformedFrame)
            server.closing(connection, because: .protocolError)
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension StreamClientHandler: Sendable {}

import Crypto
import Foundation
import GatewayWire
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Reads a client's HTTP upgrade request, asks the client's worker (the plugin's handshake
/// callback) for a verdict, then either answers 101 and switches the channel to WebSocket
/// frames, or answers the refusal status and closes.
///
/// The verdict round trip is why this is not NIO's `NIOWebSocketServerUpgrader`: the plugin may
/// refuse with any HTTP status, and the request details go to the worker first.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    private enum State {
        case awaitingHead
        case awaitingEnd(HTTPRequestHead)
        case awaitingVerdict
        case done
    }

    private let server: GatewayServer
    private let connection: ClientConnection
    private let maxMessageBytes: Int
    private var state = State.awaitingHead

    init(server: GatewayServer, connection: ClientConnection, maxMessageBytes: Int) {
        self.server = server
        self.connection = connection
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead):
            state = .awaitingEnd(head)
        case (.body, .awaitingEnd):
            break  // a GET upgrade has no body worth reading; ignored
        case (.end, .awaitingEnd(let head)):
            state = .awaitingVerdict
            handle(head, context: context)
        default:
            // Bytes after the request before the 101: not a well-behaved WebSocket client.
            refuse(status: .badRequest, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.count(.malformedHandshake)
        refuse(status: .badRequest, context: context)
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET, head.version.major == 1, head.version.minor >= 1 else {
            return refuse(status: .badRequest, context: context)
        }
        let connectionTokens = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }),
            connectionTokens.contains("upgrade")
        else {
            return refuse(status: .upgradeRequired, context: context, extraHeaders: "Upgrade: websocket\r\n")
        }
        guard head.headers["sec-websocket-version"].first == "13" else {
            return refuse(status: .upgradeRequired, context: context, extraHeaders: "Sec-WebSocket-Version: 13\r\n")
        }
        guard let key = head.headers["sec-websocket-key"].first?.trimmingCharacters(in: .whitespaces),
            let decodedKey = Data(base64Encoded: key), decodedKey.count == 16
        else {
            return refuse(status: .badRequest, context: context)
        }

        let info = WebSocketConnectInfo(
            method: "GET", uri: head.uri, httpVersion: "HTTP/\(head.version.major).\(head.version.minor)",
            headers: head.headers.map { (name: $0.name, value: $0.value) })
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        server.handshakeRequested(connection, info: info).whenSuccess { status in
            let (handler, context) = loopBound.value
            if status == 0 {
                handler.upgrade(key: key, context: context)
            } else {
                handler.refuse(status: HTTPResponseStatus(statusCode: status), context: context)
            }
        }
    }

    private func upgrade(key: String, context: ChannelHandlerContext) {
        guard case .awaitingVerdict = state, connection.channel.isActive else { return }
        state = .done
        let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
            .base64EncodedString()
        let response =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)

        // Swap HTTP parsing for WebSocket frames. The frame handler goes in before the HTTP
        // decoder is removed, so bytes the client pipelined after its request reach it.
        let pipeline = context.pipeline
        do {
            try pipeline.syncOperations.addHandler(
                WebSocketConnectionHandler(server: server, connection: connection, maxMessageBytes: maxMessageBytes),
                position: .before(self))
            let httpDecoder = try pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            pipeline.syncOperations.removeHandler(httpDecoder, promise: nil)
            pipeline.syncOperations.removeHandler(self, promise: nil)
        } catch {
            context.close(promise: nil)
            return
        }
        server.clientUpgraded(connection)
    }

    private func refuse(status: HTTPResponseStatus, context: ChannelHandlerContext, extraHeaders: String = "") {
        if case .done = state { return }
        state = .done
        server.closing(connection, because: .protocolError)  // a refusing verdict said so first
        let response =
            "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Length: 0\r\nConnection: close\r\n\(extraHeaders)\r\n"
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    typealias OutboundOut = ByteBuffer
}

@available(*, unavailable)
extension WebSocketHandshakeHandler: Sendable {}

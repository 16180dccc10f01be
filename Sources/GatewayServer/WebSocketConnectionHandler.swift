import GatewayHub
import GatewayRuntime
import GatewayWire
import NIOCore
import NIOWebSocket

/// Splits a client's bytes into WebSocket frames, turns them into whole client messages and
/// answers control frames.
///
/// RFC 6455 rules enforced here: client frames must be masked, reserved bits must be clear,
/// control frames are final and at most 125 bytes, continuation frames only follow an open
/// fragmented message, text must be valid UTF-8, and a message may not exceed the configured
/// size (close 1009). Outgoing data frames are written pre-encoded by the gateway, so a
/// broadcast is encoded once for all its targets.
final class WebSocketConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: GatewayServer
    private let connection: ClientConnection
    private let maxMessageBytes: Int
    private var parser: WebSocketFrameParser
    private var reassembly = FrameReassembly()
    private var fragments: ByteBuffer?
    private var fragmentsAreBinary = false
    private var closing = false

    init(server: GatewayServer, connection: ClientConnection, maxMessageBytes: Int) {
        self.server = server
        self.connection = connection
        self.maxMessageBytes = maxMessageBytes
        self.parser = WebSocketFrameParser(maximumPayloadLength: maxMessageBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        server.clientHeardFrom(connection)  // any bytes, pongs included
        reassembly.read(unwrapInboundIn(data), allocator: context.channel.allocator) { buffer in
            while !closing {
                let frame: WebSocketClientFrame?
                do {
                    frame = try parser.parse(&buffer)
                } catch {
                    if case .payloadTooLarge = error as? WebSocketFrameParseError {
                        server.count(.oversizedMessage)
                        fail(.messageTooLarge, context: context)
                    } else {
                        fail(.protocolError, context: context)
                    }
                    break
                }
                guard let frame else { break }
                handle(frame, context: context)
            }
            return !closing
        }
    }

    private func handle(_ frame: WebSocketClientFrame, context: ChannelHandlerContext) {
        guard let key = frame.maskingKey else { return fail(.protocolError, context: context) }
        guard frame.reservedBits == 0 else { return fail(.protocolError, context: context) }

        switch frame.opcode {
        case WebSocketFrameWriter.textOpcode, WebSocketFrameWriter.binaryOpcode:
            guard fragments == nil else { return fail(.protocolError, context: context) }
            let binary = frame.opcode == WebSocketFrameWriter.binaryOpcode
            if frame.fin {
                // The common case: one frame, one message, unmasked straight into the worker's
                // frame (the parser already held it to maxMessageBytes).
                if !server.clientMessage(connection, masked: frame.payload, maskingKey: key, binary: binary) {
                    fail(.dataInconsistentWithMessage, context: context)
                }
            } else {
                fragments = Self.unmasked(frame.payload, key: key)
                fragmentsAreBinary = binary
            }
            return
        case WebSocketFrameWriter.continuationOpcode:
            guard var buffered = fragments else { return fail(.protocolError, context: context) }
            guard buffered.readableBytes + frame.payload.readableBytes <= maxMessageBytes else {
                server.count(.oversizedMessage)
                return fail(.messageTooLarge, context: context)
            }
            fragments = nil  // so the buffer below is not shared, and appending does not copy it
            _ = frame.payload.withUnsafeReadableBytes { buffered.writeUnmaskedWebSocketPayload($0, maskingKey: key) }
            if frame.fin {
                deliver(buffered, binary: fragmentsAreBinary, context: context)
            } else {
                fragments = buffered
            }
            return
        default:
            break
        }
        let payload = Self.unmasked(frame.payload, key: key)
        switch frame.opcode {
        case WebSocketFrameWriter.pingOpcode:
            guard frame.fin, payload.readableBytes <= 125 else { return fail(.protocolError, context: context) }
            let pong = payload.withUnsafeReadableBytes { WebSocketFrameWriter.frame(opcode: 0xA, payload: $0) }
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case WebSocketFrameWriter.pongOpcode:
            guard frame.fin, payload.readableBytes <= 125 else { return fail(.protocolError, context: context) }
        case WebSocketFrameWriter.closeOpcode:
            guard frame.fin, payload.readableBytes <= 125, payload.readableBytes != 1 else {
                return fail(.protocolError, context: context)
            }
            var reply = ByteBuffer()
            if let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self) {
                guard Self.isValidCloseCode(code),
                    payload.readableBytes == 2
                        || String(validating: payload.readableBytesView.dropFirst(2), as: UTF8.self) != nil
                else { return fail(.protocolError, context: context) }
                reply = WebSocketFrameWriter.closeFrame(code: code)
            } else {
                reply = WebSocketFrameWriter.frame(opcode: 0x8, payload: UnsafeRawBufferPointer(start: nil, count: 0))
            }
            closing = true
            server.flushPending()  // what was queued for this client goes before the close frame
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        default:
            fail(.protocolError, context: context)
        }
    }

    /// A masked payload (a control frame's, a fragment's, a held message's), unmasked into a
    /// buffer of its own.
    static func unmasked(_ masked: ByteBuffer, key: (UInt8, UInt8, UInt8, UInt8)) -> ByteBuffer {
        var payload = ByteBufferAllocator().buffer(capacity: masked.readableBytes)
        _ = masked.withUnsafeReadableBytes { payload.writeUnmaskedWebSocketPayload($0, maskingKey: key) }
        return payload
    }

    private func deliver(_ message: ByteBuffer, binary: Bool, context: ChannelHandlerContext) {
        guard message.readableBytes <= maxMessageBytes else {
            server.count(.oversizedMessage)
            return fail(.messageTooLarge, context: context)
        }
        if !binary && !Self.isValidUTF8(message, from: message.readerIndex) {
            return fail(.dataInconsistentWithMessage, context: context)
        }
        server.clientMessage(connection, message, binary: binary)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(.protocolError, context: context)
    }

    /// Sends a close frame with `code`, then closes: the RFC's "fail the connection".
    private func fail(_ code: WebSocketErrorCode, context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        server.closing(connection, because: code == .messageTooLarge ? .sizeLimit : .protocolError)
        let numeric: UInt16
        switch code {
        case .protocolError: numeric = 1002
        case .messageTooLarge: numeric = 1009
        case .dataInconsistentWithMessage: numeric = 1007
        default: numeric = 1011
        }
        server.flushPending()  // what was queued for this client goes before the close frame
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrameWriter.closeFrame(code: numeric))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }

    /// Whether `buffer`'s bytes from index `start` to its end are UTF-8.
    static func isValidUTF8(_ buffer: ByteBuffer, from start: Int) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            UnsafeRawBufferPointer(rebasing: raw[(start - buffer.readerIndex)...]).withMemoryRebound(to: UInt8.self) {
                isValidUTF8($0)
            }
        }
    }

    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // ASCII fast path: most chat traffic never leaves it.
        var index = 0
        let count = bytes.count
        while index < count && bytes[index] < 0x80 { index += 1 }
        if index == count { return true }
        return String(validating: UnsafeBufferPointer(rebasing: bytes[index...]), as: UTF8.self) != nil
    }
}

@available(*, unavailable)
extension WebSocketConnectionHandler: Sendable {}

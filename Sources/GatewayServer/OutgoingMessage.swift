import GatewayCore
import GatewayWire
import NIOCore

/// A message on its way to clients, framed for each client protocol the first time a client
/// of that protocol needs it: a broadcast to 10 000 WebSocket clients is encoded once, and a
/// mixed audience costs one encoding per protocol, never one per client. Encodings live in the
/// outbound queue's arena, so they are valid for the current tick only.
struct OutgoingMessage {
    let body: ByteBuffer
    let flags: GatewayFrameFlags
    private var webSocket: OutboundQueue.Payload?
    private var line: OutboundQueue.Payload?
    private var frame: OutboundQueue.Payload?

    init(body: ByteBuffer, flags: GatewayFrameFlags) {
        self.body = body
        self.flags = flags
    }

    /// The bytes to write to a client speaking `transport`. Raw messages go out as they are.
    mutating func bytes(for transport: ListenAddress.Scheme, in queue: OutboundQueue) -> OutboundQueue.Payload {
        if flags.contains(.raw) { return .buffer(body) }
        let body = self.body
        let size = body.readableBytes + 10
        switch transport {
        case .websocket:
            if let webSocket { return webSocket }
            let opcode = flags.contains(.binary) ? WebSocketFrameWriter.binaryOpcode : WebSocketFrameWriter.textOpcode
            let encoded = queue.encode(size: size) { buffer in
                WebSocketFrameWriter.writeHeader(fin: true, opcode: opcode, payloadLength: body.readableBytes, into: &buffer)
                buffer.writeImmutableBuffer(body)
            }
            webSocket = encoded
            return encoded
        case .text:
            if let line { return line }
            let encoded = queue.encode(size: size) { buffer in
                buffer.writeImmutableBuffer(body)
                buffer.writeInteger(UInt8(ascii: "\n"))
            }
            line = encoded
            return encoded
        case .frame:
            if let frame { return frame }
            let encoded = queue.encode(size: size) { buffer in
                body.withUnsafeReadableBytes { LengthPrefixedFrameDecoder.write($0, into: &buffer) }
            }
            frame = encoded
            return encoded
        }
    }
}

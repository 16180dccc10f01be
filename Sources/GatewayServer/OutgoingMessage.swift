import GatewayCore
import GatewayWire
import NIOCore

/// A message on its way to clients, framed for each client protocol the first time a client
/// of that protocol needs it: a broadcast to 10 000 WebSocket clients is encoded once, and a
/// mixed audience costs one encoding per protocol, never one per client.
struct OutgoingMessage {
    let body: ByteBuffer
    let flags: GatewayFrameFlags
    private var webSocket: ByteBuffer?
    private var line: ByteBuffer?
    private var frame: ByteBuffer?

    init(body: ByteBuffer, flags: GatewayFrameFlags) {
        self.body = body
        self.flags = flags
    }

    /// The bytes to write to a client speaking `transport`. Raw messages go out as they are.
    mutating func bytes(for transport: ListenAddress.Scheme) -> ByteBuffer {
        if flags.contains(.raw) { return body }
        switch transport {
        case .websocket:
            if let webSocket { return webSocket }
            let encoded = body.withUnsafeReadableBytes {
                WebSocketFrameWriter.frame(opcode: flags.contains(.binary) ? 0x2 : 0x1, payload: $0)
            }
            webSocket = encoded
            return encoded
        case .text:
            if let line { return line }
            var encoded = ByteBuffer()
            encoded.reserveCapacity(body.readableBytes + 1)
            encoded.writeImmutableBuffer(body)
            encoded.writeInteger(UInt8(ascii: "\n"))
            line = encoded
            return encoded
        case .frame:
            if let frame { return frame }
            let encoded = body.withUnsafeReadableBytes { LengthPrefixedFrameDecoder.encode($0) }
            frame = encoded
            return encoded
        }
    }
}

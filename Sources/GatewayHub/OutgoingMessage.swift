import GatewayCore
import GatewayWebSocket
import GatewayWire
import NIOCore

/// A message on its way to clients, framed for each client protocol the first time a client of
/// that protocol needs it: a broadcast to 10 000 WebSocket clients is encoded once, a mixed
/// audience once per protocol. Encodings are the transport's, valid for the current tick.
struct OutgoingMessage<Transport: HubTransport> {
    let body: ByteBuffer
    let flags: GatewayFrameFlags
    private var webSocket: Transport.Payload?
    private var line: Transport.Payload?
    private var frame: Transport.Payload?

    init(body: ByteBuffer, flags: GatewayFrameFlags) {
        self.body = body
        self.flags = flags
    }

    /// The bytes to write to a client speaking `scheme`. Raw messages go out as they are.
    mutating func bytes(for scheme: ListenAddress.Scheme, in transport: Transport) -> Transport.Payload {
        if flags.contains(.raw) { return transport.payload(body) }
        let body = self.body
        let size = body.readableBytes + 10
        switch scheme {
        case .websocket:
            if let webSocket { return webSocket }
            let opcode = flags.contains(.binary) ? WebSocketServerFrameWriter.binaryOpcode : WebSocketServerFrameWriter.textOpcode
            let encoded = transport.encode(size: size) { buffer in
                // Header and payload in one write to the buffer (each ByteBuffer write checks
                // capacity and uniqueness on its own).
                body.withUnsafeReadableBytes { payload in
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                        WebSocketServerFrameWriter.writeFrame(opcode: opcode, payload: payload, to: target.baseAddress!)
                    }
                }
                return true
            }!
            webSocket = encoded
            return encoded
        case .text:
            if let line { return line }
            let encoded = transport.encode(size: size) { buffer in
                buffer.writeImmutableBuffer(body)
                buffer.writeInteger(UInt8(ascii: "\n"))
                return true
            }!
            line = encoded
            return encoded
        case .frame:
            if let frame { return frame }
            let encoded = transport.encode(size: size) { buffer in
                body.withUnsafeReadableBytes { LengthPrefixedFrameDecoder.write($0, into: &buffer) }
                return true
            }!
            frame = encoded
            return encoded
        }
    }
}

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
        switch scheme {
        case .websocket:
            if let webSocket { return webSocket }
            webSocket = encode(for: scheme, in: transport)
            return webSocket!
        case .text:
            if let line { return line }
            line = encode(for: scheme, in: transport)
            return line!
        case .frame:
            if let frame { return frame }
            frame = encode(for: scheme, in: transport)
            return frame!
        }
    }

    private func encode(for scheme: ListenAddress.Scheme, in transport: Transport) -> Transport.Payload {
        let (body, flags) = (self.body, self.flags)
        let size = body.readableBytes + ClientFraming.maximumOverhead
        return transport.encode(size: size) { buffer in
            body.withUnsafeReadableBytes { payload in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                    ClientFraming.write(payload, flags: flags, for: scheme, to: target.baseAddress!)
                }
            }
            return true
        }!
    }
}

/// A message framed for a client of each protocol, written at a pointer in one go (each
/// `ByteBuffer` write checks capacity and uniqueness on its own).
enum ClientFraming {
    /// The most bytes framing adds to a payload: a WebSocket header of 10.
    static let maximumOverhead = 10

    /// Writes `payload` framed for `scheme` (as it is when `flags` say raw); returns the length.
    static func write(
        _ payload: UnsafeRawBufferPointer, flags: GatewayFrameFlags, for scheme: ListenAddress.Scheme, to target: UnsafeMutableRawPointer
    ) -> Int {
        func copy(at offset: Int) {
            if let source = payload.baseAddress { (target + offset).copyMemory(from: source, byteCount: payload.count) }
        }
        if flags.contains(.raw) {
            copy(at: 0)
            return payload.count
        }
        switch scheme {
        case .websocket:
            let opcode = flags.contains(.binary) ? WebSocketServerFrameWriter.binaryOpcode : WebSocketServerFrameWriter.textOpcode
            return WebSocketServerFrameWriter.writeFrame(opcode: opcode, payload: payload, to: target)
        case .text:
            copy(at: 0)
            target.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: payload.count, as: UInt8.self)
            return payload.count + 1
        case .frame:
            // frame://: a 4-byte big-endian total length (itself included), then the body.
            target.storeBytes(of: UInt32(4 + payload.count).bigEndian, as: UInt32.self)
            copy(at: 4)
            return 4 + payload.count
        }
    }
}

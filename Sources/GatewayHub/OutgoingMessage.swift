import GatewayCompression
import GatewayCore
import GatewayWebSocket
import GatewayWire
import NIOCore

/// A message on its way to clients, framed for each client protocol the first time a client of
/// that protocol needs it: a broadcast to 10 000 WebSocket clients is encoded once, a mixed
/// audience once per protocol — and compressed once for the clients that agreed to
/// permessage-deflate with the same window. Encodings are the transport's, valid for the
/// current tick.
struct OutgoingMessage<Transport: HubTransport> {
    let body: ByteBuffer
    let flags: GatewayFrameFlags
    private var webSocket: Transport.Payload?
    private var line: Transport.Payload?
    private var frame: Transport.Payload?
    /// The compressed frame for the default window, which nearly every client agrees to, and
    /// for the last other window asked for (clients asking for a smaller one are rare: a
    /// message is compressed once per window as long as at most one other is in use).
    private var deflatedForDefaultWindow: Transport.Payload?
    private var deflatedForOtherWindow: Transport.Payload?
    private var otherWindowBits: UInt8 = 0

    init(body: ByteBuffer, flags: GatewayFrameFlags) {
        self.body = body
        self.flags = flags
    }

    /// The bytes to write to a client speaking `scheme` with permessage-deflate's window
    /// `deflateWindowBits` (0: uncompressed).
    mutating func bytes(
        for scheme: ListenAddress.Scheme, deflateWindowBits: UInt8, compressor: MessageCompressor?, in transport: Transport
    ) -> Transport.Payload {
        guard let compressor, compressor.compresses(body.readableBytes, flags: flags, windowBits: deflateWindowBits) else {
            return bytes(for: scheme, in: transport)
        }
        let isDefaultWindow = deflateWindowBits == PermessageDeflateAgreement.defaultWindowBits
        if isDefaultWindow, let deflatedForDefaultWindow { return deflatedForDefaultWindow }
        if !isDefaultWindow, otherWindowBits == deflateWindowBits, let deflatedForOtherWindow { return deflatedForOtherWindow }
        let (body, flags) = (self.body, self.flags)
        let encoded = body.withUnsafeReadableBytes { payload in
            let compressed = compressor.deflater.compress(payload, windowBits: deflateWindowBits)
            let size = compressed.count + ClientFraming.maximumOverhead
            return transport.encode(size: size) { buffer in
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                    ClientFraming.writeCompressed(compressed, flags: flags, to: target.baseAddress!)
                }
                return true
            }!
        }
        if isDefaultWindow {
            deflatedForDefaultWindow = encoded
        } else {
            deflatedForOtherWindow = encoded
            otherWindowBits = deflateWindowBits
        }
        return encoded
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
            _ = body.withUnsafeReadableBytes { payload in
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

    /// Writes a permessage-deflate message (`MessageDeflater`'s output) as one WebSocket frame
    /// with RSV1; returns the length.
    static func writeCompressed(_ compressed: UnsafeRawBufferPointer, flags: GatewayFrameFlags, to target: UnsafeMutableRawPointer) -> Int {
        let opcode = flags.contains(.binary) ? WebSocketServerFrameWriter.binaryOpcode : WebSocketServerFrameWriter.textOpcode
        return WebSocketServerFrameWriter.writeFrame(compressed: true, opcode: opcode, payload: compressed, to: target)
    }

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

/// The hub's permessage-deflate: the process's deflater and the rule for which messages it
/// compresses.
struct MessageCompressor {
    let deflater: MessageDeflater
    let minimumMessageBytes: Int

    init(_ settings: PermessageDeflateSettings) {
        deflater = MessageDeflater(level: settings.level)
        minimumMessageBytes = settings.minimumMessageBytes
    }

    /// Whether a message of `count` bytes goes compressed to a client with `windowBits` (0:
    /// the client did not agree). Raw messages are bytes for the socket, not messages.
    func compresses(_ count: Int, flags: GatewayFrameFlags, windowBits: UInt8) -> Bool {
        windowBits != 0 && count >= minimumMessageBytes && !flags.contains(.raw)
    }
}

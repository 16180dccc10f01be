import NIOCore

/// One frame as a client sent it (RFC 6455 §5.2): the header's fields, and the payload still
/// masked, as a slice of the bytes it was parsed from (no copy).
public struct WebSocketClientFrame {
    public var fin: Bool
    /// RSV1–RSV3 in the low three bits; no extension is negotiated, so anything but 0 is an error.
    public var reservedBits: UInt8
    public var opcode: UInt8
    /// The client's masking key; nil for an unmasked frame (which a server must refuse).
    public var maskingKey: (UInt8, UInt8, UInt8, UInt8)?
    public var payload: ByteBuffer

    public var isControl: Bool { opcode & 0x8 != 0 }
}

public enum WebSocketFrameParseError: Error, Hashable {
    /// The header announces a payload above the limit; nothing of it is awaited.
    case payloadTooLarge(length: UInt64, limit: Int)
    /// A control frame announcing more than 125 bytes: a protocol error.
    case controlPayloadTooLong(length: UInt64)
}

/// Splits the bytes a WebSocket client sends into frames. Pure and I/O-free (fuzzed directly).
///
/// The gateway parses frames itself rather than through NIO's `WebSocketFrameDecoder` so that
/// a frame costs no allocation and its payload can be unmasked straight into the worker's
/// frame; the protocol rules about what a frame may contain stay with the connection handler.
public struct WebSocketFrameParser: Sendable {
    /// The largest payload accepted in one frame.
    public var maximumPayloadLength: Int

    public init(maximumPayloadLength: Int) {
        self.maximumPayloadLength = maximumPayloadLength
    }

    /// Consumes and returns one whole frame, or returns nil (consuming nothing) until the
    /// buffer holds one. A data frame above the limit, or a control frame above 125 bytes,
    /// throws as soon as its header is in.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(WebSocketFrameParseError) -> WebSocketClientFrame? {
        let start = buffer.readerIndex
        guard let (first, second) = buffer.getMultipleIntegers(at: start, as: (UInt8, UInt8).self) else { return nil }
        let masked = second & 0x80 != 0
        var headerLength = 2
        let length: UInt64
        switch second & 0x7F {
        case 126:
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = UInt64(extended)
            headerLength += 2
        case 127:
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = extended
            headerLength += 8
        case let short:
            length = UInt64(short)
        }
        if first & 0x08 != 0 {
            // Control frames carry at most 125 bytes (§5.5), whatever the message limit.
            guard length <= 125 else { throw .controlPayloadTooLong(length: length) }
        } else {
            guard length <= UInt64(maximumPayloadLength) else {
                throw .payloadTooLarge(length: length, limit: maximumPayloadLength)
            }
        }
        var maskingKey: (UInt8, UInt8, UInt8, UInt8)?
        if masked {
            guard let key = buffer.getMultipleIntegers(at: start + headerLength, as: (UInt8, UInt8, UInt8, UInt8).self)
            else { return nil }
            maskingKey = key
            headerLength += 4
        }
        let payloadLength = Int(length)
        guard buffer.readableBytes >= headerLength + payloadLength else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        let payload = buffer.readSlice(length: payloadLength)!
        return WebSocketClientFrame(
            fin: first & 0x80 != 0, reservedBits: (first >> 4) & 0x7, opcode: first & 0x0F, maskingKey: maskingKey,
            payload: payload)
    }
}

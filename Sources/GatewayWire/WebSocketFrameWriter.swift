import NIOCore

/// Builds server-to-client WebSocket frames (RFC 6455; never masked).
///
/// Why not NIOWebSocket's encoder: broadcasts encode a message once and hand the same buffer
/// to thousands of channels, and `CMD_SEND_TO_ONE` with the raw flag needs pre-built frames.
/// Stateless; callable from any thread.
public enum WebSocketFrameWriter {
    public static let continuationOpcode: UInt8 = 0x0
    public static let textOpcode: UInt8 = 0x1
    public static let binaryOpcode: UInt8 = 0x2
    public static let closeOpcode: UInt8 = 0x8
    public static let pingOpcode: UInt8 = 0x9
    public static let pongOpcode: UInt8 = 0xA

    /// The longest close reason: control-frame payloads are limited to 125 bytes, 2 of which
    /// are the status code.
    public static let maximumCloseReasonLength = 123

    /// Writes the 2, 4 or 10 byte header of an unmasked frame.
    public static func writeHeader(fin: Bool, opcode: UInt8, payloadLength: Int, into buffer: inout ByteBuffer) {
        precondition(payloadLength >= 0, "negative WebSocket payload length")
        let first: UInt8 = (fin ? 0x80 : 0) | (opcode & 0x0F)
        if payloadLength < 126 {
            buffer.writeMultipleIntegers(first, UInt8(payloadLength))
        } else if payloadLength <= Int(UInt16.max) {
            buffer.writeMultipleIntegers(first, UInt8(126), UInt16(payloadLength))
        } else {
            buffer.writeMultipleIntegers(first, UInt8(127), UInt64(payloadLength))
        }
    }

    /// A complete single frame (FIN set): header + payload in one buffer.
    public static func frame(opcode: UInt8, payload: UnsafeRawBufferPointer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 10)
        self.writeHeader(fin: true, opcode: opcode, payloadLength: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    /// A close frame with a status code and a UTF-8 reason, cut at a character boundary to
    /// `maximumCloseReasonLength` bytes.
    public static func closeFrame(code: UInt16, reason: String = "") -> ByteBuffer {
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > self.maximumCloseReasonLength {
            var end = self.maximumCloseReasonLength
            // Step back over UTF-8 continuation bytes so no character is split.
            while end > 0, reasonBytes[end] & 0xC0 == 0x80 {
                end -= 1
            }
            reasonBytes.removeSubrange(end...)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4 + reasonBytes.count)
        self.writeHeader(fin: true, opcode: self.closeOpcode, payloadLength: 2 + reasonBytes.count, into: &buffer)
        buffer.writeInteger(code)
        buffer.writeBytes(reasonBytes)
        return buffer
    }
}

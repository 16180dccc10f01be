/// Writes server-to-client frames (never masked) into raw memory, such as the engine's staged
/// output (`ClientEngine.stage(capacity:_:)`); the bytes equal `GatewayWire.WebSocketFrameWriter`'s.
public enum WebSocketServerFrameWriter {
    public static let continuationOpcode: UInt8 = 0x0
    public static let textOpcode: UInt8 = 0x1
    public static let binaryOpcode: UInt8 = 0x2
    public static let closeOpcode: UInt8 = 0x8
    public static let pingOpcode: UInt8 = 0x9
    public static let pongOpcode: UInt8 = 0xA

    public static let maximumHeaderLength = 10
    /// Control-frame payloads are at most 125 bytes, 2 of which are the status code.
    public static let maximumCloseReasonLength = 123
    public static let maximumCloseFrameLength = 2 + 2 + maximumCloseReasonLength

    /// 2, 4 or 10.
    public static func headerLength(payloadLength: Int) -> Int {
        payloadLength < 126 ? 2 : payloadLength <= Int(UInt16.max) ? 4 : 10
    }

    /// Writes the header of a frame with a payload of `payloadLength` bytes; returns its length.
    /// `compressed` sets RSV1: a permessage-deflate message (first frame only).
    @discardableResult
    public static func writeHeader(
        fin: Bool = true, compressed: Bool = false, opcode: UInt8, payloadLength: Int, to target: UnsafeMutableRawPointer
    ) -> Int {
        precondition(payloadLength >= 0, "negative WebSocket payload length")
        target.storeBytes(of: (fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | (opcode & 0x0F), as: UInt8.self)
        let length = headerLength(payloadLength: payloadLength)
        switch length {
        case 2:
            target.storeBytes(of: UInt8(payloadLength), toByteOffset: 1, as: UInt8.self)
        case 4:
            target.storeBytes(of: 126, toByteOffset: 1, as: UInt8.self)
            target.storeBytes(of: UInt16(payloadLength).bigEndian, toByteOffset: 2, as: UInt16.self)
        default:
            target.storeBytes(of: 127, toByteOffset: 1, as: UInt8.self)
            target.storeBytes(of: UInt64(payloadLength).bigEndian, toByteOffset: 2, as: UInt64.self)
        }
        return length
    }

    /// Writes a whole frame (header, then `payload`); returns its length,
    /// `headerLength(payloadLength:) + payload.count`. A pong is `writeFrame(opcode: pongOpcode, payload: ping)`.
    @discardableResult
    public static func writeFrame(
        fin: Bool = true, compressed: Bool = false, opcode: UInt8, payload: UnsafeRawBufferPointer, to target: UnsafeMutableRawPointer
    ) -> Int {
        let length = writeHeader(fin: fin, compressed: compressed, opcode: opcode, payloadLength: payload.count, to: target)
        if let source = payload.baseAddress { (target + length).copyMemory(from: source, byteCount: payload.count) }
        return length + payload.count
    }

    /// Writes a close frame with `code` and `reason` (UTF-8), the reason cut at a character
    /// boundary to `maximumCloseReasonLength` bytes; returns its length, at most
    /// `maximumCloseFrameLength`.
    @discardableResult
    public static func writeCloseFrame(
        code: UInt16, reason: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        to target: UnsafeMutableRawPointer
    ) -> Int {
        var reasonLength = reason.count
        if reasonLength > maximumCloseReasonLength {
            reasonLength = maximumCloseReasonLength
            // Step back over continuation bytes so that no character is split.
            while reasonLength > 0, reason[reasonLength] & 0xC0 == 0x80 { reasonLength -= 1 }
        }
        let headerLength = writeHeader(opcode: closeOpcode, payloadLength: 2 + reasonLength, to: target)
        target.storeBytes(of: code.bigEndian, toByteOffset: headerLength, as: UInt16.self)
        if let source = reason.baseAddress { (target + headerLength + 2).copyMemory(from: source, byteCount: reasonLength) }
        return headerLength + 2 + reasonLength
    }

    /// A close frame as an array, for the rare path (shutdown's 1001, a failure's code).
    public static func closeFrame(code: UInt16, reason: String = "") -> [UInt8] {
        var reason = reason
        return reason.withUTF8 { reasonBytes in
            [UInt8](unsafeUninitializedCapacity: maximumCloseFrameLength) { buffer, count in
                count = writeCloseFrame(code: code, reason: UnsafeRawBufferPointer(reasonBytes), to: buffer.baseAddress!)
            }
        }
    }
}

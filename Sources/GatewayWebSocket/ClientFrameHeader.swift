/// The header of a frame a client sent (RFC 6455 §5.2), read as soon as its length is known:
/// the limits apply before the masking key is in, as they did in `WebSocketFrameParser`.
struct ClientFrameHeader {
    var fin: Bool
    /// RSV1-RSV3 in the low three bits.
    var reservedBits: UInt8
    var opcode: UInt8
    var masked: Bool
    var payloadLength: UInt64
    /// 2, 4 or 10 bytes, plus 4 for the masking key of a masked frame.
    var length: Int

    var isControl: Bool { opcode & 0x8 != 0 }

    /// RSV1 in `reservedBits`: permessage-deflate's "compressed" mark.
    static let compressedBit: UInt8 = 0x4

    /// Nil until `bytes` holds the first two bytes and the extended length.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 2 else { return nil }
        let first = bytes[0]
        let second = bytes[1]
        fin = first & 0x80 != 0
        reservedBits = (first >> 4) & 0x7
        opcode = first & 0x0F
        masked = second & 0x80 != 0
        switch second & 0x7F {
        case 126:
            guard bytes.count >= 4 else { return nil }
            payloadLength = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
            length = 4
        case 127:
            guard bytes.count >= 10 else { return nil }
            payloadLength = (2..<10).reduce(0) { $0 << 8 | UInt64(bytes[$1]) }
            length = 10
        case let short:
            payloadLength = UInt64(short)
            length = 2
        }
        if masked { length += 4 }
    }
}

/// A frame as a WebSocket client puts it on the wire, built by hand so that tests can break
/// any rule: unmasked, reserved bits, odd opcodes, lengths in a longer form than needed.
struct ClientFrame {
    var fin = true
    var reservedBits: UInt8 = 0
    var opcode: UInt8
    var payload: [UInt8]
    /// Nil: unmasked.
    var maskingKey: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D]
    /// The length as 7 bits, 16 bits or 64 bits; nil: the shortest that fits.
    var lengthForm: LengthForm?
    /// Announces this length instead of the payload's (for oversized-header tests).
    var announcedLength: UInt64?

    enum LengthForm {
        case short, medium, long
    }

    init(
        fin: Bool = true, reservedBits: UInt8 = 0, opcode: UInt8, payload: [UInt8] = [],
        maskingKey: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D], lengthForm: LengthForm? = nil, announcedLength: UInt64? = nil
    ) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.payload = payload
        self.maskingKey = maskingKey
        self.lengthForm = lengthForm
        self.announcedLength = announcedLength
    }

    static func text(_ text: String, fin: Bool = true) -> ClientFrame { ClientFrame(fin: fin, opcode: 0x1, payload: Array(text.utf8)) }
    static func binary(_ bytes: [UInt8], fin: Bool = true) -> ClientFrame { ClientFrame(fin: fin, opcode: 0x2, payload: bytes) }
    static func continuation(_ bytes: [UInt8], fin: Bool) -> ClientFrame { ClientFrame(fin: fin, opcode: 0x0, payload: bytes) }
    static func ping(_ bytes: [UInt8] = []) -> ClientFrame { ClientFrame(opcode: 0x9, payload: bytes) }
    static func pong(_ bytes: [UInt8] = []) -> ClientFrame { ClientFrame(opcode: 0xA, payload: bytes) }
    static func close(code: UInt16, reason: [UInt8] = []) -> ClientFrame {
        ClientFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    var bytes: [UInt8] {
        let length = announcedLength ?? UInt64(payload.count)
        var out: [UInt8] = [(fin ? 0x80 : 0) | (reservedBits & 7) << 4 | opcode & 0x0F]
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        let form = lengthForm ?? (length < 126 ? .short : length <= 0xFFFF ? .medium : .long)
        switch form {
        case .short:
            out.append(maskBit | UInt8(length))
        case .medium:
            out += [maskBit | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
        case .long:
            out.append(maskBit | 127)
            out += (0..<8).reversed().map { UInt8((length >> (8 * UInt64($0))) & 0xFF) }
        }
        guard let key = maskingKey else { return out + payload }
        return out + key + payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
    }
}

extension Array where Element == ClientFrame {
    var bytes: [UInt8] { flatMap(\.bytes) }
}

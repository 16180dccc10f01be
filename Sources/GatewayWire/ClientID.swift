/// A GatewayWorker `client_id`: which gateway holds a client and which connection it is.
///
/// Wire form: 20 lowercase hex characters, `bin2hex(pack("NnN", lanIp, innerPort, connectionID))`.
/// It names the gateway's **inner** address (lanIp + inner port), never the public port or the
/// client's own address, so any worker or GatewayClient can route a command for this client to
/// the right gateway without a lookup. A plain value; safe on any thread.
public struct ClientID: Hashable, Sendable, CustomStringConvertible {
    /// The gateway's lanIp, big-endian.
    public var ipv4: UInt32
    /// The gateway's inner (worker-facing) port.
    public var port: UInt16
    /// The per-gateway-process connection counter.
    public var connectionID: UInt32

    public init(ipv4: UInt32, port: UInt16, connectionID: UInt32) {
        self.ipv4 = ipv4
        self.port = port
        self.connectionID = connectionID
    }

    /// Parses exactly 20 hex characters (either case); `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard let value = ClientID(hexDigits: text.utf8) else { return nil }
        self = value
    }

    /// Parses 20 ASCII hex characters from raw bytes (e.g. straight from a ByteBuffer).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard let value = ClientID(hexDigits: bytes) else { return nil }
        self = value
    }

    private init?(hexDigits: some Sequence<UInt8>) {
        // 80 bits do not fit one UInt64: the first 8 digits are the address, the rest port + id.
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for byte in hexDigits {
            guard count < 20, let nibble = ClientID.nibble(byte) else { return nil }
            if count < 8 {
                high = high << 4 | UInt64(nibble)
            } else {
                low = low << 4 | UInt64(nibble)
            }
            count += 1
        }
        guard count == 20 else { return nil }
        self.ipv4 = UInt32(truncatingIfNeeded: high)
        self.port = UInt16(truncatingIfNeeded: low >> 32)
        self.connectionID = UInt32(truncatingIfNeeded: low)
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The 20 lowercase hex characters PHP prints.
    public var description: String {
        String(unsafeUninitializedCapacity: 20) { buffer in
            writeHexDigits(to: UnsafeMutableRawBufferPointer(buffer))
            return 20
        }
    }

    /// Writes the 20 characters of `description` to the start of `buffer` (at least 20 bytes)
    /// without making a String, e.g. into the C string a worker hands its plugin per event.
    public func writeHexDigits(to buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= 20, "a client id has 20 hex digits")
        let target = buffer.baseAddress!
        // A worker writes one per event: eight digits at a time instead of a loop over twenty
        // (190 instructions per event before, callgrind).
        target.storeBytes(of: ClientID.hexDigits(of: ipv4).bigEndian, as: UInt64.self)
        target.storeBytes(of: UInt32(truncatingIfNeeded: ClientID.hexDigits(of: UInt32(port))).bigEndian, toByteOffset: 8, as: UInt32.self)
        target.storeBytes(of: ClientID.hexDigits(of: connectionID).bigEndian, toByteOffset: 12, as: UInt64.self)
    }

    /// The eight lower-case hex digits of `value` as ASCII bytes, the first digit in the most
    /// significant byte.
    static func hexDigits(of value: UInt32) -> UInt64 {
        // Spread the nibbles one per byte (0xABCD_EF12 -> 0x0A0B_0C0D_0E0F_0102) ...
        var nibbles = UInt64(value)
        nibbles = (nibbles | nibbles << 16) & 0x0000_FFFF_0000_FFFF
        nibbles = (nibbles | nibbles << 8) & 0x00FF_00FF_00FF_00FF
        nibbles = (nibbles | nibbles << 4) & 0x0F0F_0F0F_0F0F_0F0F
        // ... then '0' + n, plus 39 more where n > 9 (n + 6 carries into bit 4 exactly then).
        let letters = (nibbles &+ 0x0606_0606_0606_0606) >> 4 & 0x0101_0101_0101_0101
        return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 39
    }

    /// The gateway's inner address as text, `"a.b.c.d:port"`, as the register lists it (for
    /// people; code routes by ``gateway``).
    public var gatewayAddress: String {
        gateway.description
    }
}

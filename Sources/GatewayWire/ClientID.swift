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
        let high = UInt64(self.ipv4)
        let low = UInt64(self.port) << 32 | UInt64(self.connectionID)
        for index in 0..<8 {
            buffer[index] = ClientID.hexDigit(high >> UInt64((7 - index) * 4))
        }
        for index in 0..<12 {
            buffer[8 + index] = ClientID.hexDigit(low >> UInt64((11 - index) * 4))
        }
    }

    private static func hexDigit(_ value: UInt64) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// The gateway's inner address as text, `"a.b.c.d:port"`, as the register lists it (for
    /// people; code routes by ``gateway``).
    public var gatewayAddress: String {
        gateway.description
    }
}

/// The `flag` byte of an inner-protocol frame.
///
/// Why an option set: the two bits are independent (`G3.send_to_one.raw` carries 3), and
/// unknown bits must survive a decode/encode round trip untouched.
public struct GatewayFrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Bit 0: the body is a PHP scalar, carried as raw bytes. When clear, the body is
    /// `serialize()`d (seen only on `CMD_ON_WEBSOCKET_CONNECT` and on `CMD_KICK` with no message,
    /// whose body is `N;`).
    public static let scalarBody = GatewayFrameFlags(rawValue: 1)
    /// Bit 1 (`FLAG_NOT_CALL_ENCODE`): write the body to the client as is, without the client
    /// protocol's encoder (e.g. a pre-built websocket frame).
    public static let raw = GatewayFrameFlags(rawValue: 2)
}

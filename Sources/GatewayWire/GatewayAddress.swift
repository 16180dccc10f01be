/// A gateway's inner (worker-facing) address: its lanIp and inner port, the part of every
/// `client_id` that says which gateway holds the client.
///
/// Numeric on purpose: workers route every event and every send by it, and hashing or comparing
/// two integers costs nothing next to formatting and hashing `"a.b.c.d:port"`. The text form is
/// `description`, for logs, JSON and the register's list. A plain value; safe on any thread.
public struct GatewayAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The gateway's lanIp, big-endian.
    public var ipv4: UInt32
    /// The gateway's inner port.
    public var port: UInt16

    public init(ipv4: UInt32, port: UInt16) {
        self.ipv4 = ipv4
        self.port = port
    }

    /// Parses `"a.b.c.d:port"` (the address strictly as ``IPv4/parse(_:)`` reads it, the port
    /// decimal 0...65535); `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let ipv4 = IPv4.parse(text[..<colon]),
            let port = UInt16(text[text.index(after: colon)...])
        else { return nil }
        self.init(ipv4: ipv4, port: port)
    }

    /// `"a.b.c.d:port"`, as the register lists gateways.
    public var description: String {
        "\(IPv4.format(ipv4)):\(port)"
    }

    public static func < (lhs: GatewayAddress, rhs: GatewayAddress) -> Bool {
        (lhs.ipv4, lhs.port) < (rhs.ipv4, rhs.port)
    }
}

extension ClientID {
    /// The client id of connection `connectionID` on the gateway at `gateway`.
    public init(gateway: GatewayAddress, connectionID: UInt32) {
        self.init(ipv4: gateway.ipv4, port: gateway.port, connectionID: connectionID)
    }

    /// The gateway that holds this client, where every command about it goes.
    public var gateway: GatewayAddress {
        GatewayAddress(ipv4: ipv4, port: port)
    }
}

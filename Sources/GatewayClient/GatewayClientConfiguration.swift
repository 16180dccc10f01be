import GatewayCore

/// How a `GatewayClient` finds and talks to a cluster.
public struct GatewayClientConfiguration: Sendable, Hashable {
    /// Registers to ask for the gateway list, tried in order until one answers (the one that
    /// answered last is tried first next time).
    public var registers: [HostPort]
    /// The cluster's secret key ("" = none): sent to the register and, once per connection,
    /// to each gateway (GATEWAY_CLIENT_CONNECT).
    public var secretKey: String
    /// The longest any call may take: asking a register, and connecting to and hearing back
    /// from every gateway involved (all in parallel). PHP's GatewayClient waits 5 s.
    public var timeout: Duration
    /// How long a gateway list is used before the register is asked again (PHP: about 1 s).
    public var addressListLifetime: Duration

    public init(registers: [HostPort], secretKey: String = "", timeout: Duration = .seconds(5), addressListLifetime: Duration = .seconds(1)) {
        self.registers = registers
        self.secretKey = secretKey
        self.timeout = timeout
        self.addressListLifetime = addressListLifetime
    }

    /// Registers as `host:port` text, e.g. `["10.0.0.1:1236", "10.0.0.2:1236"]`.
    public init(registers: [String], secretKey: String = "", timeout: Duration = .seconds(5)) throws(GatewayClientError) {
        var parsed: [HostPort] = []
        for text in registers {
            do { parsed.append(try HostPort(parsing: text)) } catch { throw .invalidAddress(text) }
        }
        self.init(registers: parsed, secretKey: secretKey, timeout: timeout)
    }
}

/// Secure by default: GatewayWorker lets a deployment run without a secret key, so anyone who
/// reaches a gateway's inner port or the register can push to every client and read every
/// session. gatewayd refuses to put such a port on the network without a secret unless the
/// configuration says so on purpose (`allow_no_secret`); on loopback it stays allowed.
public enum InnerPortPolicy {
    /// An inner port this host would listen on: the setting that names its address, and the host.
    public struct Listener: Sendable, Hashable {
        public var key: String
        public var host: String

        public init(key: String, host: String) {
            self.key = key
            self.host = host
        }
    }

    /// The one-line reason to refuse the start, or nil when it may go on.
    public static func refusal(for listeners: [Listener], secretKey: String, allowNoSecret: Bool) -> String? {
        guard secretKey.isEmpty, !allowNoSecret, let exposed = listeners.first(where: { !isLoopback($0.host) }) else {
            return nil
        }
        return "refusing to start: \(exposed.key) \(exposed.host) puts an inner port on the network without a secret_key, "
            + "so anyone who reaches it could push to every client; set secret_key (or secret_key_file, or "
            + "GATEWAYD_SECRET_KEY) on every host, or allow_no_secret: true to run without one on purpose"
    }

    /// 127.0.0.0/8, `localhost` and `::1`; `0.0.0.0` is every interface, so not loopback.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        guard let address = IPv4Address(host) else { return false }
        return address.value >> 24 == 127
    }
}

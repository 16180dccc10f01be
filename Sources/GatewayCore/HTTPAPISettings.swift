/// The HTTP API role: where it listens and how callers authenticate. Absent from a
/// configuration (nil) means the role does not run.
///
/// A bearer token is required. `allowNoToken` lifts that for local development only, and only
/// when the listener is on a loopback address, so an open push API can never face a network.
public struct HTTPAPISettings: Sendable, Hashable, Codable {
    /// `host:port` the role listens on (IPv4; port 0 picks a free port).
    public var listen: String
    /// The token callers send as `Authorization: Bearer <token>` ("" = none).
    public var token: String
    /// Largest request body accepted; larger requests get 413.
    public var maxBodyBytes: Int
    /// Serve without a token (loopback listeners only).
    public var allowNoToken: Bool

    public static let defaultMaxBodyBytes = 1 << 20

    public init(listen: String, token: String = "", maxBodyBytes: Int = HTTPAPISettings.defaultMaxBodyBytes, allowNoToken: Bool = false) {
        self.listen = listen
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.allowNoToken = allowNoToken
    }

    /// Checks the address, the token rule and the size limit; errors name the config key.
    public func validate() throws(ConfigurationError) {
        let endpoint: HostPort
        do { endpoint = try HostPort(parsing: listen) } catch {
            throw .invalid(key: "http_api_listen", value: listen, expected: error.expected)
        }
        if token.isEmpty {
            guard allowNoToken else {
                throw .invalid(
                    key: "http_api_token", value: "", expected: "a bearer token (or http_api_allow_no_token on a loopback listener)")
            }
            guard endpoint.host.hasPrefix("127.") else {
                throw .invalid(
                    key: "http_api_allow_no_token", value: "true", expected: "a loopback http_api_listen (127.x.x.x) when there is no token")
            }
        }
        guard (1024...(1 << 30)).contains(maxBodyBytes) else {
            throw .invalid(key: "http_api_max_body_bytes", value: "\(maxBodyBytes)", expected: "1024...1073741824")
        }
    }
}

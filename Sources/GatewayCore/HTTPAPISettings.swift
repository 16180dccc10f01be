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

    /// The token rule (the address and the size limit are checked by their keys,
    /// ``ConfigurationKey/all``); errors name the config key.
    public func validate() throws(ConfigurationError) {
        guard token.isEmpty else { return }
        guard allowNoToken else {
            throw .refused(key: "http_api_token", reason: "is required (or http_api_allow_no_token on a loopback http_api_listen)")
        }
        guard let endpoint = try? HostPort(parsing: listen), InnerPortPolicy.isLoopback(endpoint.host) else {
            throw .refused(
                key: "http_api_allow_no_token", reason: "needs a loopback http_api_listen (127.x.x.x); \(listen) is not one")
        }
    }
}

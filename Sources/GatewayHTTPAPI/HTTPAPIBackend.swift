import GatewayClient

/// What the HTTP API serves requests with: a `GatewayClient` in production, a fake in tests.
public protocol HTTPAPIBackend: Sendable {
    /// Runs one GatewayWorker function (see `GatewayClient.call`).
    func call(_ function: GatewayFunction, arguments: JSONValue) async throws(GatewayClientError) -> GatewayCallOutcome
    /// The gateways the registers list now, for `GET /v1/health`.
    func gatewayAddresses() async throws(GatewayClientError) -> [String]
    /// Releases connections when the role stops.
    func close() async
    /// Queries sent to each gateway and those that timed out, for `/metrics`.
    var queryCounts: [String: GatewayQueryCounts] { get }
}

extension HTTPAPIBackend {
    /// Backends that do not query gateways (test fakes) count none.
    public var queryCounts: [String: GatewayQueryCounts] { [:] }
}

extension GatewayClient: HTTPAPIBackend {}

import GatewayClient
import GatewayHTTPAPI
import NIOConcurrencyHelpers

/// A backend that records the calls it gets and answers what the test tells it to.
final class FakeBackend: HTTPAPIBackend {
    typealias Answer = @Sendable (GatewayFunction, JSONValue) -> Result<GatewayCallOutcome, GatewayClientError>

    private let recorded = NIOLockedValueBox<[(GatewayFunction, JSONValue)]>([])
    private let answer: Answer
    private let gateways: Result<[String], GatewayClientError>

    init(
        gateways: Result<[String], GatewayClientError> = .success(["127.0.0.1:2900", "127.0.0.1:2901"]),
        answer: @escaping Answer = { function, _ in .success(GatewayCallOutcome(json: function.isQuery ? ["result": 1] : ["ok": true])) }
    ) {
        self.gateways = gateways
        self.answer = answer
    }

    var calls: [(GatewayFunction, JSONValue)] { recorded.withLockedValue { $0 } }

    func call(_ function: GatewayFunction, arguments: JSONValue) async throws(GatewayClientError) -> GatewayCallOutcome {
        recorded.withLockedValue { $0.append((function, arguments)) }
        return try answer(function, arguments).get()
    }

    func gatewayAddresses() async throws(GatewayClientError) -> [String] {
        try gateways.get()
    }

    func close() async {}
}

import GatewayClient
import NIOHTTP1

/// One JSON response: a status, a JSON body and any extra headers (Allow, WWW-Authenticate).
struct HTTPAPIResponse {
    var status: HTTPResponseStatus
    var body: JSONValue
    var headers: [(String, String)]
    /// A body that is not JSON (`/metrics`): its content type and bytes, in place of `body`.
    var text: (contentType: String, bytes: [UInt8])?

    init(status: HTTPResponseStatus, body: JSONValue, headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// `{"error": "…"}` plus any further members.
    static func error(_ status: HTTPResponseStatus, _ message: String, _ extra: [JSONMember] = [], headers: [(String, String)] = [])
        -> HTTPAPIResponse
    {
        HTTPAPIResponse(status: status, body: .object([JSONMember("error", .string(message))] + extra), headers: headers)
    }

    static let notFound = error(.notFound, "no such endpoint; see docs/openapi.yaml (POST /v1/<function>, GET /v1/health)")
    static let unauthorized = error(
        .unauthorized, "missing or wrong bearer token (Authorization: Bearer <token>)", headers: [("WWW-Authenticate", "Bearer")])

    static func methodNotAllowed(allow: String) -> HTTPAPIResponse {
        error(.methodNotAllowed, "use \(allow) for this endpoint", headers: [("Allow", allow)])
    }

    static func tooLarge(limit: Int) -> HTTPAPIResponse {
        error(.payloadTooLarge, "the request body is larger than \(limit) bytes")
    }

    /// A call's outcome: 200, or 502/504 when no gateway asked answered.
    init(_ outcome: GatewayCallOutcome) {
        guard outcome.nothingAnswered else {
            self.init(status: .ok, body: outcome.json)
            return
        }
        let timedOut = outcome.failures.allSatisfy { $0.reason == .timedOut }
        self = .error(
            timedOut ? .gatewayTimeout : .badGateway,
            "no gateway answered: " + outcome.failures.map(\.description).joined(separator: "; "),
            [JSONMember("unanswered", .array(outcome.failures.map { .string($0.address) }))])
    }

    /// A failed call: 400 for bad arguments, 502 (504 when only timeouts) for an unreachable cluster.
    init(_ error: GatewayClientError) {
        switch error {
        case .invalidAddress, .invalidClientID, .invalidArgument:
            self = .error(.badRequest, error.description)
        case .noRegister:
            self = .error(error.isTimeout ? .gatewayTimeout : .badGateway, error.description)
        case .notDelivered(let failures):
            self = .error(
                error.isTimeout ? .gatewayTimeout : .badGateway, error.description,
                [JSONMember("undelivered", .array(failures.map { .string($0.address) }))])
        case .closed:
            self = .error(.serviceUnavailable, error.description)
        }
    }
}

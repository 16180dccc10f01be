import GatewayClient
import NIOHTTP1

/// What a request asks for: `POST /v1/<function>` or `GET /v1/health`.
enum HTTPAPIRoute: Equatable {
    case function(GatewayFunction)
    case health
    /// `GET /metrics`: the host's metrics, as the master serves them on `metrics_listen`.
    case metrics

    static let prefix = "/v1/"

    /// The route, or the response refusing the request: 404 for an unknown path, 405 (with
    /// Allow) for a known one asked with the wrong method. A query string is ignored.
    static func resolve(method: HTTPMethod, uri: String) -> Resolution {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        if path == "/metrics" { return method == .GET ? .route(.metrics) : .refuse(.methodNotAllowed(allow: "GET")) }
        guard path.hasPrefix(prefix) else { return .refuse(.notFound) }
        let name = String(path.dropFirst(prefix.count))
        if name == "health" {
            return method == .GET ? .route(.health) : .refuse(.methodNotAllowed(allow: "GET"))
        }
        guard let function = GatewayFunction(rawValue: name) else { return .refuse(.notFound) }
        return method == .POST ? .route(.function(function)) : .refuse(.methodNotAllowed(allow: "POST"))
    }

    enum Resolution {
        case route(HTTPAPIRoute)
        case refuse(HTTPAPIResponse)
    }
}

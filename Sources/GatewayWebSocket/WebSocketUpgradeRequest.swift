/// A client's accepted WebSocket upgrade request: what the gateway forwards to its worker
/// (`GatewayWire.WebSocketConnectInfo(method:uri:httpVersion:headers:)` takes these fields as
/// they are) and the key the 101 answers.
public struct WebSocketUpgradeRequest: Sendable {
    /// Always "GET": anything else is refused.
    public var method: String
    /// The request target as received, query and fragment included.
    public var uri: String
    /// Always "HTTP/1.1": anything else is refused.
    public var httpVersion: String
    /// Every header in request order: names as the client spelled them, values without their
    /// leading spaces and tabs (trailing ones kept), as SwiftNIO's decoder handed them over.
    public var headers: [(name: String, value: String)]
    /// The Sec-WebSocket-Key value, trimmed; `WebSocketHandshakeResponse.switchingProtocols(key:)`
    /// answers it.
    public var key: String

    /// Every extension offered in `Sec-WebSocket-Extensions` headers (names compared ASCII
    /// case-insensitively), in order; a header whose list breaks the grammar offers none.
    public var extensionOffers: [WebSocketExtensionOffer] {
        HTTPSyntax.values(of: "sec-websocket-extensions", in: headers).flatMap(WebSocketExtensionList.parse)
    }

    public init(method: String, uri: String, httpVersion: String, headers: [(name: String, value: String)], key: String) {
        self.method = method
        self.uri = uri
        self.httpVersion = httpVersion
        self.headers = headers
        self.key = key
    }
}

/// Why an upgrade request is refused, with the response the SwiftNIO path sent for it.
public enum WebSocketHandshakeRefusal: Error, Hashable, Sendable {
    /// Not HTTP/1.x request syntax (bad line ends, control bytes, a bad name, target or version).
    case malformedRequest
    /// The head, or head and body, is larger than the parser's `maximumRequestBytes`.
    case requestTooLarge
    /// Content-Length twice, or not a number.
    case invalidContentLength
    /// A chunked body (no WebSocket client sends one), or a Transfer-Encoding llhttp refused:
    /// with a Content-Length, or on a request that is no upgrade.
    case transferEncoding
    case methodNotGet
    /// HTTP/1.0: the upgrade needs HTTP/1.1.
    case httpVersionTooOld
    /// No `Upgrade: websocket`, or no `upgrade` token in Connection.
    case notAnUpgrade
    /// Sec-WebSocket-Version is not 13.
    case unsupportedWebSocketVersion
    /// Sec-WebSocket-Key missing, or not the base64 of 16 bytes.
    case invalidKey

    /// 426 for an upgrade the gateway cannot make, 400 otherwise.
    public var status: Int {
        switch self {
        case .notAnUpgrade, .unsupportedWebSocketVersion: return 426
        default: return 400
        }
    }

    /// Header lines the response carries besides Content-Length and Connection: what a 426
    /// asks the client to send.
    public var extraHeaders: String {
        switch self {
        case .notAnUpgrade: return "Upgrade: websocket\r\n"
        case .unsupportedWebSocketVersion: return "Sec-WebSocket-Version: 13\r\n"
        default: return ""
        }
    }

    /// Whether the request failed as HTTP rather than as a WebSocket upgrade: the SwiftNIO path
    /// counted those as `malformed_handshakes`.
    public var isMalformedHTTP: Bool {
        switch self {
        case .malformedRequest, .requestTooLarge, .invalidContentLength, .transferEncoding: return true
        case .methodNotGet, .httpVersionTooOld, .notAnUpgrade, .unsupportedWebSocketVersion, .invalidKey: return false
        }
    }

    /// The whole response, as the SwiftNIO handler wrote it; the connection closes after it.
    public var response: [UInt8] {
        WebSocketHandshakeResponse.refusal(status: status, extraHeaders: extraHeaders)
    }
}

/// What ``GatewayPlugin/handshake(_:client:request:)`` decides about a WebSocket handshake.
public enum HandshakeDecision: Hashable, Sendable {
    /// Complete the handshake.
    case accept
    /// Refuse it with an HTTP status from 400 through 599; the connection is then closed.
    /// A status outside that range is logged and sent as 500.
    case reject(status: Int)

    /// The value `on_websocket_handshake` returns: 0 to accept, else the HTTP status.
    var abiValue: Int32 {
        switch self {
        case .accept: 0
        case .reject(let status): (400...599).contains(status) ? Int32(status) : 500
        }
    }
}

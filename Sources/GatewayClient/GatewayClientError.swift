/// Why a GatewayClient call failed, worded for a one-line error.
public enum GatewayClientError: Error, Hashable, CustomStringConvertible {
    case invalidAddress(String)
    case invalidClientID(String)
    case unreachable(String, String)
    case noRegister
    case timeout
    case closedByPeer
    case protocolError(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidAddress(let address): return "invalid address '\(address)' (expected IPv4 host:port)"
        case .invalidClientID(let id): return "invalid client id '\(id)' (expected 20 hex characters)"
        case .unreachable(let address, let reason): return "cannot connect to \(address): \(reason)"
        case .noRegister: return "no register answered (wrong address or secret key?)"
        case .timeout: return "timed out"
        case .closedByPeer: return "the peer closed the connection (wrong secret key?)"
        case .protocolError(let reason): return reason
        case .io(let reason): return reason
        }
    }
}

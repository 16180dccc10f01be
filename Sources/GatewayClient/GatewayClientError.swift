/// Why a GatewayClient call failed, worded for a one-line error.
public enum GatewayClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A register or gateway address that is not an IPv4 `host:port`.
    case invalidAddress(String)
    /// A client id that is not 20 hex characters.
    case invalidClientID(String)
    /// An argument of a catalogue call (`GatewayFunction`) that is missing, unknown or mistyped.
    case invalidArgument(String)
    /// No register answered; one failure per register tried, in order.
    case noRegister([GatewayFailure])
    /// A send did not reach these gateways (the others got it).
    case notDelivered([GatewayFailure])
    /// The client was closed.
    case closed

    public var description: String {
        switch self {
        case .invalidAddress(let address): return "invalid address '\(address)' (expected IPv4 host:port)"
        case .invalidClientID(let id): return "invalid client id '\(id)' (expected 20 hex characters)"
        case .invalidArgument(let reason): return reason
        case .noRegister(let failures) where failures.isEmpty:
            return "no register address to ask"
        case .noRegister(let failures):
            let what = failures.map(\.description).joined(separator: "; ")
            return "no register answered (wrong address or secret key?): \(what)"
        case .notDelivered(let failures):
            return "not delivered to \(failures.map(\.description).joined(separator: "; "))"
        case .closed: return "the GatewayClient was closed"
        }
    }

    /// True when every failure behind this error is a timeout (an HTTP 504 rather than a 502).
    public var isTimeout: Bool {
        switch self {
        case .noRegister(let failures), .notDelivered(let failures):
            return !failures.isEmpty && failures.allSatisfy { $0.reason == .timedOut }
        default:
            return false
        }
    }
}

/// One register or gateway that did not do what was asked, and why.
public struct GatewayFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        /// The connection could not be made (refused, unreachable, connect timeout).
        case unreachable(String)
        /// No answer before the call's deadline.
        case timedOut
        /// The peer closed the connection first; a wrong secret key looks like this.
        case closedByPeer
        /// A client id named a gateway the register does not list; it is never connected to.
        case notRegistered
        /// The peer answered something that is not the protocol.
        case protocolError(String)

        public var description: String {
            switch self {
            case .unreachable(let reason): return "unreachable (\(reason))"
            case .timedOut: return "timed out"
            case .closedByPeer: return "closed the connection (wrong secret key?)"
            case .notRegistered: return "not a registered gateway"
            case .protocolError(let reason): return reason
            }
        }
    }

    /// `host:port` of the register or gateway.
    public var address: String
    public var reason: Reason

    public init(address: String, reason: Reason) {
        self.address = address
        self.reason = reason
    }

    public var description: String { "\(address): \(reason)" }
}

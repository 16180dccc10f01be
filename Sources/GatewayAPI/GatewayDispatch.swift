import GatewayWire
import NIOCore

/// Where one GatewayWorker API call goes, in inner-protocol frames.
///
/// GatewayWorker's rule: a call about one client goes only to the gateway its client_id names;
/// a call about everyone (all, uid, group, and every query spanning the cluster) goes to every
/// gateway; an exclude or client list names connection ids, which mean something only to their
/// own gateway, so such a call is built per gateway.
///
/// Gateways are ``GatewayAddress``es (a worker routes every send by them); callers that hold the
/// register's list as text use the `String` forms of `targets` and `frame`.
public enum GatewayDispatch: Sendable {
    /// One frame for the gateway at this inner address.
    case gateway(GatewayAddress, ByteBuffer)
    /// The same frame for every gateway.
    case everyGateway(ByteBuffer)
    /// A frame built for each gateway; nil skips that gateway.
    case perGateway(@Sendable (GatewayAddress) -> ByteBuffer?)

    /// The frame (if any) this dispatch sends to the gateway at `address`.
    public func frame(for address: GatewayAddress) -> ByteBuffer? {
        switch self {
        case .gateway(let target, let frame): return target == address ? frame : nil
        case .everyGateway(let frame): return frame
        case .perGateway(let make): return make(address)
        }
    }

    /// The gateways this dispatch reaches among `addresses` (a targeted one may name a gateway
    /// that is not in the list: the caller reports it as unreachable).
    public func targets(among addresses: [GatewayAddress]) -> [GatewayAddress] {
        switch self {
        case .gateway(let target, _): return [target]
        case .everyGateway, .perGateway: return addresses
        }
    }

    /// ``frame(for:)-(GatewayAddress)`` for a gateway listed as `"a.b.c.d:port"` text.
    ///
    /// A listed text that is no such address holds none of the clients a call names: it gets
    /// what a gateway without them gets (connecting to it then fails, as it always did).
    public func frame(for address: String) -> ByteBuffer? {
        switch self {
        case .gateway(let target, let frame): return GatewayAddress(address) == target ? frame : nil
        case .everyGateway(let frame): return frame
        case .perGateway(let make): return make(GatewayAddress(address) ?? Self.unconnectable)
        }
    }

    /// ``targets(among:)-([GatewayAddress])`` for the register's list as text.
    public func targets(among addresses: [String]) -> [String] {
        switch self {
        case .gateway(let target, _): return [target.description]
        case .everyGateway, .perGateway: return addresses
        }
    }

    /// Port 0 cannot be connected to, so no client id names a gateway here.
    private static let unconnectable = GatewayAddress(ipv4: 0, port: 0)
}

/// Groups client ids by the gateway that holds them: `[gateway: [connection id]]`.
func connectionIDsByGateway(_ clientIDs: [ClientID]) -> [GatewayAddress: [UInt32]] {
    var result: [GatewayAddress: [UInt32]] = [:]
    for id in clientIDs { result[id.gateway, default: []].append(id.connectionID) }
    return result
}

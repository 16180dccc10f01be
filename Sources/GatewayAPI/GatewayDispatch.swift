import GatewayWire
import NIOCore

/// Where one GatewayWorker API call goes, in inner-protocol frames.
///
/// GatewayWorker's rule: a call about one client goes only to the gateway its client_id names;
/// a call about everyone (all, uid, group, and every query spanning the cluster) goes to every
/// gateway; an exclude or client list names connection ids, which mean something only to their
/// own gateway, so such a call is built per gateway.
public enum GatewayDispatch: Sendable {
    /// One frame for the gateway at this inner address ("a.b.c.d:port").
    case gateway(String, ByteBuffer)
    /// The same frame for every gateway.
    case everyGateway(ByteBuffer)
    /// A frame built for each gateway; nil skips that gateway.
    case perGateway(@Sendable (String) -> ByteBuffer?)

    /// The frame (if any) this dispatch sends to the gateway at `address`.
    public func frame(for address: String) -> ByteBuffer? {
        switch self {
        case .gateway(let target, let frame): return target == address ? frame : nil
        case .everyGateway(let frame): return frame
        case .perGateway(let make): return make(address)
        }
    }

    /// The gateways this dispatch reaches among `addresses` (a targeted one may name a gateway
    /// that is not in the list: the caller reports it as unreachable).
    public func targets(among addresses: [String]) -> [String] {
        switch self {
        case .gateway(let target, _): return [target]
        case .everyGateway, .perGateway: return addresses
        }
    }
}

/// Groups client ids by the gateway that holds them: `[gateway address: [connection id]]`.
func connectionIDsByGateway(_ clientIDs: [ClientID]) -> [String: [UInt32]] {
    var result: [String: [UInt32]] = [:]
    for id in clientIDs { result[id.gatewayAddress, default: []].append(id.connectionID) }
    return result
}

extension ClientID {
    /// The client id of connection `connectionID` on the gateway at inner address `address`.
    init?(gatewayAddress address: String, connectionID: UInt32) {
        guard let colon = address.lastIndex(of: ":"), let ip = IPv4.parse(address[..<colon]),
            let port = UInt16(address[address.index(after: colon)...])
        else { return nil }
        self.init(ipv4: ip, port: port, connectionID: connectionID)
    }
}

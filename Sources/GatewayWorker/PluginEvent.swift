import GatewayWire
import NIOCore

/// A client event from a gateway, queued for the plugin thread.
struct PluginEvent: Sendable {
    enum Kind: Sendable {
        case connect
        case handshake(awaitsVerdict: Bool)
        case message(binary: Bool)
        case close
        /// A gateway's DRAIN_MARK: everything this gateway sent before it is queued ahead.
        case drainMark
    }

    var kind: Kind
    /// For a drain mark: the gateway's address with connection id 0.
    var clientID: ClientID
    /// The client's PHP-serialized session as the gateway sent it ("" = none).
    var session: ByteBuffer
    var body: ByteBuffer
    var clientIP: UInt32
    var clientPort: UInt16
    /// Which connection to its gateway it came on (`GatewayLink.connection`): a gateway
    /// counts the events of each connection, and one that reconnected starts again from 0.
    var connection: UInt32 = 0

    /// The mark of a drain from the gateway at `gateway` (the frame carries no address).
    init(drainMarkFrom gateway: GatewayAddress) {
        kind = .drainMark
        clientID = ClientID(gateway: gateway, connectionID: 0)
        session = ByteBuffer()
        body = ByteBuffer()
        clientIP = 0
        clientPort = 0
    }

    /// Builds an event from an inner-protocol frame; nil for frames that are not client events.
    init?(frame: GatewayFrame) {
        switch frame.command {
        case .onConnect: kind = .connect
        case .onMessage: kind = .message(binary: frame.flags.contains(.binary))
        case .onClose: kind = .close
        case .onWebSocketConnect: kind = .handshake(awaitsVerdict: frame.flags.contains(.awaitsVerdict))
        default: return nil
        }
        clientID = ClientID(ipv4: frame.localIP, port: frame.localPort, connectionID: frame.connectionID)
        session = frame.extData
        body = frame.body
        clientIP = frame.clientIP
        clientPort = frame.clientPort
    }
}

extension PluginEvent {
    /// The gateway the event came from, where commands about its client go. Part of the client
    /// id, so no event carries (or formats) it separately.
    var gateway: GatewayAddress { clientID.gateway }

    /// What the event costs while it waits for the plugin thread.
    var queuedBytes: Int { 128 + body.readableBytes + session.readableBytes }
}

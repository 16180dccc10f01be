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
    var clientID: ClientID
    /// The gateway's inner address ("ip:port"), where commands about this client go.
    var gatewayAddress: String
    /// The client's PHP-serialized session as the gateway sent it ("" = none).
    var session: ByteBuffer
    var body: ByteBuffer
    var clientIP: UInt32
    var clientPort: UInt16

    /// The mark of a drain from the gateway at `gatewayAddress` (the frame carries no address).
    init(drainMarkFrom gatewayAddress: String) {
        kind = .drainMark
        clientID = ClientID(ipv4: 0, port: 0, connectionID: 0)
        self.gatewayAddress = gatewayAddress
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
        gatewayAddress = clientID.gatewayAddress
        session = frame.extData
        body = frame.body
        clientIP = frame.clientIP
        clientPort = frame.clientPort
    }
}

extension PluginEvent {
    /// What the event costs while it waits for the plugin thread.
    var queuedBytes: Int { 128 + body.readableBytes + session.readableBytes }
}

extension PluginEvent.Kind {
    /// The plugin callback this event runs, for logs.
    var callbackName: String {
        switch self {
        case .connect: return "on_connect"
        case .handshake: return "on_websocket_handshake"
        case .message: return "on_message"
        case .close: return "on_close"
        case .drainMark: return "drain"
        }
    }
}

import GatewayCore
import GatewayHub
import GatewayWire
import NIOCore

/// One client connection held by a gateway: its socket, session, uid, groups and the worker
/// its events go to. Confined to the gateway's event loop.
final class ClientConnection: OutboundTarget, DirectoryClient, RoutedClient, @unchecked Sendable {  // confined to the gateway's event loop
    let id: UInt32
    let channel: Channel
    let remoteIP: UInt32
    let remotePort: UInt16
    /// The public listen port the client connected to (`gateway_port` in frames).
    let listenPort: UInt16
    /// The client protocol, which decides how messages to this client are framed.
    let transport: ListenAddress.Scheme
    let connectedAt: NIODeadline
    /// The PHP-serialized session exactly as stored; empty when the client has none.
    var session: ByteBuffer = ByteBuffer()
    var uid: String?
    var groups: Set<String> = []
    /// The worker this client's events go to (sticky), nil until first routed.
    weak var worker: WorkerLink?
    /// Set once the client can be written to: at once for text:// and frame://, after the
    /// WebSocket handshake otherwise (sends before that wait in `pendingSends`).
    var isOpen = false
    /// Heartbeat ticks since the client was last heard from (HeartbeatPolicy).
    var heartbeatCount = HeartbeatPolicy.heardFrom
    var isClosed = false
    /// Not read from while its worker is congested (see `GatewayServer.pauseIfWorkerCongested`).
    var readingPaused = false
    /// Client events waiting while this client's worker drains (reload), in arrival order;
    /// handed to the next worker once the draining one has finished everything before them.
    var heldEvents: [HeldEvent] = []
    /// Frames sent before the handshake completed, written right after the 101.
    var pendingSends: [ByteBuffer] = []
    var messagesIn: UInt64 = 0
    var messagesOut: UInt64 = 0
    /// Writes to this client waiting in the gateway's outbound queue.
    var queuedWrites = 0

    init(id: UInt32, channel: Channel, remoteIP: UInt32, remotePort: UInt16, listenPort: UInt16, transport: ListenAddress.Scheme) {
        self.id = id
        self.channel = channel
        self.remoteIP = remoteIP
        self.remotePort = remotePort
        self.listenPort = listenPort
        self.transport = transport
        self.connectedAt = .now()
    }
}

/// A client event not yet sent to a worker. The session goes with it when it is sent, so an
/// event released after a drain carries the session as the old worker left it.
struct HeldEvent {
    var command: GatewayCommand
    var flags: GatewayFrameFlags
    var body: ByteBuffer?

    /// What holding it costs, for the gateway-wide bound on held bytes.
    var heldBytes: Int { 64 + (body?.readableBytes ?? 0) }
}

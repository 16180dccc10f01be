import GatewayCore
import GatewayEventLoop
import GatewayWire
import NIOCore

/// One client held by the hub: its socket, session, uid, groups and the worker its events go
/// to. Confined to the hub's thread.
public final class HubClient<Transport: HubTransport>: DirectoryClient, RoutedClient {
    public let id: UInt32
    public let socket: Transport.ClientSocket
    public let remoteIP: UInt32
    public let remotePort: UInt16
    /// The public listen port the client connected to (`gateway_port` in frames).
    public let listenPort: UInt16
    /// The client protocol, which decides how messages to this client are framed.
    public let transport: ListenAddress.Scheme
    // The flags sit next to the small fields above: the object is one of the few things a
    // gateway keeps per idle connection (issue 14: ≤ 400 B per connection in all).
    /// Writable: at once for text:// and frame://, after the WebSocket handshake otherwise
    /// (sends before that wait in `pendingSends`).
    public internal(set) var isOpen = false
    public internal(set) var isClosed = false
    /// Not read from while its worker is congested.
    public internal(set) var readingPaused = false
    /// permessage-deflate's window for messages to this client; 0: sent uncompressed.
    public internal(set) var deflateWindowBits: UInt8 = 0
    /// Why the gateway is closing it, once it decided to (nil: the client closed it).
    public internal(set) var closeReason: ClientCloseReason?
    public let connectedAt: Instant
    public var session = ByteBuffer()
    public var uid: String?
    public var groups: Set<String> = []
    /// Strong, not weak: a weak reference gave every worker a side table, and each retain and
    /// release of it the slow path (≈ 6 % of the gateway's CPU per echo). A worker that left
    /// stays allocated until its clients are routed again or close; `isRouted` tells it apart.
    public var worker: HubWorker<Transport>?
    /// Heartbeat ticks since the client was last heard from (HeartbeatPolicy).
    var heartbeatCount = HeartbeatPolicy.heardFrom
    public internal(set) var messagesIn: UInt64 = 0
    public internal(set) var messagesOut: UInt64 = 0
    /// What few clients need, and only for a while: allocated on first use, freed once empty.
    private var interim: Interim?

    private final class Interim {
        var heldEvents: [HeldEvent] = []
        var pendingSends: [ByteBuffer] = []
        var verdictDeadline: Instant?

        var isEmpty: Bool { heldEvents.isEmpty && pendingSends.isEmpty && verdictDeadline == nil }
    }

    private var interimStorage: Interim {
        if let interim { return interim }
        let created = Interim()
        interim = created
        return created
    }

    private func releaseInterimIfEmpty() {
        if interim?.isEmpty == true { interim = nil }
    }

    /// Asked per message: no array is touched for the clients (nearly all) without any.
    var hasHeldEvents: Bool { interim.map { !$0.heldEvents.isEmpty } ?? false }
    var hasPendingSends: Bool { interim.map { !$0.pendingSends.isEmpty } ?? false }

    /// Events waiting while this client's worker drains or while there is no worker, in order.
    var heldEvents: [HeldEvent] {
        get { interim?.heldEvents ?? [] }
        _modify {
            let storage = interimStorage
            yield &storage.heldEvents
            releaseInterimIfEmpty()
        }
    }

    /// Messages sent before the handshake completed, written right after the 101.
    var pendingSends: [ByteBuffer] {
        get { interim?.pendingSends ?? [] }
        _modify {
            let storage = interimStorage
            yield &storage.pendingSends
            releaseInterimIfEmpty()
        }
    }

    /// When the worker's handshake verdict is due (503 after), while one is awaited.
    var verdictDeadline: Instant? {
        get { interim?.verdictDeadline }
        set {
            guard newValue != nil || interim != nil else { return }
            interimStorage.verdictDeadline = newValue
            releaseInterimIfEmpty()
        }
    }

    init(
        id: UInt32, socket: Transport.ClientSocket, remoteIP: UInt32, remotePort: UInt16, listenPort: UInt16,
        transport: ListenAddress.Scheme, connectedAt: Instant
    ) {
        self.id = id
        self.socket = socket
        self.remoteIP = remoteIP
        self.remotePort = remotePort
        self.listenPort = listenPort
        self.transport = transport
        self.connectedAt = connectedAt
    }
}

/// A client event not yet sent to a worker. The session goes with it when it is sent, so an
/// event released after a drain carries the session as the old worker left it.
struct HeldEvent {
    var command: GatewayCommand
    var flags: GatewayFrameFlags
    var body: ByteBuffer?
    /// Sent before to a worker that died without finishing it (`UnfinishedEvents`).
    var replayed = false

    /// What holding it costs, for the gateway-wide bound on held bytes.
    var heldBytes: Int { 64 + (body?.readableBytes ?? 0) }
}

/// A BusinessWorker attached over the inner protocol.
public final class HubWorker<Transport: HubTransport>: RoutedWorker {
    /// "<remote ip>:<worker_key>", GatewayWorker's identity for a worker.
    public let key: String
    public let socket: Transport.InnerSocket
    /// A gatewayd worker: understands binary flags and answers handshake verdicts.
    public let speaksGatewayd: Bool
    /// Announced it pings every heartbeat interval: silence means it is gone.
    public internal(set) var sendsHeartbeats = false
    /// Announced capability 3 or higher: its queries on its main connection are answered there.
    public internal(set) var framedReplies = false
    public var assignedClients = 0
    public var isRouted = false
    public internal(set) var draining = false
    /// A worker of the other kind was refused for this one's key, and that was logged.
    var conflictReported = false
    /// Clients not read from while this worker is congested.
    public internal(set) var pausedClients: [HubClient<Transport>] = []
    /// Announced capability 4: says which events it finished (EVENTS_DONE), so those it had
    /// not can go to another worker when it dies.
    public internal(set) var acknowledgesEvents = false
    let unfinished = UnfinishedEvents()
    /// Closed clients whose ON_CLOSE (the event at `index`) this worker has not finished: kept
    /// so that it can still go to another worker.
    var closingClients: [(index: UInt64, client: HubClient<Transport>)] = []

    /// The address part of `key`: the host the worker runs on.
    var host: Substring { key.prefix { $0 != ":" } }

    init(key: String, socket: Transport.InnerSocket, speaksGatewayd: Bool) {
        self.key = key
        self.socket = socket
        self.speaksGatewayd = speaksGatewayd
    }
}

/// What an inner connection has turned out to be.
public enum InnerPeer<Transport: HubTransport> {
    case unauthenticated
    case worker(HubWorker<Transport>)
    /// A GatewayClient (or a worker's query connection): may query and send, gets bare replies.
    case client
}

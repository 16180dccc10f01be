import GatewayCompression
import GatewayCore
import GatewayEventLoop
import GatewayWire
import Logging
import NIOCore

/// Settings the hub decides with.
public struct HubConfiguration: Sendable {
    /// The address announced to workers and encoded in client ids.
    public var lanIP: UInt32
    /// The inner (worker-facing) port of this process.
    public var innerPort: UInt16
    public var secretKey: String
    /// Nanoseconds to wait for a worker's verdict on a handshake before refusing with 503.
    public var verdictTimeout: Int64
    /// Nanoseconds a WebSocket client may take from accept to a completed handshake.
    public var handshakeDeadline: Int64
    public var heartbeat: HeartbeatPolicy
    /// Clients this process holds at most; more are refused at accept.
    public var maxConnections: Int
    public var slowClientPolicy: SlowClientPolicy
    /// permessage-deflate for the WebSocket clients that agree to it; nil: off.
    public var compression: PermessageDeflateSettings?

    public init(
        lanIP: UInt32, innerPort: UInt16, secretKey: String, verdictTimeout: Int64 = 5_000_000_000,
        handshakeDeadline: Int64 = 10_000_000_000, heartbeat: HeartbeatPolicy = HeartbeatPolicy(interval: 0, notResponseLimit: 0, pingData: []),
        maxConnections: Int = 100_000, slowClientPolicy: SlowClientPolicy = .close, compression: PermessageDeflateSettings? = nil
    ) {
        self.lanIP = lanIP
        self.innerPort = innerPort
        self.secretKey = secretKey
        self.verdictTimeout = verdictTimeout
        self.handshakeDeadline = handshakeDeadline
        self.heartbeat = heartbeat
        self.maxConnections = maxConnections
        self.slowClientPolicy = slowClientPolicy
        self.compression = compression
    }
}

/// Things worth counting that are not errors of the gateway itself (`gatewayd status`).
public enum HubIncident: String, Sendable, CaseIterable {
    case malformedHandshake = "malformed_handshakes"
    case handshakeTimeout = "handshake_timeouts"
    case malformedFrame = "malformed_frames"
    case refusedConnection = "refused_connections"
    case slowClientClosed = "slow_client_closes"
    case slowClientDrop = "slow_client_drops"
    case workerBackPressure = "worker_backpressure_pauses"
    case oversizedMessage = "oversized_messages"
    case noWorker = "events_without_worker"
    case refusedHandshake = "refused_handshakes"
    case authenticationFailure = "auth_failures"
    case droppedHeld = "dropped_held_events"
    case heartbeatTimeout = "heartbeat_timeouts"
    case innerHeartbeatTimeout = "inner_heartbeat_timeouts"
    /// A worker refused because a worker of the other kind (PHP or gatewayd) has its key.
    case workerKeyConflict = "worker_key_conflicts"
    /// Events a worker that died had not finished, handed to another worker.
    case resentEvent = "events_resent"
    /// Events lost with a worker that died: the one it crashed in, one whose commands had
    /// partly gone out, one that a second worker died with too (logged one by one).
    case lostEvent = "events_lost"
}

/// The gateway's state and decisions, without sockets: clients and their sessions, uids and
/// groups; which worker each client's events go to; events held while a worker drains or
/// while there is none; the workers' commands; handshake verdicts and deadlines; heartbeats;
/// slow consumers and back-pressure. The transport feeds it what happened (a client opened,
/// sent a message, closed; an inner frame arrived; time passed) and carries out what it
/// decides through `HubTransport`. Time comes in as `Instant`s: tests own the clock.
///
/// Confined to one thread; no locks.
public final class Hub<Transport: HubTransport> {
    public typealias Client = HubClient<Transport>
    public typealias Worker = HubWorker<Transport>

    let configuration: HubConfiguration
    /// The transport owns the hub and outlives it: unowned(unsafe) spares the atomic check
    /// `unowned` makes on every call (≈ 1.5 % of the gateway's CPU per echo).
    unowned(unsafe) let transport: Transport
    let logger: Logger
    public internal(set) var directory = ClientDirectory<Client>()
    public internal(set) var router = WorkerRouter<Worker>()
    /// Clients with events held (closed ones included, until released).
    var heldClients: [ObjectIdentifier: Client] = [:]
    var heldBytes = 0
    /// WebSocket clients accepted and not yet upgraded, or awaiting a verdict.
    private var handshaking: [Client] = []
    private var nextHeartbeat: Instant?
    private var lastNoWorkerLog: Instant?
    public internal(set) var messagesIn: UInt64 = 0
    public internal(set) var messagesOut: UInt64 = 0
    public internal(set) var incidents: [HubIncident: UInt64] = [:]
    /// For `/metrics`: counted per connection, per broadcast or per query, never per message.
    public internal(set) var connectionsOpened: UInt64 = 0
    /// Indexed by `ClientCloseReason.rawValue`.
    public internal(set) var connectionsClosed = [UInt64](repeating: 0, count: ClientCloseReason.allCases.count)
    public internal(set) var broadcastDeliveries: UInt64 = 0
    public internal(set) var queriesAnswered: UInt64 = 0
    /// Compresses messages for clients that agreed to permessage-deflate: one for the process.
    let compressor: MessageCompressor?

    /// The most events one client may have waiting, and the most bytes all clients together
    /// may have waiting; beyond either, events are dropped and counted, so a drain that never
    /// ends or a cluster with no worker cannot grow gateway memory without bound.
    public static var maximumHeldEvents: Int { 4096 }
    public static var maximumHeldBytes: Int { 64 << 20 }
    /// Messages kept for a client whose handshake is not complete yet.
    public static var maximumPendingSends: Int { 64 }

    public init(configuration: HubConfiguration, transport: Transport, logger: Logger, now: Instant) {
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        compressor = configuration.compression.map(MessageCompressor.init)
        if configuration.heartbeat.isEnabled { nextHeartbeat = now + Self.heartbeatPeriod(configuration.heartbeat) }
    }

    /// Replaces the client maps (tests that set up uids and groups directly).
    public func replaceDirectoryForTesting(_ replacement: ClientDirectory<Client>) {
        directory = replacement
    }

    public func count(_ incident: HubIncident) {
        incidents[incident, default: 0] += 1
    }

    /// Says why the gateway closes `client` (the transport closes it); the first reason given
    /// is the one counted when it is gone.
    public func closing(_ client: Client, because reason: ClientCloseReason) {
        if client.closeReason == nil { client.closeReason = reason }
    }

    public func clientID(of client: Client) -> ClientID {
        ClientID(ipv4: configuration.lanIP, port: configuration.innerPort, connectionID: client.id)
    }

    // MARK: - Clients

    /// A client connected. Nil when this process holds `maxConnections` already: the transport
    /// closes the socket (counted).
    public func clientAccepted(
        _ socket: Transport.ClientSocket, remoteIP: UInt32, remotePort: UInt16, listenPort: UInt16,
        transport scheme: ListenAddress.Scheme, now: Instant
    ) -> Client? {
        connectionsOpened += 1
        guard directory.count < configuration.maxConnections else {
            count(.refusedConnection)
            connectionsClosed[Int(ClientCloseReason.refused.rawValue)] += 1
            return nil
        }
        let client = Client(
            id: directory.nextID(), socket: socket, remoteIP: remoteIP, remotePort: remotePort, listenPort: listenPort,
            transport: scheme, connectedAt: now)
        directory.insert(client)
        if scheme == .websocket { handshaking.append(client) }
        dispatch(HeldEvent(command: .onConnect, flags: .scalarBody, body: nil), for: client, now: now)
        if scheme != .websocket { clientUpgraded(client) }
        return client
    }

    /// A WebSocket client's upgrade request, parsed: ON_WEBSOCKET_CONNECT goes to its worker,
    /// whose verdict comes back through `HubTransport.handshakeDecided` (at once from a worker
    /// that gives none, 503 when none comes within `verdictTimeout`).
    public func handshakeRequested(_ client: Client, info: WebSocketConnectInfo, now: Instant) {
        client.verdictDeadline = now + configuration.verdictTimeout
        dispatch(
            HeldEvent(command: .onWebSocketConnect, flags: [], body: ByteBuffer(bytes: info.serializedBody())), for: client,
            now: now)
    }

    /// The client can be written to (the 101 went out): what was sent before goes now.
    /// `deflateWindowBits`: the window agreed for permessage-deflate, 0 when none was.
    public func clientUpgraded(_ client: Client, deflateWindowBits: UInt8 = 0) {
        client.isOpen = true
        client.deflateWindowBits = compressor == nil ? 0 : deflateWindowBits
        guard client.hasPendingSends else { return }
        let queued = client.pendingSends
        client.pendingSends.removeAll()
        for bytes in queued { write(transport.payload(bytes), to: client) }
    }

    /// Anything arrived from the client (a message, a ping, a pong, part of either): it is
    /// alive. The transport calls this for every read; messages do not reset it again.
    public func clientHeardFrom(_ client: Client) {
        client.heartbeatCount = HeartbeatPolicy.heardFrom
    }

    /// A whole client message: to the client's worker, with its session.
    public func clientMessage(_ client: Client, _ body: ByteBuffer, binary: Bool, now: Instant) {
        messagesIn += 1
        client.messagesIn += 1
        dispatch(HeldEvent(command: .onMessage, flags: binary ? [.scalarBody, .binary] : .scalarBody, body: body), for: client, now: now)
    }

    /// A whole client message whose bytes the transport writes itself (`writeBody`: e.g.
    /// unmasking while copying, the message's only copy), straight into the worker's frame.
    /// `writeBody` may refuse (text that is not UTF-8): nothing is sent and the result is false.
    public func clientMessage(
        _ client: Client, length: Int, binary: Bool, now: Instant, writeBody: (inout ByteBuffer) -> Bool
    ) -> Bool {
        guard !client.hasHeldEvents, let worker = router.worker(for: client), !worker.draining else {
            // Held, or no worker: the event waits with a copy of its own (the slow path).
            var body = ByteBuffer()
            body.reserveCapacity(length)
            guard writeBody(&body) else { return false }
            clientMessage(client, body, binary: binary, now: now)
            return true
        }
        let flags: GatewayFrameFlags = binary ? [.scalarBody, .binary] : .scalarBody
        let session = client.session
        let written = transport.write(to: worker.socket, size: GatewayFrame.headerLength + session.readableBytes + length) { buffer in
            let start = buffer.writerIndex
            writeEventHeader(.onMessage, flags: flags, for: client, extLength: session.readableBytes, bodyLength: length, into: &buffer)
            buffer.appendBytes(of: session)
            guard writeBody(&buffer) else { return false }
            if worker.acknowledgesEvents { recordSent(buffer, from: start, to: worker, replayed: false) }
            return true
        }
        guard written else { return false }
        messagesIn += 1
        client.messagesIn += 1
        pauseIfWorkerCongested(client, worker: worker)
        return true
    }

    /// The client's socket is gone (by either side): ON_CLOSE goes to its worker, after its
    /// held events.
    public func clientClosed(_ client: Client, now: Instant) {
        guard !client.isClosed else { return }
        client.isClosed = true
        connectionsClosed[Int((client.closeReason ?? .client).rawValue)] += 1
        resolveVerdict(of: client, 503)
        directory.remove(client.id)
        dispatch(HeldEvent(command: .onClose, flags: .scalarBody, body: nil), for: client, now: now)
        // Its last events may still wait behind a draining worker; it leaves the router after them.
        if !client.hasHeldEvents { router.release(client) }
    }

    // MARK: - Time

    /// When `tick` next has something to do (a heartbeat, a handshake deadline, a verdict
    /// timeout); nil when nothing is scheduled.
    public var nextDeadline: Instant? {
        var next = nextHeartbeat
        for client in handshaking where !client.isOpen && !client.isClosed {
            var due = client.connectedAt + configuration.handshakeDeadline
            if let verdict = client.verdictDeadline, verdict < due { due = verdict }
            if next.map({ due < $0 }) ?? true { next = due }
        }
        return next
    }

    /// Runs what is due at `now`: heartbeats, handshake deadlines, verdict timeouts.
    public func tick(now: Instant) {
        if let due = nextHeartbeat, now >= due {
            heartbeat()
            nextHeartbeat = now + Self.heartbeatPeriod(configuration.heartbeat)
        }
        guard !handshaking.isEmpty else { return }
        var expired: [Client] = []
        var verdictsDue: [Client] = []
        handshaking.removeAll { client in
            if client.isOpen || client.isClosed { return true }
            if let deadline = client.verdictDeadline, now >= deadline { verdictsDue.append(client) }
            guard now - client.connectedAt >= configuration.handshakeDeadline else { return false }
            expired.append(client)
            return true
        }
        for client in verdictsDue where client.verdictDeadline != nil {
            logger.warning(
                "no handshake verdict from the worker in time; refusing with 503", metadata: ["gw.client_id": "\(clientID(of: client))"])
            resolveVerdict(of: client, 503)
        }
        for client in expired where !client.isClosed {
            count(.handshakeTimeout)
            closing(client, because: .handshakeTimeout)
            transport.close(client.socket, flush: false)
        }
    }

    static func heartbeatPeriod(_ policy: HeartbeatPolicy) -> Int64 {
        Int64(policy.tickSeconds * 1e9)
    }

    /// One tick of the process-wide heartbeat: the ping is encoded once per protocol.
    func heartbeat() {
        let policy = configuration.heartbeat
        // Without ping data, WebSocket clients get a ping frame and text/frame clients nothing
        // (they must still speak within the limit), as in GatewayWorker.
        var message = OutgoingMessage<Transport>(body: ByteBuffer(bytes: policy.pingData), flags: .scalarBody)
        var webSocketPing: Transport.Payload?
        for client in directory.connections.values where client.isOpen && !client.isClosed {
            switch policy.tick(&client.heartbeatCount) {
            case .nothing:
                break
            case .sendHeartbeat:
                if !policy.pingData.isEmpty {
                    _ = transport.write(message.bytes(for: client.transport, in: transport), to: client.socket)
                } else if client.transport == .websocket {
                    if webSocketPing == nil {
                        webSocketPing = transport.encode(size: 2) { buffer in
                            WebSocketFrameWriter.writeHeader(fin: true, opcode: WebSocketFrameWriter.pingOpcode, payloadLength: 0, into: &buffer)
                            return true
                        }
                    }
                    _ = transport.write(webSocketPing!, to: client.socket)
                }
            case .close:
                count(.heartbeatTimeout)
                closing(client, because: .heartbeat)
                transport.close(client.socket, flush: false)
            }
        }
    }

    // MARK: - Events to workers

    /// The one way a client event goes to a worker: behind the client's earlier held events,
    /// held while its worker drains or while there is none, dropped (and counted) past the bounds.
    func dispatch(_ event: HeldEvent, for client: Client, now: Instant) {
        if client.hasHeldEvents { return hold(event, for: client) }
        guard let worker = router.worker(for: client) else {
            // No worker right now (all crashed, or between two generations): wait for one
            // rather than lose the event, as PHP's gateway would.
            noWorker(for: client, now: now)
            return hold(event, for: client)
        }
        if worker.draining { return hold(event, for: client) }
        send(event, for: client, to: worker)
    }

    func noWorker(for client: Client, now: Instant) {
        count(.noWorker)
        if lastNoWorkerLog.map({ now - $0 > 5_000_000_000 }) ?? true {
            lastNoWorkerLog = now
            logger.warning(
                "no business worker attached; holding client events until one is", metadata: ["gw.client_id": "\(clientID(of: client))"])
        }
    }

    func hold(_ event: HeldEvent, for client: Client) {
        let size = event.heldBytes
        guard client.heldEvents.count < Self.maximumHeldEvents, heldBytes + size <= Self.maximumHeldBytes else {
            if event.command == .onWebSocketConnect { resolveVerdict(of: client, 503) }
            return count(.droppedHeld)
        }
        heldBytes += size
        client.heldEvents.append(event)
        heldClients[ObjectIdentifier(client)] = client
    }

    /// Hands held events, in order, to each client's (new) worker where one is available.
    func releaseHeldEvents() {
        for (key, client) in heldClients {
            guard let worker = router.worker(for: client), !worker.draining else { continue }
            for event in client.heldEvents {
                heldBytes -= event.heldBytes
                send(event, for: client, to: worker)
            }
            client.heldEvents.removeAll()
            heldClients[key] = nil
            if client.isClosed { router.release(client) }
        }
    }

    /// Events held right now, over every client.
    public var heldEventCount: Int { heldClients.values.reduce(0) { $0 + $1.heldEvents.count } }

    func send(_ event: HeldEvent, for client: Client, to worker: Worker) {
        var flags = event.flags
        if event.command == .onWebSocketConnect {
            if worker.speaksGatewayd {
                flags.insert(.awaitsVerdict)
            } else {
                resolveVerdict(of: client, 0)  // a PHP worker gives no verdict: accept, as PHP does
            }
        }
        let body = event.body ?? ByteBuffer()
        let session = client.session
        _ = transport.write(to: worker.socket, size: GatewayFrame.headerLength + session.readableBytes + body.readableBytes) { buffer in
            let start = buffer.writerIndex
            writeEventHeader(event.command, flags: flags, for: client, extLength: session.readableBytes, bodyLength: body.readableBytes, into: &buffer)
            buffer.appendBytes(of: session)
            buffer.appendBytes(of: body)
            if worker.acknowledgesEvents { recordSent(buffer, from: start, to: worker, replayed: event.replayed) }
            return true
        }
        if event.command == .onClose && worker.acknowledgesEvents {
            worker.closingClients.append((worker.unfinished.sent - 1, client))
        }
        pauseIfWorkerCongested(client, worker: worker)
    }

    /// Keeps a copy of the event frame just written (from `start` to the buffer's end) until
    /// the worker says it finished it.
    func recordSent(_ buffer: ByteBuffer, from start: Int, to worker: Worker, replayed: Bool) {
        buffer.withUnsafeReadableBytes { readable in
            worker.unfinished.record(UnsafeRawBufferPointer(rebasing: readable[(start - buffer.readerIndex)...]), replayed: replayed)
        }
    }

    /// The header of a client event's frame (its session and body follow).
    func writeEventHeader(
        _ command: GatewayCommand, flags: GatewayFrameFlags, for client: Client, extLength: Int, bodyLength: Int, into buffer: inout ByteBuffer
    ) {
        buffer.writeGatewayFrameHeader(
            command: command, connectionID: client.id, flags: flags, extLength: extLength, bodyLength: bodyLength,
            localIP: configuration.lanIP, localPort: configuration.innerPort, clientIP: client.remoteIP,
            clientPort: client.remotePort, gatewayPort: client.listenPort)
    }

    func resolveVerdict(of client: Client, _ status: Int) {
        guard client.verdictDeadline != nil else { return }
        client.verdictDeadline = nil
        if status != 0 {
            count(.refusedHandshake)
            closing(client, because: .handshakeRefused)
        }
        transport.handshakeDecided(client.socket, status: status)
    }

    // MARK: - Status

    /// What `gatewayd status` lists for each client.
    public func connections(now: Instant) -> [ConnectionInfo] {
        directory.connections.values.map { client in
            ConnectionInfo(
                clientID: clientID(of: client).description,
                remoteAddress: "\(IPv4Address(value: client.remoteIP)):\(client.remotePort)",
                transport: client.transport.rawValue, uid: client.uid, groups: client.groups.sorted(),
                messagesIn: client.messagesIn, messagesOut: client.messagesOut,
                connectedSeconds: Double(now - client.connectedAt) / 1e9)
        }
    }
}

import CGatewaySystem
import GatewayAPI
import GatewayCore
import GatewayEventLoop
import GatewayRuntime
import GatewayWire
import Logging
import NIOCore
import Synchronization

/// A worker's connections to every gateway the register lists, on the worker's one thread.
///
/// Per gateway there is a main connection, as in GatewayWorker: WORKER_CONNECT, then events in
/// and commands out. A gatewayd gateway (one that greets us with GATEWAYD_HELLO) also answers
/// queries on it, in frames, so a query sees everything the worker sent that gateway before it.
/// A PHP gateway answers queries only with bare length-prefixed payloads, which cannot share a
/// stream with events: for it a second, query connection is opened when first needed.
///
/// A link that drops is reconnected with back-off while the register still lists its gateway.
/// A gateway the register stops listing keeps its open link until that closes (as PHP's
/// BusinessWorker does): a register that restarts, or a second register still filling up, lists
/// fewer gateways for a moment, and dropping live links then would lose events in flight.
/// Gateways that really went away close their links, or fall silent and are timed out by the
/// inner heartbeat.
final class GatewayLinkSet: WorkerTransport {
    struct Settings {
        var workerKey: String
        var secretKey: String
        var queryTimeout: Int64
        /// Pings to gateways, and timing out gatewayd gateways that fall silent; nil: neither.
        var heartbeat: InnerHeartbeat? = nil
        var connectTimeout: Int64 = 3_000_000_000
        var backoff: ReconnectBackoff = .standard
        /// Past this many bytes of events waiting for the plugin (while it waits on a query),
        /// links not carrying a reply stop reading.
        var maximumBacklogBytes = 16 << 20
    }

    /// What `status` shows of the links, read from the control thread.
    final class Counters: Sendable {
        let connected = Atomic<Int>(0)
        let droppedCommands = Atomic<UInt64>(0)
        let backPressurePauses = Atomic<UInt64>(0)
        /// Queries sent to each gateway and those it did not answer in time (`/metrics`); one
        /// lock per query, which waits on a network round trip anyway.
        let queries = Mutex<[GatewayAddress: (sent: UInt64, timedOut: UInt64)]>([:])
    }

    private let loop: GatewayEventLoop.EventLoop
    private let logger: Logger
    private let settings: Settings
    private var links: [GatewayAddress: GatewayLink] = [:]
    /// The link the last command went to: an event's replies go where the event came from,
    /// so this spares hashing the address for nearly every command.
    private var lastLink: GatewayLink?
    /// The links' addresses in order, kept up to date for queries of every gateway.
    private(set) var addresses: [GatewayAddress] = []
    let counters = Counters()

    /// Where events go (the plugin host's backlog), and how many bytes wait there.
    var deliver: (consuming PluginEvent) -> Void = { _ in }
    var backlogBytes: () -> Int = { 0 }
    /// A gateway's main connection is lost (a drain no longer waits for it).
    var linkLost: (GatewayAddress) -> Void = { _ in }
    /// A gateway's main connection is up and WORKER_CONNECT written.
    var linkAttached: () -> Void = {}

    /// The link of the client event running now, when its gateway acknowledges events.
    private var runningLink: GatewayLink?
    /// The connection of that link the running event came on.
    private var runningConnection: UInt32 = 0
    /// `runningLink` while the event's connection is still the link's: one that closed while the
    /// event ran (a query waited) was settled by the gateway already, and its successor counts
    /// its own events.
    private var runningEventLink: GatewayLink? {
        guard let link = runningLink, link.connection == runningConnection else { return nil }
        return link
    }
    /// The running event appended a command: a flush now makes it partly visible.
    private var runningEventWrote = false

    private var pausedLinks: [GatewayLink] = []
    /// Links with bytes to write at the end of this iteration.
    private var dirty: [GatewayLink] = []
    /// Links to PHP gateways a drain stopped reading from, to close once their output is written.
    private var retiring: [GatewayLink] = []

    init(loop: GatewayEventLoop.EventLoop, logger: Logger, settings: Settings) {
        self.loop = loop
        self.logger = logger
        self.settings = settings
    }

    /// Every gateway the register listed has our WORKER_CONNECT.
    var allAttached: Bool { links.values.allSatisfy { $0.isAttached } }

    // MARK: - Following the register

    /// Connects to new gateways and lets go of those that left.
    func update(_ names: [String]) {
        let parsed = names.map { (name: $0, address: GatewayAddress($0)) }
        let wanted = Set(parsed.compactMap(\.address))
        for (address, link) in links where !wanted.contains(address) && link.listed {
            logger.info("gateway left the register's list", metadata: ["gw.gateway": "\(link.name)"])
            link.listed = false
            if !link.isAttached { remove(link) }
        }
        for (name, address) in parsed {
            guard let address else {
                logger.warning("ignoring malformed gateway address from the register: \(name)")
                continue
            }
            if let link = links[address] {
                link.listed = true
                continue
            }
            let link = GatewayLink(address: address, name: name)
            links[address] = link
            connect(link)
        }
        addresses = links.keys.sorted()
    }

    private func remove(_ link: GatewayLink) {
        link.stop(loop)
        if lastLink === link { lastLink = nil }
        if links[link.address] === link { links[link.address] = nil }
        addresses = links.keys.sorted()
    }

    /// Writes out what is buffered — waiting up to `flushTimeout` for gateways that are slow to
    /// take it (DRAIN_DONE and on_worker_stop's commands must arrive) — then closes every link.
    func closeAll(flushingFor flushTimeout: Int64) {
        flush()
        let deadline = loop.now + flushTimeout
        while links.values.contains(where: { ($0.main?.pendingWriteBytes ?? 0) > 0 }) && loop.now < deadline {
            loop.waitForIO(until: deadline)
        }
        for link in links.values { link.stop(loop) }
        links.removeAll()
        lastLink = nil
        addresses = []
        counters.connected.store(0, ordering: .relaxed)
    }

    /// Asks every connected gatewayd gateway to stop sending events (DRAIN_REQUEST) and returns
    /// the addresses whose drain marks are now on their way. A PHP gateway knows no drain (it
    /// answers 231 with "gateway inner pack err"): it is no longer read from, and once what was
    /// read from it has run and the commands that made are written (`closeRetiredLinks`), its
    /// link is closed — it then sends our clients' next events to the new workers. What it sent
    /// after the last read is lost with the link.
    func requestDrain() -> Set<GatewayAddress> {
        var asked: Set<GatewayAddress> = []
        for link in links.values where link.isAttached {
            if link.answersOnMain {
                append(to: link.address) { $0.writeCommand(.drainRequest) }
                asked.insert(link.address)
            } else {
                link.main?.setReadingPaused(true)
                retiring.append(link)
            }
        }
        flush()
        return asked
    }

    /// Closes the links to PHP gateways a drain retired, once their commands are written (the
    /// end of a loop iteration, after its events ran).
    func closeRetiredLinks() {
        guard !retiring.isEmpty else { return }
        var waiting: [GatewayLink] = []
        for link in retiring {
            guard links[link.address] === link else { continue }  // gone meanwhile
            if let main = link.main, main.pendingWriteBytes > 0, main.state == .connected {
                waiting.append(link)
                continue
            }
            if link.isAttached { counters.connected.subtract(1, ordering: .relaxed) }
            logger.info(
                "closed the link to a PHP gateway, which knows no drain; it sends our clients' next events to the new workers",
                metadata: ["gw.gateway": "\(link.name)"])
            link.listed = false
            remove(link)
        }
        retiring = waiting
    }

    // MARK: - WorkerTransport: commands

    @discardableResult
    func append(to address: GatewayAddress, _ encode: (inout ByteBuffer) -> Void) -> Bool {
        if lastLink?.address != address { lastLink = links[address] }
        guard let link = lastLink, let main = link.main, link.isAttached else {
            counters.droppedCommands.add(1, ordering: .relaxed)
            return false
        }
        runningEventWrote = true
        main.write(encode)
        markDirty(link)
        return true
    }

    func appendToAll(_ encode: (inout ByteBuffer) -> Void) {
        for address in addresses { append(to: address, encode) }
    }

    func appendPerGateway(_ make: (GatewayAddress) -> ByteBuffer?) {
        for address in addresses {
            guard let frame = make(address) else { continue }
            append(to: address) { $0.writeImmutableBuffer(frame) }
        }
    }

    private func markDirty(_ link: GatewayLink) {
        guard !link.dirty else { return }
        link.dirty = true
        dirty.append(link)
    }

    func flush() {
        // A flush while an event runs (a query) sends the commands it made so far: its gateway
        // hears that it started, and must not give it to another worker should this one die.
        if let running = runningEventLink, runningEventWrote { markDirty(running) }
        guard !dirty.isEmpty else { return }
        for link in dirty {
            link.dirty = false
            if link.acknowledgesEvents { acknowledgeEvents(on: link) }
            link.main?.flush()
        }
        dirty.removeAll(keepingCapacity: true)
        if let running = runningEventLink { armCrashNotice(running) }
    }

    // MARK: - WorkerTransport: acknowledging events

    func eventStarted(from address: GatewayAddress, connection: UInt32) {
        if lastLink?.address != address { lastLink = links[address] }
        guard let link = lastLink, link.acknowledgesEvents, link.connection == connection else { return }
        runningLink = link
        runningConnection = connection
        runningEventWrote = false
        armCrashNotice(link)
    }

    func eventFinished() {
        guard runningLink != nil else { return }
        let link = runningEventLink
        runningLink = nil
        gwd_sys_crash_context_set_notice(-1, 0)
        guard let link else { return }
        link.eventsFinished += 1
        markDirty(link)
    }

    /// EVENTS_DONE after the commands of the events it counts, in the same write.
    private func acknowledgeEvents(on link: GatewayLink) {
        let started = link.eventsFinished + (link === runningEventLink && runningEventWrote ? 1 : 0)
        let done = EventsDone(finished: link.eventsFinished, started: started)
        guard done != link.acknowledged, let main = link.main else { return }
        link.acknowledged = done
        main.write { $0.writeEventsDone(done) }
    }

    /// Should the running event crash the process, the crash handler tells its gateway which
    /// event that was — unless the connection's stream may end mid-frame (the gateway was not
    /// taking our bytes): then it says nothing, and the gateway resends the event once.
    private func armCrashNotice(_ link: GatewayLink) {
        let fd = link.main.map { $0.writeInterrupted ? -1 : $0.descriptor } ?? -1
        gwd_sys_crash_context_set_notice(fd, link.eventsFinished)
    }

    // MARK: - WorkerTransport: queries

    func ask(_ dispatch: GatewayDispatch) -> [GatewayReply] {
        let deadline = loop.now + settings.queryTimeout
        var asked: [(GatewayAddress, PendingQuery)] = []
        for address in dispatch.targets(among: addresses) {
            guard let request = dispatch.frame(for: address) else { continue }
            let pending = PendingQuery()
            asked.append((address, pending))
            guard let link = links[address], link.isAttached else {
                pending.finish(.failure(.unavailable))
                continue
            }
            if link.answersOnMain {
                link.main?.write { $0.writeImmutableBuffer(request) }
                link.pendingOnMain.append(pending)
                markDirty(link)
            } else {
                sendOnQueryConnection(request, pending, link)
            }
        }
        flush()
        while asked.contains(where: { $0.1.result == nil }) && loop.now < deadline {
            loop.waitForIO(until: deadline)
        }
        let replies = asked.map { address, pending in
            // A late answer finds the query finished and is dropped, in order.
            if pending.result == nil { pending.finish(.failure(.timeout)) }
            return GatewayReply(gateway: address, result: pending.result!)
        }
        counters.queries.withLock { queries in
            for reply in replies {
                var counts = queries[reply.gateway] ?? (0, 0)
                counts.sent += 1
                if case .failure(.timeout) = reply.result { counts.timedOut += 1 }
                queries[reply.gateway] = counts
            }
        }
        return replies
    }

    /// A PHP gateway's query connection: authenticated once when a secret is set, then
    /// request/reply pairs in order.
    private func sendOnQueryConnection(_ request: ByteBuffer, _ pending: PendingQuery, _ link: GatewayLink) {
        if link.query == nil {
            do {
                link.query = try StreamConnection(
                    loop: loop, ipv4: link.address.ipv4, port: link.address.port, connectTimeout: settings.connectTimeout,
                    callbacks: .init(
                        connected: {},
                        received: { [unowned self, unowned link] buffer in queryBytes(&buffer, link) },
                        closed: { [unowned link] _ in link.queryConnectionLost() }))
            } catch {
                return pending.finish(.failure(.unavailable))
            }
            if !settings.secretKey.isEmpty {
                let hello = ByteBuffer.command(
                    .gatewayClientConnect, body: GatewayClientConnectBody(secretKey: settings.secretKey).encoded())
                link.query?.write { $0.writeImmutableBuffer(hello) }
            }
        }
        link.query?.write { $0.writeImmutableBuffer(request) }
        link.pendingOnQuery.append(pending)
        link.query?.flush()
    }

    private func queryBytes(_ buffer: inout ByteBuffer, _ link: GatewayLink) {
        while true {
            let payload: ByteBuffer?
            do {
                payload = try link.replyParser.parse(&buffer)
            } catch {
                logger.warning("unreadable query reply; closing the query connection", metadata: ["gw.gateway": "\(link.name)"])
                link.query?.close()
                link.queryConnectionLost()
                return
            }
            guard let payload else { return }
            link.pendingOnQuery.popFirst()?.finish(.success(payload))
        }
    }

    // MARK: - The main connection

    private func connect(_ link: GatewayLink) {
        link.reconnectTimer = nil
        do {
            link.main = try StreamConnection(
                loop: loop, ipv4: link.address.ipv4, port: link.address.port, connectTimeout: settings.connectTimeout,
                callbacks: .init(
                    connected: { [unowned self, unowned link] in attached(link) },
                    received: { [unowned self, unowned link] buffer in mainBytes(&buffer, link) },
                    closed: { [unowned self, unowned link] reason in mainLost(link, reason: reason) }))
        } catch {
            attemptFailed(link, reason: "\(error)")
        }
    }

    private func attached(_ link: GatewayLink) {
        guard let main = link.main else { return }
        let recovered = link.failures > 0
        link.isAttached = true
        link.lastHeard = loop.now
        link.attachedAt = link.lastHeard
        counters.connected.add(1, ordering: .relaxed)
        let hello = ByteBuffer.command(
            .workerConnect,
            body: WorkerConnectBody(
                workerKey: settings.workerKey, secretKey: settings.secretKey,
                extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))]
            ).encoded())
        main.write { $0.writeImmutableBuffer(hello) }
        if let heartbeat = settings.heartbeat {
            // Pings (CMD_PING, gatewayd's extension) go only to a gateway that pinged first: a
            // gatewayd one does at once after our WORKER_CONNECT; a PHP gateway logs each as
            // "gateway inner pack err". A cut link to a PHP gateway is found by TCP keepalive
            // probes instead, which TCP_USER_TIMEOUT ends as it ends unacknowledged pings.
            let timeout = heartbeat.timeout.nanoseconds / 1_000_000
            let interval = heartbeat.interval.nanoseconds / 1_000_000
            main.setUserTimeout(milliseconds: UInt32(clamping: timeout))
            main.setKeepAlive(
                idleSeconds: Int32(clamping: interval / 1000), intervalSeconds: Int32(clamping: interval / 1000),
                probes: Int32(clamping: (timeout + interval - 1) / max(interval, 1)))
            scheduleHeartbeat(link, interval: heartbeat.interval.nanoseconds)
        }
        markDirty(link)
        if link.refusals == 0 {
            logger.info(recovered ? "connected to gateway again" : "connected to gateway", metadata: ["gw.gateway": "\(link.name)"])
        }
        linkAttached()
    }

    private func mainBytes(_ buffer: inout ByteBuffer, _ link: GatewayLink) {
        link.lastHeard = loop.now
        while true {
            let frame: GatewayFrame
            do {
                // Bound straight from the parser's result: a frame copied out of an optional
                // costs a retain and a release of each of its two buffers.
                guard let parsed = try link.parser.parse(&buffer) else { break }
                frame = parsed
            } catch {
                // A gateway speaking something else: drop the link and reconnect.
                link.main?.close()
                return mainLost(link, reason: "\(error)")
            }
            handle(consume frame, from: link)
        }
        if backlogBytes() > settings.maximumBacklogBytes && link.pendingOnMain.isEmpty, let main = link.main {
            // The plugin is waiting on a query while events pile up: hold this gateway back.
            main.setReadingPaused(true)
            pausedLinks.append(link)
            counters.backPressurePauses.add(1, ordering: .relaxed)
        }
    }

    private func handle(_ frame: consuming GatewayFrame, from link: GatewayLink) {
        switch frame.command {
        case .ping:
            // A gatewayd gateway pings every interval: from now on its silence means it is gone.
            if GatewaydHeartbeat.isMarkedPing(frame) { link.heartbeatArmed = true }
        case .gatewaydHello:
            link.answersOnMain = true
            link.acknowledgesEvents = (GatewaydCapability.helloVersion(frame) ?? 0) >= GatewaydCapability.acknowledgedEventsVersion
        case .queryReply:
            link.pendingOnMain.popFirst()?.finish(.success(frame.body))
        case .drainMark:
            deliver(PluginEvent(drainMarkFrom: link.address))
        default:
            if var event = PluginEvent(frame: consume frame) {
                event.connection = link.connection
                deliver(consume event)
            }
        }
    }

    /// The plugin caught up: read from the gateways held back again.
    func resumePausedLinks() {
        guard !pausedLinks.isEmpty, backlogBytes() <= settings.maximumBacklogBytes else { return }
        for link in pausedLinks where !retiring.contains(where: { $0 === link }) { link.main?.setReadingPaused(false) }
        pausedLinks.removeAll(keepingCapacity: true)
    }

    private func mainLost(_ link: GatewayLink, reason: String) {
        // The running event's connection is gone (a query waited): its descriptor may be
        // reused before the event ends, and a crash notice must not land on another socket.
        if link === runningLink { gwd_sys_crash_context_set_notice(-1, 0) }
        let wasAttached = link.isAttached
        link.resetMain(loop)
        // Its query connection may be just as dead (a cut cable): start it afresh too.
        link.query?.close()
        link.queryConnectionLost()
        guard wasAttached else { return attemptFailed(link, reason: reason) }
        counters.connected.subtract(1, ordering: .relaxed)
        if !link.heardSinceAttach, loop.now - link.attachedAt < Self.refusalWindow {
            return refused(link)
        }
        link.failures = 0
        link.refusals = 0
        if link.listed {
            logger.warning("lost gateway; reconnecting", metadata: ["gw.gateway": "\(link.name)", "gw.reason": "\(reason)"])
            scheduleReconnect(link)
        } else {
            logger.info("link to a gateway no longer listed closed", metadata: ["gw.gateway": "\(link.name)"])
            remove(link)
        }
        linkLost(link.address)
    }

    /// A gateway that closes the link at once, having said nothing, refused our WORKER_CONNECT:
    /// GatewayWorker's gateway does so for a wrong secret key and for a worker key another
    /// worker on this host already has (its log says "Worker->name conflict"). Reconnecting at
    /// once would take turns with that worker for ever: back off, and say so once.
    private static let refusalWindow: Int64 = 1_000_000_000

    private func refused(_ link: GatewayLink) {
        link.refusals += 1
        link.failures += 1
        if link.refusals == 1 {
            logger.warning(
                "gateway closed our link right after WORKER_CONNECT without a word: a wrong secret_key, or another worker on this host already uses the worker key \(settings.workerKey) (a PHP BusinessWorker has the same default name; set worker_name); retrying with back-off",
                metadata: ["gw.gateway": "\(link.name)"])
        }
        if link.listed { scheduleReconnect(link) } else { remove(link) }
        linkLost(link.address)
    }

    private func attemptFailed(_ link: GatewayLink, reason: String) {
        link.main = nil
        link.failures += 1
        if link.failures == 1 {
            logger.warning(
                "cannot reach gateway; retrying with back-off", metadata: ["gw.gateway": "\(link.name)", "gw.error": "\(reason)"])
        }
        guard link.listed else { return remove(link) }
        scheduleReconnect(link)
    }

    private func scheduleReconnect(_ link: GatewayLink) {
        let delay = link.failures == 0 ? 0 : settings.backoff.delay(afterFailedRounds: link.failures).nanoseconds
        link.reconnectTimer = loop.schedule(after: delay) { [unowned self, unowned link] in
            guard links[link.address] === link else { return }
            connect(link)
        }
    }

    private func scheduleHeartbeat(_ link: GatewayLink, interval: Int64) {
        link.heartbeatTimer = loop.schedule(after: interval) { [unowned self, unowned link] in
            guard let heartbeat = settings.heartbeat, link.isAttached else { return }
            if link.heartbeatArmed, loop.now - link.lastHeard > heartbeat.timeout.nanoseconds {
                logger.warning(
                    "gateway silent for more than \(heartbeat.timeout.nanoseconds / 1_000_000) ms; closing the link",
                    metadata: ["gw.gateway": "\(link.name)"])
                link.main?.close()
                return mainLost(link, reason: "silent")
            }
            if link.heartbeatArmed {
                append(to: link.address) { $0.writeImmutableBuffer(GatewaydHeartbeat.pingFrame()) }
                flush()
            }
            scheduleHeartbeat(link, interval: interval)
        }
    }
}

/// One gateway: its connections and what is in flight on them. Worker thread only.
final class GatewayLink {
    /// The key commands are routed by.
    let address: GatewayAddress
    /// The register's text for it, for logs.
    let name: String
    var main: StreamConnection?
    /// WORKER_CONNECT written: events may come, commands may go.
    var isAttached = false
    var parser = GatewayFrameParser(maximumFrameLength: 64 << 20)
    /// The gateway said GATEWAYD_HELLO: it answers queries on the main connection.
    var answersOnMain = false
    var pendingOnMain = CircularBuffer<PendingQuery>()
    var query: StreamConnection?
    var replyParser = GatewayReplyParser(maximumLength: 64 << 20)
    var pendingOnQuery = CircularBuffer<PendingQuery>()
    /// In the register's latest list; an unlisted link is not reconnected once it closes.
    var listed = true
    var failures = 0
    /// When WORKER_CONNECT went out (`lastHeard` is set to it then, and moves with every read).
    var attachedAt = Instant(nanoseconds: 0)
    /// The gateway has sent something since our WORKER_CONNECT.
    var heardSinceAttach: Bool { lastHeard > attachedAt }
    /// Times in a row the gateway closed the link right after WORKER_CONNECT without a word.
    var refusals = 0
    var reconnectTimer: TimerID?
    var heartbeatTimer: TimerID?
    var heartbeatArmed = false
    var lastHeard = Instant(nanoseconds: 0)
    var dirty = false
    /// Counts main connections: an event names the one it came on, and is acknowledged only
    /// on that one (a gateway counts each connection's events from 0).
    private(set) var connection: UInt32 = 0
    /// The gateway said, in GATEWAYD_HELLO, that it keeps our unfinished events (EVENTS_DONE).
    var acknowledgesEvents = false
    /// Events of this connection that ran to their end.
    var eventsFinished: UInt64 = 0
    /// What the last EVENTS_DONE said.
    var acknowledged = EventsDone(finished: 0, started: 0)

    init(address: GatewayAddress, name: String) {
        self.address = address
        self.name = name
    }

    /// The main connection is gone: what was asked on it will never be answered.
    func resetMain(_ loop: GatewayEventLoop.EventLoop) {
        main = nil
        isAttached = false
        answersOnMain = false
        connection &+= 1
        acknowledgesEvents = false
        eventsFinished = 0
        acknowledged = EventsDone(finished: 0, started: 0)
        heartbeatArmed = false
        parser = GatewayFrameParser(maximumFrameLength: 64 << 20)
        if let heartbeatTimer { loop.cancel(heartbeatTimer) }
        heartbeatTimer = nil
        while let pending = pendingOnMain.popFirst() { pending.finish(.failure(.unavailable)) }
    }

    func queryConnectionLost() {
        query = nil
        replyParser = GatewayReplyParser(maximumLength: 64 << 20)
        while let pending = pendingOnQuery.popFirst() { pending.finish(.failure(.unavailable)) }
    }

    func stop(_ loop: GatewayEventLoop.EventLoop) {
        main?.close()
        query?.close()
        resetMain(loop)
        queryConnectionLost()
        if let reconnectTimer { loop.cancel(reconnectTimer) }
        reconnectTimer = nil
    }
}

/// A query request on its way; the first result wins (a late answer to one that timed out is
/// dropped).
final class PendingQuery {
    private(set) var result: Result<ByteBuffer, HostError>?

    func finish(_ result: Result<ByteBuffer, HostError>) {
        guard self.result == nil else { return }
        self.result = result
    }
}

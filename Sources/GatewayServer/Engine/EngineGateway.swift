import Dispatch
import Foundation
import GatewayCompression
import GatewayCore
import GatewayTLS
import GatewayEventLoop
import GatewayHub
import GatewayIOEngine
import GatewayRuntime
import GatewayWebSocket
import GatewayWire
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The gateway role on gatewayd's own engine (`client_io: engine`, issue 14): client sockets
/// through `ClientEngine`, the inner port's links as `StreamConnection`s, both on one
/// `GatewayEventLoop` thread with the hub, which decides everything (this is its transport).
/// The NIO loop the child runtime gives it carries only the control channel and the register
/// links; they reach the gateway thread through a mailbox.
public final class EngineGateway: RoleService, @unchecked Sendable {
    typealias Client = HubClient<EngineGateway>

    let configuration: GatewayServerConfiguration
    private let controlLoop: NIOCore.EventLoop
    let logger: Logger
    private let reporter: ChildReporter
    /// Tasks for the gateway thread from the control thread.
    private let tasks: Mailbox<@Sendable () -> Void>
    private var taskBatch: [@Sendable () -> Void] = []

    // Gateway thread (built on the main thread before it starts).
    let loop: GatewayEventLoop.EventLoop
    let engine: ClientEngine
    private(set) var hub: Hub<EngineGateway>!
    var slots: ClientSlots
    /// Parsers of WebSocket clients whose upgrade request is arriving, and the keys of those
    /// awaiting their verdict.
    var handshakes: [Int32: WebSocketHandshakeParser] = [:]
    var verdictKeys: [Int32: String] = [:]
    var payloads = TickPayloads()
    /// Inflates compressed client messages (permessage-deflate), one for the process; nil
    /// while compression is off.
    let inflater: MessageInflater?
    var innerLinks: [ObjectIdentifier: InnerLink] = [:]
    /// Links closed during this iteration, whose connections (and buffers) are dropped at its end.
    var retiredLinks: [InnerLink] = []
    private var innerListener: InnerListener?
    /// Per engine listener: the client protocol and the public port.
    var listeners: [(scheme: ListenAddress.Scheme, port: UInt16)] = []
    private var clientListenDescriptors: [Int32] = []
    /// The descriptor whose bytes the engine is offering right now (a verdict given while its
    /// request is being read must not ask the engine to offer them again).
    var receivingDescriptor: Int32 = -1
    private var timer: (deadline: Instant, id: TimerID)?
    private var registered = false
    private var reportedReady = false
    private var stopping: (promise: EventLoopPromise<Void>, deadline: Instant)?

    // Control thread.
    private var registerClients: [RegisterClient] = []

    /// - Parameter clock: the gateway loop's clock (a manual one in fuzzers and tests).
    public init(
        configuration: GatewayServerConfiguration, eventLoop: NIOCore.EventLoop, logger: Logger, reporter: ChildReporter,
        clock: any MonotonicClock = SystemClock()
    ) throws {
        self.configuration = configuration
        self.controlLoop = eventLoop
        self.logger = logger
        self.reporter = reporter
        loop = try GatewayEventLoop.EventLoop(clock: clock)
        tasks = Mailbox(capacity: .max, waker: loop.waker)
        var engineSettings = ClientEngine.Configuration()
        // A whole message and its frame header, or a whole upgrade request, may wait.
        engineSettings.maximumPendingBytes = max(
            configuration.maxMessageBytes + WebSocketServerFrameWriter.maximumHeaderLength + 4,
            WebSocketHandshakeParser.defaultMaximumRequestBytes)
        // The hub stops writing to a client past its send buffer; this only bounds the rest.
        engineSettings.maximumBacklogBytes = configuration.sendBufferBytes + configuration.maxMessageBytes + (1 << 20)
        engine = ClientEngine(loop: loop, configuration: engineSettings)
        inflater = configuration.compression.map { _ in MessageInflater(maximumMessageBytes: configuration.maxMessageBytes) }
        slots = ClientSlots(capacity: engine.maximumDescriptors)
        hub = Hub(configuration: configuration.hubConfiguration, transport: self, logger: logger, now: loop.now)
        engine.delegate = self
        loop.onWake = { [unowned self] in
            tasks.takeAll(into: &taskBatch)
            for task in taskBatch { task() }
            taskBatch.removeAll(keepingCapacity: true)
        }
        loop.afterIteration = { [unowned self] in endOfIteration() }
    }

    private var innerAddress: String { "\(configuration.lanIP):\(configuration.innerPort)" }

    // MARK: - Start and stop

    /// Serves on the sockets the master bound (from now on this gateway's), on a thread of its
    /// own; then registers with every register.
    public func start(clientDescriptors: [Int32], innerDescriptor: Int32) throws {
        // The master checked the files before it forked; read here again, as they are now.
        let tlsContext = try configuration.listeners.contains(where: \.secure) ? configuration.tls?.load() : nil
        for (descriptor, listener) in zip(clientDescriptors, configuration.listeners) {
            Self.setNonBlocking(descriptor)
            _ = try engine.listen(fd: descriptor, tls: listener.secure ? tlsContext : nil)
            listeners.append((listener.scheme, UInt16(listener.endpoint.port)))
            clientListenDescriptors.append(descriptor)
        }
        Self.setNonBlocking(innerDescriptor)
        innerListener = try InnerListener(loop: loop, fd: innerDescriptor) { [unowned self] socket, ip, port in
            innerConnectionAccepted(socket, ip: ip, port: port)
        }
        rescheduleTimer()  // the heartbeat's first tick
        let loop = UncheckedLoop(loop)
        let thread = Thread { loop.value.run() }
        thread.name = "gatewayd-gateway"
        thread.start()
        logger.info(
            "gateway serving",
            metadata: [
                "gw.inner": "\(innerAddress)", "gw.listen": "\(configuration.listeners.map(\.description).joined(separator: ","))",
                "gw.client_io": "engine",
            ])
        controlLoop.execute { self.registerWithEveryRegister() }
    }

    private static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// On the control thread: one register client per register, reconnecting with back-off.
    private func registerWithEveryRegister() {
        registerClients = configuration.startRegisterClients(innerAddress: innerAddress, eventLoop: controlLoop, logger: logger) {
            self.onGatewayThread {
                self.registered = true
                self.reportReadyIfServing()
            }
        }
    }

    func reportReadyIfServing() {
        guard !reportedReady, registered, hub.router.count >= configuration.expectedWorkers else { return }
        reportedReady = true
        reporter.ready(["inner": innerAddress])
    }

    /// Runs `task` on the gateway thread.
    private func onGatewayThread(_ task: @escaping @Sendable () -> Void) {
        _ = tasks.offer(task)
    }

    /// Runs `task` on the gateway thread and waits for its result (status requests); nil when
    /// the thread does not answer within 2 s (stopped).
    private func onGatewayThreadAndWait<Result: Sendable>(_ task: @escaping @Sendable () -> Result) -> Result? {
        let answered = DispatchSemaphore(value: 0)
        let box = ResultBox<Result>()
        onGatewayThread {
            box.value = task()
            answered.signal()
        }
        guard answered.wait(timeout: .now() + 2) == .success else { return nil }
        return box.value
    }

    /// `gatewayd reload`: the certificate files are read again (here, on the control thread)
    /// and new handshakes on every wss:// listener use them; open connections keep theirs. A
    /// file that does not load now is logged and the listeners keep the certificate they have
    /// (the master checked the files just before, so only a race with their writer gets here).
    public func reloadTLS() {
        guard let files = configuration.tls else { return }
        let context: TLSServerContext
        do {
            context = try files.load()
        } catch {
            logger.error("cannot read the TLS certificate again, keeping the current one: \(error)")
            return
        }
        let secureListeners = configuration.listeners.indices.filter { configuration.listeners[$0].secure }
        onGatewayThread {
            for index in secureListeners { self.engine.replaceTLSContext(context, forListener: index) }
        }
        logger.info("TLS certificate read again", metadata: ["gw.certificate": "\(files.certificateChain)"])
    }

    /// Stops accepting clients (graceful stop); the inner port stays open for the workers.
    public func quiesce() {
        onGatewayThread { self.stopAcceptingClients() }
        logger.info("no longer accepting clients")
    }

    private func stopAcceptingClients() {
        engine.stopListening()
        for descriptor in clientListenDescriptors { Glibc.close(descriptor) }
        clientListenDescriptors.removeAll()
    }

    /// Closes every client with 1001 (going away) after what was already sent to it, waits up
    /// to a second for that to be written, then stops the gateway thread.
    public func shutdown() -> EventLoopFuture<Void> {
        let promise = controlLoop.makePromise(of: Void.self)
        for client in registerClients { client.stop() }
        onGatewayThread { self.beginStopping(promise) }
        return promise.futureResult
    }

    private func beginStopping(_ promise: EventLoopPromise<Void>) {
        guard stopping == nil else { return promise.succeed(()) }
        stopAcceptingClients()
        innerListener?.close()
        if let timer { loop.cancel(timer.id) }
        timer = nil
        let goingAway = WebSocketServerFrameWriter.closeFrame(code: 1001)
        let staged = goingAway.withUnsafeBytes { engine.stage($0) }
        for client in hub.directory.connections.values {
            hub.closing(client, because: .shutdown)
            if client.isOpen && client.transport == .websocket { engine.send(client.socket, staged: staged) }
            engine.close(client.socket, flush: true)
        }
        let deadline = loop.now + 1_000_000_000
        stopping = (promise, deadline)
        _ = loop.schedule(at: deadline) {}  // an iteration at the deadline, to end there at the latest
    }

    /// Once every client is closed (or the deadline passed): the inner links go, the thread ends.
    private func finishStoppingIfDone() {
        guard let (promise, deadline) = stopping, engine.openCount == 0 || loop.now >= deadline else { return }
        stopping = nil
        for link in innerLinks.values {
            link.connection.flush()
            link.connection.close()
        }
        innerLinks.removeAll()
        loop.stop()
        promise.succeed(())
    }

    // MARK: - Status (control thread)

    public func counters() -> ProcessCounters {
        let registers = registerClients.map { $0.connectedAddress != nil }
        return onGatewayThreadAndWait { [unowned self] in
            hub.processCounters(
                innerAddress: innerAddress, registersConnected: registers, bytesIn: engine.bytesRead, bytesOut: engine.bytesWritten)
        } ?? ProcessCounters(connections: 0, messagesIn: 0, messagesOut: 0, details: ["inner": innerAddress, "stopping": "true"])
    }

    public func connections() -> [ConnectionInfo] {
        onGatewayThreadAndWait { [unowned self] in hub.connections(now: loop.now) } ?? []
    }

    // MARK: - Time

    /// The time of this loop iteration: read from the clock the first time it is asked and
    /// forgotten at the iteration's end. The message path asks for it on every message (the
    /// hub's heartbeat and deadline bookkeeping), where a `clock_gettime` each was 4 % of the
    /// gateway's time; an iteration lasts far less than any deadline's granularity.
    var now: Instant {
        if let iterationNow { return iterationNow }
        let value = loop.now
        iterationNow = value
        return value
    }
    private var iterationNow: Instant?

    /// Runs the hub's timers at its next deadline: one loop timer for the whole process, asked
    /// of the hub only after a tick (events that add a deadline say which).
    func rescheduleTimer() {
        guard stopping == nil, let deadline = hub.nextDeadline else {
            if let timer { loop.cancel(timer.id) }
            timer = nil
            return
        }
        scheduleTimer(notLaterThan: deadline)
    }

    func scheduleTimer(notLaterThan deadline: Instant) {
        if let timer, timer.deadline <= deadline { return }
        if let timer { loop.cancel(timer.id) }
        let id = loop.schedule(at: deadline) { [unowned self] in
            timer = nil
            hub.tick(now: loop.now)
            rescheduleTimer()
        }
        timer = (deadline, id)
    }

    // MARK: - The end of an iteration

    /// Client output first (its retired connections may send ON_CLOSE to workers), then the
    /// worker links, then this iteration's payloads are forgotten.
    private func endOfIteration() {
        iterationNow = nil
        engine.flush()
        for link in innerLinks.values {
            if link.connection.pendingWriteBytes > 0 { link.connection.flush() }
            if case .worker(let worker) = link.peer, !worker.pausedClients.isEmpty,
                link.connection.pendingWriteBytes <= configuration.workerBufferBytes / 2
            {
                hub.resumeClients(of: worker)
            }
        }
        payloads.reset()
        if !retiredLinks.isEmpty {
            for link in retiredLinks { link.connection = nil }
            retiredLinks.removeAll()
        }
        if stopping != nil { finishStoppingIfDone() }
    }
}

extension GatewayServerConfiguration {
    /// Registers with every register, each through its own client (reconnecting with back-off);
    /// `onConnected` runs on `eventLoop` whenever one has us.
    func startRegisterClients(
        innerAddress: String, eventLoop: NIOCore.EventLoop, logger: Logger, onConnected: @escaping @Sendable () -> Void
    ) -> [RegisterClient] {
        registers.map { address in
            let client = RegisterClient(
                address: address, hello: .gatewayConnect(address: innerAddress, secretKey: secretKey), eventLoop: eventLoop,
                logger: logger, heartbeat: innerHeartbeat ?? .standard, onConnected: onConnected)
            client.start()
            return client
        }
    }

    /// The settings the hub decides with.
    var hubConfiguration: HubConfiguration {
        HubConfiguration(
            lanIP: lanIP.value, innerPort: UInt16(innerPort), secretKey: secretKey, verdictTimeout: verdictTimeout.nanoseconds,
            handshakeDeadline: handshakeDeadline.nanoseconds, heartbeat: heartbeat, maxConnections: maxConnections,
            slowClientPolicy: slowClientPolicy, compression: compression)
    }
}

extension Hub {
    /// What `gatewayd status` and `/metrics` show for a gateway, whichever transport it runs
    /// on: numbers the gateway keeps anyway, copied (a scrape adds nothing to the message path).
    func processCounters(innerAddress: String, registersConnected: [Bool], bytesIn: UInt64, bytesOut: UInt64) -> ProcessCounters {
        var details = ["inner": innerAddress, "workers": "\(router.count)"]
        let registers = registersConnected.filter { $0 }.count
        details["registers"] = "\(registers)/\(registersConnected.count)"
        let held = heldEventCount
        if held > 0 { details["held_events"] = "\(held)" }
        for (incident, count) in incidents { details[incident.rawValue] = "\(count)" }
        var metrics = ProcessMetrics()
        metrics.add("gatewayd_messages_in_total", messagesIn)
        metrics.add("gatewayd_messages_out_total", messagesOut)
        metrics.add("gatewayd_client_connections", directory.count)
        metrics.add("gatewayd_client_connections_opened_total", connectionsOpened)
        for reason in ClientCloseReason.allCases {
            metrics.add("gatewayd_client_connections_closed_total", connectionsClosed[Int(reason.rawValue)], labels: ["reason": reason.label])
        }
        metrics.add("gatewayd_client_bytes_in_total", bytesIn)
        metrics.add("gatewayd_client_bytes_out_total", bytesOut)
        metrics.add("gatewayd_broadcast_deliveries_total", broadcastDeliveries)
        metrics.add("gatewayd_queries_answered_total", queriesAnswered)
        metrics.add("gatewayd_gateway_workers", router.count)
        metrics.add("gatewayd_gateway_registers", registers)
        metrics.add("gatewayd_held_events", held)
        let incidentMetrics: [(HubIncident, String)] = [
            (.droppedHeld, "gatewayd_held_events_dropped_total"), (.noWorker, "gatewayd_events_without_worker_total"),
            (.lostEvent, "gatewayd_events_lost_total"), (.resentEvent, "gatewayd_events_resent_total"),
            (.slowClientDrop, "gatewayd_slow_client_drops_total"), (.authenticationFailure, "gatewayd_inner_auth_failures_total"),
            (.workerKeyConflict, "gatewayd_worker_key_conflicts_total"), (.workerBackPressure, "gatewayd_backpressure_pauses_total"),
            (.innerHeartbeatTimeout, "gatewayd_inner_heartbeat_timeouts_total"),
        ]
        for (incident, name) in incidentMetrics { metrics.add(name, incidents[incident] ?? 0) }
        return ProcessCounters(
            connections: directory.count, messagesIn: messagesIn, messagesOut: messagesOut, details: details, metrics: metrics)
    }
}

/// Hands the loop, confined to one thread, to the thread that will run it.
private struct UncheckedLoop: @unchecked Sendable {
    let value: GatewayEventLoop.EventLoop
    init(_ value: GatewayEventLoop.EventLoop) { self.value = value }
}

/// A status answer crossing from the gateway thread to the control thread (the semaphore
/// orders the write before the read).
private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}

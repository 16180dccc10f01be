import CGatewayABI
import CGatewaySystem
import Foundation
import Glibc
import GatewayEventLoop
import NIOConcurrencyHelpers
import GatewayCore
import GatewayRuntime
import GatewayWire
import Logging
import NIOCore

/// Settings of one BusinessWorker process.
public struct WorkerConfiguration: Sendable {
    public var index: Int
    public var workerName: String
    public var secretKey: String
    public var register: HostPort
    /// Every register, in order: the worker uses the first that answers and fails over.
    public var registers: [HostPort]
    /// Pings to gateways and timing out gatewayd gateways that fall silent; nil: neither.
    public var innerHeartbeat: InnerHeartbeat?
    public var queryTimeout: TimeAmount
    /// The user's plugin path; nil runs the demo plugin linked into gatewayd.
    public var pluginPath: String?
    /// The content-addressed store plugins are loaded from.
    public var storeDirectory: String
    /// The plugin generation (0 at start, +1 per reload); keeps worker keys of two
    /// generations apart on the gateways.
    public var generation: Int = 0
    /// A callback running longer than this is logged (GatewayWorker's processTimeout).
    public var processTimeout: TimeAmount = .seconds(30)
    /// A reload's canary: load the plugin, run on_worker_start, report, run on_worker_stop, exit.
    public var canary = false
    /// Bytes of events that may wait while the plugin blocks on a query before the worker stops
    /// reading from its gateways.
    public var queueBytes = 16 << 20

    /// "<name>:<index>" as GatewayWorker has it; later generations add "-g<generation>".
    var workerKey: String { generation == 0 ? "\(workerName):\(index)" : "\(workerName):\(index)-g\(generation)" }

    public init(
        index: Int, workerName: String, secretKey: String, register: HostPort, queryTimeout: TimeAmount,
        pluginPath: String?, storeDirectory: String, generation: Int = 0, canary: Bool = false,
        processTimeout: TimeAmount = .seconds(30)
    ) {
        self.processTimeout = processTimeout
        self.generation = generation
        self.canary = canary
        self.index = index
        self.workerName = workerName
        self.secretKey = secretKey
        self.register = register
        self.registers = [register]
        self.queryTimeout = queryTimeout
        self.pluginPath = pluginPath
        self.storeDirectory = storeDirectory
    }
}

/// The BusinessWorker role. Its message path — the links to every gateway, the plugin's timers
/// and every plugin callback — runs on one thread of its own (`GatewayEventLoop`), as a PHP
/// BusinessWorker runs in one process; an event crosses no thread between the gateway's bytes
/// and the plugin. The NIO loop the child runtime gives it carries only the control channel,
/// the register link and the slow-callback watchdog.
public final class WorkerService: RoleService, @unchecked Sendable {
    private let configuration: WorkerConfiguration
    /// The control thread's loop (status, drain, stop, the register).
    private let controlLoop: NIOCore.EventLoop
    private let logger: Logger
    /// Tasks for the worker thread from the control thread.
    private let tasks: Mailbox<@Sendable () -> Void>
    private let workerThread: WorkerThread

    // Worker thread.
    private let loop: GatewayEventLoop.EventLoop
    private let links: GatewayLinkSet
    private let host: PluginHost
    private var reporter: ChildReporter?
    private var receivedGatewayList = false
    /// Gateways whose drain marks are still ahead (reload), and who waits for them.
    private var awaitingMarks: Set<GatewayAddress> = []
    private var draining = false
    private var finished: [EventLoopPromise<Void>] = []
    private var controlTaskBatch: [@Sendable () -> Void] = []

    // Control thread.
    private var registerClient: RegisterClient?
    private var watchdog: RepeatedTask?
    private var slowEvents: UInt64 = 0
    /// The watchdog's view of the plugin thread (control thread only).
    private var slowCallbacks = SlowCallbackDetector(timeoutNanoseconds: .max)
    private let pluginInfo = NIOLockedValueBox<[String: String]>([:])

    public init(configuration: WorkerConfiguration, eventLoop: NIOCore.EventLoop, logger: Logger) throws {
        self.configuration = configuration
        self.controlLoop = eventLoop
        self.logger = logger
        // Built here, used only on the worker thread once it runs.
        loop = try GatewayEventLoop.EventLoop()
        tasks = Mailbox(capacity: .max, waker: loop.waker)
        links = GatewayLinkSet(
            loop: loop, logger: logger,
            settings: .init(
                workerKey: configuration.workerKey, secretKey: configuration.secretKey,
                queryTimeout: configuration.queryTimeout.nanoseconds, heartbeat: configuration.innerHeartbeat,
                maximumBacklogBytes: configuration.queueBytes))
        host = PluginHost(workerIndex: configuration.index, logger: logger, loop: loop, transport: links)
        workerThread = WorkerThread(name: "gatewayd-worker")
        // unowned(unsafe): the service owns both; these run per event, where plain `unowned`
        // costs a reference-count check and a retain.
        links.deliver = { [unowned(unsafe) host] in host.deliver($0) }
        links.backlogBytes = { [unowned(unsafe) host] in host.backlogBytes }
        links.linkLost = { [unowned self] in markHandled($0) }
        links.linkAttached = { [unowned self] in reportReadyIfAttached() }
        host.drainMarkHandled = { [unowned self] in markHandled($0) }
        loop.onWake = { [unowned self] in
            tasks.takeAll(into: &controlTaskBatch)
            for task in controlTaskBatch { task() }
            controlTaskBatch.removeAll(keepingCapacity: true)
            host.runPostedTasks()
        }
        loop.afterIteration = { [unowned self] in
            host.runBacklog()
            links.resumePausedLinks()
            links.flush()
            links.closeRetiredLinks()
            host.publishCounters()
        }
    }

    /// Runs `task` on the worker thread.
    private func onWorkerThread(_ task: @escaping @Sendable () -> Void) {
        _ = tasks.offer(task)
    }

    /// Starts the worker thread: loads and starts the plugin there, then reports ready (or fails
    /// the process with the reason).
    public func start(reporter: ChildReporter, builtInEntry: gwd_plugin_entry_fn?) {
        let loop = UncheckedBox(loop)
        onWorkerThread { self.startPlugin(reporter: reporter, builtInEntry: builtInEntry) }
        workerThread.start { loop.value.run() }
    }

    private func startPlugin(reporter: ChildReporter, builtInEntry: gwd_plugin_entry_fn?) {
        let configuration = self.configuration
        let logger = self.logger
        let plugin: LoadedPlugin
        do {
            plugin = try host.start { api throws(PluginLoadError) in
                guard let path = configuration.pluginPath else {
                    guard let builtInEntry else { throw .store(reason: "no plugin configured") }
                    return try PluginLoader.run(
                        entry: builtInEntry, api: api, displayPath: "built-in demo", mappedPath: "built-in demo")
                }
                let entry = try PluginStore(directory: configuration.storeDirectory).add(path)
                let plugin = try PluginLoader.load(mappedPath: entry.path, displayPath: path, api: api)
                logger.info(
                    "plugin loaded",
                    metadata: [
                        "gw.plugin": "\(plugin.name)", "gw.version": "\(plugin.version)", "gw.sha256": "\(entry.sha256)",
                        "gw.abi": "\(plugin.abiMajor).\(plugin.abiMinor)",
                    ])
                return plugin
            }
        } catch {
            reporter.fail(error.description)  // blocks until written: fine off the NIO loop
        }
        let info = [
            "plugin": plugin.name, "plugin_version": plugin.version,
            "plugin_abi": "\(plugin.abiMajor).\(plugin.abiMinor)",
            // Store copies are named by their SHA-256.
            "plugin_sha256": plugin.mappedPath.hasSuffix(".so")
                ? String(plugin.mappedPath.split(separator: "/").last!.dropLast(3)) : "built-in",
        ]
        pluginInfo.withLockedValue { $0 = info }
        if configuration.canary {
            _ = try? reporter.readyAndFlush(info).wait()
            host.stop()
            _exit(0)
        }
        self.reporter = reporter
        controlLoop.execute { self.startRegisterClient() }
    }

    /// On the control thread: the register tells us the gateways; the worker thread connects.
    private func startRegisterClient() {
        let client = RegisterClient(
            addresses: configuration.registers, hello: .workerConnect(secretKey: configuration.secretKey),
            eventLoop: controlLoop, logger: logger, heartbeat: configuration.innerHeartbeat ?? .standard,
            onAddresses: { addresses in
                self.onWorkerThread {
                    // A draining worker takes on no new gateway.
                    guard !self.draining else { return }
                    self.links.update(addresses)
                    self.receivedGatewayList = true
                    self.reportReadyIfAttached()
                }
            })
        registerClient = client
        startWatchdog()
        client.start()
    }

    /// Ready means serving: the plugin started and every gateway the register listed has our
    /// WORKER_CONNECT — so a reload retires the old generation only once this one is attached.
    private func reportReadyIfAttached() {
        guard let reporter, receivedGatewayList, links.allAttached else { return }
        self.reporter = nil
        reporter.ready(pluginInfo.withLockedValue { $0 })
    }

    /// Logs a callback that overruns the process timeout while it is still running, so a stuck
    /// plugin shows up in the log with the event and client it is stuck on. Runs on the control
    /// thread, which a busy plugin does not hold up.
    private func startWatchdog() {
        let timeout = configuration.processTimeout
        let period = TimeAmount.nanoseconds(max(min(timeout.nanoseconds / 4, 1_000_000_000), 10_000_000))
        slowCallbacks = SlowCallbackDetector(timeoutNanoseconds: timeout.nanoseconds)
        watchdog = controlLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            guard let overrun = self.slowCallbacks.observe(self.host.watch.sample(), at: Int64(NIODeadline.now().uptimeNanoseconds)) else {
                return
            }
            self.slowEvents += 1
            var metadata: Logger.Metadata = ["gw.callback": "\(overrun.callback.name)"]
            if overrun.clientID.connectionID != 0 { metadata["gw.client_id"] = "\(overrun.clientID)" }
            self.logger.warning(
                "plugin \(overrun.callback.name) has been running for more than the process timeout of \(timeout.nanoseconds / 1_000_000) ms",
                metadata: metadata)
        }
    }

    public func counters() -> ProcessCounters {
        let counts = host.counters.snapshot
        let connected = links.counters.connected.load(ordering: .relaxed)
        let dropped = links.counters.droppedCommands.load(ordering: .relaxed)
        let pauses = links.counters.backPressurePauses.load(ordering: .relaxed)
        var details = pluginInfo.withLockedValue { $0 }
        details["gateways"] = "\(connected)"
        if let register = registerClient?.connectedAddress { details["register"] = "\(register)" }
        if dropped > 0 { details["dropped_commands"] = "\(dropped)" }
        if pauses > 0 { details["backpressure_pauses"] = "\(pauses)" }
        if slowEvents > 0 { details["slow_events"] = "\(slowEvents)" }
        if counts.eventErrors > 0 { details["event_errors"] = "\(counts.eventErrors)" }
        if counts.pluginErrors > 0 { details["plugin_errors"] = "\(counts.pluginErrors)" }
        var metrics = ProcessMetrics(histograms: host.timings.samples())
        metrics.add("gatewayd_messages_in_total", counts.events)
        metrics.add("gatewayd_messages_out_total", counts.commands)
        metrics.add("gatewayd_worker_gateways", connected)
        metrics.add("gatewayd_plugin_errors_total", counts.pluginErrors)
        metrics.add("gatewayd_event_errors_total", counts.eventErrors)
        metrics.add("gatewayd_slow_callbacks_total", slowEvents)
        metrics.add("gatewayd_worker_dropped_commands_total", dropped)
        metrics.add("gatewayd_backpressure_pauses_total", pauses)
        for (gateway, counts) in links.counters.queries.withLock({ $0 }) {
            metrics.add("gatewayd_queries_total", counts.sent, labels: ["gateway": gateway.description])
            metrics.add("gatewayd_query_timeouts_total", counts.timedOut, labels: ["gateway": gateway.description])
        }
        return ProcessCounters(
            connections: connected, messagesIn: counts.events, messagesOut: counts.commands, details: details, metrics: metrics)
    }

    /// Reload: stop taking events, finish everything each gateway sent before its drain mark,
    /// tell it so (DRAIN_DONE), then stop.
    public func drain() -> EventLoopFuture<Void> {
        let promise = controlLoop.makePromise(of: Void.self)
        registerClient?.stop()
        onWorkerThread {
            self.finished.append(promise)
            guard !self.draining else { return }
            self.draining = true
            self.host.beginStopping()
            self.awaitingMarks = self.links.requestDrain()
            self.logger.info("draining", metadata: ["gw.gateways": "\(self.awaitingMarks.count)"])
            self.finishDrainIfDone()
        }
        return promise.futureResult
    }

    /// A gateway's mark was handled (or its link is gone): one gateway fewer to wait for.
    private func markHandled(_ address: GatewayAddress) {
        guard draining, awaitingMarks.remove(address) != nil else { return }
        finishDrainIfDone()
    }

    private func finishDrainIfDone() {
        guard draining, awaitingMarks.isEmpty else { return }
        logger.info("drained; stopping")
        // After the events of this iteration, not from inside the one handling the last mark.
        onWorkerThread { self.stopOnWorkerThread() }
    }

    public func shutdown() -> EventLoopFuture<Void> {
        let promise = controlLoop.makePromise(of: Void.self)
        watchdog?.cancel()
        registerClient?.stop()
        onWorkerThread {
            self.finished.append(promise)
            self.stopOnWorkerThread()
        }
        return promise.futureResult
    }

    /// Runs what is queued and on_worker_stop, writes out what the plugin sent, closes the
    /// links and ends the worker thread.
    private func stopOnWorkerThread() {
        draining = true
        host.stop()
        links.closeAll(flushingFor: 1_000_000_000)
        loop.stop()
        for promise in finished { promise.succeed(()) }
        finished.removeAll()
    }
}

/// The worker's own thread, with the stack plugin code expects of a main thread.
private final class WorkerThread: @unchecked Sendable {
    private let name: String

    init(name: String) {
        self.name = name
    }

    func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            // Plugin callbacks run here: a stack overflow in one still gets its crash line, and a
            // crash on another thread is not blamed on the callback running here.
            _ = gwd_sys_use_alternate_signal_stack()
            gwd_sys_crash_context_mark_callback_thread()
            body()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Hands a value confined to one thread over to the thread that will own it.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

import CGatewayABI
import Glibc
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
    /// Bytes of events that may wait for the plugin thread before reading from the gateways pauses.
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

/// The BusinessWorker role: loads the plugin on its plugin thread, learns the gateways from
/// the register, connects to each, and runs every client event through the plugin.
public final class WorkerService: RoleService, @unchecked Sendable {
    private let configuration: WorkerConfiguration
    private let eventLoop: EventLoop
    private let logger: Logger
    private let links: GatewayLinkSet
    private let host: PluginHost
    private var registerClient: RegisterClient?
    private var pluginInfo: [String: String] = [:]
    /// Ready means serving: the plugin started and every gateway the register listed has our
    /// WORKER_CONNECT — so a reload retires the old generation only once this one is attached.
    private var reporter: ChildReporter?
    private var receivedGatewayList = false
    private var watchdog: RepeatedTask?
    private var slowEvents: UInt64 = 0

    /// Logs a callback that overruns the process timeout while it is still running, so a stuck
    /// plugin shows up in the log with the event and client it is stuck on.
    private func startWatchdog() {
        let timeout = configuration.processTimeout
        let period = TimeAmount.nanoseconds(max(min(timeout.nanoseconds / 4, 1_000_000_000), 10_000_000))
        watchdog = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let overrun = self.host.running.withLockedValue { running -> PluginHost.RunningEvent? in
                guard var event = running, !event.reported, NIODeadline.now() - event.started > timeout else { return nil }
                event.reported = true
                running = event
                return event
            }
            guard let overrun else { return }
            self.slowEvents += 1
            self.logger.warning(
                "plugin \(overrun.kind.callbackName) has been running for more than the process timeout of \(timeout.nanoseconds / 1_000_000) ms",
                metadata: ["gw.callback": "\(overrun.kind.callbackName)", "gw.client_id": "\(overrun.clientID)"])
        }
    }

    fileprivate func reportReadyIfAttached() {
        guard let reporter, receivedGatewayList, links.allAttached else { return }
        self.reporter = nil
        reporter.ready(pluginInfo)
    }

    /// Gateways whose drain marks are still ahead (reload), and who waits for them.
    private var awaitingMarks: Set<GatewayAddress> = []
    private var drained: EventLoopPromise<Void>?

    public init(
        configuration: WorkerConfiguration, eventLoop: EventLoop, logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        let hostBox = HostBox()
        let serviceBox = ServiceBox()
        links = GatewayLinkSet(
            eventLoop: eventLoop, logger: logger,
            settings: .init(
                workerKey: configuration.workerKey, secretKey: configuration.secretKey,
                queryTimeout: configuration.queryTimeout, heartbeat: configuration.innerHeartbeat),
            deliver: { hostBox.host?.enqueue($0) ?? false })
        let links = self.links
        host = PluginHost(
            workerIndex: configuration.index, logger: logger,
            transport: .init(
                eventLoop: eventLoop, write: { links.write($0) }, ask: { links.ask($0) },
                drainMarkHandled: { serviceBox.service?.markHandled($0) },
                resumeReading: { links.resumeReading() }))
        host.maximumQueuedBytes = configuration.queueBytes
        hostBox.host = host
        serviceBox.service = self
        links.linkLost = { serviceBox.service?.markHandled($0) }
        links.linkAttached = { serviceBox.service?.reportReadyIfAttached() }
    }

    /// Loads and starts the plugin; reports ready (or fails the process with the reason).
    public func start(reporter: ChildReporter, builtInEntry: gwd_plugin_entry_fn?) {
        let configuration = self.configuration
        let logger = self.logger
        host.start(
            load: { api throws(PluginLoadError) in
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
            },
            started: { result in
                switch result {
                case .failure(let error):
                    reporter.fail(error.description)  // on the plugin thread: may block
                case .success(let plugin):
                    self.eventLoop.execute {
                        self.pluginInfo = [
                            "plugin": plugin.name, "plugin_version": plugin.version,
                            "plugin_abi": "\(plugin.abiMajor).\(plugin.abiMinor)",
                            // Store copies are named by their SHA-256.
                            "plugin_sha256": plugin.mappedPath.hasSuffix(".so")
                                ? String(plugin.mappedPath.split(separator: "/").last!.dropLast(3)) : "built-in",
                        ]
                        if configuration.canary {
                            reporter.readyAndFlush(self.pluginInfo)
                                .flatMap { self.host.stop() }
                                .whenComplete { _ in _exit(0) }
                            return
                        }
                        let client = RegisterClient(
                            addresses: configuration.registers, hello: .workerConnect(secretKey: configuration.secretKey),
                            eventLoop: self.eventLoop, logger: logger, heartbeat: configuration.innerHeartbeat ?? .standard,
                            onAddresses: { addresses in
                                // A draining worker takes on no new gateway.
                                guard self.drained == nil else { return }
                                self.links.update(addresses)
                                self.receivedGatewayList = true
                                self.reportReadyIfAttached()
                            })
                        self.registerClient = client
                        self.reporter = reporter
                        self.startWatchdog()
                        client.start()
                    }
                }
            })
    }

    public func counters() -> ProcessCounters {
        let counts = host.eventCounts
        var details = pluginInfo
        details["gateways"] = "\(links.connectedCount)"
        if let register = registerClient?.connectedAddress { details["register"] = "\(register)" }
        if links.droppedCommands > 0 { details["dropped_commands"] = "\(links.droppedCommands)" }
        if links.backPressurePauses > 0 { details["backpressure_pauses"] = "\(links.backPressurePauses)" }
        if slowEvents > 0 { details["slow_events"] = "\(slowEvents)" }
        return ProcessCounters(
            connections: links.connectedCount, messagesIn: counts.events, messagesOut: counts.commands, details: details)
    }

    /// Reload: stop taking events, finish everything each gateway sent before its drain mark,
    /// tell it so (DRAIN_DONE), then stop.
    public func drain() -> EventLoopFuture<Void> {
        if let drained { return drained.futureResult }
        let promise = eventLoop.makePromise(of: Void.self)
        drained = promise
        registerClient?.stop()
        awaitingMarks = links.requestDrain()
        logger.info("draining", metadata: ["gw.gateways": "\(awaitingMarks.count)"])
        finishDrainIfDone()
        return promise.futureResult
    }

    /// A gateway's mark was handled (or its link is gone): one gateway fewer to wait for.
    fileprivate func markHandled(_ address: GatewayAddress) {
        guard drained != nil, awaitingMarks.remove(address) != nil else { return }
        finishDrainIfDone()
    }

    private func finishDrainIfDone() {
        guard let drained, awaitingMarks.isEmpty else { return }
        logger.info("drained; stopping")
        shutdown().cascade(to: drained)
    }

    public func shutdown() -> EventLoopFuture<Void> {
        watchdog?.cancel()
        registerClient?.stop()
        return host.stop().flatMap { self.links.closeAll() }
    }
}

/// Breaks the init-order cycle between the links (which deliver events) and the host.
private final class HostBox: @unchecked Sendable {
    var host: PluginHost?
}

/// Lets callbacks created before the service exists reach it.
private final class ServiceBox: @unchecked Sendable {
    weak var service: WorkerService?
}

import CGatewayABI
import Foundation
import GatewayEventLoop
import GatewayEvents
import Synchronization
import GatewayAPI
import GatewayWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Runs the plugin on the worker's one thread, the same thread that runs the links to the
/// gateways and the timers: one callback at a time, like a PHP BusinessWorker process.
///
/// Events read from the gateways wait in `backlog` only until the end of the loop iteration
/// that read them; then they run in order (`runBacklog`). A callback's commands are written
/// straight into the gateway connections' buffers and flushed once per iteration. A query
/// flushes, then waits on the links' I/O alone — events that arrive meanwhile join the
/// backlog and run after the callback, in order — so the loop is never re-entered into the
/// plugin. Timers (`timer_add`) and posted tasks (`post`) run between events, with no current
/// client.
public final class PluginHost {
    let workerIndex: Int
    let logger: Logger
    let loop: GatewayEventLoop.EventLoop
    let transport: WorkerTransport

    /// Called after a gateway's drain mark was handled and DRAIN_DONE queued behind the
    /// commands of everything before it.
    var drainMarkHandled: (GatewayAddress) -> Void = { _ in }

    /// The callback running now, for the slow-callback watchdog on another thread.
    let watch = CallbackWatch()
    let counters = WorkerCounters()
    /// Each callback's duration, for `/metrics`.
    let timings = CallbackTimings()

    private var plugin: LoadedPlugin?
    /// The plugin's callbacks (a plain C struct), kept apart from `plugin` so a callback does
    /// not copy the strings of `LoadedPlugin` out of its optional.
    private var descriptor: gwd_plugin?
    /// Not `lazy`: a lazy property's getter checks and retains on every one of the several
    /// uses per event.
    let invocation = PluginInvocation()
    private var backlog = EventQueue(initialCapacity: 64)
    /// Bytes of the events in `backlog` (it grows only while a callback waits on a query).
    private(set) var backlogBytes = 0
    private var runningBacklog = false
    var timers = PluginTimers()
    let poster: PluginPoster
    private var postedTasks: [PluginPoster.Task] = []
    /// Draining or stopping: timers no longer fire, posts are refused.
    private(set) var isStopping = false
    private var stopped = false
    /// Typed events: the declared handlers, the decoder (its arena reused), and the buffer
    /// acknowledgements are written into.
    let events = EventHandlers()
    var eventDecoder = EventDecoder()
    var eventFrame: [UInt8] = []
    /// Frames written by the plugin, for `status`.
    var commandCount: UInt64 = 0
    private var publishedCommands: UInt64 = 0

    init(workerIndex: Int, logger: Logger, loop: GatewayEventLoop.EventLoop, transport: WorkerTransport) {
        self.workerIndex = workerIndex
        self.logger = logger
        self.loop = loop
        self.transport = transport
        self.poster = PluginPoster(waker: loop.waker)
        invocation.host = self
    }

    /// Loads the plugin with `load` and runs on_worker_start (on the loop thread, as the ABI
    /// requires).
    func start(load: (UnsafePointer<gwd_host_api>) throws(PluginLoadError) -> LoadedPlugin) throws(PluginLoadError) -> LoadedPlugin {
        invocation.threadID = pthread_self()
        let loaded = try load(hostAPI)
        plugin = loaded
        descriptor = loaded.descriptor
        if let onStart = loaded.descriptor.on_worker_start {
            invocation.begin()
            let status = onStart(invocation.context)
            invocation.end()
            transport.flush()
            guard status == GWD_OK.code else {
                throw PluginLoadError.workerStartFailed(
                    path: loaded.path, status: status, statusText: String(cString: hostStatusString(status)))
            }
        }
        return loaded
    }

    // MARK: - Events

    /// Queues an event read from a gateway; it runs at the end of this loop iteration.
    func deliver(_ event: consuming PluginEvent) {
        backlogBytes += event.queuedBytes
        backlog.append(consume event)
    }

    /// Runs every queued event, in order (the loop's end-of-iteration step).
    func runBacklog() {
        guard !runningBacklog, !backlog.isEmpty else { return }
        runningBacklog = true
        defer { runningBacklog = false }
        var handled: UInt64 = 0
        // Which callbacks to time is decided on the loop's iteration clock: no clock read for
        // the others (CallbackTimings).
        let now = loop.iterationTime.nanoseconds
        while let event = backlog.popFirst() {
            backlogBytes -= event.queuedBytes
            let callback = CallbackWatch.Callback(event.kind)
            if callback != .drain && timings.isDue(callback, at: now) {
                let started = CallbackTimings.now()
                if dispatch(consume event) { timings.record(callback, nanoseconds: CallbackTimings.now() &- started) }
            } else if dispatch(consume event) {
                timings.skipped(callback)
            } else {
                continue  // a drain mark is no client event
            }
            handled += 1
        }
        counters.add(events: handled)
    }

    /// Runs the event's callback; false when none ran (a drain mark). The event moves into the
    /// invocation for the callback's duration (no copy of its buffers); its body is read from there.
    private func dispatch(_ event: consuming PluginEvent) -> Bool {
        let kind = event.kind
        let gateway = event.gateway
        let eventClientID = event.clientID
        if case .drainMark = kind {
            // Every event this gateway sent before the mark has run, and the commands they made
            // are queued: DRAIN_DONE goes after them on the same connection.
            transport.append(to: gateway) { $0.writeCommand(.drainDone) }
            drainMarkHandled(gateway)
            return false
        }
        transport.eventStarted(from: gateway, connection: event.connection)
        defer { transport.eventFinished() }
        guard let descriptor else { return false }
        begin(consume event, CallbackWatch.Callback(kind), clientID: eventClientID)
        defer { end() }
        let context = invocation.context
        let clientID = UnsafePointer(invocation.clientIDCString)
        switch kind {
        case .connect:
            descriptor.on_connect?(context, clientID)
        case .message(let binary):
            if !binary, !events.isEmpty,
                dispatchEvent(from: eventClientID, context: context, clientID: clientID, hasOnMessage: descriptor.on_message != nil)
            {
                return true
            }
            guard let onMessage = descriptor.on_message else { return true }
            invocation.withEventBody {
                onMessage(context, clientID, $0.baseAddress, $0.count, UInt32(binary ? GWD_MESSAGE_BINARY : GWD_MESSAGE_TEXT))
            }
        case .close:
            descriptor.on_close?(context, clientID)
        case .drainMark:
            break  // handled above, without the plugin
        case .handshake(let awaitsVerdict):
            var status: Int32 = 0
            if let onHandshake = descriptor.on_websocket_handshake {
                if let event = invocation.event {
                    status = HandshakeArguments.withHandshake(event) { onHandshake(context, clientID, $0) }
                }
                if status != 0 && !(400...599).contains(status) {
                    logger.warning("on_websocket_handshake returned \(status), not 0 or 400...599; refusing with 500")
                    counters.add(pluginErrors: 1)
                    status = 500
                }
            }
            if awaitsVerdict {
                let verdict = Array(String(status).utf8)
                transport.append(to: gateway) { buffer in
                    verdict.withUnsafeBytes {
                        buffer.writeCommand(.handshakeVerdict, connectionID: eventClientID.connectionID, body: $0)
                    }
                }
            }
        }
        return true
    }

    /// Marks a callback as running, for host functions and for the watchdog.
    private func begin(_ event: consuming PluginEvent, _ callback: CallbackWatch.Callback, clientID: ClientID) {
        invocation.begin(consume event)
        watch.begin(callback, clientID: clientID)
    }

    private func beginWithoutEvent(_ callback: CallbackWatch.Callback) {
        invocation.begin()
        watch.begin(callback, clientID: ClientID(ipv4: 0, port: 0, connectionID: 0))
    }

    private func end() {
        watch.end()
        invocation.end()
    }

    /// Runs a timer's or a posted task's callback, timed when one of its kind is due.
    @inline(__always)
    private func timed(_ callback: CallbackWatch.Callback, _ body: () -> Void) {
        guard timings.isDue(callback, at: loop.iterationTime.nanoseconds) else {
            body()
            return timings.skipped(callback)
        }
        let started = CallbackTimings.now()
        body()
        timings.record(callback, nanoseconds: CallbackTimings.now() &- started)
    }

    /// Makes this iteration's command count visible to `status`.
    func publishCounters() {
        guard commandCount != publishedCommands else { return }
        counters.add(commands: commandCount - publishedCommands)
        publishedCommands = commandCount
    }

    // MARK: - Timers (gatewayd.h timer_add / timer_del)

    func addTimer(
        intervalMilliseconds: Int64, flags: UInt32, callback: gwd_timer_fn?, userData: UnsafeMutableRawPointer?
    ) throws(HostError) -> UInt64 {
        let (interval, callback) = try PluginTimers.validate(
            intervalMilliseconds: intervalMilliseconds, flags: flags, callback: callback)
        guard !isStopping else { throw .stopping }
        guard timers.count < PluginTimers.maximumLiveTimers else { throw .tooLarge }
        let id = timers.nextID()
        let deadline = loop.now + interval
        let loopTimer = loop.schedule(at: deadline) { [unowned self] in fireTimer(id) }
        timers[id] = .init(
            callback: callback, userData: userData, intervalNanoseconds: interval,
            repeats: flags & GWD_TIMER_REPEAT != 0, deadline: deadline, loopTimer: loopTimer)
        return id
    }

    func deleteTimer(_ id: UInt64) throws(HostError) {
        guard let timer = timers.remove(id) else { throw .notFound }
        loop.cancel(timer.loopTimer)
    }

    private func fireTimer(_ id: UInt64) {
        guard var timer = timers[id], !isStopping else { return }
        if timer.repeats {
            // Scheduled before the callback runs, so a timer_del inside it cancels the next one.
            let now = loop.now
            timer.deadline = PluginTimers.nextDeadline(after: timer.deadline, interval: timer.intervalNanoseconds, now: now)
            timer.loopTimer = loop.schedule(at: timer.deadline) { [unowned self] in fireTimer(id) }
            timers[id] = timer
        } else {
            timers.remove(id)
        }
        timed(.timer) {
            beginWithoutEvent(.timer)
            timer.callback(invocation.context, id, timer.userData)
            end()
        }
    }

    // MARK: - Posted tasks (gatewayd.h get_poster / post)

    /// Runs every task posted so far, in order (on a loop wake-up).
    func runPostedTasks() {
        poster.mailbox.takeAll(into: &postedTasks)
        guard !postedTasks.isEmpty else { return }
        for task in postedTasks {
            timed(.post) {
                beginWithoutEvent(.post)
                task.callback(invocation.context, task.userData)
                end()
            }
        }
        postedTasks.removeAll(keepingCapacity: true)
    }

    // MARK: - Stopping

    /// Draining begins: timers stop firing and new posts are refused; tasks already posted
    /// still run.
    func beginStopping() {
        guard !isStopping else { return }
        isStopping = true
        poster.mailbox.close()
        for timer in timers.removeAll() { loop.cancel(timer.loopTimer) }
    }

    /// Finishes queued events and posted tasks, then runs on_worker_stop (once).
    func stop() {
        guard !stopped else { return }
        beginStopping()
        runBacklog()
        runPostedTasks()
        stopped = true
        if let onStop = descriptor?.on_worker_stop {
            invocation.begin()
            onStop(invocation.context)
            invocation.end()
        }
        transport.flush()
    }

    // MARK: - Host functions (plugin thread)

    func pluginLog(level: Int32, _ text: String) {
        let level: Logger.Level =
            switch level {
            case GWD_LOG_DEBUG: .debug
            case GWD_LOG_WARNING: .warning
            case GWD_LOG_ERROR: .error
            default: .info
            }
        logger.log(level: level, "\(text)", metadata: ["gw.plugin": "\(plugin?.name ?? "?")"])
    }
}

/// What `status` reports of a worker, written on the worker's thread and read on the control
/// thread.
final class WorkerCounters: Sendable {
    private let events = Atomic<UInt64>(0)
    private let commands = Atomic<UInt64>(0)
    private let eventErrors = Atomic<UInt64>(0)
    private let pluginErrors = Atomic<UInt64>(0)

    func add(events count: UInt64) { events.add(count, ordering: .relaxed) }
    func add(commands count: UInt64) { commands.add(count, ordering: .relaxed) }
    /// Typed events answered with an error frame (docs/events.md).
    func add(eventErrors count: UInt64) { eventErrors.add(count, ordering: .relaxed) }
    /// Callbacks that reported failure (a handler's status, a handshake's invalid verdict).
    func add(pluginErrors count: UInt64) { pluginErrors.add(count, ordering: .relaxed) }

    var snapshot: (events: UInt64, commands: UInt64, eventErrors: UInt64, pluginErrors: UInt64) {
        (
            events.load(ordering: .relaxed), commands.load(ordering: .relaxed), eventErrors.load(ordering: .relaxed),
            pluginErrors.load(ordering: .relaxed)
        )
    }
}

/// Builds the gwd_handshake view of a WebSocket handshake event for one callback.
private enum HandshakeArguments {
    static func withHandshake(_ event: PluginEvent, _ body: (UnsafePointer<gwd_handshake>) -> Int32) -> Int32 {
        let info = try? WebSocketConnectInfo(body: event.body)
        var arena: [UnsafeMutableRawBufferPointer] = []
        defer { for block in arena { block.deallocate() } }
        func view(_ text: String) -> gwd_bytes {
            let bytes = Array(text.utf8)
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 1, alignment: 1)
            block.copyBytes(from: bytes)
            block[bytes.count] = 0
            arena.append(block)
            return gwd_bytes(data: block.baseAddress!.assumingMemoryBound(to: CChar.self), len: bytes.count)
        }
        let headers = (info?.headers ?? []).map { gwd_header(name: view($0.name), value: view($0.value)) }
        return headers.withUnsafeBufferPointer { headerBuffer in
            var handshake = gwd_handshake()
            handshake.struct_size = UInt32(MemoryLayout<gwd_handshake>.size)
            handshake.abi_major = UInt16(GWD_ABI_VERSION_MAJOR)
            handshake.abi_minor = UInt16(GWD_ABI_VERSION_MINOR)
            handshake.method = view(info?.method ?? "GET")
            handshake.path = view(info?.path ?? "/")
            handshake.query = view(info?.queryString ?? "")
            handshake.remote_address = view(IPv4.format(event.clientIP))
            handshake.remote_port = event.clientPort
            handshake.header_count = headerBuffer.count
            handshake.headers = headerBuffer.baseAddress
            return withUnsafePointer(to: &handshake) { body($0) }
        }
    }
}


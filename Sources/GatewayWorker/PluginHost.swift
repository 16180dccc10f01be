import CGatewayABI
import Foundation
import GatewayAPI
import GatewayWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Runs the plugin: one dedicated thread, one event at a time, like a PHP worker process.
///
/// Events arrive from the event loop in batches; the plugin's commands are encoded on this
/// thread into an `OutgoingBatch` and handed back to the loop once per batch. Queries flush
/// what is pending first (so "bind, then ask" sees the bind), then block this thread — never
/// the loop — until the gateways answer or the query timeout passes.
public final class PluginHost: @unchecked Sendable {
    /// What the worker needs from the I/O side.
    struct Transport: Sendable {
        var eventLoop: EventLoop
        /// Writes a batch of segments to the gateways (called on the loop).
        var write: @Sendable ([OutgoingBatch.Segment]) -> Void
        /// Sends a query's requests to the gateways it reaches, in parallel, and gathers each
        /// one's reply payload or failure (called on the loop; never waits on it).
        var ask: @Sendable (GatewayDispatch) -> EventLoopFuture<[GatewayReply]>
        /// A gateway's drain mark was reached and DRAIN_DONE written after everything before it
        /// (called on the loop).
        var drainMarkHandled: @Sendable (GatewayAddress) -> Void
        /// The plugin thread took the queued events after `enqueue` asked the loop to stop
        /// reading: events may flow again (called on the loop).
        var resumeReading: @Sendable () -> Void = {}
    }

    /// Bytes of events that may wait for the plugin thread before the worker stops reading
    /// from its gateways: a slow plugin then holds back its gateways (which pause its clients)
    /// instead of growing this process without bound. Set before `start`.
    var maximumQueuedBytes = 16 << 20

    let workerIndex: Int
    let logger: Logger
    let transport: Transport
    private let condition = NSCondition()
    private var queue: [PluginEvent] = []
    private var queuedBytes = 0
    private var readingPaused = false
    private var stopRequested = false
    private let stopped: EventLoopPromise<Void>
    private let counters = NIOLockedValueBox<(events: UInt64, commands: UInt64)>((0, 0))

    /// The callback running now, for the slow-handler watchdog on the event loop.
    struct RunningEvent: Sendable {
        // Plain values: recorded for every event, formatted only when one overruns.
        var kind: PluginEvent.Kind
        var clientID: ClientID
        var started: NIODeadline
        var reported = false
    }
    let running = NIOLockedValueBox<RunningEvent?>(nil)

    // Plugin-thread state.
    private var plugin: LoadedPlugin?
    lazy var invocation = PluginInvocation(host: self)
    var outgoing = OutgoingBatch()

    init(workerIndex: Int, logger: Logger, transport: Transport) {
        self.workerIndex = workerIndex
        self.logger = logger
        self.transport = transport
        self.stopped = transport.eventLoop.makePromise(of: Void.self)
    }

    /// Starts the plugin thread: loads the plugin with `load` (on that thread, as the ABI
    /// requires), runs on_worker_start, then reports through `started` and serves events.
    func start(
        load: @escaping @Sendable (UnsafePointer<gwd_host_api>) throws(PluginLoadError) -> LoadedPlugin,
        started: @escaping @Sendable (Result<LoadedPlugin, PluginLoadError>) -> Void
    ) {
        let thread = Thread { [self] in
            invocation.threadID = pthread_self()
            let loaded: LoadedPlugin
            do {
                loaded = try load(hostAPI)
                plugin = loaded
                if let onStart = loaded.descriptor.on_worker_start {
                    invocation.begin(nil)
                    let status = onStart(invocation.context)
                    invocation.end()
                    flushOutgoing()
                    guard status == GWD_OK.code else {
                        throw PluginLoadError.workerStartFailed(
                            path: loaded.path, status: status, statusText: String(cString: hostStatusString(status)))
                    }
                }
            } catch let error as PluginLoadError {
                started(.failure(error))
                return
            } catch {
                return
            }
            started(.success(loaded))
            serve()
        }
        thread.name = "gatewayd-plugin"
        thread.stackSize = 8 << 20  // plugin code expects a main-thread-sized stack
        thread.start()
    }

    /// Queues events from the loop (one lock and one wake-up per batch). Returns true when the
    /// queue is past `maximumQueuedBytes`: the loop should stop reading until `resumeReading`.
    @discardableResult
    func enqueue(_ events: [PluginEvent]) -> Bool {
        guard !events.isEmpty else { return false }
        let bytes = events.reduce(0) { $0 + $1.queuedBytes }
        condition.lock()
        queue.append(contentsOf: events)
        queuedBytes += bytes
        let full = queuedBytes > maximumQueuedBytes
        if full { readingPaused = true }
        condition.signal()
        condition.unlock()
        return full
    }

    /// Finishes queued events, runs on_worker_stop, and completes the future.
    func stop() -> EventLoopFuture<Void> {
        condition.lock()
        stopRequested = true
        condition.signal()
        condition.unlock()
        if plugin == nil { stopped.succeed(()) }
        return stopped.futureResult
    }

    var eventCounts: (events: UInt64, commands: UInt64) { counters.withLockedValue { $0 } }

    private func serve() {
        var batch: [PluginEvent] = []
        while true {
            condition.lock()
            while queue.isEmpty && !stopRequested { condition.wait() }
            swap(&batch, &queue)
            queuedBytes = 0
            let resume = readingPaused
            readingPaused = false
            let stopping = stopRequested && batch.isEmpty
            condition.unlock()
            if resume { transport.eventLoop.execute(transport.resumeReading) }
            if stopping { break }
            for event in batch { dispatch(event) }
            let handled = UInt64(batch.count)
            batch.removeAll(keepingCapacity: true)
            let commands = UInt64(outgoing.frameCount)
            flushOutgoing()
            counters.withLockedValue {
                $0.events += handled
                $0.commands += commands
            }
        }
        if let onStop = plugin?.descriptor.on_worker_stop {
            invocation.begin(nil)
            onStop(invocation.context)
            invocation.end()
            flushOutgoing()
        }
        stopped.succeed(())
    }

    private func dispatch(_ event: PluginEvent) {
        if case .drainMark = event.kind {
            // Every event this gateway sent before the mark has run, and the commands they made
            // are queued: DRAIN_DONE goes after them on the same connection.
            outgoing.append(to: event.gateway) { $0.writeCommand(.drainDone) }
            flushOutgoing()
            let address = event.gateway
            let handled = transport.drainMarkHandled
            transport.eventLoop.execute { handled(address) }
            return
        }
        guard let descriptor = plugin?.descriptor else { return }
        invocation.begin(event)
        running.withLockedValue {
            $0 = RunningEvent(kind: event.kind, clientID: event.clientID, started: .now())
        }
        defer {
            running.withLockedValue { $0 = nil }
            invocation.end()
        }
        let context = invocation.context
        let clientID = UnsafePointer(invocation.clientIDCString)
        switch event.kind {
        case .connect:
            descriptor.on_connect?(context, clientID)
        case .message(let binary):
            guard let onMessage = descriptor.on_message else { return }
            event.body.withUnsafeReadableBytes {
                onMessage(context, clientID, $0.baseAddress, $0.count, UInt32(binary ? GWD_MESSAGE_BINARY : GWD_MESSAGE_TEXT))
            }
        case .close:
            descriptor.on_close?(context, clientID)
        case .drainMark:
            break  // handled above, without the plugin
        case .handshake(let awaitsVerdict):
            var status: Int32 = 0
            if let onHandshake = descriptor.on_websocket_handshake {
                status = HandshakeArguments.withHandshake(event) { onHandshake(context, clientID, $0) }
                if status != 0 && !(400...599).contains(status) {
                    logger.warning("on_websocket_handshake returned \(status), not 0 or 400...599; refusing with 500")
                    status = 500
                }
            }
            if awaitsVerdict {
                let verdict = Array(String(status).utf8)
                outgoing.append(to: event.gateway) { buffer in
                    verdict.withUnsafeBytes {
                        buffer.writeCommand(.handshakeVerdict, connectionID: event.clientID.connectionID, body: $0)
                    }
                }
            }
        }
    }

    /// Hands the commands made so far to the event loop.
    func flushOutgoing() {
        guard !outgoing.isEmpty else { return }
        let segments = outgoing.take()
        let write = transport.write
        transport.eventLoop.execute { write(segments) }
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


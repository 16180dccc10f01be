import Foundation
import Histogram
import NIOCore
import NIOPosix
import NIOWebSocket

/// What the connections of one event loop measured. Confined to that loop; read by the main
/// thread only through `loop.submit`.
final class EchoLoopStats: @unchecked Sendable {
    var latency = makeLatencyHistogram()
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var outOfOrder: UInt64 = 0
    var malformed: UInt64 = 0
    var closedEarly: UInt64 = 0

    struct Snapshot: Sendable {
        var latency: Histogram<UInt64>
        var sent, received, outOfOrder, malformed, closedEarly: UInt64
    }

    func snapshot() -> Snapshot {
        Snapshot(latency: latency, sent: sent, received: received, outOfOrder: outOfOrder, malformed: malformed, closedEarly: closedEarly)
    }
}

/// One echo connection: keeps `inFlight` messages outstanding, each `echo:` + a 10-digit
/// sequence number + filler up to `size` bytes; the reply must be the same bytes back.
final class EchoConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let prefix = Array("echo:".utf8)
    static let sequenceDigits = 10
    static var minimumSize: Int { prefix.count + sequenceDigits }

    private let stats: EchoLoopStats
    private let phase: RunPhase
    private let size: Int
    private let inFlight: Int
    /// permessage-deflate was offered: messages go out compressed.
    private let compresses: Bool
    private let maskKey = randomMaskKey()
    /// Send time and whether it was sent inside the measured window, by sequence number
    /// modulo a power of two ≥ inFlight (replies come back in order, so slots never clash).
    private var sendTimes: [UInt64]
    private var measured: [Bool]
    private let slotMask: Int
    private var nextSequence = 0
    private var expectedSequence = 0
    private var outstanding = 0
    private var context: ChannelHandlerContext?
    private var stopped = false

    init(stats: EchoLoopStats, phase: RunPhase, size: Int, inFlight: Int, compresses: Bool) {
        self.compresses = compresses
        self.stats = stats
        self.phase = phase
        self.size = size
        self.inFlight = inFlight
        var slots = 1
        while slots < inFlight * 2 { slots <<= 1 }
        sendTimes = Array(repeating: 0, count: slots)
        measured = Array(repeating: false, count: slots)
        slotMask = slots - 1
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts the window of in-flight messages (called on this channel's loop).
    func start() {
        guard let context else { return }
        while outstanding < inFlight { send(context: context) }
        context.flush()
    }

    private func send(context: ChannelHandlerContext) {
        let sequence = nextSequence
        nextSequence += 1
        outstanding += 1
        var buffer = context.channel.allocator.buffer(capacity: size)
        buffer.writeBytes(Self.prefix)
        // Fixed-width decimal sequence number, then filler.
        var digits = sequence
        buffer.writeRepeatingByte(UInt8(ascii: "0"), count: Self.sequenceDigits)
        var at = buffer.writerIndex - 1
        while digits > 0 {
            buffer.setInteger(UInt8(ascii: "0") + UInt8(digits % 10), at: at)
            digits /= 10
            at -= 1
        }
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size - buffer.readableBytes)
        let slot = sequence & slotMask
        let inWindow = phase.value == .measuring
        measured[slot] = inWindow
        if inWindow { stats.sent += 1 }
        sendTimes[slot] = monotonicNanoseconds()
        if compresses { buffer = PermessageDeflateClient.compress(buffer, allocator: context.channel.allocator) }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, rsv1: compresses, opcode: .text, maskKey: maskKey, data: buffer)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard let message = PermessageDeflateClient.message(of: frame, allocator: context.channel.allocator) else {
                stats.malformed += 1
                return
            }
            received(message, context: context)
        case .ping:
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: maskKey, data: frame.data)), promise: nil)
        default:
            break
        }
    }

    private func received(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let now = monotonicNanoseconds()
        guard payload.readableBytes == size, let sequence = Self.parseSequence(payload) else {
            stats.malformed += 1
            return
        }
        if sequence != expectedSequence { stats.outOfOrder += 1 }
        expectedSequence = max(expectedSequence, sequence + 1)
        outstanding -= 1
        let slot = sequence & slotMask
        if measured[slot] {
            stats.received += 1
            stats.latency.record(max(1, (now &- sendTimes[slot]) / 1000))
        }
        if phase.mayStartWork { send(context: context) }
    }

    static func parseSequence(_ payload: ByteBuffer) -> Int? {
        payload.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= minimumSize else { return nil }
            var value = 0
            for index in prefix.count..<(prefix.count + sequenceDigits) {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if phase.value != .draining { stats.closedEarly += 1 }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// `gwload echo`: N connections × K in flight of `echo:` messages.
struct EchoLoad {
    var target: WebSocketTarget
    var connections: Int
    var inFlight: Int
    var size: Int
    var warmup: Double
    var duration: Double
    var drainTimeout: Double
    var threads: Int
    var connectConcurrency: Int
    var servers: ServerProcesses
    var mallocDirectory: String?
    var label: String?

    func run() throws {
        guard size >= EchoConnectionHandler.minimumSize else {
            throw UsageError("--size must be at least \(EchoConnectionHandler.minimumSize) bytes (echo: + a 10-digit sequence number)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let phase = RunPhase()
        var statsByLoop: [ObjectIdentifier: EchoLoopStats] = [:]
        var loops: [EventLoop] = []
        for loop in group.makeIterator() {
            statsByLoop[ObjectIdentifier(loop)] = EchoLoopStats()
            loops.append(loop)
        }
        let lookup = statsByLoop
        let handlers = HandlerRegistry<EchoConnectionHandler>()
        let (size, inFlight) = (self.size, self.inFlight)

        let connector = WebSocketConnector(group: group, target: target, maxFrameSize: max(1 << 16, size * 2))
        let openedAt = monotonicNanoseconds()
        let (channels, errors) = connector.connect(count: connections, concurrency: connectConcurrency) { _, channel in
            let handler = EchoConnectionHandler(
                stats: lookup[ObjectIdentifier(channel.eventLoop)]!, phase: phase, size: size, inFlight: inFlight,
                compresses: target.offersDeflate)
            handlers.add(handler, loop: channel.eventLoop)
            return handler
        }
        let connectSeconds = Double(monotonicNanoseconds() - openedAt) / 1e9
        guard !channels.isEmpty else { throw UsageError("no connection opened: \(errors.first ?? "?")") }
        if !errors.isEmpty { log("\(errors.count) connections failed, first: \(errors[0])") }

        phase.set(.warmup)
        handlers.forEach { $0.start() }
        Thread.sleep(forTimeInterval: warmup)

        var cpu = CPUWindow(servers: servers, mallocDirectory: mallocDirectory)
        cpu.start()
        let windowStart = monotonicNanoseconds()
        phase.set(.measuring)
        Thread.sleep(forTimeInterval: duration)
        phase.set(.draining)
        let windowEnd = monotonicNanoseconds()
        cpu.stop()
        let seconds = Double(windowEnd - windowStart) / 1e9

        // Wait for the replies to what was sent inside the window; what never comes is lost.
        let drainDeadline = monotonicNanoseconds() + UInt64(drainTimeout * 1e9)
        func totals() -> (sent: UInt64, received: UInt64) {
            loops.map { loop in
                try! loop.submit { () -> (UInt64, UInt64) in
                    let stats = lookup[ObjectIdentifier(loop)]!
                    return (stats.sent, stats.received)
                }.wait()
            }.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        while monotonicNanoseconds() < drainDeadline {
            let (sent, received) = totals()
            if received >= sent { break }
            Thread.sleep(forTimeInterval: 0.02)
        }

        var latency = makeLatencyHistogram()
        var sent: UInt64 = 0, received: UInt64 = 0, outOfOrder: UInt64 = 0, malformed: UInt64 = 0, closedEarly: UInt64 = 0
        for loop in loops {
            let stats = try loop.submit { lookup[ObjectIdentifier(loop)]!.snapshot() }.wait()
            latency.add(stats.latency)
            sent += stats.sent
            received += stats.received
            outOfOrder += stats.outOfOrder
            malformed += stats.malformed
            closedEarly += stats.closedEarly
        }
        closeAll(channels)

        let summary = LatencySummary(latency)
        let lost = sent > received ? sent - received : 0
        let rate = Double(received) / seconds
        var lines = [
            String(format: "echo %@%d B × %d connections × %d in flight, %.1f s window (%d threads, %d connected in %.2f s, %d failed)",
                   label.map { "[\($0)] " } ?? "", size, channels.count, inFlight, seconds, threads, channels.count, connectSeconds, errors.count),
            String(format: "  %.0f msg/s  sent %llu  received %llu  lost %llu  out-of-order %llu  malformed %llu  closed %llu",
                   rate, sent, received, lost, outOfOrder, malformed, closedEarly),
            "  latency " + summary.text,
            "  " + cpu.text(seconds: seconds, units: received, unitName: "message"),
        ]
        if sent == 0 { lines.append("  WARNING: nothing was sent in the window") }
        var json: [(String, JSONNumber)] = [
            ("mode", .string("echo")), ("connections", .int(channels.count)), ("connect_failures", .int(errors.count)),
            ("inflight", .int(inFlight)), ("size", .int(size)), ("window_s", .double(seconds)),
            ("sent", .int(Int(sent))), ("received", .int(Int(received))), ("lost", .int(Int(lost))),
            ("out_of_order", .int(Int(outOfOrder))), ("malformed", .int(Int(malformed))), ("closed_early", .int(Int(closedEarly))),
            ("msgs_per_s", .double(rate)),
        ]
        if let label { json.insert(("label", .string(label)), at: 0) }
        json += summary.json
        json += cpu.json(seconds: seconds, units: received)
        report(lines: lines, json: json)
    }
}

/// The handlers created on the event loops, so the main thread can poke each on its loop.
final class HandlerRegistry<Handler: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Handler, EventLoop)] = []

    func add(_ handler: Handler, loop: EventLoop) {
        lock.lock()
        entries.append((handler, loop))
        lock.unlock()
    }

    /// Runs `body` on each handler's own loop, and waits for all of them.
    func forEach(_ body: @escaping (Handler) -> Void) {
        lock.lock()
        let snapshot = entries
        lock.unlock()
        let futures = snapshot.map { entry in
            let box = UnsafeTransfer((entry.0, body))
            return entry.1.submit { box.value.1(box.value.0) }
        }
        for future in futures { _ = try? future.wait() }
    }
}

/// Moves a value to the event loop that owns it (the handlers are loop-confined; this is how
/// the main thread hands one back to its own loop).
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

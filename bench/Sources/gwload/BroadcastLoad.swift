import Atomics
import Foundation
import Histogram
import NIOCore
import NIOPosix
import NIOWebSocket

/// How many receivers got each broadcast, shared by every event loop. The receiver that
/// completes a broadcast tells the sender, which is what the sender's window counts.
final class DeliveryCounters: @unchecked Sendable {  // atomics over fixed storage
    let capacity: Int
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: UnsafeAtomic<Int>.Storage(0), count: capacity)
    }

    deinit {
        storage.deinitialize(count: capacity)
        storage.deallocate()
    }

    /// Counts one delivery of `sequence`; returns the count including it.
    func deliver(_ sequence: Int) -> Int {
        UnsafeAtomic<Int>(at: storage + sequence).loadThenWrappingIncrement(ordering: .relaxed) + 1
    }

    func count(_ sequence: Int) -> Int {
        UnsafeAtomic<Int>(at: storage + sequence).load(ordering: .relaxed)
    }
}

/// What the receivers of one event loop measured; confined to that loop.
final class BroadcastLoopStats: @unchecked Sendable {
    var latency = makeLatencyHistogram()
    var deliveries: UInt64 = 0
    var senderCopies: UInt64 = 0
    var outOfOrder: UInt64 = 0
    var malformed: UInt64 = 0
    var closedEarly: UInt64 = 0
    /// Frame bytes the receivers got (header and payload, compressed or not).
    var wireBytes: UInt64 = 0

    struct Snapshot: Sendable {
        var latency: Histogram<UInt64>
        var deliveries, senderCopies, outOfOrder, malformed, closedEarly, wireBytes: UInt64
    }

    func snapshot() -> Snapshot {
        Snapshot(latency: latency, deliveries: deliveries, senderCopies: senderCopies, outOfOrder: outOfOrder,
                 malformed: malformed, closedEarly: closedEarly, wireBytes: wireBytes)
    }
}

/// The sender's side of the run: sequence numbers, its window, and when a broadcast is done.
/// Confined to the sender's event loop.
final class BroadcastSender: @unchecked Sendable {
    let loop: EventLoop
    let phase: RunPhase
    let window: Int
    let rate: Double
    let capacity: Int
    /// Bytes each broadcast is padded to (0: none), and whether it goes out compressed.
    let size: Int
    let compresses: Bool
    let maskKey = randomMaskKey()
    var context: ChannelHandlerContext?
    var sent = 0
    var completed = 0
    var skipped: UInt64 = 0
    private var startedAt: UInt64 = 0
    private var ticker: RepeatedTask?

    init(loop: EventLoop, phase: RunPhase, window: Int, rate: Double, capacity: Int, size: Int, compresses: Bool) {
        self.size = size
        self.compresses = compresses
        self.loop = loop
        self.phase = phase
        self.window = window
        self.rate = rate
        self.capacity = capacity
    }

    var outstanding: Int { sent - completed }

    func start() {
        startedAt = monotonicNanoseconds()
        if rate > 0 {
            // A 1 ms tick; each sends what the rate says is due by now (so rates above 1000/s work).
            ticker = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { [self] task in
                guard phase.mayStartWork else { return task.cancel() }
                let due = Int(Double(monotonicNanoseconds() - startedAt) / 1e9 * rate) + 1
                var burst = 0
                while sent < due {
                    if outstanding >= window {
                        skipped += UInt64(due - sent)
                        startedAt += UInt64(Double(due - sent) / rate * 1e9)  // give up on them, do not burst later
                        break
                    }
                    guard send() else { break }
                    burst += 1
                }
                if burst > 0 { context?.flush() }
            }
        } else {
            while outstanding < window, send() {}
            context?.flush()
        }
    }

    /// Writes `all:<sequence>,<send time ns>` (then `,` and JSON filler up to `size`); false
    /// when out of sequence numbers.
    private func send() -> Bool {
        guard let context, sent < capacity else { return false }
        var buffer = context.channel.allocator.buffer(capacity: max(48, size + 4))
        buffer.writeString("all:\(sent),\(monotonicNanoseconds())")
        if size > 0 {
            buffer.writeString(",")
            Self.writeFiller(into: &buffer, upTo: size + 4, sequence: sent)
        }
        sent += 1
        if compresses {
            buffer = PermessageDeflateClient.compress(buffer, allocator: context.channel.allocator)
        }
        context.write(NIOAny(WebSocketFrame(fin: true, rsv1: compresses, opcode: .text, maskKey: maskKey, data: buffer)), promise: nil)
        return true
    }

    /// Chat-room JSON, as repetitive as such traffic is, cut at `total` bytes.
    static func writeFiller(into buffer: inout ByteBuffer, upTo total: Int, sequence: Int) {
        var index = 0
        while buffer.readableBytes < total {
            let user = (sequence &+ index) % 50
            let item = #"{"type":"say","room":"lobby","from":"user\#(user)","text":"message \#(index) of the conversation so far"},"#
            buffer.writeString(String(item.prefix(total - buffer.readableBytes)))
            index += 1
        }
    }

    /// Every receiver has `sequence` (called on the sender's loop).
    func broadcastCompleted(_ sequence: Int) {
        completed += 1
        if rate == 0, phase.mayStartWork, send() { context?.flush() }
    }
}

/// One broadcast connection. Receivers count and time every delivery; the sender's connection
/// also gets its own broadcasts (it is a client too) and only counts them.
final class BroadcastConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let stats: BroadcastLoopStats
    private let counters: DeliveryCounters
    private let receivers: Int
    private let sender: BroadcastSender
    private let isSender: Bool
    private let phase: RunPhase
    private let maskKey = randomMaskKey()
    private var expected = 0

    init(stats: BroadcastLoopStats, counters: DeliveryCounters, receivers: Int, sender: BroadcastSender, isSender: Bool, phase: RunPhase) {
        self.stats = stats
        self.counters = counters
        self.receivers = receivers
        self.sender = sender
        self.isSender = isSender
        self.phase = phase
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if isSender { sender.context = context }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            stats.wireBytes &+= UInt64(PermessageDeflateClient.wireBytes(of: frame))
            guard let message = PermessageDeflateClient.message(of: frame, allocator: context.channel.allocator) else {
                stats.malformed += 1
                return
            }
            received(message)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: maskKey, data: frame.data)), promise: nil)
        default:
            break
        }
    }

    private func received(_ payload: ByteBuffer) {
        let now = monotonicNanoseconds()
        guard let (sequence, sentAt) = Self.parse(payload), sequence < counters.capacity else {
            stats.malformed += 1
            return
        }
        if isSender {
            stats.senderCopies += 1
            return
        }
        stats.deliveries += 1
        stats.latency.record(max(1, (now &- sentAt) / 1000))
        if sequence != expected { stats.outOfOrder += 1 }
        expected = max(expected, sequence + 1)
        if counters.deliver(sequence) == receivers {
            let sender = self.sender
            sender.loop.execute { sender.broadcastCompleted(sequence) }
        }
    }

    /// `<sequence>,<ns>` in decimal, possibly followed by `,` and filler.
    static func parse(_ payload: ByteBuffer) -> (Int, UInt64)? {
        payload.withUnsafeReadableBytes { bytes -> (Int, UInt64)? in
            var sequence = 0
            var index = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                sequence = sequence * 10 + digit
                index += 1
            }
            guard index > 0, index < bytes.count else { return nil }
            index += 1
            var sentAt: UInt64 = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                sentAt = sentAt * 10 + UInt64(digit)
                index += 1
            }
            return (sequence, sentAt)
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

/// `gwload broadcast`: N receivers, one sender of `all:` at a rate or as fast as its window allows.
struct BroadcastLoad {
    var target: WebSocketTarget
    var receivers: Int
    var rate: Double
    var window: Int
    var size: Int
    var duration: Double
    var drainTimeout: Double
    var threads: Int
    var connectConcurrency: Int
    var servers: ServerProcesses
    var mallocDirectory: String?
    var label: String?

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let phase = RunPhase()
        var statsByLoop: [ObjectIdentifier: BroadcastLoopStats] = [:]
        var loops: [EventLoop] = []
        for loop in group.makeIterator() {
            statsByLoop[ObjectIdentifier(loop)] = BroadcastLoopStats()
            loops.append(loop)
        }
        let lookup = statsByLoop
        let capacity = rate > 0 ? Int(rate * (duration + 5)) + 1024 : 1_000_000
        let counters = DeliveryCounters(capacity: capacity)
        let senderLoop = group.next()
        let sender = BroadcastSender(
            loop: senderLoop, phase: phase, window: window, rate: rate, capacity: capacity, size: size, compresses: target.offersDeflate)
        let receivers = self.receivers

        let connector = WebSocketConnector(group: group, target: target, maxFrameSize: max(1 << 16, 2 * size))
        let openedAt = monotonicNanoseconds()
        let (channels, errors) = connector.connect(count: receivers, concurrency: connectConcurrency) { _, channel in
            BroadcastConnectionHandler(
                stats: lookup[ObjectIdentifier(channel.eventLoop)]!, counters: counters, receivers: receivers,
                sender: sender, isSender: false, phase: phase)
        }
        let connectSeconds = Double(monotonicNanoseconds() - openedAt) / 1e9
        guard errors.isEmpty else {
            closeAll(channels)
            throw UsageError("\(errors.count) of \(receivers) receivers failed to connect, first: \(errors[0])")
        }
        let senderChannel = try WebSocketConnector(group: senderLoop, target: target, maxFrameSize: max(1 << 16, 2 * size))
            .connectOne(timeout: .seconds(30)) { channel in
                BroadcastConnectionHandler(
                    stats: lookup[ObjectIdentifier(channel.eventLoop)]!, counters: counters, receivers: receivers,
                    sender: sender, isSender: true, phase: phase)
            }.wait()
        // Let the server finish with the connect events before timing anything.
        Thread.sleep(forTimeInterval: 0.5)

        var cpu = CPUWindow(servers: servers, mallocDirectory: mallocDirectory)
        cpu.start()
        let windowStart = monotonicNanoseconds()
        phase.set(.measuring)
        try senderLoop.submit { sender.start() }.wait()
        Thread.sleep(forTimeInterval: duration)
        phase.set(.draining)
        let sendingEnded = monotonicNanoseconds()
        // Everything sent must arrive; the window ends when it has (or at the drain timeout).
        let drainDeadline = sendingEnded + UInt64(drainTimeout * 1e9)
        var drained = false
        while monotonicNanoseconds() < drainDeadline {
            if try senderLoop.submit({ sender.outstanding }).wait() == 0 {
                drained = true
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        let windowEnd = monotonicNanoseconds()
        cpu.stop()
        let seconds = Double(windowEnd - windowStart) / 1e9
        let (sent, skipped) = try senderLoop.submit { (sender.sent, sender.skipped) }.wait()

        var latency = makeLatencyHistogram()
        var deliveries: UInt64 = 0, senderCopies: UInt64 = 0, outOfOrder: UInt64 = 0, malformed: UInt64 = 0, closedEarly: UInt64 = 0
        var wireBytes: UInt64 = 0
        for loop in loops {
            let stats = try loop.submit { lookup[ObjectIdentifier(loop)]!.snapshot() }.wait()
            latency.add(stats.latency)
            deliveries += stats.deliveries
            senderCopies += stats.senderCopies
            outOfOrder += stats.outOfOrder
            malformed += stats.malformed
            closedEarly += stats.closedEarly
            wireBytes += stats.wireBytes
        }
        let complete = (0..<sent).reduce(0) { $0 + (counters.count($1) == receivers ? 1 : 0) }
        closeAll(channels + [senderChannel])

        let expected = UInt64(sent) * UInt64(receivers)
        let lost = expected > deliveries ? expected - deliveries : 0
        let serverDeliveries = deliveries + senderCopies  // the sender is a client too
        let summary = LatencySummary(latency)
        let rateText = rate > 0 ? String(format: "%.0f/s", rate) : "as fast as possible"
        var lines = [
            String(format: "broadcast %@to %d receivers, %@ (window %d), %.1f s window (%d threads, connected in %.2f s)%@",
                   label.map { "[\($0)] " } ?? "", receivers, rateText, window, seconds, threads, connectSeconds,
                   drained ? "" : " — DRAIN TIMED OUT"),
            String(format: "  %.0f deliveries/s  %.1f broadcasts/s  sent %d  complete %d  skipped %llu  deliveries %llu of %llu  lost %llu  out-of-order %llu  malformed %llu  closed %llu",
                   Double(serverDeliveries) / seconds, Double(sent) / seconds, sent, complete, skipped, deliveries, expected, lost,
                   outOfOrder, malformed, closedEarly),
            "  latency from send " + summary.text,
            String(format: "  %.1f bytes on the wire per delivery (frame header included)%@", Double(wireBytes) / Double(max(1, deliveries + senderCopies)),
                   target.offersDeflate ? ", permessage-deflate offered" : ""),
            "  " + cpu.text(seconds: seconds, units: serverDeliveries, unitName: "delivery"),
        ]
        if sent == 0 { lines.append("  WARNING: nothing was sent") }
        var json: [(String, JSONNumber)] = [
            ("mode", .string("broadcast")), ("receivers", .int(receivers)), ("rate", .double(rate)), ("window", .int(window)),
            ("window_s", .double(seconds)), ("broadcasts_sent", .int(sent)), ("broadcasts_complete", .int(complete)),
            ("broadcasts_skipped", .int(Int(skipped))), ("broadcasts_per_s", .double(Double(sent) / seconds)),
            ("deliveries", .int(Int(deliveries))), ("deliveries_expected", .int(Int(expected))),
            ("server_deliveries", .int(Int(serverDeliveries))), ("lost", .int(Int(lost))),
            ("out_of_order", .int(Int(outOfOrder))), ("malformed", .int(Int(malformed))), ("closed_early", .int(Int(closedEarly))),
            ("drained", .int(drained ? 1 : 0)), ("deliveries_per_s", .double(Double(serverDeliveries) / seconds)),
            ("size", .int(size)), ("deflate", .int(target.offersDeflate ? 1 : 0)),
            ("wire_bytes_per_delivery", .double(Double(wireBytes) / Double(max(1, deliveries + senderCopies)))),
        ]
        if let label { json.insert(("label", .string(label)), at: 0) }
        json += summary.json
        json += cpu.json(seconds: seconds, units: serverDeliveries)
        report(lines: lines, json: json)
    }
}

import NIOCore

/// Something the gateway writes to — a client or a worker link. It counts its writes waiting
/// in the queue, so that its channel is flushed exactly once, together with its last write.
protocol OutboundTarget: AnyObject {
    var channel: Channel { get }
    var queuedWrites: Int { get set }
}

/// Everything the gateway writes during one event-loop tick, handed to the channels in order
/// and flushed once per channel when the tick's I/O is done.
///
/// Why: one read from a worker carrying 50 sends then costs one syscall per client, not one
/// per send; many client reads in one tick cost one write to their worker. And frames encoded
/// during the tick go into one shared *arena* buffer, each write a slice of it: once the
/// kernel has taken the bytes the arena is uniquely referenced again and is reused, so the
/// forwarding path allocates nothing per message in steady state.
///
/// Writes are held until `flush()`, which runs in a task scheduled after the current batch of
/// I/O (or earlier, when a caller needs its writes out now, e.g. before closing a channel).
/// Confined to its event loop.
public final class OutboundQueue: @unchecked Sendable {  // confined to its event loop
    /// Bytes to write: a range of this tick's arena, or a buffer of their own (a frame shared
    /// by many ticks or too big for the arena).
    public enum Payload {
        case arena(start: Int, length: Int)
        case buffer(ByteBuffer)
    }

    private struct Write {
        let target: any OutboundTarget
        var payload: Payload
    }

    /// Frames bigger than this get a buffer of their own, so the arena stays small.
    static let largestArenaFrame = 64 << 10
    /// After a tick that needed more than this, the arena is given back instead of reused.
    static let arenaRetainedCapacity = 1 << 20
    static let initialArenaCapacity = 16 << 10

    private let eventLoop: EventLoop
    private var arena: ByteBuffer
    private var writes: [Write] = []
    private var handedOver: [Write] = []
    private var scheduled = false
    private var flushing = false
    /// Built once: scheduling the flush allocates no closure context per tick.
    private var flushTask: (@Sendable () -> Void)!

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.arena = ByteBufferAllocator().buffer(capacity: Self.initialArenaCapacity)
        self.flushTask = { [weak self] in self?.flush() }
    }

    /// True while nothing waits (for tests).
    var isEmpty: Bool { writes.isEmpty }

    /// Encodes a frame of at most `largestArenaFrame` bytes (`size` is an estimate for larger
    /// ones) and returns where it is; `encode` appends it to the buffer it is given.
    func encode(size: Int, _ encode: (inout ByteBuffer) -> Void) -> Payload {
        encodeIf(size: size) { buffer in
            encode(&buffer)
            return true
        }!
    }

    /// Encodes like `encode(size:_:)`, but `encode` may refuse (return false): then nothing is
    /// kept and the result is nil.
    func encodeIf(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Payload? {
        guard size <= Self.largestArenaFrame else {
            var own = ByteBufferAllocator().buffer(capacity: size)
            return encode(&own) ? .buffer(own) : nil
        }
        let start = arena.writerIndex
        guard encode(&arena) else {
            arena.moveWriterIndex(to: start)
            return nil
        }
        return .arena(start: start, length: arena.writerIndex - start)
    }

    /// The bytes of `payload` as a buffer that outlives the tick (a copy when in the arena).
    func detached(_ payload: Payload) -> ByteBuffer {
        switch payload {
        case .buffer(let buffer):
            return buffer
        case .arena(let start, let length):
            return ByteBufferAllocator().buffer(buffer: arena.getSlice(at: start, length: length)!)
        }
    }

    /// Queues `payload` for `target`, after everything queued before it.
    func enqueue(_ payload: Payload, to target: any OutboundTarget) {
        // Consecutive arena frames for the same target become one write.
        if case .arena(let start, let length) = payload, let last = writes.indices.last, writes[last].target === target,
            case .arena(let previousStart, let previousLength) = writes[last].payload, previousStart + previousLength == start
        {
            writes[last].payload = .arena(start: previousStart, length: previousLength + length)
        } else {
            target.queuedWrites += 1
            writes.append(Write(target: target, payload: payload))
        }
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute(flushTask)
    }

    func enqueue(_ buffer: ByteBuffer, to target: any OutboundTarget) {
        enqueue(.buffer(buffer), to: target)
    }

    /// Hands every queued write to its channel, in order; each channel is flushed with its last one.
    func flush() {
        scheduled = false
        // Re-entered from a channel reacting to a write: its writes go out with their own task.
        guard !flushing else { return }
        flushing = true
        defer { flushing = false }
        let arenaEnd = arena.writerIndex
        swap(&writes, &handedOver)  // two arrays taking turns: no allocation per tick
        for write in handedOver {
            let bytes: ByteBuffer
            switch write.payload {
            case .buffer(let buffer): bytes = buffer
            case .arena(let start, let length): bytes = arena.getSlice(at: start, length: length)!
            }
            write.target.queuedWrites -= 1
            if write.target.queuedWrites == 0 {
                write.target.channel.writeAndFlush(bytes, promise: nil)
            } else {
                write.target.channel.write(bytes, promise: nil)
            }
        }
        handedOver.removeAll(keepingCapacity: true)
        // Frames encoded while flushing (a closed client's ON_CLOSE) wait in the arena for
        // their own flush; otherwise the arena is reused. The kernel has usually taken every
        // slice by now, so that reuses its memory; if a slice still waits in a channel, clear()
        // starts fresh storage instead of copying.
        guard arena.writerIndex == arenaEnd else { return }
        if arena.capacity > Self.arenaRetainedCapacity {
            arena = ByteBufferAllocator().buffer(capacity: Self.initialArenaCapacity)
        } else {
            arena.clear()
        }
    }
}

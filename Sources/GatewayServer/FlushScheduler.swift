import NIOCore

/// Batches flushes: writes accumulate on their channels and every touched channel is flushed
/// once, in a task that runs after the event loop finished the current batch of I/O. One
/// worker read carrying 50 sends then costs one syscall per client, not per send; many client
/// reads in one loop tick cost one write to the worker.
/// Confined to its event loop.
final class FlushScheduler: @unchecked Sendable {  // confined to its event loop
    private let eventLoop: EventLoop
    private var pending: [ObjectIdentifier: Channel] = [:]
    private var scheduled = false

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func write(_ buffer: ByteBuffer, to channel: Channel) {
        channel.write(buffer, promise: nil)
        pending[ObjectIdentifier(channel)] = channel
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { self.flushAll() }
    }

    func flushAll() {
        scheduled = false
        let channels = pending
        pending.removeAll(keepingCapacity: true)
        for channel in channels.values { channel.flush() }
    }
}

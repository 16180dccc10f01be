import Glibc

/// A registered file descriptor, as the loop knows it.
///
/// Opaque on purpose: epoll's data field carries this token (slot index and the slot's
/// generation), not the fd, so an event for a registration that was removed — even one whose fd
/// number was closed and reused meanwhile — finds a newer generation and is dropped.
public struct Registration: Hashable {
    let token: UInt64
}

/// A single-threaded epoll loop with timers and cross-thread wake-ups.
///
/// Everything runs on the thread that calls `run()`: I/O handlers, timer bodies, `onWake` and
/// `afterIteration`, and every method here must be called from that thread (or before `run()`
/// starts). Other threads reach the loop only through `waker` (and a `Mailbox` over it).
///
/// One iteration: wait for I/O until the next timer deadline, call the ready handlers, run the
/// timers due by then, call `onWake` if the loop was woken, then `afterIteration`. A callback
/// that must block (a plugin waiting for a query's replies) calls `waitForIO(until:)`, which
/// serves I/O only, so timers and wake-ups never re-enter the callback that is waiting.
///
/// The steady state allocates nothing: epoll events land in a buffer kept per nesting depth,
/// handler lookups index an array, and timers reuse the queue's storage.
public final class EventLoop {
    /// What one registration slot holds. `generation` moves on at every unregister, so old
    /// tokens for the slot stop matching.
    private struct Slot {
        var handler: (any IOHandler)?
        var fd: Int32 = -1
        var interest: IOInterest = []
        var generation: UInt32 = 0
        /// Handed back with every readiness (`IOHandler.readable(tag:)`).
        var tag: UInt32 = 0
    }

    /// epoll's data for the eventfd; no slot token can reach it (it would need 2^32 slots).
    private static let wakeToken = UInt64.max
    /// Events taken per epoll_wait; more ready descriptors are served by the next wait.
    private static let maxEvents = 64

    private let epoll: Epoll
    private let epollFD: Int32
    private let wakeFD: Int32
    private let wakeSignal: WakeSignal
    private let clock: any MonotonicClock

    /// A closure in a struct: stored as a bare generic `Payload`, a closure would be wrapped in
    /// a reabstraction thunk, one allocation per schedule even of an existing closure.
    private struct TimerBody {
        let run: () -> Void
    }

    private var timers = TimerQueue<TimerBody>()
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    /// One epoll_wait buffer per nesting depth (index 0: the top-level wait), kept once made.
    private var eventBuffers: [UnsafeMutableRawPointer] = []
    private var waitDepth = 0

    private var isRunning = false
    private var isClosed = false
    private var stopRequested = false
    private var immediateRequested = false
    /// The eventfd was seen (at any depth) and `onWake` has not run for it yet.
    private var wakePending = false

    /// Called on the loop thread in the iteration after `waker.wake()`, once per iteration
    /// however many wakes came in. Not called inside `waitForIO(until:)`.
    public var onWake: (() -> Void)?

    /// Called at the end of every top-level iteration (e.g. to flush what the iteration queued).
    public var afterIteration: (() -> Void)?

    /// - Parameter clock: where deadlines are read. The wait itself counts real time, so a
    ///   clock other than `SystemClock` only suits code that never waits on a timer.
    public init(clock: any MonotonicClock = SystemClock()) throws {
        guard let epoll = Epoll.functions else { throw EventLoopError(syscall: "dlsym(epoll_create1)", errno: ENOSYS) }
        let epollFD = epoll.create1(Epoll.closeOnExec)
        guard epollFD >= 0 else { throw EventLoopError(syscall: "epoll_create1", errno: errno) }
        let wakeFD = epoll.eventFD(0, Epoll.closeOnExec | Epoll.nonBlocking)
        guard wakeFD >= 0 else {
            let error = EventLoopError(syscall: "eventfd", errno: errno)
            Glibc.close(epollFD)
            throw error
        }
        // Edge-triggered: a nested wait notes a wake without reading the eventfd, and must not
        // see it again on every later nested wait (a level-triggered eventfd would make those
        // return at once until the top-level iteration reads it).
        let status = epoll.control(epollFD, Epoll.add, wakeFD, events: Epoll.readable | Epoll.edgeTriggered, token: Self.wakeToken)
        guard status == 0 else {
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
            throw EventLoopError(syscall: "epoll_ctl", errno: status)
        }
        self.epoll = epoll
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        self.wakeSignal = WakeSignal(fd: wakeFD)
        self.clock = clock
    }

    deinit {
        close()
        for buffer in eventBuffers { buffer.deallocate() }
    }

    /// Closes the epoll descriptor and the eventfd and releases the handlers. Later wakes do
    /// nothing, and `run()` returns after the current iteration. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        stopRequested = true
        wakeSignal.close()
        Glibc.close(epollFD)
        for index in slots.indices where slots[index].handler != nil {
            slots[index].handler = nil
            slots[index].generation &+= 1
        }
    }

    /// The clock's reading.
    public var now: Instant { clock.now() }

    /// The reading this iteration took after its wait (for its timers): a "now" that costs no
    /// clock read, as old as the iteration.
    public private(set) var iterationTime = Instant(nanoseconds: 0)

    /// Wakes this loop from any thread.
    public var waker: LoopWaker { LoopWaker(signal: wakeSignal) }

    // MARK: I/O

    /// Watches `fd` (level-triggered) and calls `handler` when it is ready, with `tag`. The loop
    /// holds the handler strongly until `unregister`; the caller keeps owning the descriptor.
    public func register(fd: Int32, interest: IOInterest, handler: any IOHandler, tag: UInt32 = 0) throws -> Registration {
        guard !isClosed else { throw EventLoopError(syscall: "epoll_ctl", errno: EBADF) }
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
        } else {
            index = slots.count
            slots.append(Slot())
        }
        let token = UInt64(slots[index].generation) << 32 | UInt64(index)
        let status = epoll.control(epollFD, Epoll.add, fd, events: Self.epollEvents(interest), token: token)
        guard status == 0 else {
            freeSlots.append(index)
            throw EventLoopError(syscall: "epoll_ctl", errno: status)
        }
        slots[index].handler = handler
        slots[index].fd = fd
        slots[index].interest = interest
        slots[index].tag = tag
        return Registration(token: token)
    }

    /// Changes what the registration is watched for. An unknown (unregistered) registration
    /// is ignored.
    public func setInterest(_ registration: Registration, _ interest: IOInterest) {
        guard let index = liveSlot(registration.token) else { return }
        guard slots[index].interest != interest else { return }
        let status = epoll.control(epollFD, Epoll.modify, slots[index].fd, events: Self.epollEvents(interest), token: registration.token)
        // Fails only when the fd was closed before unregister: the caller's bug.
        assert(status == 0, "epoll_ctl(EPOLL_CTL_MOD): \(EventLoopError(syscall: "epoll_ctl", errno: status))")
        slots[index].interest = interest
    }

    /// Stops watching the registration's fd and releases its handler; events already taken for
    /// it are dropped, at every nesting depth. Close the fd after this. An unknown registration
    /// is ignored.
    public func unregister(_ registration: Registration) {
        guard let index = liveSlot(registration.token) else { return }
        // An fd closed too early has already left the epoll set (ENOENT/EBADF): nothing to undo.
        _ = epoll.control(epollFD, Epoll.delete, slots[index].fd, events: 0, token: 0)
        slots[index].handler = nil
        slots[index].fd = -1
        slots[index].interest = []
        slots[index].generation &+= 1
        freeSlots.append(index)
    }

    // MARK: Timers

    /// Runs `body` on the loop thread in the first iteration whose clock reading is at or past
    /// `deadline`; never earlier.
    @discardableResult
    public func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> TimerID {
        timers.schedule(at: deadline, TimerBody(run: body))
    }

    /// Runs `body` `nanoseconds` from now (see `schedule(at:_:)`).
    @discardableResult
    public func schedule(after nanoseconds: Int64, _ body: @escaping () -> Void) -> TimerID {
        timers.schedule(at: clock.now() + nanoseconds, TimerBody(run: body))
    }

    /// Cancels a pending timer; an unknown or already fired id is ignored. A timer cancelled
    /// by an earlier timer of the same round does not fire.
    public func cancel(_ id: TimerID) {
        timers.cancel(id)
    }

    // MARK: Running

    /// Runs iterations until `stop()` (or `close()`).
    public func run() {
        precondition(!isRunning, "EventLoop.run() is not re-entrant; wait inside a callback with waitForIO(until:)")
        precondition(!isClosed, "EventLoop.run() after close()")
        isRunning = true
        defer {
            isRunning = false
            stopRequested = false
        }
        repeat {
            runIteration()
        } while !stopRequested
    }

    /// Makes `run()` return after the current iteration. Loop thread only; from another thread,
    /// wake the loop and call it in `onWake`.
    public func stop() {
        stopRequested = true
    }

    /// Makes the next top-level wait return at once (e.g. work was left for the next iteration).
    public func requestImmediateIteration() {
        immediateRequested = true
    }

    /// Waits for I/O until `deadline` and calls the ready handlers; nothing else: no timers,
    /// no `onWake`, no `afterIteration` (a wake seen here stays pending for the next top-level
    /// iteration). For a callback that must block until replies arrive: call it in a loop until
    /// the replies are in or the deadline has passed.
    ///
    /// Re-entrant: callable from a handler, a timer or `afterIteration`, at any depth. Returns
    /// once a wait delivered I/O, or at the deadline (rounded up to the millisecond, so never
    /// before it); at once when the deadline has already passed.
    public func waitForIO(until deadline: Instant) {
        while !isClosed && clock.now() < deadline {
            // A wait that saw only the eventfd served nothing: keep waiting.
            if waitAndDispatch(deadline: deadline, immediate: false) > 0 { return }
        }
    }

    private func runIteration() {
        let immediate = immediateRequested || wakePending || stopRequested
        immediateRequested = false
        waitAndDispatch(deadline: timers.nextDeadline, immediate: immediate)
        runDueTimers()
        if wakePending && !isClosed {
            wakePending = false
            drainWakeFD()
            onWake?()
        }
        afterIteration?()
    }

    /// Runs the timers due at one clock reading that were scheduled before the round began;
    /// ones scheduled by these bodies wait for the next iteration (whose wait then does not block).
    private func runDueTimers() {
        let now = clock.now()
        iterationTime = now
        let mark = timers.sequenceMark
        while let due = timers.popDue(now: now, scheduledBefore: mark) {
            due.payload.run()
        }
    }

    /// One epoll_wait (retried on EINTR) into this depth's buffer, then the handlers.
    /// - Parameters:
    ///   - deadline: nil waits without a timeout.
    ///   - immediate: poll without blocking.
    /// - Returns: the events for registrations (stale ones included, the eventfd not).
    @discardableResult
    private func waitAndDispatch(deadline: Instant?, immediate: Bool) -> Int {
        guard !isClosed else { return 0 }
        let depth = waitDepth
        if depth == eventBuffers.count {
            eventBuffers.append(.allocate(byteCount: Self.maxEvents * Epoll.eventStride, alignment: 8))
        }
        let buffer = eventBuffers[depth]
        waitDepth += 1
        defer { waitDepth -= 1 }

        var count: Int32
        repeat {
            let timeout = immediate ? 0 : Self.timeoutMilliseconds(until: deadline, now: deadline == nil ? nil : clock.now())
            count = epoll.wait(epollFD, buffer, Int32(Self.maxEvents), timeout)
        } while count < 0 && errno == EINTR
        guard count >= 0 else {
            preconditionFailure("\(EventLoopError(syscall: "epoll_wait", errno: errno))")
        }

        var ioEvents = 0
        for index in 0..<Int(count) {
            let event = Epoll.event(buffer, at: index)
            if event.token == Self.wakeToken {
                wakePending = true
            } else {
                ioEvents += 1
                deliver(event.events, to: event.token)
            }
        }
        return ioEvents
    }

    private func deliver(_ events: UInt32, to token: UInt64) {
        guard let index = liveSlot(token), let handler = slots[index].handler else { return }
        let failed = events & (Epoll.error | Epoll.hangUp) != 0
        let tag = slots[index].tag
        if failed || (events & Epoll.readable != 0 && slots[index].interest.contains(.readable)) {
            handler.readable(tag: tag)
        }
        // readable() may have unregistered the handler or dropped writable interest.
        guard failed || events & Epoll.writable != 0, let current = liveSlot(token),
            slots[current].interest.contains(.writable)
        else { return }
        handler.writable(tag: tag)
    }

    private func drainWakeFD() {
        var counter: UInt64 = 0
        // EAGAIN: a wake already read (the edge can outlive the count); nothing to do.
        while read(wakeFD, &counter, 8) < 0 && errno == EINTR {}
    }

    /// The slot index of a token that is still registered.
    private func liveSlot(_ token: UInt64) -> Int? {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF)
        guard index < slots.count, slots[index].generation == UInt32(truncatingIfNeeded: token >> 32),
            slots[index].handler != nil
        else { return nil }
        return index
    }

    private static func epollEvents(_ interest: IOInterest) -> UInt32 {
        (interest.contains(.readable) ? Epoll.readable : 0) | (interest.contains(.writable) ? Epoll.writable : 0)
    }

    /// epoll_wait's timeout for `deadline`: -1 without one, else whole milliseconds rounded up,
    /// so the wait never ends before the deadline.
    static func timeoutMilliseconds(until deadline: Instant?, now: Instant?) -> Int32 {
        guard let deadline, let now else { return -1 }
        let remaining = deadline - now
        guard remaining > 0 else { return 0 }
        let milliseconds = remaining / 1_000_000 + (remaining % 1_000_000 == 0 ? 0 : 1)
        return Int32(clamping: milliseconds)
    }
}

@available(*, unavailable)
extension EventLoop: Sendable {}

/// A bounded, closable queue from any number of threads to one `EventLoop`.
///
/// Producers `offer` from any thread; the loop drains everything at once with `takeAll` (in
/// `onWake`). Only the offer that finds the queue empty wakes the loop, so a burst costs one
/// eventfd write, and a queue the loop has not drained yet already has a wake on its way.
public final class Mailbox<Element: Sendable>: @unchecked Sendable {
    public enum OfferResult: Sendable {
        case accepted
        /// `capacity` elements are waiting: the loop is not keeping up. Nothing was queued.
        case full
        /// `close()` was called. Nothing was queued.
        case closed
    }

    private let lock = Lock()
    private let capacity: Int
    private let waker: LoopWaker
    private var queue: [Element] = []
    private var closed = false

    /// - Parameters:
    ///   - capacity: the most elements waiting at once; `Int.max` for no bound (for the loop's
    ///     own control messages, which must never be refused).
    ///   - waker: the consumer loop's waker.
    public init(capacity: Int, waker: LoopWaker) {
        precondition(capacity > 0, "Mailbox capacity must be positive")
        self.capacity = capacity
        self.waker = waker
    }

    /// Queues `element` (any thread). Never blocks.
    public func offer(_ element: Element) -> OfferResult {
        let (result, wasEmpty): (OfferResult, Bool) = lock.withLock {
            if closed { return (.closed, false) }
            if queue.count >= capacity { return (.full, false) }
            let wasEmpty = queue.isEmpty
            queue.append(element)
            return (.accepted, wasEmpty)
        }
        // Outside the lock: producers behind this one need not wait for the system call.
        if wasEmpty { waker.wake() }
        return result
    }

    /// Refuses later offers (any thread). Elements already accepted stay and can be taken.
    public func close() {
        lock.withLock { closed = true }
    }

    public var isClosed: Bool {
        lock.withLock { closed }
    }

    /// Appends every waiting element to `buffer`, oldest first, and empties the queue (loop
    /// thread). An empty `buffer` trades storage with the queue instead of copying: a consumer
    /// that empties its buffer with `removeAll(keepingCapacity: true)` after each batch makes
    /// the two arrays take turns, and the steady state allocates nothing.
    public func takeAll(into buffer: inout [Element]) {
        lock.withLock {
            if buffer.isEmpty {
                swap(&buffer, &queue)
            } else {
                buffer.append(contentsOf: queue)
                queue.removeAll(keepingCapacity: true)
            }
        }
    }
}

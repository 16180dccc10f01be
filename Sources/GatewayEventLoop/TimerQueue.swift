/// Names one timer of one `TimerQueue`. Ids start at 1 and are never reused within a queue,
/// so a stale id can only miss (cancel answers nil), never hit a newer timer.
public struct TimerID: Hashable, Sendable, Comparable {
    public let rawValue: UInt64

    init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static func < (lhs: TimerID, rhs: TimerID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// Pending timers as a binary min-heap ordered by (deadline, scheduling order).
///
/// A pure value: no clock and no I/O, so the ordering rules are tested on their own and any
/// single-threaded owner (the event loop, a state machine) can drive it with its own time.
/// Equal deadlines fire in the order they were scheduled: each entry carries a sequence
/// number, renewed by `reschedule`. An id → heap index map makes `cancel` O(log n).
/// Steady-state use allocates nothing: popping and rescheduling an existing timer reuses the
/// heap's and the map's storage; only growth past their capacity allocates.
public struct TimerQueue<Payload> {
    fileprivate struct Entry {
        var deadline: Instant
        var sequence: UInt64
        var id: TimerID
        var payload: Payload
    }

    private var heap: [Entry] = []
    private var indexByID: [TimerID: Int] = [:]
    private var lastID: UInt64 = 0
    private var nextSequence: UInt64 = 0

    public init() {}

    /// Timers scheduled and not yet popped or cancelled.
    public var count: Int { heap.count }

    public var isEmpty: Bool { heap.isEmpty }

    /// The earliest deadline, or nil when no timer is pending.
    public var nextDeadline: Instant? { heap.first?.deadline }

    /// Adds a timer and returns its new id.
    @discardableResult
    public mutating func schedule(at deadline: Instant, _ payload: Payload) -> TimerID {
        lastID += 1
        let id = TimerID(rawValue: lastID)
        insert(Entry(deadline: deadline, sequence: takeSequence(), id: id, payload: payload))
        return id
    }

    /// Puts back a timer that was just popped, under the same id: how a repeating timer keeps
    /// the id its owner holds. It orders after every timer already scheduled for `deadline`.
    /// - Precondition: `id` came from this queue and is not pending.
    public mutating func reschedule(_ id: TimerID, at deadline: Instant, _ payload: Payload) {
        precondition(id.rawValue >= 1 && id.rawValue <= lastID, "TimerQueue.reschedule: \(id.rawValue) was not issued by this queue")
        precondition(indexByID[id] == nil, "TimerQueue.reschedule: timer \(id.rawValue) is still pending")
        insert(Entry(deadline: deadline, sequence: takeSequence(), id: id, payload: payload))
    }

    /// Removes a pending timer and returns its payload; nil when the id is unknown, already
    /// popped or already cancelled.
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Payload? {
        guard let index = indexByID[id] else { return nil }
        return remove(at: index).payload
    }

    public func contains(_ id: TimerID) -> Bool {
        indexByID[id] != nil
    }

    /// Removes and returns the earliest timer whose deadline is at or before `now`.
    public mutating func popDue(now: Instant) -> (id: TimerID, deadline: Instant, payload: Payload)? {
        popDue(now: now, scheduledBefore: .max)
    }

    // MARK: For the event loop

    /// The sequence number the next scheduled (or rescheduled) timer gets.
    var sequenceMark: UInt64 { nextSequence }

    /// Like `popDue(now:)`, but stops at a head timer scheduled at or after `mark`: the loop's
    /// timer round runs only timers that existed when it began, so a timer that schedules
    /// another one in the past cannot keep a round going forever.
    mutating func popDue(now: Instant, scheduledBefore mark: UInt64) -> (id: TimerID, deadline: Instant, payload: Payload)? {
        guard let head = heap.first, head.deadline <= now, head.sequence < mark else { return nil }
        let entry = remove(at: 0)
        return (entry.id, entry.deadline, entry.payload)
    }

    // MARK: Heap

    private mutating func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    private mutating func insert(_ entry: Entry) {
        heap.append(entry)
        indexByID[entry.id] = heap.count - 1
        siftUp(heap.count - 1)
    }

    private mutating func remove(at index: Int) -> Entry {
        let last = heap.count - 1
        if index != last {
            heap.swapAt(index, last)
            indexByID[heap[index].id] = index
        }
        let entry = heap.removeLast()
        indexByID[entry.id] = nil
        if index < heap.count {
            // The entry moved into the hole may belong above it or below it.
            if index > 0 && orders(index, before: (index - 1) / 2) {
                siftUp(index)
            } else {
                siftDown(index)
            }
        }
        return entry
    }

    private func orders(_ a: Int, before b: Int) -> Bool {
        let deadlineA = heap[a].deadline
        let deadlineB = heap[b].deadline
        if deadlineA != deadlineB { return deadlineA < deadlineB }
        return heap[a].sequence < heap[b].sequence
    }

    private mutating func swapEntries(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        indexByID[heap[a].id] = a
        indexByID[heap[b].id] = b
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard orders(child, before: parent) else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let smaller = right < heap.count && orders(right, before: left) ? right : left
            guard orders(smaller, before: parent) else { return }
            swapEntries(smaller, parent)
            parent = smaller
        }
    }
}

extension TimerQueue: Sendable where Payload: Sendable {}
extension TimerQueue.Entry: Sendable where Payload: Sendable {}

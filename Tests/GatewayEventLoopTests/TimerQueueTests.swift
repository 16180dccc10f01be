import GatewayEventLoop
import XCTest

final class TimerQueueTests: XCTestCase {
    private func at(_ nanoseconds: Int64) -> Instant { Instant(nanoseconds: nanoseconds) }

    private func drain<P>(_ queue: inout TimerQueue<P>, now: Instant) -> [P] {
        var payloads: [P] = []
        while let due = queue.popDue(now: now) { payloads.append(due.payload) }
        return payloads
    }

    func testOrdersByDeadline() {
        var queue = TimerQueue<String>()
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.nextDeadline)
        queue.schedule(at: at(30), "c")
        queue.schedule(at: at(10), "a")
        queue.schedule(at: at(20), "b")
        queue.schedule(at: at(5), "first")
        XCTAssertEqual(queue.count, 4)
        XCTAssertEqual(queue.nextDeadline, at(5))
        XCTAssertEqual(drain(&queue, now: at(100)), ["first", "a", "b", "c"])
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.nextDeadline)
    }

    func testEqualDeadlinesFireInSchedulingOrder() {
        var queue = TimerQueue<Int>()
        // Interleave other deadlines so the ties end up in different heap positions.
        for index in 0..<50 {
            queue.schedule(at: at(index % 2 == 0 ? 7 : Int64(100 - index)), index)
        }
        let due = drain(&queue, now: at(1000))
        let sevens = due.filter { $0 % 2 == 0 }
        XCTAssertEqual(Array(due.prefix(25)), sevens)
        XCTAssertEqual(sevens, Array(stride(from: 0, to: 50, by: 2)))
        XCTAssertEqual(Array(due.suffix(25)), Array(stride(from: 49, to: 0, by: -2)))
    }

    func testPopDueRespectsNow() {
        var queue = TimerQueue<String>()
        let a = queue.schedule(at: at(10), "a")
        queue.schedule(at: at(20), "b")
        XCTAssertNil(queue.popDue(now: at(9)))
        let first = queue.popDue(now: at(15))
        XCTAssertEqual(first?.id, a)
        XCTAssertEqual(first?.deadline, at(10))
        XCTAssertEqual(first?.payload, "a")
        XCTAssertNil(queue.popDue(now: at(19)))
        XCTAssertEqual(queue.popDue(now: at(20))?.payload, "b", "a deadline equal to now is due")
        XCTAssertNil(queue.popDue(now: .distantFuture))
    }

    func testCancel() {
        var queue = TimerQueue<String>()
        let a = queue.schedule(at: at(10), "a")
        let b = queue.schedule(at: at(20), "b")
        let c = queue.schedule(at: at(30), "c")
        let d = queue.schedule(at: at(40), "d")

        XCTAssertEqual(queue.cancel(c), "c", "middle")
        XCTAssertFalse(queue.contains(c))
        XCTAssertEqual(queue.count, 3)

        XCTAssertEqual(queue.cancel(a), "a", "head")
        XCTAssertEqual(queue.nextDeadline, at(20))

        XCTAssertNil(queue.cancel(a), "twice")
        XCTAssertNil(queue.cancel(c), "twice")

        var other = TimerQueue<String>()
        var unknown = other.schedule(at: at(0), "x")
        for _ in 0..<9 { unknown = other.schedule(at: at(0), "x") }
        XCTAssertNil(queue.cancel(unknown), "an id this queue never issued")

        XCTAssertEqual(queue.popDue(now: at(25))?.id, b)
        XCTAssertNil(queue.cancel(b), "already popped")
        XCTAssertTrue(queue.contains(d))
        XCTAssertEqual(drain(&queue, now: at(100)), ["d"])
    }

    func testRescheduleKeepsTheIDAndOrdersAfterEarlierTies() {
        var queue = TimerQueue<String>()
        let a = queue.schedule(at: at(10), "a")
        queue.schedule(at: at(20), "b")
        queue.schedule(at: at(30), "c")

        let popped = queue.popDue(now: at(10))
        XCTAssertEqual(popped?.id, a)
        XCTAssertFalse(queue.contains(a))
        queue.reschedule(a, at: at(30), "a again")
        XCTAssertTrue(queue.contains(a))
        XCTAssertEqual(queue.count, 3)

        XCTAssertEqual(queue.popDue(now: at(30))?.payload, "b")
        XCTAssertEqual(queue.popDue(now: at(30))?.payload, "c", "rescheduled later, so after the tie")
        let again = queue.popDue(now: at(30))
        XCTAssertEqual(again?.id, a)
        XCTAssertEqual(again?.payload, "a again")

        let fresh = queue.schedule(at: at(0), "fresh")
        XCTAssertGreaterThan(fresh, a, "new ids never reuse old ones")
        XCTAssertEqual(queue.cancel(fresh), "fresh")
    }

    func testIDsStartAtOneAndAreNeverReused() {
        var queue = TimerQueue<Int>()
        var seen = Set<UInt64>()
        for round in 0..<100 {
            let id = queue.schedule(at: at(Int64(round)), round)
            XCTAssertTrue(seen.insert(id.rawValue).inserted)
            if round % 2 == 0 { queue.cancel(id) } else { _ = queue.popDue(now: at(1000)) }
        }
        XCTAssertEqual(seen.min(), 1)
        XCTAssertEqual(seen.max(), 100)
    }

    /// Random schedules, cancels, reschedules and pops, checked after every step against a
    /// sorted array.
    func testRandomOperationsMatchASortedArrayModel() {
        struct ModelEntry {
            var deadline: Int64
            var order: Int
            var id: TimerID
            var payload: Int
        }
        var random = SplitMix64(seed: 0x5EED_1234)
        var queue = TimerQueue<Int>()
        var model: [ModelEntry] = []  // sorted by (deadline, order)
        var order = 0
        var nextPayload = 0
        var issued: [TimerID] = []
        var popped: [TimerID] = []  // popped and not rescheduled since

        func insertIntoModel(_ entry: ModelEntry) {
            let index = model.firstIndex { ($0.deadline, $0.order) > (entry.deadline, entry.order) } ?? model.endIndex
            model.insert(entry, at: index)
        }

        for step in 0..<10_000 {
            switch random.next() % 10 {
            case 0...3:  // schedule
                let deadline = Int64(random.next() % 200)
                nextPayload += 1
                let id = queue.schedule(at: at(deadline), nextPayload)
                XCTAssertFalse(issued.contains(id))
                issued.append(id)
                order += 1
                insertIntoModel(ModelEntry(deadline: deadline, order: order, id: id, payload: nextPayload))
            case 4, 5:  // cancel any id ever issued (pending, popped or cancelled)
                guard !issued.isEmpty else { continue }
                let id = issued[Int(random.next() % UInt64(issued.count))]
                let expected = model.firstIndex { $0.id == id }.map { model.remove(at: $0).payload }
                XCTAssertEqual(queue.cancel(id), expected, "step \(step)")
                popped.removeAll { $0 == id }
            case 6:  // reschedule a popped timer
                guard !popped.isEmpty else { continue }
                let id = popped.remove(at: Int(random.next() % UInt64(popped.count)))
                let deadline = Int64(random.next() % 200)
                nextPayload += 1
                queue.reschedule(id, at: at(deadline), nextPayload)
                order += 1
                insertIntoModel(ModelEntry(deadline: deadline, order: order, id: id, payload: nextPayload))
            default:  // pop at a random now
                let now = Int64(random.next() % 220)
                let due = queue.popDue(now: at(now))
                if let head = model.first, head.deadline <= now {
                    model.removeFirst()
                    XCTAssertEqual(due?.id, head.id, "step \(step)")
                    XCTAssertEqual(due?.deadline, at(head.deadline), "step \(step)")
                    XCTAssertEqual(due?.payload, head.payload, "step \(step)")
                    popped.append(head.id)
                } else {
                    XCTAssertNil(due, "step \(step)")
                }
            }
            XCTAssertEqual(queue.count, model.count, "step \(step)")
            XCTAssertEqual(queue.nextDeadline, model.first.map { at($0.deadline) }, "step \(step)")
            if let id = issued.last {
                XCTAssertEqual(queue.contains(id), model.contains { $0.id == id }, "step \(step)")
            }
        }
        // Everything left comes out in model order.
        XCTAssertEqual(drain(&queue, now: .distantFuture), model.map(\.payload))
    }
}

/// A small seeded generator, so a failure replays.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

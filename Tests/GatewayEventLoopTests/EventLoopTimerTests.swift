import GatewayEventLoop
import Glibc
import XCTest

/// Timers on a real clock: epoll waits in real time, so these assert order and "never early",
/// not exact timing.
final class EventLoopTimerTests: XCTestCase {
    func testTimersFireInDeadlineOrderAndNeverEarly() throws {
        let loop = try EventLoop()
        var fired: [(name: String, deadline: Instant, firedAt: Instant)] = []
        let start = loop.now
        let plan: [(String, Int64)] = [("c", 30), ("a", 10), ("b", 20), ("a-tie", 10), ("now", 0), ("past", -5)]
        for (name, offset) in plan {
            let deadline = start + offset * millisecond
            loop.schedule(at: deadline) { [unowned loop] in
                fired.append((name, deadline, loop.now))
                if fired.count == plan.count { loop.stop() }
            }
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(fired.map(\.name), ["past", "now", "a", "a-tie", "b", "c"])
        for timer in fired {
            XCTAssertGreaterThanOrEqual(timer.firedAt, timer.deadline, "\(timer.name) fired early")
        }
    }

    func testOneWaitReachesADeadlineBetweenMilliseconds() throws {
        // The wait's timeout is rounded up to whole milliseconds: rounded down, the first wait
        // would end before the deadline and a second iteration would be needed.
        let loop = try EventLoop()
        var iterations = 0
        var firedInIteration: Int?
        loop.afterIteration = { iterations += 1 }
        loop.schedule(after: 1_500_000) { [unowned loop] in
            firedInIteration = iterations + 1
            loop.stop()
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(firedInIteration, 1)
    }

    func testATimerCancelledByAnEarlierTimerOfTheSameRoundDoesNotFire() throws {
        let loop = try EventLoop()
        var log: [String] = []
        var iterations = 0
        loop.afterIteration = { iterations += 1 }
        let deadline = loop.now + 5 * millisecond
        var victim: TimerID?
        loop.schedule(at: deadline) { [unowned loop] in
            log.append("a@\(iterations)")
            loop.cancel(victim!)
        }
        victim = loop.schedule(at: deadline) { log.append("victim") }
        loop.schedule(at: deadline) { log.append("c@\(iterations)") }
        loop.schedule(at: deadline + 20 * millisecond) { [unowned loop] in
            log.append("end")
            loop.stop()
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(log.count, 3)
        XCTAssertEqual(log.last, "end")
        XCTAssertEqual(log[0].prefix(2), "a@")
        XCTAssertEqual(log[1], "c" + log[0].dropFirst(), "a and c ran in one round")
    }

    func testCancelledTimersNeverFireAndUnknownIDsAreIgnored() throws {
        let loop = try EventLoop()
        var fired: [String] = []
        let cancelled = loop.schedule(after: 1 * millisecond) { fired.append("cancelled") }
        loop.cancel(cancelled)
        loop.cancel(cancelled)
        loop.schedule(after: 3 * millisecond) { [unowned loop] in
            fired.append("kept")
            loop.cancel(cancelled)
            loop.stop()
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(fired, ["kept"])
    }

    func testTimersScheduledInsideATimerRunInALaterIteration() throws {
        let loop = try EventLoop()
        var log: [(String, Int)] = []
        var iteration = 0
        loop.afterIteration = { iteration += 1 }
        loop.schedule(after: 1 * millisecond) { [unowned loop] in
            log.append(("outer", iteration))
            let innerDeadline = loop.now + 2 * millisecond
            loop.schedule(at: innerDeadline) { [unowned loop] in
                log.append(("inner", iteration))
                XCTAssertGreaterThanOrEqual(loop.now, innerDeadline)
                // Already due: still not in this round, or a timer doing this forever would
                // starve everything else.
                loop.schedule(at: loop.now + -1 * second) { [unowned loop] in
                    log.append(("past", iteration))
                    loop.stop()
                }
            }
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(log.map(\.0), ["outer", "inner", "past"])
        XCTAssertGreaterThan(log[1].1, log[0].1)
        XCTAssertEqual(log[2].1, log[1].1 + 1, "the past-due timer runs in the very next iteration")
    }

    func testATimerReschedulingItselfAtOnceDoesNotStarveIO() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var ticks = 0
        var received = false
        func tick() {
            ticks += 1
            if received && ticks > 10 {
                loop.stop()
            } else {
                loop.schedule(after: 0, tick)
            }
        }
        let handler = ClosureHandler(onReadable: {
            XCTAssertEqual(readString(a), "x")
            received = true
        })
        let registration = try loop.register(fd: a, interest: .readable, handler: handler)
        loop.schedule(after: 0, tick)
        writeString(b, "x")
        loop.run(failAfter: 10)
        loop.unregister(registration)
        XCTAssertTrue(received)
    }

    func testStopBeforeRunReturnsAfterOneIteration() throws {
        let loop = try EventLoop()
        var iterations = 0
        loop.afterIteration = { iterations += 1 }
        loop.stop()
        loop.run()
        XCTAssertEqual(iterations, 1)
        // And the loop runs again afterwards.
        loop.requestImmediateIteration()
        loop.afterIteration = { [unowned loop] in
            iterations += 1
            if iterations == 3 { loop.stop() } else { loop.requestImmediateIteration() }
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(iterations, 3)
    }
}

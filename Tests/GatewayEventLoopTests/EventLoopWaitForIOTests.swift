import Foundation
import GatewayEventLoop
import Glibc
import XCTest

/// `waitForIO(until:)`: the nested wait a blocking plugin callback uses.
final class EventLoopWaitForIOTests: XCTestCase {
    func testInsideATimerItDeliversIOButNeitherTimersNorWakes() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var log: [String] = []
        var received = ""
        let handler = ClosureHandler(onReadable: {
            received += readString(a) ?? "<EOF>"
            log.append("io")
        })
        let registration = try loop.register(fd: a, interest: .readable, handler: handler)
        loop.onWake = { log.append("wake") }
        var iterations = 0
        loop.afterIteration = { [unowned loop] in
            iterations += 1
            if log.contains("due timer") && log.contains("wake") { loop.stop() }
        }
        loop.schedule(after: 1 * millisecond) { [unowned loop] in
            log.append("waiting")
            loop.schedule(at: loop.now + -1 * second) { log.append("due timer") }  // due throughout
            loop.waker.wake()
            // The reply comes from another thread while the timer waits.
            Thread { writeString(b, "reply") }.start()
            let deadline = loop.now + 10 * second
            while received != "reply" && loop.now < deadline {
                loop.waitForIO(until: deadline)
            }
            XCTAssertLessThan(loop.now, deadline)
            log.append("done")
        }
        loop.run(failAfter: 20)
        loop.unregister(registration)
        XCTAssertEqual(received, "reply")
        XCTAssertEqual(Array(log.prefix(3)), ["waiting", "io", "done"])
        XCTAssertEqual(Set(log.dropFirst(3)), ["wake", "due timer"], "both after the wait, never inside it")
    }

    func testItReturnsByItsDeadlineWithoutSpinningOnAPendingWake() throws {
        let loop = try EventLoop()
        var wakes = 0
        loop.onWake = { wakes += 1 }
        var waited: Int64?
        loop.schedule(after: 0) { [unowned loop] in
            loop.waker.wake()  // seen by the nested wait, left for the next iteration
            let start = loop.now
            let cpuStart = threadCPUTime()
            let deadline = start + 30 * millisecond
            loop.waitForIO(until: deadline)
            waited = loop.now - start
            // A wait that kept returning for the unread eventfd would burn the whole 30 ms.
            XCTAssertLessThan(threadCPUTime() - cpuStart, 10 * millisecond, "the nested wait spun")
            XCTAssertGreaterThanOrEqual(loop.now, deadline, "a wait with no I/O lasts until the deadline")
            XCTAssertEqual(wakes, 0)
        }
        loop.afterIteration = { [unowned loop] in if waited != nil { loop.stop() } }
        loop.run(failAfter: 10)
        XCTAssertEqual(wakes, 1, "the wake seen inside the nested wait still runs onWake")
        XCTAssertLessThan(waited ?? .max, 5 * second)
    }

    func testAPassedDeadlineReturnsAtOnceWithoutServingIO() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var calls = 0
        let registration = try loop.register(fd: a, interest: .readable, handler: ClosureHandler(onReadable: { calls += 1 }))
        writeString(b, "ready")
        loop.waitForIO(until: loop.now)
        loop.waitForIO(until: loop.now + -1 * second)
        XCTAssertEqual(calls, 0)
        // Outside run() it serves I/O too.
        loop.waitForIO(until: loop.now + 10 * second)
        XCTAssertEqual(calls, 1)
        loop.unregister(registration)
    }

    func testNestedWaitsServeIOAtEveryDepth() throws {
        // A's handler waits for B, B's waits for C: three depths, each with its own events.
        let loop = try EventLoop()
        let pairs = try (0..<3).map { _ in try makeSocketPair() }
        defer { for (x, y) in pairs { close(x); close(y) } }
        var log: [String] = []
        var registrations: [Registration] = []
        for (index, (fd, _)) in pairs.enumerated() {
            let handler = ClosureHandler(onReadable: { [unowned loop] in
                _ = readString(fd)
                log.append("enter \(index)")
                if index + 1 < pairs.count {
                    writeString(pairs[index + 1].1, "next")
                    loop.waitForIO(until: loop.now + 10 * second)
                } else {
                    loop.stop()
                }
                log.append("leave \(index)")
            })
            registrations.append(try loop.register(fd: fd, interest: .readable, handler: handler))
        }
        writeString(pairs[0].1, "go")
        loop.run(failAfter: 20)
        for registration in registrations { loop.unregister(registration) }
        XCTAssertEqual(log, ["enter 0", "enter 1", "enter 2", "leave 2", "leave 1", "leave 0"])
    }

    func testAnEventServedAndRemovedInANestedWaitIsDroppedByTheOuterOne() throws {
        // Both descriptors are readable before the loop starts, so the outer wait returns both.
        // The first handler to run waits; the nested wait serves the other one, which removes
        // itself. The outer batch still holds its event, which must be dropped.
        let loop = try EventLoop()
        let pairs = try (0..<2).map { _ in try makeSocketPair() }
        for (_, peer) in pairs { writeString(peer, "x") }
        var calls = [0, 0]
        var nester: Int?
        var registrations: [Registration] = []
        for index in 0..<2 {
            let fd = pairs[index].0
            let handler = ClosureHandler(onReadable: { [unowned loop] in
                calls[index] += 1
                _ = readString(fd)
                if nester == nil {
                    nester = index
                    loop.waitForIO(until: loop.now + 10 * second)
                } else {
                    loop.unregister(registrations[index])
                    close(fd)
                }
            })
            registrations.append(try loop.register(fd: fd, interest: .readable, handler: handler))
        }
        var iterations = 0
        loop.afterIteration = { [unowned loop] in
            iterations += 1
            if iterations == 3 { loop.stop() } else { loop.requestImmediateIteration() }
        }
        loop.run(failAfter: 20)
        XCTAssertEqual(calls, [1, 1])
        let survivor = nester ?? 0
        loop.unregister(registrations[survivor])
        close(pairs[survivor].0)
        for (_, peer) in pairs { close(peer) }
    }
}

/// CPU time this thread has used, in nanoseconds.
private func threadCPUTime() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

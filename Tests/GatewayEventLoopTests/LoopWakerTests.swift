import Foundation
import GatewayEventLoop
import Glibc
import XCTest

final class LoopWakerTests: XCTestCase {
    func testAWakeFromAnotherThreadRunsOnWakeOnTheLoopThread() throws {
        let loop = try EventLoop()
        let loopThread = pthread_self()
        var wakeThread: pthread_t?
        loop.onWake = { [unowned loop] in
            wakeThread = pthread_self()
            loop.stop()
        }
        let waker = loop.waker
        let thread = Thread { waker.wake() }
        thread.start()
        loop.run(failAfter: 10)
        XCTAssertNotNil(wakeThread)
        if let wakeThread { XCTAssertNotEqual(pthread_equal(wakeThread, loopThread), 0) }
    }

    func testWakesBeforeTheLoopLooksCoalesceIntoOneOnWake() throws {
        let loop = try EventLoop()
        var wakes = 0
        loop.onWake = { wakes += 1 }
        loop.afterIteration = { [unowned loop] in loop.stop() }
        for _ in 0..<100 { loop.waker.wake() }
        loop.run(failAfter: 10)
        XCTAssertEqual(wakes, 1)
    }

    func testAWakeAfterCloseWritesNothing() throws {
        let loop = try EventLoop()
        let waker = loop.waker
        loop.close()
        loop.close()
        // The eventfd's number is free again and likely reused by this pair: a wake must not
        // write into it.
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        waker.wake()
        XCTAssertEqual(readString(a), "")
        XCTAssertEqual(readString(b), "")
    }
}

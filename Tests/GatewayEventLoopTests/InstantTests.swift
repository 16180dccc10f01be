import GatewayEventLoop
import Glibc
import XCTest

final class InstantTests: XCTestCase {
    func testArithmeticSaturates() {
        let base = Instant(nanoseconds: 1_000)
        XCTAssertEqual(base + 500, Instant(nanoseconds: 1_500))
        XCTAssertEqual(base + -2_000, Instant(nanoseconds: -1_000))
        XCTAssertEqual(Instant(nanoseconds: 1_500) - base, 500)
        XCTAssertEqual(Instant.distantFuture + 1, .distantFuture)
        XCTAssertEqual(Instant(nanoseconds: .min) + -1, Instant(nanoseconds: .min))
        XCTAssertEqual(Instant.distantFuture - Instant(nanoseconds: -5), .max)
        XCTAssertEqual(Instant(nanoseconds: -5) - .distantFuture, .min)
        XCTAssertLessThan(base, .distantFuture)
    }

    func testSystemClockIsMonotonic() {
        let clock = SystemClock()
        var previous = clock.now()
        for _ in 0..<1_000 {
            let next = clock.now()
            XCTAssertGreaterThanOrEqual(next, previous)
            previous = next
        }
    }

    func testManualClockMovesOnlyWhenTold() {
        let clock = ManualClock(Instant(nanoseconds: 100))
        XCTAssertEqual(clock.now(), Instant(nanoseconds: 100))
        clock.advance(by: 50)
        XCTAssertEqual(clock.now(), Instant(nanoseconds: 150))
        clock.set(Instant(nanoseconds: 1_000))
        XCTAssertEqual(clock.now(), Instant(nanoseconds: 1_000))
        XCTAssertEqual(ManualClock().now(), Instant(nanoseconds: 0))
    }

    func testEventLoopReadsItsClock() throws {
        let clock = ManualClock(Instant(nanoseconds: 42))
        let loop = try EventLoop(clock: clock)
        XCTAssertEqual(loop.now, Instant(nanoseconds: 42))
        clock.advance(by: 8)
        XCTAssertEqual(loop.now, Instant(nanoseconds: 50))
    }

    func testErrorDescriptionNamesTheCallAndTheError() {
        XCTAssertEqual(EventLoopError(syscall: "epoll_create1", errno: EMFILE).description, "epoll_create1: Too many open files")
    }
}

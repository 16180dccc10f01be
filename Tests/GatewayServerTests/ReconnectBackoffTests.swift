import NIOCore
import XCTest

@testable import GatewayRuntime

final class ReconnectBackoffTests: XCTestCase {
    func testDoublesPerFailedRoundUpToTheMaximum() {
        let backoff = ReconnectBackoff.standard
        let delays = (1...8).map { backoff.delay(afterFailedRounds: $0, spread: 1).nanoseconds / 1_000_000 }
        XCTAssertEqual(delays, [100, 200, 400, 800, 1600, 2000, 2000, 2000])
        XCTAssertEqual(backoff.delay(afterFailedRounds: 10_000, spread: 1), .seconds(2))
    }

    func testTheSpreadKeepsPeersApart() {
        let backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(1))
        XCTAssertEqual(backoff.delay(afterFailedRounds: 1, spread: 0.8), .milliseconds(800))
        XCTAssertEqual(backoff.delay(afterFailedRounds: 1, spread: 1.2), .milliseconds(1200))
        let random = backoff.delay(afterFailedRounds: 1)
        XCTAssertTrue((TimeAmount.milliseconds(800)...TimeAmount.milliseconds(1200)).contains(random), "\(random)")
    }
}

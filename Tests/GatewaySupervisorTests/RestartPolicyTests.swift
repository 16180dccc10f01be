import GatewaySupervisor
import XCTest

final class RestartPolicyTests: XCTestCase {
    let policy = RestartPolicy()

    func testAStableChildIsRestartedAtOnce() {
        let next = policy.nextRestart(ranForSeconds: 60, quickFailures: 5)
        XCTAssertEqual(next.delay, 0.1)
        XCTAssertEqual(next.quickFailures, 0, "a long run forgives earlier failures")
    }

    func testQuickFailuresBackOffExponentiallyToACap() {
        var failures = 0
        var delays: [Double] = []
        for _ in 0..<12 {
            let next = policy.nextRestart(ranForSeconds: 0.2, quickFailures: failures)
            failures = next.quickFailures
            delays.append(next.delay)
        }
        XCTAssertEqual(Array(delays.prefix(5)), [0.1, 0.2, 0.4, 0.8, 1.6])
        XCTAssertEqual(delays.last, 30, "capped, so a plugin that dies at start never spins the CPU")
        XCTAssertTrue(delays == delays.sorted())
    }

    func testCrashLoopIsNamedAfterThreeQuickFailures() {
        XCTAssertFalse(policy.isCrashLooping(quickFailures: 2))
        XCTAssertTrue(policy.isCrashLooping(quickFailures: 3))
    }
}

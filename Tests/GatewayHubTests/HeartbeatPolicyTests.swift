import GatewayHub
import XCTest

final class HeartbeatPolicyTests: XCTestCase {
    private func run(_ policy: HeartbeatPolicy, ticks: Int, from start: Int = HeartbeatPolicy.heardFrom) -> [HeartbeatPolicy.Action] {
        var count = start
        return (0..<ticks).map { _ in policy.tick(&count) }
    }

    func testWithALimitASilentClientIsClosedAfterLimitIntervals() {
        let policy = HeartbeatPolicy(interval: 10, notResponseLimit: 2, pingData: [])
        XCTAssertEqual(policy.tickSeconds, 5, "two ticks per interval")
        // Ticks 1..4 cover two intervals of silence: one heartbeat per interval, then closed.
        XCTAssertEqual(run(policy, ticks: 6), [.nothing, .nothing, .sendHeartbeat, .nothing, .sendHeartbeat, .close])
    }

    func testHearingFromTheClientStartsOver() {
        let policy = HeartbeatPolicy(interval: 10, notResponseLimit: 1, pingData: [])
        var count = HeartbeatPolicy.heardFrom
        XCTAssertEqual(policy.tick(&count), .nothing)
        XCTAssertEqual(policy.tick(&count), .nothing)
        count = HeartbeatPolicy.heardFrom  // a message or a pong arrived
        XCTAssertEqual(policy.tick(&count), .nothing)
        XCTAssertEqual(policy.tick(&count), .nothing)
        XCTAssertEqual(policy.tick(&count), .sendHeartbeat)
        XCTAssertEqual(policy.tick(&count), .close)
    }

    func testWithoutALimitNobodyIsClosed() {
        let policy = HeartbeatPolicy(interval: 25, notResponseLimit: 0, pingData: Array("ping".utf8))
        XCTAssertEqual(policy.tickSeconds, 25)
        let actions = run(policy, ticks: 50)
        XCTAssertFalse(actions.contains(.close))
        XCTAssertEqual(actions.first, .nothing, "just heard from")
        XCTAssertEqual(Set(actions.dropFirst()), [.sendHeartbeat])
    }

    func testOffByDefaultIntervalZero() {
        XCTAssertFalse(HeartbeatPolicy(interval: 0, notResponseLimit: 2, pingData: []).isEnabled)
    }
}

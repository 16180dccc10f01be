import Foundation
import GatewayCore
import Logging
import XCTest

@testable import GatewaySupervisor

/// `gatewayd stop`: role by role, then whatever is left at the stop timeout is killed.
final class SupervisorStopTests: XCTestCase {
    func testStopGoesFromTheHTTPAPIToWorkersToGatewaysToTheRegister() {
        var master = MasterHarness.running { $0.httpAPI = HTTPAPISettings(listen: "127.0.0.1:0") }
        let requester = RequesterID(rawValue: 42)
        var actions = master.machine.stop(requester: requester, graceful: false, now: master.clock)
        XCTAssertEqual(actions.first, .log(.info, "stopping all processes"))
        var order: [[String]] = []
        while true {
            let stopping = actions.sent(.stop)
            if stopping.isEmpty { break }
            order.append(stopping.map { master.machine.child($0)!.name })
            for id in stopping { _ = master.exit(id, .exited(status: 0)) }
            master.advance(0.1)
            actions = master.tick()
        }
        XCTAssertEqual(order, [["http-api 0"], ["worker 0", "worker 1"], ["gateway 0"], ["register"]])
        XCTAssertEqual(
            actions, [.closeSockets, .respond(requester, ControlResponse(ok: true)), .log(.info, "stopped"), .exit(0)],
            "the ports are free before the requester hears ok")
    }

    func testARoleIsAskedOnceAndTheNextWaitsUntilItIsGone() {
        var master = MasterHarness.running()
        let first = master.machine.stop(requester: nil, graceful: false, now: master.clock)
        XCTAssertEqual(first.sent(.stop), [master.slot(.worker, 0), master.slot(.worker, 1)])
        _ = master.exit(master.slot(.worker, 0), .exited(status: 0))
        master.advance(0.1)
        XCTAssertEqual(master.tick(), [], "worker 1 still runs: gateways wait, nobody is asked twice")
    }

    func testWhatHasNotStoppedAtTheStopTimeoutIsKilled() {
        var master = MasterHarness.running { $0.stopTimeoutMilliseconds = 5000 }
        let second = RequesterID(rawValue: 9)
        _ = master.machine.stop(requester: RequesterID(rawValue: 8), graceful: false, now: master.clock)
        XCTAssertEqual(master.machine.stop(requester: second, graceful: false, now: master.clock), [], "joins the stop")

        var early = master
        early.advance(4.9)
        XCTAssertEqual(early.tick().killed, [])
        master.advance(5)
        let timeout = master.tick()
        let everyone = master.machine.children.map(\.id)
        XCTAssertEqual(timeout.killed, everyone, "the roles not yet asked to stop too")
        XCTAssertTrue(timeout.logLines.contains("gateway 0 did not stop in time; killing it"))

        master.advance(5)
        XCTAssertEqual(master.tick().killed, everyone, "again after 5 s while they are still there")
        for id in everyone { _ = master.exit(id, .killed(signal: SIGKILL)) }
        XCTAssertEqual(
            master.tick(),
            [.closeSockets, .respond(RequesterID(rawValue: 8), ControlResponse(ok: true)), .respond(second, ControlResponse(ok: true)),
             .log(.info, "stopped"), .exit(0)])
    }

    func testAGracefulStopQuiescesGatewaysAndDrainsWorkersWithTheDrainTimeoutOnTop() {
        var master = MasterHarness.running {
            $0.stopTimeoutMilliseconds = 5000
            $0.drainTimeoutMilliseconds = 30000
        }
        let actions = master.machine.stop(requester: nil, graceful: true, now: master.clock)
        XCTAssertEqual(
            actions,
            [
                .log(.info, "stopping gracefully: workers finish what they were sent"),
                .tellServiceManager(.stopping),
                .send(ControlMessage(kind: .quiesce), to: master.slot(.gateway, 0)),
                .send(ControlMessage(kind: .drain), to: master.slot(.worker, 0)),
                .send(ControlMessage(kind: .drain), to: master.slot(.worker, 1)),
            ], "draining workers exit on their own: no stop for them, and the gateways wait")
        XCTAssertEqual(master.machine.phase, .stopping(deadline: master.clock.addingTimeInterval(35), requesters: []))
    }

    func testASignalDuringStartUpFailsTheStartInsteadOfStopping() {
        var master = MasterHarness()
        master.forkEverySpawn(master.machine.start(now: master.clock))
        let actions = master.machine.terminationSignal(now: master.clock)
        XCTAssertEqual(actions.first, .log(.error, "start-up failed: interrupted by a signal during start-up"))
        XCTAssertEqual(actions.last, .exit(1))
    }
}

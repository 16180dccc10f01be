import Foundation
import GatewayCore
import Logging
import XCTest

@testable import GatewaySupervisor

/// Start-up, and children that die while the master runs: restarted by timer after
/// ``RestartPolicy``'s delay, backing off when they keep dying.
final class SupervisorRestartTests: XCTestCase {
    func testEveryChildStartsAndTheMasterIsReadyWhenAllAre() {
        var master = MasterHarness()
        let start = master.machine.start(now: master.clock)
        XCTAssertEqual(start.spawned, master.machine.children.map(\.id))
        XCTAssertEqual(master.machine.children.map(\.name), ["register", "gateway 0", "worker 0", "worker 1"])
        master.forkEverySpawn(start)
        var last: [SupervisorAction] = []
        for child in master.machine.children {
            XCTAssertFalse(last.contains(.reportReady))
            last = master.ready(child.id)
        }
        XCTAssertEqual(last, [.log(.info, "worker 1 ready", pid: 103), .log(.info, "all processes ready"), .reportReady])
        XCTAssertEqual(master.machine.phase, .running)
    }

    func testAChildThatDiesDuringStartUpFailsTheStartAndTakesTheOthersDown() {
        var master = MasterHarness()
        master.forkEverySpawn(master.machine.start(now: master.clock))
        let gateway = master.slot(.gateway, 0)
        let fatal = master.machine.received(
            ControlMessage(kind: .fatal, reason: "port 7272 is in use"), from: gateway, now: master.clock)
        XCTAssertEqual(fatal, [.log(.error, "gateway 0 cannot run: port 7272 is in use")])

        let others = master.machine.children.map(\.id).filter { $0 != gateway }
        XCTAssertEqual(
            master.exit(gateway, .exited(status: 1)),
            [.log(.error, "start-up failed: port 7272 is in use")] + others.map { .kill($0, signal: SIGKILL) }
                + others.map { .awaitExit($0) } + [.closeSockets, .reportStartFailure("port 7272 is in use"), .exit(1)])
    }

    func testStartFailsWhenAChildIsNotReadyWithinAMinute() {
        var master = MasterHarness()
        master.forkEverySpawn(master.machine.start(now: master.clock))
        for child in master.machine.children.dropLast() { _ = master.ready(child.id) }
        master.advance(59)
        XCTAssertEqual(master.tick(), [])
        master.advance(1)
        XCTAssertEqual(
            master.tick().first, .log(.error, "start-up failed: timed out waiting for worker 1 to become ready"))
    }

    func testACrashedWorkerIsRestartedByTimerWhenThePolicysDelayHasPassed() {
        var master = MasterHarness.running()
        let worker = master.slot(.worker, 0)
        let pid = master.pid(of: worker)
        master.advance(60)
        XCTAssertEqual(
            master.exit(worker, .killed(signal: SIGSEGV)),
            [
                .log(.error, "worker 0 (pid \(pid)) was killed by signal 11 (SIGSEGV) after 60.0 s"),
                .log(.info, "restarting worker 0 in 100 ms"),
            ])
        XCTAssertEqual(master.machine.child(worker)?.state.name, "restarting")

        let due = master.machine.nextWakeUp(now: master.clock)
        XCTAssertEqual(due.timeIntervalSince(master.clock), 0.1, accuracy: 1e-6, "a stable child comes back at once")
        var early = master
        early.clock = due.addingTimeInterval(-0.001)
        XCTAssertEqual(early.tick().spawned, [], "not before the delay")
        master.clock = due
        XCTAssertEqual(master.tick(), [.spawn(worker)])
        master.forkEverySpawn([.spawn(worker)])
        XCTAssertEqual(master.tick(), [], "started once")

        XCTAssertEqual(master.machine.child(worker)?.restarts, 1)
        XCTAssertEqual(master.machine.exitCounts, ["register": 0, "gateway": 0, "worker": 1])
    }

    func testACleanExitIsRestartedButNotCountedAsACrash() {
        var master = MasterHarness.running()
        let gateway = master.slot(.gateway, 0)
        master.advance(20)
        XCTAssertEqual(
            master.exit(gateway, .exited(status: 0)).first, .log(.info, "gateway 0 (pid 101) exited with status 0 after 20.0 s"))
        XCTAssertEqual(master.machine.exitCounts["gateway"], 0)
        XCTAssertEqual(master.machine.child(gateway)?.restarts, 1)
    }

    func testQuickFailuresBackOffAndTheThirdInARowIsCalledACrashLoop() {
        var master = MasterHarness.running()
        let worker = master.slot(.worker, 1)
        var delays: [Double] = []
        var restartLines: [String] = []
        for _ in 0..<4 {
            master.advance(0.5)  // each start dies half a second in
            let exit = master.exit(worker, .exited(status: 255))
            restartLines += exit.logLines.filter { $0.contains("restarting") || $0.contains("crash-looping") }
            let due = master.machine.nextWakeUp(now: master.clock)
            delays.append((due.timeIntervalSince(master.clock) * 1000).rounded())
            master.clock = due
            let restart = master.tick()
            XCTAssertEqual(restart.spawned, [worker])
            master.forkEverySpawn(restart)
        }
        XCTAssertEqual(delays, [100, 200, 400, 800])
        XCTAssertEqual(
            restartLines,
            [
                "restarting worker 1 in 100 ms", "restarting worker 1 in 200 ms",
                "worker 1 is crash-looping (3 quick failures in a row); next start in 400 ms",
                "worker 1 is crash-looping (4 quick failures in a row); next start in 800 ms",
            ])
        let status = master.machine.childProcesses(now: master.clock) { _ in 0 }.first { $0.role == .worker && $0.index == 1 }
        XCTAssertEqual(status?.details["crash_loop"], "4 quick failures in a row")
        XCTAssertEqual(status?.restarts, 4)
        XCTAssertEqual(master.machine.exitCounts["worker"], 4)

        master.advance(10)  // a stable run forgives the loop
        XCTAssertEqual(master.exit(worker, .exited(status: 255)).last, .log(.info, "restarting worker 1 in 100 ms"))
    }

    func testNoRestartWhileStopping() {
        var master = MasterHarness.running()
        _ = master.machine.stop(requester: nil, graceful: false, now: master.clock)
        let worker = master.slot(.worker, 0)
        XCTAssertEqual(master.exit(worker, .killed(signal: SIGTERM)), [.log(.debug, "worker 0 exited (was killed by signal 15 (SIGTERM))")])
        master.advance(1)
        XCTAssertEqual(master.tick().spawned, [])
        XCTAssertEqual(master.machine.exitCounts["worker"], 0)
    }
}

import Foundation
import GatewayCore
import XCTest

@testable import GatewaySupervisor

/// What the master tells systemd (`$NOTIFY_SOCKET`) around reloads and stops: RELOADING=1 when
/// a reload begins, READY=1 again when it ends either way (before `gatewayd reload` returns),
/// STOPPING=1 when a stop begins; nothing for a reload refused before it started.
final class SupervisorServiceManagerTests: XCTestCase {
    private let requester = RequesterID(rawValue: 3)
    private static let plugin = ["plugin": "app", "plugin_version": "1.0", "plugin_sha256": String(repeating: "a", count: 64)]

    private func told(_ actions: [SupervisorAction]) -> [ServiceState] {
        actions.compactMap { if case .tellServiceManager(let state) = $0 { state } else { nil } }
    }

    func testAReloadEndsWithReadyBeforeTheRequesterHears() {
        var master = MasterHarness.running(workerInfo: Self.plugin)
        let newWorkers = master.reloadUntilNewGenerationStarts(requester: requester)
        var last: [SupervisorAction] = []
        for worker in newWorkers { last = master.ready(worker, info: SupervisorReloadTests.newPlugin) }
        XCTAssertEqual(told(last), [], "the old generation still drains")
        var done: [SupervisorAction] = []
        for old in master.machine.children where old.purpose == .retiring { done = master.exit(old.id, .exited(status: 0)) }
        XCTAssertEqual(told(done), [.reloaded])
        let respond = done.firstIndex { if case .respond = $0 { true } else { false } }
        XCTAssertLessThan(done.firstIndex(of: .tellServiceManager(.reloaded))!, respond!)
    }

    func testAFailedReloadIsReadyAgainAndARefusedOneSaysNothing() {
        var master = MasterHarness.running(workerInfo: Self.plugin)
        let start = master.machine.reload(requester: requester, pluginIsReadable: true, now: master.clock)
        XCTAssertEqual(told(start), [.reloading])
        XCTAssertLessThan(
            start.firstIndex(of: .tellServiceManager(.reloading))!, start.firstIndex { if case .spawn = $0 { true } else { false } }!)
        master.forkEverySpawn(start)
        let busy = master.machine.reload(requester: RequesterID(rawValue: 4), pluginIsReadable: true, now: master.clock)
        XCTAssertEqual(told(busy), [], "a refused reload never began")
        let canary = start.spawned[0]
        _ = master.machine.received(ControlMessage(kind: .fatal, reason: "bad plugin"), from: canary, now: master.clock)
        let failed = master.exit(canary, .exited(status: 1))
        XCTAssertEqual(told(failed), [.reloaded])
        XCTAssertEqual(told(master.machine.reload(requester: nil, pluginIsReadable: false, now: master.clock)), [])
    }

    func testAStopSaysStoppingOnce() {
        var master = MasterHarness.running()
        let stop = master.machine.terminationSignal(now: master.clock)
        XCTAssertEqual(told(stop), [.stopping])
        XCTAssertEqual(told(master.machine.stop(requester: requester, graceful: false, now: master.clock)), [], "joins the stop")
    }
}

import Foundation
import GatewayCore
import GatewayMetrics
import Logging
import XCTest

@testable import GatewaySupervisor

/// `gatewayd reload`: a canary, then a new generation, then the old one drains (or is killed at
/// the drain timeout); any failure on the way leaves the old generation serving.
final class SupervisorReloadTests: XCTestCase {
    static let oldPlugin = ["plugin": "app", "plugin_version": "1.0", "plugin_sha256": String(repeating: "a", count: 64)]
    static let newPlugin = ["plugin": "app", "plugin_version": "1.1", "plugin_sha256": String(repeating: "b", count: 64)]
    let requester = RequesterID(rawValue: 7)

    func testANewGenerationThatServesReplacesTheOldOne() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let old = [master.slot(.worker, 0), master.slot(.worker, 1)]
        let startedAt = master.clock
        let newWorkers = master.reloadUntilNewGenerationStarts(requester: requester)

        let first = master.ready(newWorkers[0], info: Self.newPlugin)
        XCTAssertEqual(first.sent(.drain), [], "the old generation serves until all new workers do")
        let last = master.ready(newWorkers[1], info: Self.newPlugin)
        XCTAssertEqual(last.sent(.drain), old)
        XCTAssertTrue(last.logLines.contains("reload: generation 1 serving; draining 2 old workers"))
        XCTAssertEqual(
            master.machine.childProcesses(now: master.clock) { _ in 0 }.filter { $0.state == "draining" }.count, 2)

        master.advance(1)
        XCTAssertEqual(master.exit(old[0], .exited(status: 0)), [], "one still drains")
        let done = master.exit(old[1], .exited(status: 0))
        XCTAssertEqual(
            done.logLines,
            ["reload done: app 1.0 (sha256 aaaaaaaaaaaa) -> app 1.1 (sha256 bbbbbbbbbbbb); 2 workers replaced, 0 killed, 1.2 s"])
        XCTAssertTrue(done.contains(.removePluginCopies(keeping: String(repeating: "b", count: 64))))
        XCTAssertTrue(done.contains(.reloadFinished(.done, seconds: master.clock.timeIntervalSince(startedAt), killedWorkers: 0)))
        let report = done.responses(to: requester).first?.reload
        XCTAssertEqual(report?.replaced, 2)
        XCTAssertEqual(report?.killed, 0)
        XCTAssertEqual(report?.seconds ?? 0, master.clock.timeIntervalSince(startedAt), accuracy: 1e-6)

        XCTAssertNil(master.machine.reload)
        XCTAssertEqual(master.machine.generation, 1)
        let workers = master.machine.children.filter { $0.role == .worker }
        XCTAssertEqual(workers.map(\.id), newWorkers)
        XCTAssertEqual(workers.map(\.name), ["worker 0 (generation 1)", "worker 1 (generation 1)"])
    }

    func testAReloadTellsEveryGatewayToReadItsCertificateAgain() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin) { $0.gatewayCount = 2 }
        let reload = master.machine.reload(requester: requester, pluginIsReadable: true, certificates: .readable, now: master.clock)
        XCTAssertEqual(reload.sent(.reloadTLS), [master.slot(.gateway, 0), master.slot(.gateway, 1)])
        XCTAssertTrue(reload.logLines.contains("reload: 2 gateways read their TLS certificate again"))
        XCTAssertEqual(reload.spawned.count, 1, "and the workers' reload goes on: the canary")
        XCTAssertEqual(master.machine.reload?.certificatesReloaded, 2)
    }

    func testACertificateThatCannotServeRefusesTheReloadAndChangesNothing() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let reason = "tls_certificate /etc/gatewayd/cert.pem: no such file"
        let reload = master.machine.reload(requester: requester, pluginIsReadable: true, certificates: .unusable(reason), now: master.clock)
        XCTAssertEqual(reload.sent(.reloadTLS), [])
        XCTAssertEqual(reload.spawned, [])
        XCTAssertEqual(
            reload.responses(to: requester), [ControlResponse(ok: false, error: "\(reason); the gateways keep the certificate they serve")])
        XCTAssertNil(master.machine.reload)
    }

    func testAHostWithoutWorkersReloadsItsCertificatesOnly() {
        var master = MasterHarness.running { $0.roles = [.gateway] }
        let reload = master.machine.reload(requester: requester, pluginIsReadable: false, certificates: .readable, now: master.clock)
        XCTAssertEqual(reload.sent(.reloadTLS), [master.slot(.gateway, 0)])
        XCTAssertEqual(reload.spawned, [])
        let report = reload.responses(to: requester).first?.reload
        XCTAssertEqual(report?.certificatesReloaded, 1)
        XCTAssertEqual(report?.newPlugin, [:])
        XCTAssertNil(master.machine.reload, "nothing left in progress")
        // Without a wss:// listener it is refused as before.
        let plain = master.machine.reload(requester: requester, pluginIsReadable: false, now: master.clock)
        XCTAssertEqual(plain.responses(to: requester).first?.ok, false)
    }

    func testARefusedCanaryLeavesTheOldGenerationServing() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let before = master.machine.children
        let reload = master.machine.reload(requester: requester, pluginIsReadable: true, now: master.clock)
        XCTAssertEqual(reload.logLines, ["reload: starting a canary for /plugins/app.so"])
        let canary = reload.spawned[0]
        master.forkEverySpawn(reload)
        XCTAssertEqual(master.machine.childProcesses(now: master.clock) { _ in 0 }.last?.state, "canary")

        let fatal = master.machine.received(
            ControlMessage(kind: .fatal, reason: "on_worker_start returned -1"), from: canary, now: master.clock)
        XCTAssertEqual(fatal, [.log(.error, "canary (generation 1) cannot run: on_worker_start returned -1")])
        let exit = master.exit(canary, .exited(status: 1))
        XCTAssertEqual(
            exit,
            [
                .log(.error, "reload failed: the new plugin was refused: on_worker_start returned -1; the running workers keep serving"),
                .reloadFinished(.failed, seconds: 0, killedWorkers: 0),
                .tellServiceManager(.reloaded),
                .respond(requester, ControlResponse(ok: false, error: "the new plugin was refused: on_worker_start returned -1")),
            ])
        XCTAssertNil(master.machine.reload)
        XCTAssertEqual(master.machine.generation, 0)
        XCTAssertEqual(master.machine.children.map(\.id), before.map(\.id), "the canary is gone, nobody else changed")
        XCTAssertEqual(master.machine.children.map(\.pid), before.map(\.pid))
        XCTAssertEqual(master.machine.exitCounts["worker"], 0, "a canary is not a crash")

        let again = master.machine.reload(requester: nil, pluginIsReadable: true, now: master.clock)
        XCTAssertEqual(again.spawned.count, 1, "the next reload may start at once")
    }

    func testANewWorkerThatDiesWhileStartingFailsTheReload() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let old = [master.slot(.worker, 0), master.slot(.worker, 1)]
        let newWorkers = master.reloadUntilNewGenerationStarts(requester: requester)
        let survivor = master.pid(of: newWorkers[1])

        let crash = master.exit(newWorkers[0], .killed(signal: SIGSEGV))
        XCTAssertTrue(crash.contains(.log(.info, "restarting worker 0 (generation 1) in 100 ms")))
        XCTAssertEqual(crash.killed, [newWorkers[1]], "the rest of the new generation goes")
        XCTAssertEqual(
            crash.responses(to: requester),
            [ControlResponse(ok: false, error: "worker 0 (generation 1) was killed by signal 11 (SIGSEGV) while starting: see the log")])
        XCTAssertEqual(master.machine.generation, 0)
        XCTAssertNil(master.machine.child(newWorkers[0]), "its pending restart is dropped")

        XCTAssertEqual(master.machine.child(newWorkers[1])?.pid, survivor)
        XCTAssertEqual(master.exit(newWorkers[1], .killed(signal: SIGKILL)), [], "reaped as a throwaway")
        master.advance(1)
        XCTAssertEqual(master.tick().spawned, [])
        XCTAssertEqual(master.machine.children.filter { $0.role == .worker }.map(\.id), old)
        XCTAssertTrue(master.machine.children.allSatisfy { $0.purpose == .serving && $0.state == .ready })
    }

    func testAThrowawayOfAFailedReloadReapedDuringTheNextReloadIsNotTakenForItsCanary() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let newWorkers = master.reloadUntilNewGenerationStarts(requester: requester)
        let crash = master.exit(newWorkers[0], .killed(signal: SIGSEGV))
        XCTAssertEqual(crash.killed, [newWorkers[1]])

        let next = master.machine.reload(requester: nil, pluginIsReadable: true, now: master.clock)
        master.forkEverySpawn(next)
        XCTAssertEqual(master.exit(newWorkers[1], .killed(signal: SIGKILL)), [], "the first reload's throwaway, reaped late")
        XCTAssertNotNil(master.machine.reload, "the second reload goes on")
        let canary = next.spawned[0]
        _ = master.ready(canary, info: Self.newPlugin)
        XCTAssertEqual(master.exit(canary, .exited(status: 0)).spawned.count, 2, "its own canary's exit starts the generation")
    }

    func testOldWorkersStillDrainingAtTheDrainTimeoutAreKilledAndCounted() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin) { $0.drainTimeoutMilliseconds = 2000 }
        let old = [master.slot(.worker, 0), master.slot(.worker, 1)]
        let newWorkers = master.reloadUntilNewGenerationStarts(requester: requester)
        _ = master.ready(newWorkers[0], info: Self.newPlugin)
        _ = master.ready(newWorkers[1], info: Self.newPlugin)
        let drainingSince = master.clock

        master.advance(0.5)
        XCTAssertEqual(master.exit(old[0], .exited(status: 0)), [])
        var early = master
        early.clock = drainingSince.addingTimeInterval(1.5)
        XCTAssertEqual(early.machine.nextWakeUp(now: early.clock), drainingSince.addingTimeInterval(2), "woken at the drain timeout, not up to 1 s late")
        early.clock = drainingSince.addingTimeInterval(1.9)
        XCTAssertEqual(early.tick(), [])

        master.clock = drainingSince.addingTimeInterval(2)
        XCTAssertEqual(
            master.tick(), [.log(.warning, "worker 1 did not finish draining in time; killing it"), .kill(old[1], signal: SIGKILL)])
        master.advance(1)
        XCTAssertEqual(master.tick(), [], "killed once")

        let done = master.exit(old[1], .killed(signal: SIGKILL))
        XCTAssertFalse(done.logLines.contains { $0.contains("while draining") }, "a kill at the timeout is no drain failure")
        XCTAssertTrue(done.logLines[0].hasSuffix("; 1 workers replaced, 1 killed, 3.2 s"), done.logLines[0])
        XCTAssertTrue(done.contains { if case .reloadFinished(.done, _, killedWorkers: 1) = $0 { true } else { false } }, "\(done)")
        let report = done.responses(to: requester).first?.reload
        XCTAssertEqual(report?.replaced, 1)
        XCTAssertEqual(report?.killed, 1)
    }

    func testACanaryThatDoesNotLoadWithinThirtySecondsIsKilled() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        let reload = master.machine.reload(requester: requester, pluginIsReadable: true, now: master.clock)
        master.forkEverySpawn(reload)
        let canary = reload.spawned[0]
        master.advance(29.9)
        XCTAssertEqual(master.tick(), [])
        master.advance(0.1)
        let timeout = master.tick()
        XCTAssertEqual(timeout.killed.first, canary)
        XCTAssertEqual(
            timeout.responses(to: requester),
            [ControlResponse(ok: false, error: "the canary did not load the new plugin within 30 s")])
        XCTAssertEqual(master.exit(canary, .killed(signal: SIGKILL)), [])
        XCTAssertFalse(master.machine.children.contains { $0.id == canary })
    }

    func testAReloadIsRefusedWhileAnotherRunsOrWithoutAPluginFile() {
        var master = MasterHarness.running(workerInfo: Self.oldPlugin)
        XCTAssertEqual(
            master.machine.reload(requester: requester, pluginIsReadable: false, now: master.clock),
            [
                .log(.warning, "reload refused: plugin not found or not readable: /plugins/app.so; the running workers keep serving"),
                .reloadFinished(.refused, seconds: nil, killedWorkers: 0),
                .respond(
                    requester, ControlResponse(ok: false, error: "plugin not found or not readable: /plugins/app.so; the running workers keep serving")),
            ])
        master.forkEverySpawn(master.machine.reload(requester: nil, pluginIsReadable: true, now: master.clock))
        master.advance(0.5)
        XCTAssertEqual(
            master.machine.reload(requester: nil, pluginIsReadable: true, now: master.clock).logLines,
            ["reload refused: a reload is already in progress (started 500 ms ago); try again when it has finished"])
    }
}

extension MasterHarness {
    /// Reload: the canary loads `newPlugin`, exits cleanly, and the new generation is forked.
    /// Returns the new workers' slots.
    mutating func reloadUntilNewGenerationStarts(requester: RequesterID) -> [ChildID] {
        let reload = machine.reload(requester: requester, pluginIsReadable: true, now: clock)
        let canary = reload.spawned[0]
        forkEverySpawn(reload)
        advance(0.1)
        _ = ready(canary, info: SupervisorReloadTests.newPlugin)
        advance(0.1)
        let accepted = exit(canary, .exited(status: 0))
        precondition(
            accepted.logLines == ["reload: canary accepted app 1.1 (sha256 bbbbbbbbbbbb); starting generation 1"], "\(accepted)")
        forkEverySpawn(accepted)
        return accepted.spawned
    }
}

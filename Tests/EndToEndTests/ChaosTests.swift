import Foundation
import XCTest

/// Faults under load, each with exact accounting (issue 15): 2 gateways and 2 workers, 100
/// clients each keeping 4 messages in flight, every reply checked in order (`PipelinedLoad`).
/// Each test states what the fault may cost, checks that nothing else was lost, and that the
/// cluster is back to full service — every role running, the register and every gateway seeing
/// every peer, a new client on every gateway served — and prints how long that took.
final class ChaosTests: XCTestCase {
    private var clusters: [GatewaydProcess] = []

    override func tearDown() {
        for cluster in clusters { cluster.killLeftovers() }
        clusters = []
        super.tearDown()
    }

    private func startCluster() throws -> (GatewaydProcess, PipelinedLoad) {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 2, workerCount: 2)
        clusters.append(cluster)
        let load = try PipelinedLoad(cluster: cluster, clients: 100, messagesPerClient: 20)
        XCTAssertEqual(Set(load.clientGatewayPorts).count, 2, "the clients are spread over both gateways")
        return (cluster, load)
    }

    /// The pid and inner port of gateway `index`.
    private func gateway(_ index: Int, of cluster: GatewaydProcess) throws -> (pid: Int32, port: Int) {
        let entry = try XCTUnwrap(try cluster.status().processes(role: "gateway").first { $0.index == index })
        let port = Int(entry.details?["inner"]?.split(separator: ":").last ?? "") ?? 0
        return (entry.pid, port)
    }

    /// Waits until every role runs and sees its peers and a new client on each gateway is
    /// served; returns how long that took from `since`.
    private func waitForFullService(_ cluster: GatewaydProcess, since: ContinuousClock.Instant) throws -> Duration {
        var last = ""
        let back = try GatewaydProcess.poll(
            until: {
                let status = try cluster.status()
                let gateways = status.processes(role: "gateway")
                let register = status.processes(role: "register").first
                last = "\(status.processes.map { "\($0.role)[\($0.pid)] \($0.details ?? [:])" })"
                return gateways.count == 2 && status.processes(role: "worker").count == 2
                    && gateways.allSatisfy { $0.details?["workers"] == "2" && $0.details?["registers"] == "1/1" }
                    && register?.details?["gateways"] == "2" && register?.details?["workers"] == "2"
            }, timeout: .seconds(30), interval: .milliseconds(20))
        XCTAssertTrue(back, "not back to full service: \(last)")
        // A new client on each gateway (connections are spread by the kernel's hash).
        var served: Set<Int> = []
        for attempt in 0..<40 where served.count < 2 {
            let client = try cluster.connect()
            defer { client.close() }
            try client.sendText("id:")
            let id = String(try client.receiveText().dropFirst(3))
            try client.sendText("echo:\(attempt)")
            try client.expectText("echo:\(attempt)")
            served.insert(PipelinedLoad.gatewayPort(ofClientID: id))
        }
        XCTAssertEqual(served.count, 2, "new clients are served on both gateways")
        return ContinuousClock.now - since
    }

    private func report(_ fault: String, _ took: Duration) {
        print("chaos: \(fault): back to full service in \(Int(took / .milliseconds(1))) ms")
    }

    func testKillingAWorkerLosesNothing() throws {
        let (cluster, load) = try startCluster()
        let victim = load.workerPIDs[0]
        var killedAt: ContinuousClock.Instant?
        try load.run { answered in
            if killedAt == nil && answered >= 600 {
                killedAt = .now
                kill(victim, SIGKILL)
            }
        }
        let gateways = try cluster.status().processes(role: "gateway")
        XCTAssertTrue(gateways.allSatisfy { $0.details?["events_lost"] == nil }, "\(gateways.map { $0.details ?? [:] })")
        report("kill -9 of a worker", try waitForFullService(cluster, since: try XCTUnwrap(killedAt)))
        try cluster.stop()
    }

    func testKillingAGatewayLosesItsConnectionsAndNothingElse() throws {
        let (cluster, load) = try startCluster()
        let (victim, port) = try gateway(0, of: cluster)
        let itsClients = Set(load.clientGatewayPorts.indices.filter { load.clientGatewayPorts[$0] == port })
        load.mayDrop = itsClients
        var killedAt: ContinuousClock.Instant?
        try load.run { answered in
            if killedAt == nil && answered >= 600 {
                killedAt = .now
                kill(victim, SIGKILL)
            }
        }
        XCTAssertEqual(load.dropped, itsClients, "exactly the killed gateway's clients lost their connection")
        report("kill -9 of a gateway", try waitForFullService(cluster, since: try XCTUnwrap(killedAt)))
        XCTAssertNotEqual(try gateway(0, of: cluster).pid, victim, "restarted")
        try cluster.stop()
    }

    func testKillingTheRegisterLosesNothing() throws {
        let (cluster, load) = try startCluster()
        let victim = try XCTUnwrap(try cluster.status().processes(role: "register").first).pid
        var killedAt: ContinuousClock.Instant?
        try load.run { answered in
            if killedAt == nil && answered >= 600 {
                killedAt = .now
                kill(victim, SIGKILL)
            }
        }
        report("kill -9 of the register", try waitForFullService(cluster, since: try XCTUnwrap(killedAt)))
        XCTAssertNotEqual(try XCTUnwrap(try cluster.status().processes(role: "register").first).pid, victim)
        try cluster.stop()
    }

    func testStoppingAGatewayFor2SecondsLosesNothing() throws {
        let (cluster, load) = try startCluster()
        let (victim, _) = try gateway(0, of: cluster)
        var stoppedAt: ContinuousClock.Instant?
        try load.run { answered in
            if stoppedAt == nil && answered >= 600 {
                stoppedAt = .now
                kill(victim, SIGSTOP)
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) { kill(victim, SIGCONT) }
            }
        }
        let since = try XCTUnwrap(stoppedAt)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - since, .seconds(2), "the run waited for the stopped gateway")
        XCTAssertEqual(try gateway(0, of: cluster).pid, victim, "not restarted: it was only stopped")
        report("SIGSTOP of a gateway for 2 s (from SIGSTOP)", try waitForFullService(cluster, since: since))
        try cluster.stop()
    }

    /// The master's children die with it (PR_SET_PDEATHSIG): a host whose master is killed
    /// goes down whole, nothing half-running, and a new `gatewayd start` on the same run
    /// directory serves again (systemd's Restart= does this in production).
    func testKillingTheMasterTakesTheHostDownWholeAndItStartsAgain() throws {
        let (cluster, load) = try startCluster()
        _ = try cluster.status()  // every child's pid known, for the leftover check
        load.mayDrop = Set(load.clientIDs.indices)
        var killedAt: ContinuousClock.Instant?
        try load.run { answered in
            if killedAt == nil && answered >= 600 {
                killedAt = .now
                kill(cluster.masterPID, SIGKILL)
            }
        }
        XCTAssertEqual(load.dropped.count, 100, "every client's connection closed, none left hanging")
        XCTAssertTrue(GatewaydProcess.poll(until: { cluster.leftoverPIDs().isEmpty }, timeout: .seconds(5)),
                      "left running: \(cluster.leftoverPIDs().map(ProcessTable.describe))")
        cluster.killLeftovers()

        let plugin = try ConformancePlugin.c.path()
        let again = try GatewaydProcess.start(runDirectory: cluster.runDirectory) { runDirectory in
            GatewaydProcess.startArguments(runDirectory: runDirectory, plugin: plugin, gatewayCount: 2, workerCount: 2)
        }
        clusters.append(again)
        report("kill -9 of the master, then gatewayd start", try waitForFullService(again, since: try XCTUnwrap(killedAt)))
        try again.stop()
    }
}

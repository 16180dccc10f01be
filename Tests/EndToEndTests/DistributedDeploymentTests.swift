import Foundation
import XCTest

/// gatewayd spread over hosts that are real network namespaces (``NetworkLab``): a register on
/// one, a gateway on each of two more, workers on a fourth, WebSocket clients on a fifth — and
/// what happens when a gateway host stops, a gateway's cable is cut, the first register goes
/// down, or a worker host joins while traffic flows.
///
/// Inner heartbeats are short here (every 200 ms, silent for 1 s = gone), so a cut is found
/// within 1.2 s by design; the checks allow for the time `gatewayd status` takes to ask.
final class DistributedDeploymentTests: XCTestCase {
    private static let heartbeatInterval = 200
    private static let heartbeatTimeout = 1000
    private static let registerPort = 1236
    private static let clientPort = 7272
    private static let innerPort = 2900
    /// Inner ports on the lab's network need one (InnerPortPolicy), as on a real LAN.
    private static let secretKey = "lab-secret"

    private var lab: NetworkLab?
    private let clusters = LabClusters()
    private var configDirectory: String?

    override func tearDown() {
        // Every host must stop cleanly.
        let passing = (testRun?.failureCount ?? 0) == 0
        for problem in clusters.stopAll() where passing { XCTFail(problem) }
        lab?.tearDown()
        lab = nil
        if let configDirectory { try? FileManager.default.removeItem(atPath: configDirectory) }
        super.tearDown()
    }

    // MARK: - The tests

    func testMessagesCrossHostsForAllUidsGroupsAndTargetedSends() throws {
        let lab = try makeLab(["reg", "gw1", "gw2", "wk", "cl"])
        let registers = [lab["reg"]]
        try startRegister(on: lab["reg"], registers: registers)
        try startGateway(on: lab["gw1"], registers: registers)
        let workers = try startWorkers(on: lab["wk"], registers: registers)
        try waitForWorkers(of: workers, toSee: 1)

        // A gateway that joins is used by every worker within a second.
        let gateway2 = try startGateway(on: lab["gw2"], registers: registers)
        let joined = try waitUntil("both workers attached to the gateway that joined", timeout: .seconds(5)) {
            try gatewayDetails(gateway2).first?["workers"] == "2"
        }
        XCTAssertLessThan(joined, .seconds(1), "a joining gateway must be used by every worker within a second")

        let c1 = try connect(to: lab["gw1"])
        let c2 = try connect(to: lab["gw2"])
        let id1 = try clientID(of: c1)
        let id2 = try clientID(of: c2)
        // client ids carry the announcing gateway's lan ip and inner port: 10.213.1.2:2900 / .3.
        XCTAssertTrue(id1.hasPrefix("0ad501020b54"), id1)
        XCTAssertTrue(id2.hasPrefix("0ad501030b54"), id2)

        try c1.sendText("all:to-everyone")
        try c1.expectText("to-everyone")
        try c2.expectText("to-everyone")

        try c2.sendText("uid:bob")
        try c2.expectText("uid:bob")
        try c1.sendText("touid:bob:for-bob")
        try c2.expectText("for-bob")

        try c1.sendText("join:room")
        try c1.expectText("joined:room")
        try c2.sendText("join:room")
        try c2.expectText("joined:room")
        try c2.sendText("group:room:to-the-room")
        try c1.expectText("to-the-room")
        try c2.expectText("to-the-room")

        try c2.sendText("to:\(id1):just-you")
        try c1.expectText("just-you")
        try c1.sendText("count:")
        try c1.expectText("count:2")
        try c1.sendText("online:\(id2)")
        try c1.expectText("online:1")
        try c2.expectNoMessage(within: .milliseconds(200))  // the targeted sends reached only their client

        // A GatewayClient outside the cluster (here on the client host) finds both gateways too.
        let pushed = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: lab["cl"].launcher[0]),
            Array(lab["cl"].launcher.dropFirst()) + [
                try GatewaydProcess.binaryURL().path, "client", "send-to-all", "pushed", "--register", registerList(registers),
                "--secret-key", Self.secretKey,
            ], timeout: .seconds(30))
        XCTAssertEqual(pushed.exitCode, 0, "\(pushed)")
        try c1.expectText("pushed")
        try c2.expectText("pushed")
    }

    func testStoppingOneGatewayHostLeavesTheOtherHostsClientsServed() throws {
        let (register, _, gateway2, workers) = try startFourHosts(try makeLab(["reg", "gw1", "gw2", "wk", "cl"]))
        let c1 = try connect(to: lab!["gw1"])
        let c2 = try connect(to: lab!["gw2"])
        try c1.sendText("count:")
        try c1.expectText("count:2")

        try gateway2.stop()
        XCTAssertTrue(try c2.receive(timeout: .seconds(5)).isConnectionEnd, "the stopped gateway's client was not closed")

        try waitUntil("the register lists one gateway", timeout: .seconds(5)) {
            try registerDetails(register)["gateways"] == "1"
        }
        try waitForWorkers(of: workers, toSee: 1)
        try c1.sendText("count:")
        try c1.expectText("count:1")
        try c1.sendText("all:still-here")
        try c1.expectText("still-here")
        try c1.sendText("echo:served")
        try c1.expectText("echo:served")
    }

    func testACutGatewayIsFoundByHeartbeatStopsBeingRoutedToAndComesBack() throws {
        let lab = try makeLab(["reg", "gw1", "gw2", "wk", "cl"])
        let (register, gateway1, gateway2, workers) = try startFourHosts(lab)
        let c1 = try connect(to: lab["gw1"])
        let c2 = try connect(to: lab["gw2"])
        defer { withExtendedLifetime(c2) {} }
        try c1.sendText("count:")
        try c1.expectText("count:2")

        // Pull gw2's cable: its sockets stay open, no FIN or RST ever arrives.
        let cutAt = ContinuousClock.now
        try lab.cut(lab["gw2"])
        // Found by heartbeat within timeout + interval (1.2 s); asking `status` adds a little.
        let bound = Duration.milliseconds(Self.heartbeatTimeout + Self.heartbeatInterval) + .milliseconds(800)
        try waitForWorkers(of: workers, toSee: 1)
        XCTAssertLessThan(ContinuousClock.now - cutAt, bound, "the workers took too long to drop the silent gateway")
        try waitUntil("the register drops the silent gateway", timeout: .seconds(10)) {
            try registerDetails(register)["gateways"] == "1"
        }
        XCTAssertLessThan(ContinuousClock.now - cutAt, bound, "the register took too long to drop the silent gateway")
        XCTAssertEqual(try registerDetails(register)["heartbeat_timeouts"], "1")
        // The cut gateway, on its side, found its workers and its register silent too.
        try waitUntil("the cut gateway closed its silent worker links", timeout: .seconds(10)) {
            let details = try gatewayDetails(gateway2).first ?? [:]
            return details["workers"] == "0" && details["registers"] == "0/1"
        }
        XCTAssertEqual(try gatewayDetails(gateway2).first?["inner_heartbeat_timeouts"], "2", "both workers timed out")

        // No longer routed to: a query answers at once from the gateway that is left, and
        // sends still reach the clients there.
        try c1.sendText("count:")
        try c1.expectText("count:1", timeout: .seconds(2))
        try c1.sendText("all:while-cut")
        try c1.expectText("while-cut")
        XCTAssertNil(try gatewayDetails(gateway1).first?["inner_heartbeat_timeouts"], "a healthy gateway timed a worker out")

        // Plugged back in, it registers again and the workers come back to it.
        try lab.restore(lab["gw2"])
        try waitForWorkers(of: workers, toSee: 2)
        try waitUntil("the register lists the gateway again", timeout: .seconds(10)) {
            try registerDetails(register)["gateways"] == "2"
        }
        let c3 = try connect(to: lab["gw2"])
        try c3.sendText("echo:back")
        try c3.expectText("echo:back")
        try c1.sendText("all:together-again")
        try c1.expectText("together-again")
        try c3.expectText("together-again")
    }

    func testNewWorkersFindEveryGatewayThroughTheSecondRegisterWhenTheFirstIsDown() throws {
        let lab = try makeLab(["reg", "gw1", "gw2", "wk", "cl", "reg2", "wk2"])
        let registers = [lab["reg"], lab["reg2"]]
        let register1 = try startRegister(on: lab["reg"], registers: registers)
        let register2 = try startRegister(on: lab["reg2"], registers: registers)
        let gateway1 = try startGateway(on: lab["gw1"], registers: registers)
        let gateway2 = try startGateway(on: lab["gw2"], registers: registers)
        let workers = try startWorkers(on: lab["wk"], registers: registers)
        try waitForWorkers(of: workers, toSee: 2)
        // Gateways register with every register; each register binds its own address of the list.
        try waitUntil("both registers list both gateways", timeout: .seconds(10)) {
            try registerDetails(register1)["gateways"] == "2" && registerDetails(register2)["gateways"] == "2"
        }
        XCTAssertEqual(try registerDetails(register2)["listen"], "\(lab["reg2"].address):\(Self.registerPort)")
        XCTAssertEqual(try gatewayDetails(gateway1).first?["registers"], "2/2")
        let c1 = try connect(to: lab["gw1"])
        let c2 = try connect(to: lab["gw2"])

        try register1.stop()
        // Workers fail over to the second register; their links to the gateways never dropped.
        let second = "\(lab["reg2"].address):\(Self.registerPort)"
        try waitUntil("the workers use the second register", timeout: .seconds(10)) {
            try details(workers, role: "worker").allSatisfy { $0["register"] == second }
        }
        XCTAssertEqual(try details(workers, role: "worker").map { $0["gateways"] }, ["2", "2"])
        XCTAssertEqual(try gatewayDetails(gateway2).first?["registers"], "1/2")

        // A worker host started now tries the first register, gets no answer, and finds every
        // gateway through the second.
        let workers2 = try startWorkers(on: lab["wk2"], registers: registers)
        try waitForWorkers(of: workers2, toSee: 2)
        try workers.stop()
        try waitUntil("the gateways have only the new host's workers", timeout: .seconds(10)) {
            try gatewayDetails(gateway1).first?["workers"] == "2" && gatewayDetails(gateway2).first?["workers"] == "2"
        }
        let newWorkers = Set(try workers2.status().processes(role: "worker").map(\.pid))
        for client in [c1, c2] {
            try client.sendText("ver:")
            let reply = try client.receiveText()
            let pid = reply.split(separator: ":").last.flatMap { Int32($0) }
            XCTAssertTrue(pid.map(newWorkers.contains) ?? false, "\(reply) is not from a worker of the new host \(newWorkers)")
        }
        try c2.sendText("all:via-the-second-register")
        try c1.expectText("via-the-second-register")
        try c2.expectText("via-the-second-register")
    }

    func testAWorkerHostJoiningWhileTrafficFlowsLosesNothing() throws {
        let lab = try makeLab(["reg", "gw1", "gw2", "wk", "cl", "wk2"])
        let registers = [lab["reg"]]
        let (_, gateway1, gateway2, _) = try startFourHosts(lab)
        let clients = try [lab["gw1"], lab["gw1"], lab["gw2"], lab["gw2"]].map { try connect(to: $0) }

        let pump = EchoPump(clients: clients)
        pump.start()
        defer { _ = pump.stop() }
        try waitUntil("traffic flows", timeout: .seconds(10)) { pump.rounds >= 10 || pump.failure != nil }

        let workers2 = try startWorkers(on: lab["wk2"], registers: registers)
        try waitForWorkers(of: workers2, toSee: 2)
        try waitUntil("both gateways use all four workers", timeout: .seconds(10)) {
            try gatewayDetails(gateway1).first?["workers"] == "4" && gatewayDetails(gateway2).first?["workers"] == "4"
        }
        let joinedAt = pump.rounds
        try waitUntil("traffic flows on after the join", timeout: .seconds(20)) {
            pump.rounds >= joinedAt + 20 || pump.failure != nil
        }
        let result = pump.stop()
        XCTAssertNil(result.failure, "after \(result.rounds) rounds")
        XCTAssertGreaterThan(result.rounds, joinedAt)

        // The new host takes its share: a newcomer goes to a worker with the fewest clients.
        let newWorkers = Set(try workers2.status().processes(role: "worker").map(\.pid))
        let newcomer = try connect(to: lab["gw1"])
        try newcomer.sendText("ver:")
        let reply = try newcomer.receiveText()
        XCTAssertTrue(
            reply.split(separator: ":").last.flatMap { Int32($0) }.map(newWorkers.contains) ?? false,
            "\(reply) is not from a worker of the new host \(newWorkers)")
    }

    /// A worker host's cable is pulled while 100 clients on two gateway hosts keep 4 messages
    /// each in flight: the gateways find its workers silent (timeout + interval) and send what
    /// those had not acknowledged to the workers on the other worker host — every message is
    /// answered exactly once, in order; replies the cut host wrote are never delivered twice
    /// (its links were closed before it is plugged back in).
    func testAWorkerHostCutUnderLoadLosesNothing() throws {
        let lab = try makeLab(["reg", "gw1", "gw2", "wk", "cl", "wk2"])
        let (register, gateway1, gateway2, workers) = try startFourHosts(lab)
        let workers2 = try startWorkers(on: lab["wk2"], registers: [lab["reg"]])
        try waitForWorkers(of: workers2, toSee: 2)
        try waitUntil("both gateways use all four workers", timeout: .seconds(10)) {
            try gatewayDetails(gateway1).first?["workers"] == "4" && gatewayDetails(gateway2).first?["workers"] == "4"
        }
        let clients = try (0..<100).map { try connect(to: lab[$0 % 2 == 0 ? "gw1" : "gw2"]) }
        let load = try PipelinedLoad(clients: clients, messagesPerClient: 20)
        let cutWorkers = Set(try workers.status().processes(role: "worker").map(\.pid))
        XCTAssertFalse(Set(load.clientWorkers).isDisjoint(with: cutWorkers), "some clients are served on the host to be cut")

        var cutAt: ContinuousClock.Instant?
        do {
            try load.run { answered in
                if cutAt == nil && answered >= 600 {
                    cutAt = .now
                    try? lab.cut(lab["wk"])
                }
            }
        } catch {
            throw GatewaydFixtureError("\(error)\n--- gw1 ---\n\(gateway1.stderrTail(3000))\n--- gw2 ---\n\(gateway2.stderrTail(3000))")
        }
        XCTAssertNotNil(cutAt)
        let resent = try [gateway1, gateway2].map { Int(try gatewayDetails($0).first?["events_resent"] ?? "") ?? 0 }.reduce(0, +)
        XCTAssertGreaterThan(resent, 0, "the cut host's unfinished events went to the other host")
        for gateway in [gateway1, gateway2] { XCTAssertNil(try gatewayDetails(gateway).first?["events_lost"]) }

        try lab.restore(lab["wk"])
        try waitForWorkers(of: workers, toSee: 2, timeout: .seconds(20))
        try waitUntil("the register lists all four workers", timeout: .seconds(10)) { try registerDetails(register)["workers"] == "4" }
        print("chaos: worker host cut: rejoined \(ContinuousClock.now - cutAt!) after the cut (the load ran on meanwhile)")
    }

    // MARK: - Hosts

    private func makeLab(_ hosts: [String]) throws -> NetworkLab {
        let lab = try NetworkLab(hosts: hosts)
        self.lab = lab
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-dist-")
        configDirectory = directory
        // The deployment's shared settings, as a real one keeps them: in a config file.
        try """
            secret_key: \(Self.secretKey)
            inner_heartbeat_interval_ms: \(Self.heartbeatInterval)
            inner_heartbeat_timeout_ms: \(Self.heartbeatTimeout)
            """.write(toFile: "\(directory)/cluster.yaml", atomically: true, encoding: .utf8)
        return lab
    }

    /// The register on `reg`, a gateway on each of `gw1` and `gw2`, two workers on `wk` —
    /// returned once every worker is linked to both gateways.
    private func startFourHosts(_ lab: NetworkLab) throws -> (
        register: GatewaydProcess, gateway1: GatewaydProcess, gateway2: GatewaydProcess, workers: GatewaydProcess
    ) {
        let registers = [lab["reg"]]
        let register = try startRegister(on: lab["reg"], registers: registers)
        let gateway1 = try startGateway(on: lab["gw1"], registers: registers)
        let gateway2 = try startGateway(on: lab["gw2"], registers: registers)
        let workers = try startWorkers(on: lab["wk"], registers: registers)
        try waitForWorkers(of: workers, toSee: 2)
        return (register, gateway1, gateway2, workers)
    }

    private func registerList(_ registers: [NetworkLab.Host]) -> String {
        registers.map { "\($0.address):\(Self.registerPort)" }.joined(separator: ",")
    }

    /// `gatewayd start --role <role> …` inside `host`, in the foreground, once it is ready.
    @discardableResult
    private func startHost(
        _ host: NetworkLab.Host, role: String, registers: [NetworkLab.Host], arguments: [String]
    ) throws -> GatewaydProcess {
        let config = "\(configDirectory!)/cluster.yaml"
        let registerList = registerList(registers)
        return try clusters.start(on: host) { runDirectory in
            ["start", "--run-dir", runDirectory, "--config", config, "--role", role, "--register", registerList] + arguments
        }
    }

    @discardableResult
    private func startRegister(on host: NetworkLab.Host, registers: [NetworkLab.Host]) throws -> GatewaydProcess {
        try startHost(host, role: "register", registers: registers, arguments: [])
    }

    @discardableResult
    private func startGateway(on host: NetworkLab.Host, registers: [NetworkLab.Host]) throws -> GatewaydProcess {
        try startHost(
            host, role: "gateway", registers: registers,
            arguments: [
                "--lan-ip", host.address, "--listen", "websocket://\(host.address):\(Self.clientPort)",
                "--start-port", "\(Self.innerPort)", "--gateway-count", "1",
            ])
    }

    private func startWorkers(on host: NetworkLab.Host, registers: [NetworkLab.Host]) throws -> GatewaydProcess {
        try startHost(
            host, role: "worker", registers: registers,
            arguments: ["--plugin", try ConformancePlugin.c.path(), "--worker-count", "2"])
    }

    /// A WebSocket client on the client host, connected to a gateway host.
    private func connect(to gateway: NetworkLab.Host) throws -> WebSocketTestClient {
        try lab!.run(in: lab!["cl"]) {
            try WebSocketTestClient.connect(host: gateway.address, port: Self.clientPort)
        }
    }

    private func clientID(of client: WebSocketTestClient) throws -> String {
        try client.sendText("id:")
        let reply = try client.receiveText()
        XCTAssertTrue(reply.hasPrefix("id:"), reply)
        return String(reply.dropFirst(3))
    }

    // MARK: - Status

    private func details(_ cluster: GatewaydProcess, role: String) throws -> [[String: String]] {
        try cluster.status().processes(role: role).map { $0.details ?? [:] }
    }

    private func gatewayDetails(_ cluster: GatewaydProcess) throws -> [[String: String]] {
        try details(cluster, role: "gateway")
    }

    private func registerDetails(_ cluster: GatewaydProcess) throws -> [String: String] {
        try details(cluster, role: "register").first ?? [:]
    }

    /// Waits until every worker of `cluster` has a live link to `count` gateways.
    private func waitForWorkers(of cluster: GatewaydProcess, toSee count: Int, timeout: Duration = .seconds(10)) throws {
        try waitUntil("every worker linked to \(count) gateway(s)", timeout: timeout) {
            let workers = try details(cluster, role: "worker")
            return !workers.isEmpty && workers.allSatisfy { $0["gateways"] == "\(count)" }
        }
    }

    /// Polls `condition` until it holds; fails the test (and throws) at the deadline. Returns
    /// how long it took.
    @discardableResult
    private func waitUntil(
        _ what: String, timeout: Duration, file: StaticString = #filePath, line: UInt = #line,
        _ condition: () throws -> Bool
    ) throws -> Duration {
        let started = ContinuousClock.now
        if try GatewaydProcess.poll(until: condition, timeout: timeout, interval: .milliseconds(50)) {
            return ContinuousClock.now - started
        }
        XCTFail("timed out after \(timeout) waiting until \(what)", file: file, line: line)
        throw GatewaydFixtureError("timed out waiting until \(what)")
    }
}

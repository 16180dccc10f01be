import Foundation
import XCTest

/// A gatewayd worker facing a PHP gateway (issue 15), played by hand on a socket and announced
/// to the cluster's register as GatewayWorker's Gateway announces itself.
final class PHPGatewayPeerTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// No CMD_PING heartbeat to a gateway that never pinged: a PHP gateway logs each as "gateway
    /// inner pack err cmd=201". A gateway that pings first — as gatewayd's do, right after the
    /// worker's WORKER_CONNECT — is pinged back.
    func testAWorkerPingsOnlyAGatewayThatPingedIt() throws {
        let (cluster, gateway, register) = try startWithPHPGateway(heartbeatIntervalMilliseconds: 100)
        let worker = try gateway.accept(timeout: .seconds(10))

        // 15 heartbeat intervals of what the worker sends a gateway that never pinged it.
        var commands: [UInt8] = []
        let quietUntil = ContinuousClock.now + .milliseconds(1500)
        while ContinuousClock.now < quietUntil, let command = try? Self.readFrame(from: worker, until: quietUntil) {
            commands.append(command)
        }
        XCTAssertEqual(commands.first, 200, "the worker's first frame is WORKER_CONNECT: \(commands)")
        XCTAssertFalse(commands.contains(201), "the worker pinged a gateway that never pinged it: \(commands)")

        // Now the gateway pings as gatewayd's do (CMD_PING with the body "gatewayd").
        var ping = [UInt8](repeating: 0, count: 28) + Array("gatewayd".utf8)
        ping[3] = UInt8(ping.count)
        ping[4] = 201
        try worker.write(ping)
        let pingedUntil = ContinuousClock.now + .seconds(3)
        var pinged = false
        while !pinged, ContinuousClock.now < pingedUntil, let command = try? Self.readFrame(from: worker, until: pingedUntil) {
            pinged = command == 201
        }
        XCTAssertTrue(pinged, "a gateway that pinged was not pinged back within 3 s")
        register.close()
        worker.close()
        try cluster.stop()
    }

    /// A PHP gateway closes, without a word, a worker whose key another worker on its host has
    /// ("Worker->name conflict"; a PHP BusinessWorker and a gatewayd worker both default to the
    /// name BusinessWorker). The gatewayd worker backs off instead of reconnecting at once — the
    /// two would take turns for ever — and says why once.
    func testAWorkerRefusedRightAfterItsHelloBacksOffAndSaysWhyOnce() throws {
        let (cluster, gateway, register) = try startWithPHPGateway(heartbeatIntervalMilliseconds: 1000)
        var attempts = 0
        let until = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < until, let worker = try? gateway.accept(timeout: until - .now) {
            XCTAssertEqual(try Self.readFrame(from: worker, until: .now + .seconds(5)), 200, "WORKER_CONNECT first")
            worker.close()
            attempts += 1
        }
        // Back-off from 100 ms doubling to 2 s: about 5 attempts in 3 s; at once, hundreds.
        XCTAssertGreaterThanOrEqual(attempts, 2)
        XCTAssertLessThanOrEqual(attempts, 10, "the worker reconnected \(attempts) times in 3 s")
        let lines = cluster.stderrTail(50000).split(separator: "\n").filter { $0.contains("closed our link right after WORKER_CONNECT") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("worker key BusinessWorker:0") == true, "\(lines)")
        XCTAssertTrue(lines.first?.contains("set worker_name") == true, "\(lines)")
        register.close()
        try cluster.stop()
    }

    /// A PHP gateway knows no drain (it answers DRAIN_REQUEST, 231, with "gateway inner pack
    /// err" and never sends the mark): at a reload the old worker asks it nothing, handles what
    /// it had read, writes the replies and closes its link, so the gateway sends the client's
    /// next events to the new worker — and the reload is not held for the 30 s drain timeout.
    func testAReloadClosesTheOldWorkersLinkToAPHPGatewayInsteadOfAskingForADrain() throws {
        let (cluster, gateway, register) = try startWithPHPGateway(heartbeatIntervalMilliseconds: 1000)
        let old = try gateway.accept(timeout: .seconds(10))
        XCTAssertEqual(try Self.readFrame(from: old, until: .now + .seconds(5)), 200, "WORKER_CONNECT first")
        try old.write(Self.onMessage("echo:before", gatewayPort: gateway.port))
        XCTAssertEqual(try Self.readReply(from: old), "echo:before")

        let started = ContinuousClock.now
        let reload = try ReloadTests.reload(runDirectory: cluster.runDirectory)
        let took = ContinuousClock.now - started
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        XCTAssertLessThan(took, .seconds(15), "the reload waited for a drain mark that never comes: \(reload)")

        // Until the old worker closed its link: no DRAIN_REQUEST.
        var commands: [UInt8] = []
        while let command = try? Self.readFrame(from: old, until: .now + .seconds(5)) { commands.append(command) }
        XCTAssertFalse(commands.contains(231), "a PHP gateway was asked to drain: \(commands)")
        XCTAssertTrue(old.isClosedByPeer(within: .seconds(1)), "the old worker kept its link to the PHP gateway")

        // The new worker attached to it and serves the client.
        let new = try gateway.accept(timeout: .seconds(10))
        XCTAssertEqual(try Self.readFrame(from: new, until: .now + .seconds(5)), 200, "WORKER_CONNECT first")
        try new.write(Self.onMessage("echo:after", gatewayPort: gateway.port))
        XCTAssertEqual(try Self.readReply(from: new), "echo:after")
        register.close()
        try cluster.stop()
    }

    /// CMD_ON_MESSAGE as a PHP gateway on 127.0.0.1:`gatewayPort` sends it, for its connection 7.
    private static func onMessage(_ text: String, gatewayPort: Int) -> [UInt8] {
        func be32(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        func be16(_ value: Int) -> [UInt8] { [8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        let body = Array(text.utf8)
        let loopback = 0x7F00_0001
        return be32(28 + body.count) + [3] + be32(loopback) + be16(gatewayPort) + be32(loopback) + be16(40000) + be32(7) + [1]
            + be16(7272) + be32(0) + body
    }

    /// The body of the next CMD_SEND_TO_ONE (5), skipping other frames.
    private static func readReply(from socket: TCPTestSocket) throws -> String {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let header = try socket.read(exactly: 28, timeout: deadline - .now)
            let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
            let extLength = Int(header[24]) << 24 | Int(header[25]) << 16 | Int(header[26]) << 8 | Int(header[27])
            let rest = length > 28 ? try socket.read(exactly: length - 28, timeout: .seconds(5)) : []
            if header[4] == 5 { return String(decoding: rest.dropFirst(extLength), as: UTF8.self) }
        }
        throw GatewaydFixtureError("no SEND_TO_ONE within 10 s")
    }

    /// A cluster (1 gateway, 1 worker) and a PHP gateway announced to its register.
    private func startWithPHPGateway(heartbeatIntervalMilliseconds: Int) throws -> (GatewaydProcess, TCPTestListener, TCPTestSocket) {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-php-gateway-")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "inner_heartbeat_interval_ms: \(heartbeatIntervalMilliseconds)\ninner_heartbeat_timeout_ms: \(10 * heartbeatIntervalMilliseconds)\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster
        let gateway = try TCPTestListener()
        let registerPort = try XCTUnwrap(Int(cluster.registerAddress.split(separator: ":").last ?? ""))
        let register = try TCPTestSocket(port: registerPort)
        try register.write(Array("{\"event\":\"gateway_connect\",\"address\":\"127.0.0.1:\(gateway.port)\",\"secret_key\":\"\"}\n".utf8))
        return (cluster, gateway, register)
    }

    /// The command byte of the next inner-protocol frame (header: pack_len u32, cmd u8, …).
    private static func readFrame(from socket: TCPTestSocket, until deadline: ContinuousClock.Instant) throws -> UInt8 {
        let header = try socket.read(exactly: 28, timeout: deadline - .now)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        if length > 28 { _ = try socket.read(exactly: length - 28, timeout: .seconds(5)) }
        return header[4]
    }
}

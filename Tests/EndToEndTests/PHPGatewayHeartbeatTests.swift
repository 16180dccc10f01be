import Foundation
import XCTest

/// A gatewayd worker attached to a PHP gateway sends it nothing GatewayWorker 4.x does not
/// know: no CMD_PING heartbeat, which a PHP gateway logs as "gateway inner pack err cmd=201"
/// every interval (issue 15). A gateway that pings first — as gatewayd's do, right after the
/// worker's WORKER_CONNECT — is pinged back. The PHP gateway is played by hand on a socket,
/// announced to the cluster's register as GatewayWorker's Gateway does.
final class PHPGatewayHeartbeatTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testAWorkerPingsOnlyAGatewayThatPingedIt() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-php-ping-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "inner_heartbeat_interval_ms: 100\ninner_heartbeat_timeout_ms: 1000\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster

        let gateway = try TCPTestListener()
        let registerPort = try XCTUnwrap(Int(cluster.registerAddress.split(separator: ":").last ?? ""))
        let register = try TCPTestSocket(port: registerPort)
        try register.write(Array("{\"event\":\"gateway_connect\",\"address\":\"127.0.0.1:\(gateway.port)\",\"secret_key\":\"\"}\n".utf8))
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

    /// The command byte of the next inner-protocol frame (header: pack_len u32, cmd u8, …).
    private static func readFrame(from socket: TCPTestSocket, until deadline: ContinuousClock.Instant) throws -> UInt8 {
        let header = try socket.read(exactly: 28, timeout: deadline - .now)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        if length > 28 { _ = try socket.read(exactly: length - 28, timeout: .seconds(5)) }
        return header[4]
    }
}

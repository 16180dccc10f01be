import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayRuntime
@testable import GatewayServer

/// The gateway side of inner-link heartbeats: workers get CMD_PING marked `gatewayd` at once and
/// every interval (a GatewayClient connection never does), and only a worker that announced it
/// pings back is closed when it falls silent — a PHP worker never is.
final class InnerHeartbeatTests: XCTestCase {
    private var fixture: GatewayServerFixture!
    private let heartbeat = InnerHeartbeat(interval: .milliseconds(200), timeout: .milliseconds(1000))

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
    }

    /// An inner connection with the gateway's pipeline, connected.
    private func innerConnection() throws -> EmbeddedChannel {
        let heartbeatHandler = InnerHeartbeatHandler(heartbeat: heartbeat, ping: GatewaydHeartbeat.pingFrame()) { _ in }
        let channel = EmbeddedChannel(loop: fixture.loop)
        try channel.pipeline.syncOperations.addHandlers([
            heartbeatHandler,
            InnerConnectionHandler(server: fixture.server, heartbeat: heartbeatHandler, maximumFrameLength: 1 << 20),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.9", port: 40000)).wait()
        return channel
    }

    private func workerConnect(_ key: String, capability: Int?) -> ByteBuffer {
        let extra = capability.map { [JSONMember(GatewaydCapability.key, .int($0))] } ?? []
        return .command(.workerConnect, body: WorkerConnectBody(workerKey: key, secretKey: "", extra: extra).encoded())
    }

    private func sentFrames(_ channel: EmbeddedChannel) throws -> [GatewayFrame] {
        var bytes = ByteBuffer()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&buffer) }
        var parser = GatewayFrameParser()
        var frames: [GatewayFrame] = []
        while let frame = try parser.parse(&bytes) { frames.append(frame) }
        return frames
    }

    func testAWorkerIsPingedAtOnceAndEveryIntervalAGatewayClientNever() throws {
        let worker = try innerConnection()
        try worker.writeInbound(workerConnect("W:0", capability: GatewaydCapability.version))
        var frames = try sentFrames(worker)
        XCTAssertEqual(frames.map(\.command), [.gatewaydHello, .ping], "the hello first, then the first ping")
        XCTAssertTrue(frames.last.map(GatewaydHeartbeat.isMarkedPing) ?? false, "\(frames)")
        fixture.loop.advanceTime(by: .milliseconds(200))
        frames = try sentFrames(worker)
        XCTAssertEqual(frames.map(\.command), [.ping])

        let client = try innerConnection()
        try client.writeInbound(ByteBuffer.command(.gatewayClientConnect, body: Array("{\"secret_key\":\"\"}".utf8)))
        fixture.loop.advanceTime(by: .seconds(3))
        XCTAssertEqual(try sentFrames(client), [], "a ping would corrupt a GatewayClient's replies")
        XCTAssertTrue(client.isActive, "a GatewayClient connection is never timed out")
    }

    func testOnlyAGatewaydWorkerThatFallsSilentIsClosed() throws {
        let silent = try innerConnection()
        try silent.writeInbound(workerConnect("W:1", capability: GatewaydCapability.version))
        let talking = try innerConnection()
        try talking.writeInbound(workerConnect("W:2", capability: GatewaydCapability.version))
        let php = try innerConnection()
        try php.writeInbound(workerConnect("PHP:0", capability: nil))
        let oldGatewayd = try innerConnection()
        try oldGatewayd.writeInbound(workerConnect("Old:0", capability: 1))  // before heartbeats existed

        for _ in 0..<10 {
            fixture.loop.advanceTime(by: .milliseconds(200))
            try talking.writeInbound(GatewaydHeartbeat.pingFrame())
        }
        XCTAssertFalse(silent.isActive, "a gatewayd worker silent for 2 s (timeout 1 s) was kept")
        XCTAssertTrue(talking.isActive)
        XCTAssertTrue(php.isActive, "a PHP worker must never be closed for silence")
        XCTAssertTrue(oldGatewayd.isActive, "a worker that never promised pings must not be closed")
        XCTAssertEqual(fixture.server.routerForTesting.workers.keys.sorted(), ["10.0.0.9:Old:0", "10.0.0.9:PHP:0", "10.0.0.9:W:2", "?:BusinessWorker:0"].sorted())
    }

    func testMarksArePHPCompatible() throws {
        // A PHP register reads gatewayd's marked ping as a plain ping.
        let line = GatewaydHeartbeat.registerPingLine.dropLast()
        XCTAssertEqual(try RegisterMessage.parse(Array(line)), .ping)
        XCTAssertTrue(GatewaydHeartbeat.isMarkedRegisterPing(Array(line)))
        XCTAssertFalse(GatewaydHeartbeat.isMarkedRegisterPing(Array("{\"event\":\"ping\"}".utf8)), "PHP's own ping")
        XCTAssertFalse(GatewaydHeartbeat.isMarkedPing(GatewayFrame(command: .ping)), "a PHP gateway's CMD_PING")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import XCTest

@testable import GatewayRuntime
@testable import GatewayServer

/// A `GatewayServer` on an `EmbeddedEventLoop`, with one gatewayd worker attached over an
/// `EmbeddedChannel`, for testing the handlers that call into the server.
///
/// The server's `ChildReporter` needs a `ControlLink`, which only attaches to a connected
/// socket: the fixture makes a socketpair and attaches one end on a one-thread event loop
/// group. The gateway reports to it only after registering, which never happens here.
final class GatewayServerFixture {
    let loop = EmbeddedEventLoop()
    let server: GatewayServer
    let worker: EmbeddedChannel
    let configuration: GatewayServerConfiguration
    /// What the worker was sent when it attached (its GATEWAYD_HELLO); `workerFrames()` starts after.
    private(set) var attachFrames: [GatewayFrame] = []
    private let controlGroup: MultiThreadedEventLoopGroup
    private let controlPeer: Int32
    private var parser = GatewayFrameParser()
    private var workerBytes = ByteBuffer()

    init(maxMessageBytes: Int = 64, configure: (inout GatewayServerConfiguration) -> Void = { _ in }) throws {
        var descriptors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0 else {
            throw XCTSkip("socketpair failed: \(String(cString: strerror(errno)))")
        }
        controlPeer = descriptors[1]
        controlGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let link = try ControlLink.attach(
            descriptor: descriptors[0], on: controlGroup.next(), onMessage: { _, _ in }, onClose: {}
        ).wait()
        var configuration = GatewayServerConfiguration(
            lanIP: IPv4Address("10.1.2.3")!, innerPort: 2900, secretKey: "", maxMessageBytes: maxMessageBytes,
            verdictTimeout: .seconds(1), expectedWorkers: 0, register: HostPort(host: "127.0.0.1", port: 1238),
            listeners: [])
        configure(&configuration)
        self.configuration = configuration
        server = GatewayServer(
            configuration: configuration, eventLoop: loop,
            logger: Logger(label: "gatewayd.gateway.test", factory: { _ in SwiftLogNoOpLogHandler() }),
            reporter: ChildReporter(link: link))

        worker = EmbeddedChannel(loop: loop)
        let hello = WorkerConnectBody(
            workerKey: "BusinessWorker:0", secretKey: "",
            extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))])
        let peer = server.innerFrame(
            GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())), peer: .unauthenticated,
            channel: worker)
        guard case .worker = peer else { throw XCTSkip("the fixture's worker was not accepted") }
        attachFrames = try workerFrames()
    }

    /// Accepts a client on `channel` and completes its handshake, as the pipeline would.
    func acceptClient(on channel: Channel, transport: ListenAddress.Scheme = .websocket) -> ClientConnection {
        let connection = server.clientAccepted(channel, listenPort: 8282, transport: transport)!
        server.clientUpgraded(connection)
        return connection
    }

    /// Runs the loop and returns every frame the server sent to the worker since the last call.
    func workerFrames() throws -> [GatewayFrame] {
        loop.run()
        while var buffer = try worker.readOutbound(as: ByteBuffer.self) { workerBytes.writeBuffer(&buffer) }
        var frames: [GatewayFrame] = []
        while let frame = try parser.parse(&workerBytes) { frames.append(frame) }
        return frames
    }

    func incidents(_ key: String) -> UInt64 {
        UInt64(server.counters().details[key] ?? "0") ?? 0
    }

    func shutdown() {
        _ = try? worker.finish()
        try? loop.syncShutdownGracefully()
        try? controlGroup.syncShutdownGracefully()
        close(controlPeer)
    }
}

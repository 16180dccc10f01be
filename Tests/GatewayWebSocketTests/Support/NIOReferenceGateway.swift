#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix

@testable import GatewayRuntime
@testable import GatewayServer

/// What a client's bytes did to a gateway: the bytes it was answered with, what its worker was
/// told, and whether the connection was closed. Compared between the SwiftNIO path (the real
/// `GatewayServer` pipeline) and the codecs of this module (`CodecGateway`).
struct ClientSession: Equatable {
    /// Everything written to the client: the HTTP response, pongs, close frames.
    var written: [UInt8] = []
    /// The ON_WEBSOCKET_CONNECT body (the request as PHP code sees it).
    var connectInfo: [UInt8]?
    var messages: [Message] = []
    var closed = false

    struct Message: Equatable {
        var binary: Bool
        var body: [UInt8]
    }
}

/// The gateway's SwiftNIO client pipeline (`clientHandlers(for:)`: HTTPRequestDecoder,
/// WebSocketHandshakeHandler, then WebSocketConnectionHandler) on a real `GatewayServer` over an
/// `EmbeddedEventLoop`, with a gatewayd worker that answers handshake verdicts.
final class NIOReferenceGateway {
    private let loop = EmbeddedEventLoop()
    private let server: GatewayServer
    private let worker: EmbeddedChannel
    private var workerPeer: InnerConnectionHandler.Peer
    private var parser = GatewayFrameParser(maximumFrameLength: Int(UInt32.max))
    private var workerBytes = ByteBuffer()

    init(maxMessageBytes: Int) {
        let configuration = GatewayServerConfiguration(
            lanIP: IPv4Address("10.1.2.3")!, innerPort: 2900, secretKey: "", maxMessageBytes: maxMessageBytes,
            verdictTimeout: .seconds(1), handshakeDeadline: .seconds(10), expectedWorkers: 0,
            register: HostPort(host: "127.0.0.1", port: 1238), listeners: [])
        server = GatewayServer(
            configuration: configuration, eventLoop: loop,
            logger: Logger(label: "gatewayd.websocket-reference", factory: { _ in SwiftLogNoOpLogHandler() }),
            reporter: referenceReporter)
        worker = EmbeddedChannel(loop: loop)
        let hello = WorkerConnectBody(
            workerKey: "BusinessWorker:0", secretKey: "",
            extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))])
        guard
            let peer = server.innerFrame(
                GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())), peer: .unauthenticated,
                channel: worker)
        else { fatalError("the reference worker was not accepted") }
        workerPeer = peer
        _ = workerFrames()
    }

    deinit {
        _ = try? worker.finish(acceptAlreadyClosed: true)
        try? loop.syncShutdownGracefully()
    }

    /// A new client sends `reads` one after the other; the worker answers its handshake with
    /// `verdict` (0 accepts, else the refusal status).
    func session(_ reads: [[UInt8]], verdict: Int = 0) -> ClientSession {
        let channel = EmbeddedChannel(loop: loop)
        try! channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 50000)).wait()
        let connection = server.clientAccepted(channel, listenPort: 8282, transport: .websocket)!
        try! channel.pipeline.syncOperations.addHandlers(server.clientHandlers(for: connection))
        var session = ClientSession()
        for read in reads where channel.isActive {
            _ = try? channel.writeInbound(ByteBuffer(bytes: read))
            loop.run()
            record(into: &session, verdict: verdict, channel: channel)
        }
        record(into: &session, verdict: verdict, channel: channel)
        session.closed = !channel.isActive
        if channel.isActive { channel.close(promise: nil) }
        loop.run()
        _ = try? channel.finish(acceptAlreadyClosed: true)
        _ = workerFrames()  // its ON_CLOSE
        return session
    }

    private func record(into session: inout ClientSession, verdict: Int, channel: EmbeddedChannel) {
        for frame in workerFrames() {
            switch frame.command {
            case .onWebSocketConnect:
                session.connectInfo = Array(frame.body.readableBytesView)
                let answer = GatewayFrame(
                    command: .handshakeVerdict, connectionID: frame.connectionID, body: ByteBuffer(string: "\(verdict)"))
                if let next = server.innerFrame(answer, peer: workerPeer, channel: worker) { workerPeer = next }
                loop.run()
            case .onMessage:
                session.messages.append(.init(binary: frame.flags.contains(.binary), body: Array(frame.body.readableBytesView)))
            default:
                break
            }
        }
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { session.written += buffer.readableBytesView }
    }

    private func workerFrames() -> [GatewayFrame] {
        loop.run()
        while var buffer = try? worker.readOutbound(as: ByteBuffer.self) { workerBytes.writeBuffer(&buffer) }
        var frames: [GatewayFrame] = []
        while let frame = try? parser.parse(&workerBytes) { frames.append(frame) }
        return frames
    }
}

/// `GatewayServer` reports to its master through a `ControlLink`, which needs a connected
/// socket: one socketpair for the whole test process. Nothing is reported without a register.
private let referenceReporter: ChildReporter = {
    var descriptors: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0 else { fatalError("socketpair failed") }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let link = try! ControlLink.attach(descriptor: descriptors[0], on: group.next(), onMessage: { _, _ in }, onClose: {}).wait()
    return ChildReporter(link: link)
}()

import GatewayCore
import GatewayWire
import NIOCore
import NIOEmbedded

@testable import GatewayServer

/// A fresh `GatewayServer` on an `EmbeddedEventLoop` per fuzz input, with one worker attached
/// over an `EmbeddedChannel`, and the gateway's real client and inner pipelines (the handlers
/// `GatewayServer.start` installs on accepted sockets). Like the unit tests' fixture.
///
/// Everything the gateway sends its worker must be well-formed frames; `workerFrames()`
/// traps otherwise.
public final class GatewayHarness {
    public let loop = EmbeddedEventLoop()
    public let maxMessageBytes: Int
    let server: GatewayServer
    public let worker: EmbeddedChannel
    private var workerReader = WorkerFrameReader()
    private var workerBytes = ByteBuffer()
    private var channels: [EmbeddedChannel] = []
    private var workerPeer: InnerConnectionHandler.Peer = .unauthenticated

    /// - Parameter gatewaydWorker: a gatewayd worker gives handshake verdicts (the gateway
    ///   waits for one); a PHP worker does not (the gateway accepts at once).
    ///   `innerHeartbeat` pings inner peers that turn out to be workers and closes silent ones.
    public init(maxMessageBytes: Int, secretKey: String = "", gatewaydWorker: Bool, innerHeartbeat: Bool = false) {
        self.maxMessageBytes = maxMessageBytes
        server = GatewayServer(
            configuration: harnessConfiguration(maxMessageBytes: maxMessageBytes, secretKey: secretKey, innerHeartbeat: innerHeartbeat),
            eventLoop: loop, logger: harnessLogger, reporter: sharedReporter)
        worker = EmbeddedChannel(loop: loop)
        let peer = server.innerFrame(
            workerConnectFrame(secretKey: secretKey, gatewaydWorker: gatewaydWorker), peer: .unauthenticated, channel: worker)
        guard let peer, case .worker = peer else { fatalError("the harness's worker was not accepted") }
        workerPeer = peer
    }

    /// The worker sends the gateway `frame` (e.g. a handshake verdict).
    public func workerSends(_ frame: GatewayFrame) {
        if let next = server.innerFrame(frame, peer: workerPeer, channel: worker) { workerPeer = next }
        loop.run()
    }

    /// A client socket of `transport` with the pipeline `GatewayServer.start` gives accepted
    /// client sockets (`clientHandlers(for:)`): for WebSocket, HTTP request decoding and the
    /// handshake, which swaps in the frame handlers after the 101; for text:// and frame://,
    /// their decoder and message handler, the connection open at once.
    public func connectClient(_ transport: ListenAddress.Scheme) -> EmbeddedChannel {
        let channel = connectedChannel()
        let connection = server.clientAccepted(channel, listenPort: 8282, transport: transport)!
        try! channel.pipeline.syncOperations.addHandlers(server.clientHandlers(for: connection))
        if transport != .websocket { server.clientUpgraded(connection) }
        return channel
    }

    /// A client whose handshake is already done, with no handlers: it only collects what the
    /// gateway sends it.
    public func connectUpgradedClient() -> (channel: EmbeddedChannel, connectionID: UInt32) {
        let channel = connectedChannel()
        let connection = server.clientAccepted(channel, listenPort: 8282)!
        server.clientUpgraded(connection)
        return (channel, connection.id)
    }

    /// An inner-port connection with the pipeline `GatewayServer.start` gives it (`innerHandlers()`).
    public func connectInnerPeer() -> EmbeddedChannel {
        let channel = connectedChannel()
        try! channel.pipeline.syncOperations.addHandlers(server.innerHandlers())
        return channel
    }

    private func connectedChannel() -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try! channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 50000 + channels.count)).wait()
        channels.append(channel)
        return channel
    }

    /// Delivers one read to `channel` as a socket would, then runs the loop. Errors the
    /// pipeline passes on are the connection's business (it is closed), not findings.
    public func deliver(_ read: ByteBuffer, to channel: EmbeddedChannel) {
        guard channel.isActive else { return }
        do {
            try channel.writeInbound(read)
        } catch {}
        loop.run()
    }

    /// Frames the gateway sent the worker since the last call (`WorkerFrameReader`: traps on a
    /// malformed one, leaves the link's own out).
    public func workerFrames() -> [GatewayFrame] {
        loop.run()
        while var buffer = try? worker.readOutbound(as: ByteBuffer.self) { workerBytes.writeBuffer(&buffer) }
        return workerReader.frames(from: &workerBytes)
    }

    /// Everything written to `channel` since the last call.
    public func outbound(of channel: EmbeddedChannel) -> ByteBuffer {
        var all = ByteBuffer()
        while var buffer = try? channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&buffer) }
        return all
    }

    /// Lets every timer fire (handshake deadline, verdict timeout), closes every connection
    /// and the worker, and shuts the loop down.
    public func finish() {
        loop.advanceTime(by: .seconds(60))
        for channel in channels where channel.isActive { channel.close(promise: nil) }
        loop.run()
        for channel in channels { _ = try? channel.finish(acceptAlreadyClosed: true) }
        _ = try? worker.finish(acceptAlreadyClosed: true)
        try? loop.syncShutdownGracefully()
    }
}

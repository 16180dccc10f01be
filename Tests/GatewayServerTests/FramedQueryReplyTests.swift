import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// Queries on a worker's main connection (capability 3): the worker gets GATEWAYD_HELLO when it
/// attaches, and its queries there are answered on that connection with QUERY_REPLY frames, in
/// order with everything else it sent and was sent. Everyone else keeps bare replies.
final class FramedQueryReplyTests: XCTestCase {
    private var fixture: GatewayServerFixture!

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
    }

    /// An inner connection with the gateway's own handler (no heartbeats), connected.
    private func innerConnection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: fixture.loop)
        try channel.pipeline.syncOperations.addHandler(
            InnerConnectionHandler(server: fixture.server, maximumFrameLength: 1 << 20))
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.9", port: 40000)).wait()
        return channel
    }

    /// WORKER_CONNECT with `"gatewayd":capability`, or without the key (as PHP sends it) for nil.
    private func workerConnect(_ key: String, capability: Int?) -> ByteBuffer {
        let extra = capability.map { [JSONMember(GatewaydCapability.key, .int($0))] } ?? []
        return .command(.workerConnect, body: WorkerConnectBody(workerKey: key, secretKey: "", extra: extra).encoded())
    }

    /// A worker attached over its own connection; what it was sent on attaching is read and dropped.
    private func attachedWorker(_ key: String, capability: Int?) throws -> EmbeddedChannel {
        let channel = try innerConnection()
        try channel.writeInbound(workerConnect(key, capability: capability))
        _ = try sent(channel)
        return channel
    }

    /// Everything written to `channel` so far (after running the loop).
    private func sent(_ channel: EmbeddedChannel) throws -> [UInt8] {
        fixture.loop.run()
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    /// `bytes` as whole frames; fails if anything is left over (a bare reply would be).
    private func frames(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [GatewayFrame] {
        var buffer = ByteBuffer(bytes: bytes)
        var parser = GatewayFrameParser()
        var frames: [GatewayFrame] = []
        while let frame = try parser.parse(&buffer) { frames.append(frame) }
        XCTAssertEqual(buffer.readableBytes, 0, "bytes that are not a frame", file: file, line: line)
        return frames
    }

    /// Several frames in one buffer: one write of the worker.
    private func oneWrite(_ frames: [ByteBuffer]) -> ByteBuffer {
        var write = ByteBuffer()
        for var frame in frames { write.writeBuffer(&frame) }
        return write
    }

    private func bareReply(_ payload: String) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.utf8.count).bigEndian) { Array($0) } + Array(payload.utf8)
    }

    private func client() -> ClientConnection {
        fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
    }

    /// A client whose events go to `worker` (the least-assigned worker with the lowest key).
    private func client(of worker: String, file: StaticString = #filePath, line: UInt = #line) -> ClientConnection {
        let client = client()
        XCTAssertEqual(client.worker?.key, worker, "the client's worker", file: file, line: line)
        return client
    }

    // MARK: - GATEWAYD_HELLO

    func testOnlyACapability3WorkerIsSentTheHelloAndFirst() throws {
        let attach = fixture.attachFrames
        XCTAssertEqual(attach.map(\.command), [.gatewaydHello], "the fixture's worker announced \(GatewaydCapability.version)")
        let hello = try XCTUnwrap(attach.first)
        XCTAssertEqual(String(buffer: hello.body), "\(GatewaydCapability.version)")
        XCTAssertEqual(GatewaydCapability.helloVersion(hello), GatewaydCapability.version)
        XCTAssertEqual(hello.connectionID, 0)
        XCTAssertEqual(hello.extData.readableBytes, 0)

        for (key, capability) in [("V3", 3), ("V4", 4)] as [(String, Int)] {
            let worker = try innerConnection()
            try worker.writeInbound(workerConnect(key, capability: capability))
            XCTAssertEqual(try frames(try sent(worker)).map(\.command), [.gatewaydHello], "\"gatewayd\":\(capability)")
        }
        for (key, capability) in [("V2", 2), ("V1", 1), ("PHP", nil)] as [(String, Int?)] {
            let worker = try innerConnection()
            try worker.writeInbound(workerConnect(key, capability: capability))
            XCTAssertEqual(try sent(worker), [], "\"gatewayd\":\(capability.map(String.init) ?? "absent")")
        }
        let links = fixture.server.routerForTesting.workers
        XCTAssertEqual(links["10.0.0.9:V3"]?.framedReplies, true)
        XCTAssertEqual(links["10.0.0.9:V2"]?.framedReplies, false)
        XCTAssertEqual(links["10.0.0.9:PHP"]?.framedReplies, false)
    }

    func testTheHelloComesBeforeEventsHeldForTheWorker() throws {
        // No worker but a draining one: the client's events wait, then go to the newcomer.
        let client = client()
        _ = try fixture.workerFrames()
        guard let old = fixture.server.routerForTesting.workers.values.first else { return XCTFail("no fixture worker") }
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: .worker(old), channel: fixture.worker)
        fixture.server.clientMessage(client, ByteBuffer(string: "waits"), binary: false)
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainDone), peer: .worker(old), channel: fixture.worker)

        let worker = try innerConnection()
        try worker.writeInbound(workerConnect("New", capability: GatewaydCapability.version))
        XCTAssertEqual(try frames(try sent(worker)).map(\.command), [.gatewaydHello, .onMessage])
    }

    // MARK: - Framed replies

    func testABindThenAQueryInOneWriteIsAnsweredWithAFrameThatIncludesTheBind() throws {
        let worker = try attachedWorker("W", capability: 3)
        let client = client(of: "10.0.0.9:W")
        try worker.writeInbound(
            oneWrite([
                .command(.bindUID, connectionID: client.id, ext: Array("alice".utf8)),
                .command(.getClientIDByUID, ext: Array("alice".utf8)),
            ]))
        let replies = try frames(try sent(worker)).filter { $0.command != .onConnect }
        XCTAssertEqual(replies.map(\.command), [.queryReply], "one QUERY_REPLY, no bare payload")
        let reply = try XCTUnwrap(replies.first)
        XCTAssertEqual(try PHPSerializer.unserialize(reply.body), .array([.int(Int(client.id))]))
        XCTAssertEqual(
            reply,
            GatewayFrame(command: .queryReply, flags: [], body: reply.body),
            "connection id, flags and addresses 0, no ext_data")
    }

    func testSeveralQueriesInOneWriteAreAnsweredInOrder() throws {
        let worker = try attachedWorker("W", capability: 3)
        let client = client(of: "10.0.0.9:W")
        client.session = ByteBuffer(string: #"a:1:{s:1:"k";s:1:"v";}"#)
        try worker.writeInbound(
            oneWrite([
                .command(.getClientCountByGroup, ext: Array("room".utf8)),
                .command(.joinGroup, connectionID: client.id, ext: Array("room".utf8)),
                .command(.getClientCountByGroup, ext: Array("room".utf8)),
                .command(.isOnline, connectionID: client.id),
                .command(.isOnline, connectionID: 999),
                .command(.getSessionByClientID, connectionID: client.id),
                .command(.getSessionByClientID, connectionID: 999),
                .command(.getGroupIDList),
            ]))
        let replies = try frames(try sent(worker)).filter { $0.command != .onConnect }
        XCTAssertEqual(replies.map(\.command), Array(repeating: .queryReply, count: 7))
        XCTAssertEqual(
            replies.map { String(buffer: $0.body) },
            ["i:0;", "i:1;", "i:1;", "i:0;", #"a:1:{s:1:"k";s:1:"v";}"#, "N;", #"a:1:{i:0;s:4:"room";}"#])
    }

    func testAReplyComesAfterTheEventsQueuedBeforeTheQuery() throws {
        let worker = try attachedWorker("W", capability: 3)
        let client = client(of: "10.0.0.9:W")
        fixture.server.clientMessage(client, ByteBuffer(string: "m1"), binary: false)
        try worker.writeInbound(ByteBuffer.command(.isOnline, connectionID: client.id))
        XCTAssertEqual(try frames(try sent(worker)).map(\.command), [.onConnect, .onMessage, .queryReply])
    }

    // MARK: - Bare replies stay as they were

    /// The same write on a capability-2 worker, a PHP-style worker and a GatewayClient: bare
    /// replies, the same bytes on each.
    func testOtherConnectionsKeepBareReplies() throws {
        let client = client()
        let write = oneWrite([
            .command(.bindUID, connectionID: client.id, ext: Array("bob".utf8)),
            .command(.getClientIDByUID, ext: Array("bob".utf8)),
            .command(.getSessionByClientID, connectionID: 999),
        ])
        let expected = bareReply("a:1:{i:0;i:\(client.id);}") + bareReply("N;")

        let version2 = try attachedWorker("V2", capability: 2)
        try version2.writeInbound(write)
        XCTAssertEqual(try sent(version2), expected, "capability 2")

        let php = try attachedWorker("PHP", capability: nil)
        try php.writeInbound(write)
        XCTAssertEqual(try sent(php), expected, "no capability")

        let gatewayClient = try innerConnection()
        try gatewayClient.writeInbound(ByteBuffer.command(.gatewayClientConnect, body: Array("{\"secret_key\":\"\"}".utf8)))
        try gatewayClient.writeInbound(write)
        XCTAssertEqual(try sent(gatewayClient), expected, "GatewayClient")
    }
}

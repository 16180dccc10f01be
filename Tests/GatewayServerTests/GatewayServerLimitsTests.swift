import GatewayCore
import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// Slow consumers, back-pressure towards workers, and framing per client protocol.
final class GatewayServerLimitsTests: XCTestCase {
    private var fixture: GatewayServerFixture!

    override func tearDown() {
        fixture?.shutdown()
        fixture = nil
    }

    private func command(_ command: GatewayCommand, to client: ClientConnection? = nil, body: String) {
        _ = fixture.server.innerFrame(
            GatewayFrame(command: command, connectionID: client?.id ?? 0, flags: .scalarBody, body: ByteBuffer(string: body)),
            peer: .worker(fixture.server.routerForTesting.workers.values.first!), channel: fixture.worker)
        fixture.server.flushPending()
        fixture.loop.run()
    }

    /// An active client channel, so closing it is observable.
    private func connectedChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: fixture.loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return channel
    }

    private func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    func testASlowConsumerIsClosedAndCountedByDefault() throws {
        fixture = try GatewayServerFixture()
        let slowChannel = try connectedChannel()
        let slow = fixture.acceptClient(on: slowChannel)
        let fastChannel = try connectedChannel()
        _ = fixture.acceptClient(on: fastChannel)
        slowChannel.isWritable = false  // its send buffer is past the high-water mark

        command(.sendToAll, body: "hello")
        XCTAssertEqual(fixture.incidents("slow_client_closes"), 1)
        XCTAssertFalse(slowChannel.isActive, "the slow consumer is closed")
        XCTAssertTrue(fastChannel.isActive)
        XCTAssertTrue(slow.isClosed)
        XCTAssertEqual(try written(fastChannel), Array(WebSocketFrameWriter.frame(opcode: 1, payload: "hello").readableBytesView))
    }

    func testWithTheDropPolicyASlowConsumerKeepsItsConnectionAndLosesWhatDoesNotFit() throws {
        fixture = try GatewayServerFixture { $0.slowClientPolicy = .drop }
        let channel = try connectedChannel()
        let client = fixture.acceptClient(on: channel)
        channel.isWritable = false
        command(.sendToOne, to: client, body: "lost")
        command(.sendToOne, to: client, body: "lost too")
        XCTAssertEqual(fixture.incidents("slow_client_drops"), 2)
        XCTAssertTrue(channel.isActive)
        XCTAssertEqual(try written(channel), [])

        channel.isWritable = true
        command(.sendToOne, to: client, body: "kept")
        XCTAssertEqual(try written(channel), Array(WebSocketFrameWriter.frame(opcode: 1, payload: "kept").readableBytesView))
    }

    func testTextAndFrameClientsGetTheirOwnFramingOfOneBroadcast() throws {
        fixture = try GatewayServerFixture()
        let web = EmbeddedChannel(loop: fixture.loop)
        let text = EmbeddedChannel(loop: fixture.loop)
        let frame = EmbeddedChannel(loop: fixture.loop)
        _ = fixture.acceptClient(on: web, transport: .websocket)
        _ = fixture.acceptClient(on: text, transport: .text)
        _ = fixture.acceptClient(on: frame, transport: .frame)
        command(.sendToAll, body: "hi")
        XCTAssertEqual(try written(web), Array(WebSocketFrameWriter.frame(opcode: 1, payload: "hi").readableBytesView))
        XCTAssertEqual(try written(text), Array("hi\n".utf8))
        XCTAssertEqual(try written(frame), [0, 0, 0, 6] + Array("hi".utf8))
    }

    func testRawSendsSkipEveryProtocolsFraming() throws {
        fixture = try GatewayServerFixture()
        let text = EmbeddedChannel(loop: fixture.loop)
        let client = fixture.acceptClient(on: text, transport: .text)
        _ = fixture.server.innerFrame(
            GatewayFrame(command: .sendToOne, connectionID: client.id, flags: [.scalarBody, .raw], body: ByteBuffer(string: "as is")),
            peer: .worker(fixture.server.routerForTesting.workers.values.first!), channel: fixture.worker)
        fixture.server.flushPending()
        fixture.loop.run()
        XCTAssertEqual(try written(text), Array("as is".utf8))
    }

    func testClientsOfACongestedWorkerAreNotReadUntilItCatchesUp() throws {
        fixture = try GatewayServerFixture()
        let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
        let link = try XCTUnwrap(fixture.server.routerForTesting.workers.values.first)
        fixture.worker.isWritable = false  // more than workerBufferBytes waits for the worker

        fixture.server.clientMessage(client, ByteBuffer(string: "m1"), binary: false)
        XCTAssertTrue(client.readingPaused)
        XCTAssertEqual(link.pausedClients.map(\.id), [client.id])
        XCTAssertEqual(fixture.incidents("worker_backpressure_pauses"), 1)
        XCTAssertEqual(try fixture.workerFrames().map(\.command), [.onConnect, .onMessage], "what was read still goes")

        fixture.worker.isWritable = true
        fixture.server.resumeClients(of: link)
        XCTAssertFalse(client.readingPaused)
        XCTAssertEqual(link.pausedClients.count, 0)
    }
}

extension WebSocketFrameWriter {
    /// A server text/binary frame of a string, for comparing bytes in tests.
    static func frame(opcode: UInt8, payload: String) -> ByteBuffer {
        Array(payload.utf8).withUnsafeBytes { frame(opcode: opcode, payload: $0) }
    }
}

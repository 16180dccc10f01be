import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// The inner port's handler splits the worker's byte stream into frames itself: frames split
/// over reads, several frames in one read, and a broken stream.
final class InnerConnectionHandlerTests: XCTestCase {
    private var fixture: GatewayServerFixture!
    private var client: EmbeddedChannel!
    private var connection: ClientConnection!

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
        client = EmbeddedChannel(loop: fixture.loop)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        connection = fixture.acceptClient(on: client)
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
    }

    /// A second worker connection through the gateway's own inner pipeline.
    private func innerChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: fixture.loop)
        try channel.pipeline.syncOperations.addHandlers(fixture.server.innerHandlers())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40001)).wait()
        return channel
    }

    private func stream(_ texts: [String]) -> ByteBuffer {
        let hello = WorkerConnectBody(workerKey: "BusinessWorker:1", secretKey: "", extra: [])
        var bytes = ByteBuffer.command(.workerConnect, body: hello.encoded())
        for text in texts {
            var send = ByteBuffer.command(.sendToOne, connectionID: connection.id, body: Array(text.utf8))
            bytes.writeBuffer(&send)
        }
        return bytes
    }

    /// The text messages the client got (short unmasked server frames).
    private func received() throws -> [String] {
        fixture.loop.run()
        var bytes: [UInt8] = []
        while let buffer = try client.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        var messages: [String] = []
        var index = 0
        while index + 2 <= bytes.count {
            let length = Int(bytes[index + 1] & 0x7f)
            messages.append(String(decoding: bytes[(index + 2)..<(index + 2 + length)], as: UTF8.self))
            index += 2 + length
        }
        return messages
    }

    func testFramesSplitAtEveryByteStillArriveWhole() throws {
        let inner = try innerChannel()
        var bytes = stream(["one", "two"])
        while let byte = bytes.readSlice(length: 1) { try inner.writeInbound(byte) }
        XCTAssertEqual(try received(), ["one", "two"])
        XCTAssertTrue(inner.isActive)
    }

    func testSeveralFramesInOneReadAndARestCarriedOver() throws {
        let inner = try innerChannel()
        var bytes = stream(["a", "b", "c"])
        let first = bytes.readSlice(length: bytes.readableBytes - 5)!
        try inner.writeInbound(first)
        XCTAssertEqual(try received(), ["a", "b"])
        try inner.writeInbound(bytes)
        XCTAssertEqual(try received(), ["c"])
    }

    func testAFrameShorterThanItsHeaderClosesTheConnection() throws {
        let inner = try innerChannel()
        var bytes = stream([])
        bytes.writeInteger(UInt32(5))  // pack_len below the 28-byte header
        bytes.writeRepeatingByte(0, count: 30)
        _ = try? inner.writeInbound(bytes)
        fixture.loop.run()
        XCTAssertFalse(inner.isActive)
    }
}

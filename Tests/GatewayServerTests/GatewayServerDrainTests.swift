import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// The gateway's half of a lossless drain (reload): DRAIN_REQUEST → DRAIN_MARK, events for the
/// draining worker's clients held, DRAIN_DONE → the held events go, in order and with the
/// session as the old worker left it, to another worker.
final class GatewayServerDrainTests: XCTestCase {
    private var fixture: GatewayServerFixture!
    private var oldWorker: InnerConnectionHandler.Peer!

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
        oldWorker = .worker(try XCTUnwrap(fixture.server.routerForTesting.workers.values.first))
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
    }

    /// Attaches a second gatewayd worker and returns its channel and a reader of its frames.
    private func attachWorker(key: String) throws -> (EmbeddedChannel, () throws -> [GatewayFrame]) {
        let channel = EmbeddedChannel(loop: fixture.loop)
        let hello = WorkerConnectBody(
            workerKey: key, secretKey: "", extra: [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))])
        _ = fixture.server.innerFrame(
            GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())), peer: .unauthenticated,
            channel: channel)
        var parser = GatewayFrameParser()
        var bytes = ByteBuffer()
        // Its GATEWAYD_HELLO, written at once, ahead of any held event released to it.
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&buffer) }
        XCTAssertEqual(try parser.parse(&bytes)?.command, .gatewaydHello)
        let read: () throws -> [GatewayFrame] = {
            self.fixture.loop.run()
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&buffer) }
            var frames: [GatewayFrame] = []
            while let frame = try parser.parse(&bytes) { frames.append(frame) }
            return frames
        }
        return (channel, read)
    }

    private func message(_ text: String, from client: ClientConnection) {
        fixture.server.clientMessage(client, ByteBuffer(string: text), binary: false)
    }

    func testHeldEventsGoToTheNewWorkerInOrderAfterDrainDone() throws {
        let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
        message("m1", from: client)
        XCTAssertEqual(try fixture.workerFrames().map(\.command), [.onConnect, .onMessage])

        let (_, newWorkerFrames) = try attachWorker(key: "BusinessWorker:0-g1")
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: oldWorker, channel: fixture.worker)
        XCTAssertEqual(try fixture.workerFrames().map(\.command), [.drainMark], "the mark is the last frame")

        message("m2", from: client)
        message("m3", from: client)
        XCTAssertEqual(try fixture.workerFrames(), [], "nothing more for the draining worker")
        XCTAssertEqual(try newWorkerFrames(), [], "held until the old worker is done")

        // The old worker's last commands (a session update) come before its DRAIN_DONE.
        let session = PHPSerializer.serialize(.array(["k": .string("v")]))
        _ = fixture.server.innerFrame(
            GatewayFrame(command: .setSession, connectionID: client.id, extData: ByteBuffer(bytes: session)),
            peer: oldWorker, channel: fixture.worker)
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainDone), peer: oldWorker, channel: fixture.worker)

        let released = try newWorkerFrames()
        XCTAssertEqual(released.map(\.command), [.onMessage, .onMessage])
        XCTAssertEqual(released.map { String(buffer: $0.body) }, ["m2", "m3"])
        XCTAssertEqual(released.map { Array($0.extData.readableBytesView) }, [session, session])

        message("m4", from: client)
        XCTAssertEqual(try newWorkerFrames().map { String(buffer: $0.body) }, ["m4"], "the client stays with the new worker")
    }

    func testNewClientsNeverGoToADrainingWorker() throws {
        let (_, newWorkerFrames) = try attachWorker(key: "BusinessWorker:0-g1")
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: oldWorker, channel: fixture.worker)
        _ = try fixture.workerFrames()
        let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
        message("hello", from: client)
        XCTAssertEqual(try newWorkerFrames().map(\.command), [.onConnect, .onMessage])
        XCTAssertEqual(try fixture.workerFrames(), [])
    }

    func testAClientThatClosesDuringTheDrainGetsItsCloseDeliveredAfterwards() throws {
        let channel = EmbeddedChannel(loop: fixture.loop)
        let client = fixture.acceptClient(on: channel)
        _ = try fixture.workerFrames()
        let (_, newWorkerFrames) = try attachWorker(key: "BusinessWorker:0-g1")
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: oldWorker, channel: fixture.worker)
        message("last words", from: client)
        try channel.close().wait()
        fixture.loop.run()
        XCTAssertEqual(try newWorkerFrames(), [])
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainDone), peer: oldWorker, channel: fixture.worker)
        XCTAssertEqual(try newWorkerFrames().map(\.command), [.onMessage, .onClose])
    }

    func testAWorkerThatDiesMidDrainHandsOnWhatItHadNotFinishedThenWhatWasHeld() throws {
        let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
        _ = try fixture.workerFrames()
        let (_, newWorkerFrames) = try attachWorker(key: "BusinessWorker:0-g1")
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: oldWorker, channel: fixture.worker)
        message("held", from: client)
        guard case .worker(let link) = oldWorker! else { return XCTFail() }
        fixture.server.workerLeft(link)
        // The old worker never acknowledged the client's ON_CONNECT: it goes first.
        let frames = try newWorkerFrames()
        XCTAssertEqual(frames.map(\.command), [.onConnect, .onMessage])
        XCTAssertEqual(frames.map { String(buffer: $0.body) }, ["", "held"])
    }

    func testHeldEventsWaitForAWorkerWhenNoneIsLeft() throws {
        let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
        _ = try fixture.workerFrames()
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainRequest), peer: oldWorker, channel: fixture.worker)
        message("waits", from: client)
        _ = fixture.server.innerFrame(GatewayFrame(command: .drainDone), peer: oldWorker, channel: fixture.worker)
        XCTAssertEqual(fixture.incidents("dropped_held_events"), 0, "held, not dropped")
        let (_, newWorkerFrames) = try attachWorker(key: "BusinessWorker:0-g1")
        XCTAssertEqual(try newWorkerFrames().map { String(buffer: $0.body) }, ["waits"])
    }
}

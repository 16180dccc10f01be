import GatewayWire
import NIOCore
import XCTest

/// `writeCommand` must produce exactly what PHP's BusinessWorker and GatewayClient send.
final class GatewayCommandFrameTests: XCTestCase {
    private func captured(_ id: String) -> [UInt8] {
        Fixtures.bytes(hex: Fixtures.vector(id)["hex"]!.stringValue!)
    }

    func testJoinGroupMatchesTheCapture() {
        // G3.join_group: cmd 20, connection 1, flag 1 (scalar), ext "room1", empty body.
        let frame = ByteBuffer.command(.joinGroup, connectionID: 1, ext: Array("room1".utf8))
        XCTAssertEqual(Array(frame.readableBytesView), captured("G3.join_group"))
    }

    func testKickWithoutMessageMatchesTheCapture() {
        // G3.kick.no_message: the body is a serialized null and the scalar flag is clear.
        let frame = ByteBuffer.command(.kick, connectionID: 2, flags: [], body: Array("N;".utf8))
        XCTAssertEqual(Array(frame.readableBytesView), captured("G3.kick.no_message"))
    }

    func testSendToAllWithExcludeMatchesTheCapture() {
        let frame = ByteBuffer.command(
            .sendToAll, ext: SendToAllScope.excluding([1]).encodedExtData(), body: Array("hello others".utf8))
        XCTAssertEqual(Array(frame.readableBytesView), captured("G3.send_to_all.exclude"))
    }
}

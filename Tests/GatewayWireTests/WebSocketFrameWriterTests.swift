import GatewayWire
import NIOCore
import XCTest

final class WebSocketFrameWriterTests: XCTestCase {
    private func header(fin: Bool = true, opcode: UInt8 = 1, length: Int) -> [UInt8] {
        var buffer = ByteBuffer()
        WebSocketFrameWriter.writeHeader(fin: fin, opcode: opcode, payloadLength: length, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    func testHeaderSizes() {
        XCTAssertEqual(self.header(length: 0), [0x81, 0x00])
        XCTAssertEqual(self.header(length: 125), [0x81, 125])
        XCTAssertEqual(self.header(length: 126), [0x81, 126, 0x00, 126])
        XCTAssertEqual(self.header(opcode: 2, length: 65535), [0x82, 126, 0xFF, 0xFF])
        XCTAssertEqual(self.header(length: 65536), [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(self.header(fin: false, opcode: 0, length: 3), [0x00, 3])
        XCTAssertEqual(self.header(opcode: 0x1A, length: 1), [0x8A, 1])
    }

    /// `G3.send_to_one.raw` carries a pre-built text frame "RAWFRAME" with the raw flag.
    func testMatchesTheCapturedRawFrame() throws {
        let vector = Fixtures.vector("G3.send_to_one.raw")
        let expected = Fixtures.payload(vector["decoded"]?["body"])
        let frame = Array("RAWFRAME".utf8).withUnsafeBytes {
            WebSocketFrameWriter.frame(opcode: WebSocketFrameWriter.textOpcode, payload: $0)
        }
        XCTAssertEqual(Array(frame.readableBytesView), expected)
        XCTAssertEqual(Fixtures.expectedFrame(vector).flags, [.scalarBody, .raw])
    }

    func testLargeFrame() {
        let payload = [UInt8](repeating: 7, count: 70000)
        let frame = payload.withUnsafeBytes { WebSocketFrameWriter.frame(opcode: 2, payload: $0) }
        XCTAssertEqual(frame.readableBytes, 70010)
        XCTAssertEqual(frame.getBytes(at: 0, length: 2), [0x82, 127])
        XCTAssertEqual(frame.getInteger(at: 2, as: UInt64.self), 70000)
    }

    func testCloseFrames() {
        XCTAssertEqual(Array(WebSocketFrameWriter.closeFrame(code: 1000).readableBytesView), [0x88, 0x02, 0x03, 0xE8])
        XCTAssertEqual(
            Array(WebSocketFrameWriter.closeFrame(code: 1001, reason: "bye").readableBytesView),
            [0x88, 0x05, 0x03, 0xE9] + Array("bye".utf8)
        )
        // 122 ASCII bytes + a 3-byte character would be 125: cut before the character.
        let reason = String(repeating: "a", count: 122) + "张"
        let frame = WebSocketFrameWriter.closeFrame(code: 1000, reason: reason)
        XCTAssertEqual(frame.getInteger(at: 1, as: UInt8.self), 2 + 122)
        let long = WebSocketFrameWriter.closeFrame(code: 1000, reason: String(repeating: "b", count: 500))
        XCTAssertEqual(long.readableBytes, 2 + 125)
    }
}

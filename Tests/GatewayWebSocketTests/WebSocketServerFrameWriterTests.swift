import GatewayWebSocket
import GatewayWire
import NIOCore
import XCTest

/// The raw-pointer writer against `GatewayWire.WebSocketFrameWriter`, the SwiftNIO path's.
final class WebSocketServerFrameWriterTests: XCTestCase {
    private func written(capacity: Int, _ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in count = write(buffer.baseAddress!) }
    }

    func testHeadersAtEveryLengthBoundary() {
        for length in [0, 1, 125, 126, 127, 65535, 65536, 1 << 32, Int(Int64.max)] {
            for (fin, opcode) in [(true, UInt8(0x1)), (false, 0x2), (true, 0x0), (false, 0xA)] {
                var expected = ByteBuffer()
                WebSocketFrameWriter.writeHeader(fin: fin, opcode: opcode, payloadLength: length, into: &expected)
                let header = written(capacity: 10) {
                    WebSocketServerFrameWriter.writeHeader(fin: fin, opcode: opcode, payloadLength: length, to: $0)
                }
                XCTAssertEqual(header, Array(expected.readableBytesView), "length \(length)")
                XCTAssertEqual(WebSocketServerFrameWriter.headerLength(payloadLength: length), header.count)
            }
        }
    }

    func testWholeFrames() {
        for length in [0, 5, 125, 126, 300, 70_000] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            let frame = payload.withUnsafeBytes { bytes in
                written(capacity: length + 10) {
                    WebSocketServerFrameWriter.writeFrame(opcode: WebSocketServerFrameWriter.pongOpcode, payload: bytes, to: $0)
                }
            }
            let expected = payload.withUnsafeBytes { WebSocketFrameWriter.frame(opcode: 0xA, payload: $0) }
            XCTAssertEqual(frame, Array(expected.readableBytesView))
        }
    }

    func testCloseFrames() {
        let reasons = [
            "", "bye", String(repeating: "a", count: 123), String(repeating: "a", count: 124), String(repeating: "a", count: 500),
            // Multi-byte characters across the 123-byte cut: it steps back to a boundary.
            String(repeating: "a", count: 122) + "é", String(repeating: "a", count: 121) + "€x", String(repeating: "a", count: 120) + "😀",
            String(repeating: "a", count: 122) + "😀", String(repeating: "€", count: 60),
        ]
        for code: UInt16 in [1000, 1001, 1002, 1007, 1009, 4999] {
            for reason in reasons {
                let expected = Array(WebSocketFrameWriter.closeFrame(code: code, reason: reason).readableBytesView)
                XCTAssertEqual(WebSocketServerFrameWriter.closeFrame(code: code, reason: reason), expected, "\(code) \(reason.utf8.count)")
                XCTAssertLessThanOrEqual(expected.count, WebSocketServerFrameWriter.maximumCloseFrameLength)
            }
        }
        XCTAssertEqual(WebSocketServerFrameWriter.closeFrame(code: 1009), [0x88, 0x02, 0x03, 0xF1])
    }

    func testCloseRepliesAreWhatTheSwiftNIOHandlerSent() {
        let echo = WebSocketCloseFrame(code: 3005, reason: UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(written(capacity: 4) { echo.writeReply(to: $0) }, [0x88, 0x02, 0x0B, 0xBD])
        let empty = WebSocketCloseFrame(code: nil, reason: UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(written(capacity: 4) { empty.writeReply(to: $0) }, [0x88, 0x00])
    }

    func testOpcodesMatchGatewayWire() {
        XCTAssertEqual(
            [WebSocketServerFrameWriter.continuationOpcode, WebSocketServerFrameWriter.textOpcode, WebSocketServerFrameWriter.binaryOpcode,
             WebSocketServerFrameWriter.closeOpcode, WebSocketServerFrameWriter.pingOpcode, WebSocketServerFrameWriter.pongOpcode],
            [WebSocketFrameWriter.continuationOpcode, WebSocketFrameWriter.textOpcode, WebSocketFrameWriter.binaryOpcode,
             WebSocketFrameWriter.closeOpcode, WebSocketFrameWriter.pingOpcode, WebSocketFrameWriter.pongOpcode])
    }
}

import GatewayWire
import NIOCore
import XCTest

final class WebSocketFrameParserTests: XCTestCase {
    private func frame(_ first: UInt8, length: Int, lengthBytes: Int, key: [UInt8]?, payload: [UInt8]? = nil) -> ByteBuffer {
        var bytes = ByteBuffer()
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        switch lengthBytes {
        case 0: bytes.writeMultipleIntegers(first, maskBit | UInt8(length))
        case 2: bytes.writeMultipleIntegers(first, maskBit | 126, UInt16(length))
        default: bytes.writeMultipleIntegers(first, maskBit | 127, UInt64(length))
        }
        if let key { bytes.writeBytes(key) }
        bytes.writeBytes(payload ?? Array(repeating: 0x61, count: length))
        return bytes
    }

    func testEveryLengthEncodingAndTheHeaderFields() throws {
        var parser = WebSocketFrameParser(maximumPayloadLength: 1 << 20)
        for (length, lengthBytes) in [(0, 0), (125, 0), (126, 2), (65535, 2), (65536, 8)] {
            var bytes = frame(0x81, length: length, lengthBytes: lengthBytes, key: [1, 2, 3, 4])
            let parsed = try XCTUnwrap(try parser.parse(&bytes), "length \(length)")
            XCTAssertTrue(parsed.fin)
            XCTAssertEqual(parsed.opcode, 0x1)
            XCTAssertEqual(parsed.reservedBits, 0)
            XCTAssertEqual(parsed.maskingKey.map { [$0.0, $0.1, $0.2, $0.3] }, [1, 2, 3, 4])
            XCTAssertEqual(parsed.payload.readableBytes, length)
            XCTAssertEqual(bytes.readableBytes, 0, "exactly one frame consumed")
        }
    }

    func testAnIncompleteFrameConsumesNothing() throws {
        var parser = WebSocketFrameParser(maximumPayloadLength: 1 << 20)
        let whole = frame(0x82, length: 300, lengthBytes: 2, key: [9, 9, 9, 9])
        for cut in 0..<whole.readableBytes {
            var partial = whole.getSlice(at: 0, length: cut)!
            XCTAssertNil(try parser.parse(&partial), "cut at \(cut)")
            XCTAssertEqual(partial.readableBytes, cut)
        }
    }

    func testFlagsOfAnUnmaskedFragmentWithReservedBits() throws {
        var parser = WebSocketFrameParser(maximumPayloadLength: 64)
        var bytes = frame(0x70, length: 3, lengthBytes: 0, key: nil)  // FIN clear, RSV1-3, continuation
        let parsed = try XCTUnwrap(try parser.parse(&bytes))
        XCTAssertFalse(parsed.fin)
        XCTAssertEqual(parsed.reservedBits, 0x7)
        XCTAssertEqual(parsed.opcode, 0x0)
        XCTAssertNil(parsed.maskingKey)
        XCTAssertFalse(parsed.isControl)
    }

    func testLimitsAreCheckedFromTheHeaderAlone() {
        var parser = WebSocketFrameParser(maximumPayloadLength: 64)
        var tooLarge = ByteBuffer()
        tooLarge.writeMultipleIntegers(UInt8(0x81), UInt8(0x80 | 127), UInt64.max)
        XCTAssertThrowsError(try parser.parse(&tooLarge)) {
            XCTAssertEqual($0 as? WebSocketFrameParseError, .payloadTooLarge(length: .max, limit: 64))
        }
        // A control frame may carry 125 bytes even under a smaller message limit, never more.
        var ping = frame(0x89, length: 125, lengthBytes: 0, key: [0, 0, 0, 0])
        XCTAssertEqual(try parser.parse(&ping)?.payload.readableBytes, 125)
        var longPing = ByteBuffer()
        longPing.writeMultipleIntegers(UInt8(0x89), UInt8(0x80 | 126), UInt16(126))
        XCTAssertThrowsError(try parser.parse(&longPing)) {
            XCTAssertEqual($0 as? WebSocketFrameParseError, .controlPayloadTooLong(length: 126))
        }
    }
}

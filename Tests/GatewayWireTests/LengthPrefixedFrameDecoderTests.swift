import GatewayWire
import NIOCore
import NIOTestUtils
import XCTest

final class LengthPrefixedFrameDecoderTests: XCTestCase {
    private func frame(_ body: String) -> ByteBuffer {
        Array(body.utf8).withUnsafeBytes { LengthPrefixedFrameDecoder.encode($0) }
    }

    func testEncodeCountsTheHeaderInTheLength() {
        XCTAssertEqual(Array(frame("hi").readableBytesView), [0, 0, 0, 6, UInt8(ascii: "h"), UInt8(ascii: "i")])
        XCTAssertEqual(Array(frame("").readableBytesView), [0, 0, 0, 4])
    }

    func testDecodesWholeFramesHoweverTheBytesAreSplit() throws {
        var stream = frame("hello")
        var second = frame("")
        var third = frame("world")
        stream.writeBuffer(&second)
        stream.writeBuffer(&third)
        // Every split of the stream into single bytes, as a drip-feeding client would send it.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(stream, [ByteBuffer(string: "hello"), ByteBuffer(), ByteBuffer(string: "world")])]
        ) { LengthPrefixedFrameDecoder(maximumBodyLength: 100) }
    }

    func testALengthBelowTheHeaderIsRefused() {
        var decoder = LengthPrefixedFrameDecoder(maximumBodyLength: 100)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 3, 0xff])
        XCTAssertThrowsError(try decoder.decode(buffer: &buffer)) {
            XCTAssertEqual($0 as? LengthPrefixedFrameError, .lengthBelowHeader(3))
        }
    }

    func testAnOversizedFrameIsRefusedFromItsHeaderAlone() {
        var decoder = LengthPrefixedFrameDecoder(maximumBodyLength: 10)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 15])
        XCTAssertThrowsError(try decoder.decode(buffer: &buffer)) {
            XCTAssertEqual($0 as? LengthPrefixedFrameError, .tooLong(length: 11, limit: 10))
        }
        var exact = ByteBuffer(bytes: [0, 0, 0, 14] + Array(repeating: 0x61, count: 10))
        XCTAssertEqual(try decoder.decode(buffer: &exact)?.readableBytes, 10)
    }

    func testAnUnfinishedFrameAtEOFIsDiscarded() throws {
        var decoder = LengthPrefixedFrameDecoder(maximumBodyLength: 10)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 9, 0x61])
        XCTAssertNil(try decoder.decodeLast(buffer: &buffer, seenEOF: true))
        XCTAssertEqual(buffer.readableBytes, 0)
    }
}

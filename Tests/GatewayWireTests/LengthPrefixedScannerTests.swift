import GatewayWire
import XCTest

final class LengthPrefixedScannerTests: XCTestCase {
    private func scan(_ bytes: [UInt8], limit: Int = 100) -> StreamScanResult {
        var scanner = LengthPrefixedScanner(maximumBodyLength: limit)
        return bytes.withUnsafeBytes { scanner.scan($0) }
    }

    private func frame(_ body: String) -> [UInt8] {
        Array(Array(body.utf8).withUnsafeBytes { LengthPrefixedFrameDecoder.encode($0) }.readableBytesView)
    }

    func testAWholeFrame() {
        XCTAssertEqual(scan(frame("hello")), .message(body: 4..<9, consumed: 9))
        XCTAssertEqual(scan(frame("")), .message(body: 4..<4, consumed: 4))
    }

    func testAHeaderSplitAcrossReads() {
        let stream = frame("hello")
        for count in 0..<4 {
            XCTAssertEqual(scan(Array(stream.prefix(count))), .needMoreBytes(messageSize: 0), "\(count) bytes")
        }
        // From the header on, the size of the whole frame is known.
        for count in 4..<stream.count {
            XCTAssertEqual(scan(Array(stream.prefix(count))), .needMoreBytes(messageSize: 9), "\(count) bytes")
        }
    }

    func testLengthsBelowTheHeaderAreMalformed() {
        for length in UInt8(0)...3 {
            XCTAssertEqual(scan([0, 0, 0, length]), .malformed, "length \(length)")
            XCTAssertEqual(scan([0, 0, 0, length, 0xFF, 0xFF]), .malformed, "length \(length)")
            // Checked before the limit.
            XCTAssertEqual(scan([0, 0, 0, length], limit: 0), .malformed, "length \(length)")
        }
    }

    func testTheBodyLimit() {
        let fits = [0, 0, 0, 14] + [UInt8](repeating: 7, count: 10)
        XCTAssertEqual(scan(fits, limit: 10), .message(body: 4..<14, consumed: 14))
        XCTAssertEqual(scan(Array(fits.prefix(4)), limit: 10), .needMoreBytes(messageSize: 14))
        // One past is refused from the header alone.
        XCTAssertEqual(scan([0, 0, 0, 15], limit: 10), .tooLong)
        XCTAssertEqual(scan([0, 0, 0, 4], limit: 0), .message(body: 4..<4, consumed: 4))
        XCTAssertEqual(scan([0, 0, 0, 5], limit: 0), .tooLong)
    }

    func testTheLargestLength() {
        XCTAssertEqual(scan([0xFF, 0xFF, 0xFF, 0xFF], limit: .max), .needMoreBytes(messageSize: 0xFFFF_FFFF))
        XCTAssertEqual(scan([0xFF, 0xFF, 0xFF, 0xFF], limit: 1 << 20), .tooLong)
        XCTAssertEqual(scan([0x00, 0x10, 0x00, 0x04], limit: 1 << 20), .needMoreBytes(messageSize: (1 << 20) + 4))
    }

    func testPipelinedFrames() {
        let stream = frame("one") + frame("") + frame("three") + [0, 0, 1]
        let outcome = StreamFeed.scan([stream], .frame, limit: 100)
        XCTAssertEqual(outcome, StreamFeed.Outcome(messages: [Array("one".utf8), [], Array("three".utf8)], leftover: 3))
        // Three bytes are no header yet, so no size; with the fourth it is known.
        XCTAssertEqual(StreamFeed.scan([stream + [9]], .frame, limit: 300).pendingMessageSize, 265)
    }

    func testItHoldsOnlyItsLimit() {
        XCTAssertEqual(MemoryLayout<LengthPrefixedScanner>.size, MemoryLayout<Int>.size)
    }
}

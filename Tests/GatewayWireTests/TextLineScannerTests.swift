import GatewayWire
import XCTest

final class TextLineScannerTests: XCTestCase {
    private func scan(_ scanner: inout TextLineScanner, _ text: String) -> StreamScanResult {
        Array(text.utf8).withUnsafeBytes { scanner.scan($0) }
    }

    private func scan(_ text: String, limit: Int = 64) -> StreamScanResult {
        var scanner = TextLineScanner(maximumLineLength: limit)
        return scan(&scanner, text)
    }

    func testALineLosesItsNewlineAndEveryTrailingCarriageReturn() {
        XCTAssertEqual(scan("hello\n"), .message(body: 0..<5, consumed: 6))
        XCTAssertEqual(scan("crlf\r\n"), .message(body: 0..<4, consumed: 6))
        XCTAssertEqual(scan("two\r\r\n"), .message(body: 0..<3, consumed: 6))
        XCTAssertEqual(scan("inner\rcr\n"), .message(body: 0..<8, consumed: 9))
    }

    func testEmptyLines() {
        XCTAssertEqual(scan("\n"), .message(body: 0..<0, consumed: 1))
        XCTAssertEqual(scan("\r\n"), .message(body: 0..<0, consumed: 2))
        XCTAssertEqual(scan("\r\r\n"), .message(body: 0..<0, consumed: 3))
    }

    func testNoNewlineYet() {
        XCTAssertEqual(scan(""), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan("partial\r"), .needMoreBytes(messageSize: 0))
    }

    func testPipelinedLines() {
        let outcome = StreamFeed.scan([Array("a\r\n\nbc\r\r\nrest".utf8)], .text, limit: 64)
        XCTAssertEqual(outcome, StreamFeed.Outcome(messages: [Array("a".utf8), [], Array("bc".utf8)], leftover: 4))
    }

    func testTheLimitCountsEveryByteBeforeTheNewline() {
        XCTAssertEqual(scan("12345678\n", limit: 8), .message(body: 0..<8, consumed: 9))
        XCTAssertEqual(scan("1234567\r\n", limit: 8), .message(body: 0..<7, consumed: 9))
        XCTAssertEqual(scan("12345678", limit: 8), .needMoreBytes(messageSize: 0))
        // One past: refused whether or not the newline is there too.
        XCTAssertEqual(scan("123456789", limit: 8), .tooLong)
        XCTAssertEqual(scan("123456789\n", limit: 8), .tooLong)
        XCTAssertEqual(scan("1234567\r\r\n", limit: 8), .tooLong)
        XCTAssertEqual(scan("123456789\nok\n", limit: 8), .tooLong)
    }

    func testLimitZeroTakesOnlyEmptyLines() {
        XCTAssertEqual(scan("\nx", limit: 0), .message(body: 0..<0, consumed: 1))
        XCTAssertEqual(scan("", limit: 0), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan("x", limit: 0), .tooLong)
        XCTAssertEqual(scan("\r\n", limit: 0), .tooLong)
    }

    func testNoLimit() {
        XCTAssertEqual(scan("a\nb", limit: .max), .message(body: 0..<1, consumed: 2))
        XCTAssertEqual(scan("abc", limit: .max), .needMoreBytes(messageSize: 0))
    }

    func testADripFedLineIsRefusedOnceOverTheLimit() {
        var scanner = TextLineScanner(maximumLineLength: 1000)
        var bytes: [UInt8] = []
        for index in 0..<1000 {
            bytes.append(UInt8(ascii: "x"))
            XCTAssertEqual(bytes.withUnsafeBytes { scanner.scan($0) }, .needMoreBytes(messageSize: 0), "\(index)")
        }
        bytes.append(UInt8(ascii: "x"))
        XCTAssertEqual(bytes.withUnsafeBytes { scanner.scan($0) }, .tooLong)
    }

    func testALineCompletedByALaterRead() {
        var scanner = TextLineScanner(maximumLineLength: 8)
        XCTAssertEqual(scan(&scanner, "1234"), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan(&scanner, "1234567\r"), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan(&scanner, "1234567\r\nnext"), .message(body: 0..<7, consumed: 9))
    }

    /// White box: the scanner trusts that bytes it searched come back unchanged, so a newline
    /// slipped into them (which a caller must never do) goes unseen. A rescan would find it.
    func testBytesAlreadySearchedAreNotSearchedAgain() {
        var scanner = TextLineScanner(maximumLineLength: 64)
        XCTAssertEqual(scan(&scanner, "abc"), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan(&scanner, "a\ncd"), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan(&scanner, "a\ncde\n"), .message(body: 0..<5, consumed: 6))
    }

    /// After a message the next bytes are new ones: the search starts at their front again.
    func testAMessageResetsHowFarItSearched() {
        var scanner = TextLineScanner(maximumLineLength: 64)
        XCTAssertEqual(scan(&scanner, "abc"), .needMoreBytes(messageSize: 0))
        XCTAssertEqual(scan(&scanner, "abc\n"), .message(body: 0..<3, consumed: 4))
        XCTAssertEqual(scan(&scanner, "\n"), .message(body: 0..<0, consumed: 1))
    }

    func testItHoldsTwoWords() {
        XCTAssertEqual(MemoryLayout<TextLineScanner>.size, 2 * MemoryLayout<Int>.size)
    }
}

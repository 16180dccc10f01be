import GatewayWire
import NIOCore
import NIOTestUtils
import XCTest

final class LineFrameDecoderTests: XCTestCase {
    private func line(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    func testVerifierWithTerminators() throws {
        let pairs: [(ByteBuffer, [ByteBuffer])] = [
            (line("{\"event\":\"ping\"}\n"), [line("{\"event\":\"ping\"}")]),
            (line("crlf\r\n"), [line("crlf")]),
            (line("two\r\r\n"), [line("two")]),
            (line("\n"), [line("")]),
            (line("a\nb\n"), [line("a"), line("b")]),
            (line("inner\rcr\n"), [line("inner\rcr")]),
            (ByteBuffer(bytes: [0xFF, 0x00, 0x0A]), [ByteBuffer(bytes: [0xFF, 0x00])]),
        ]
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { LineFrameDecoder() })
    }

    /// The captured register connections (e.g. two lines in one segment) split into lines.
    func testCapturedRegisterStreams() throws {
        var checked = 0
        for vector in Fixtures.registerVectors {
            let hex = vector["hex"]!.stringValue!
            guard !hex.isEmpty else { continue }
            let lines: [String]
            if let sent = vector["decoded"]?["sent_lines"]?.arrayValue {
                lines = sent.map { $0.stringValue! }
            } else {
                lines = [vector["line"]!.stringValue!]
            }
            XCTAssertNoThrow(
                try ByteToMessageDecoderVerifier.verifyDecoder(
                    inputOutputPairs: [(Fixtures.buffer(hex: hex), lines.map(line))]
                ) { LineFrameDecoder() }
            )
            checked += 1
        }
        XCTAssertEqual(checked, 24)
    }

    func testLineLimit() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 8)
        var exact = line("12345678\n")
        XCTAssertEqual(try decoder.decode(buffer: &exact), line("12345678"))

        var waiting = line("12345678")
        XCTAssertNil(try decoder.decode(buffer: &waiting))

        var tooLong = line("123456789")
        XCTAssertThrowsError(try decoder.decode(buffer: &tooLong)) { error in
            XCTAssertEqual(error as? LineTooLongError, LineTooLongError(limit: 8))
        }

        var unlimited = LineFrameDecoder(maximumLineLength: .max)
        var plain = line("a\nb")
        XCTAssertEqual(try unlimited.decode(buffer: &plain), line("a"))
        XCTAssertNil(try unlimited.decode(buffer: &plain))

        var fresh = LineFrameDecoder(maximumLineLength: 8)
        var tooLongWithNewline = line("123456789\nok\n")
        XCTAssertThrowsError(try fresh.decode(buffer: &tooLongWithNewline))
    }

    func testDripFedLongLineIsRejectedOnceOverTheLimit() throws {
        var decoder = LineFrameDecoder(maximumLineLength: 1000)
        var buffer = ByteBuffer()
        for index in 0..<1000 {
            buffer.writeString("x")
            XCTAssertNil(try decoder.decode(buffer: &buffer), "\(index)")
        }
        buffer.writeString("x")
        XCTAssertThrowsError(try decoder.decode(buffer: &buffer))
    }

    func testUnterminatedTailIsDroppedAtEOF() throws {
        var decoder = LineFrameDecoder()
        var buffer = line("done\npartial")
        XCTAssertEqual(try decoder.decodeLast(buffer: &buffer, seenEOF: true), line("done"))
        XCTAssertNil(try decoder.decodeLast(buffer: &buffer, seenEOF: true))
        XCTAssertEqual(buffer.readableBytes, 0)

        var removed = line("partial")
        XCTAssertNil(try decoder.decodeLast(buffer: &removed, seenEOF: false))
        XCTAssertEqual(removed.readableBytes, 7)
    }
}

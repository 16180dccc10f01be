import GatewayWire
import NIOCore
import NIOTestUtils
import XCTest

final class GatewayReplyDecoderTests: XCTestCase {
    func testDecoderVerifierWithEveryCapturedReply() throws {
        let pairs = Fixtures.replyVectors.map { vector in
            (
                Fixtures.buffer(hex: vector["hex"]!.stringValue!),
                [ByteBuffer(bytes: Fixtures.payload(vector["decoded"]?["payload"]))]
            )
        }
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { GatewayReplyDecoder() })
    }

    /// What came back on each captured query connection, including three replies in a row on
    /// one authorised connection (G5.auth_sticky_and_unknown_cmd).
    func testCapturedReplyStreams() throws {
        var streams = 0
        for vector in Fixtures.vectors {
            let stream = vector["connection"]?["s2c_hex"]?.stringValue ?? vector["response"]?["hex"]?.stringValue ?? ""
            guard vector["channel"]?.stringValue?.contains("GatewayProtocol") == true, !stream.isEmpty else { continue }
            var buffer = Fixtures.buffer(hex: stream)
            var parser = GatewayReplyParser()
            var payloads: [ByteBuffer] = []
            while let payload = try parser.parse(&buffer) {
                payloads.append(payload)
                XCTAssertNoThrow(try PHPSerializer.unserialize(payload))
            }
            XCTAssertEqual(buffer.readableBytes, 0)
            XCTAssertNoThrow(
                try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(Fixtures.buffer(hex: stream), payloads)]) {
                    GatewayReplyDecoder()
                }
            )
            streams += 1
        }
        XCTAssertEqual(streams, 30)
    }
}

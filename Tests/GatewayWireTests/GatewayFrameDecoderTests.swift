import GatewayWire
import NIOCore
import NIOTestUtils
import XCTest

final class GatewayFrameDecoderTests: XCTestCase {
    func testDecoderVerifierWithEveryCapturedFrame() throws {
        let pairs = Fixtures.frameVectors.map { vector in
            (Fixtures.buffer(hex: vector["hex"]!.stringValue!), [Fixtures.expectedFrame(vector)])
        }
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { GatewayFrameDecoder() })
    }

    /// Whole captured TCP streams (several frames per write, e.g. the auth prefix followed by a
    /// query) split into the frames that were sent.
    func testCapturedStreamsSplitIntoTheirFrames() throws {
        var streams = 0
        for vector in Fixtures.frameVectors {
            guard let sent = vector["all_frames_sent"]?.arrayValue, let stream = vector["connection"]?["c2s_hex"]?.stringValue
            else { continue }
            let frames = try sent.map { hex -> GatewayFrame in
                var buffer = Fixtures.buffer(hex: hex.stringValue!)
                var parser = GatewayFrameParser()
                return try XCTUnwrap(try parser.parse(&buffer))
            }
            XCTAssertEqual(Fixtures.hex(sent.flatMap { Fixtures.bytes(hex: $0.stringValue!) }), stream)
            XCTAssertNoThrow(
                try ByteToMessageDecoderVerifier.verifyDecoder(
                    inputOutputPairs: [(Fixtures.buffer(hex: stream), frames)]
                ) { GatewayFrameDecoder() }
            )
            streams += 1
        }
        XCTAssertEqual(streams, 6)
    }

    /// Every captured client-to-gateway connection (GatewayClient opens one per call, with the
    /// auth frame first in scenario B) decodes completely.
    func testCapturedConnectionsDecodeCompletely() throws {
        var connections = 0
        for vector in Fixtures.frameVectors {
            guard let stream = vector["connection"]?["c2s_hex"]?.stringValue else { continue }
            var buffer = Fixtures.buffer(hex: stream)
            var parser = GatewayFrameParser()
            var frames: [GatewayFrame] = []
            while let frame = try parser.parse(&buffer) {
                frames.append(frame)
            }
            XCTAssertEqual(buffer.readableBytes, 0, vector["id"]!.stringValue!)
            XCTAssertTrue(frames.contains(Fixtures.expectedFrame(vector)), vector["id"]!.stringValue!)
            var reencoded = ByteBuffer()
            for frame in frames { reencoded.writeGatewayFrame(frame) }
            XCTAssertEqual(Fixtures.hex(reencoded.readableBytesView), stream)
            XCTAssertNoThrow(
                try ByteToMessageDecoderVerifier.verifyDecoder(
                    inputOutputPairs: [(Fixtures.buffer(hex: stream), frames)]
                ) { GatewayFrameDecoder() }
            )
            connections += 1
        }
        XCTAssertGreaterThan(connections, 40)
    }

    func testDecoderSurfacesParserErrors() {
        var decoder = GatewayFrameDecoder(maximumFrameLength: 64)
        var buffer = ByteBuffer(bytes: [0, 0, 1, 0])
        XCTAssertThrowsError(try decoder.decode(buffer: &buffer)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(declared: 256, limit: 64))
        }
    }
}

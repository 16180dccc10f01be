import GatewayWire
import NIOCore
import XCTest

final class GatewayReplyParserTests: XCTestCase {
    /// Every captured reply parses; its payload unserializes and re-serializes byte-identically,
    /// and `writeGatewayReply` rebuilds the whole reply.
    func testEveryCapturedReplyRoundTrips() throws {
        let vectors = Fixtures.replyVectors
        XCTAssertEqual(vectors.count, 35)
        for vector in vectors {
            let id = vector["id"]!.stringValue!
            let decoded = vector["decoded"]!
            let bytes = Fixtures.bytes(hex: vector["hex"]!.stringValue!)
            var buffer = ByteBuffer(bytes: bytes)
            var parser = GatewayReplyParser()
            let payload = try XCTUnwrap(try parser.parse(&buffer), id)
            XCTAssertEqual(buffer.readableBytes, 0, id)
            XCTAssertEqual(payload.readableBytes, decoded["len"]?.intValue, id)
            XCTAssertEqual(Array(payload.readableBytesView), Fixtures.payload(decoded["payload"]), id)

            let value = try PHPSerializer.unserialize(payload)
            XCTAssertEqual(PHPSerializer.serialize(value), Array(payload.readableBytesView), id)
            if let expected = decoded["payload_value"] {
                XCTAssertEqual(value.json, expected, id)
            }
            var rebuilt = ByteBuffer()
            rebuilt.writeGatewayReply(value)
            XCTAssertEqual(Array(rebuilt.readableBytesView), bytes, id)

            var verbatim = ByteBuffer()
            payload.withUnsafeReadableBytes { verbatim.writeGatewayReply(serialized: $0) }
            XCTAssertEqual(Array(verbatim.readableBytesView), bytes, id)
        }
    }

    /// The nested raw session strings in query replies are themselves serialized arrays.
    func testSessionsNestedAsStringsInReplies() throws {
        let vector = Fixtures.vector("G4.get_all_client_sessions.reply")
        var buffer = Fixtures.buffer(hex: vector["hex"]!.stringValue!)
        var parser = GatewayReplyParser()
        let value = try PHPSerializer.unserialize(try XCTUnwrap(try parser.parse(&buffer)))
        let session = try XCTUnwrap(value[.int(1)]?.bytesValue)
        XCTAssertEqual(try PHPSerializer.unserialize(session), ["name": "alice"])
        XCTAssertEqual(value[.int(2)], "")
    }

    func testPartialRepliesWaitWithoutConsuming() throws {
        let bytes = Fixtures.bytes(hex: Fixtures.vector("G4.get_session.reply")["hex"]!.stringValue!)
        var parser = GatewayReplyParser()
        for length in 0..<bytes.count {
            var partial = ByteBuffer(bytes: bytes[..<length])
            XCTAssertNil(try parser.parse(&partial))
            XCTAssertEqual(partial.readableBytes, length)
        }
        var empty = ByteBuffer(bytes: [0, 0, 0, 0, 9])
        XCTAssertEqual(try parser.parse(&empty), ByteBuffer())
        XCTAssertEqual(empty.readableBytes, 1)
    }

    func testHugeDeclaredLengthIsRejectedImmediately() {
        var parser = GatewayReplyParser()
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try parser.parse(&buffer)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(declared: 0xFFFF_FFFF, limit: 64 * 1024 * 1024))
        }
        var small = GatewayReplyParser(maximumLength: 3)
        var four = ByteBuffer(bytes: [0, 0, 0, 4])
        XCTAssertThrowsError(try small.parse(&four))
        var three = ByteBuffer(bytes: [0, 0, 0, 3, 1, 2, 3])
        XCTAssertEqual(try small.parse(&three), ByteBuffer(bytes: [1, 2, 3]))
    }
}

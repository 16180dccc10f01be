import GatewayWire
import NIOCore
import XCTest

final class GatewayFrameParserTests: XCTestCase {
    /// Every captured frame decodes to the captured header fields, ext_data and body, and
    /// re-encodes (both writers) to the identical bytes.
    func testEveryCapturedFrameDecodesAndReEncodesIdentically() throws {
        let vectors = Fixtures.frameVectors
        XCTAssertEqual(vectors.count, 93)
        for vector in vectors {
            let id = vector["id"]!.stringValue!
            let decoded = vector["decoded"]!
            let bytes = Fixtures.bytes(hex: vector["hex"]!.stringValue!)
            var buffer = ByteBuffer(bytes: bytes)
            var parser = GatewayFrameParser()
            let frame = try XCTUnwrap(try parser.parse(&buffer), id)
            XCTAssertEqual(buffer.readableBytes, 0, id)

            XCTAssertEqual(frame.encodedLength, decoded["pack_len"]?.intValue, id)
            XCTAssertEqual(Int(frame.command.rawValue), decoded["cmd"]?.intValue, id)
            XCTAssertEqual(Int(frame.localIP), decoded["local_ip"]?.intValue, id)
            XCTAssertEqual(IPv4.format(frame.localIP), decoded["local_ip_str"]?.stringValue, id)
            XCTAssertEqual(Int(frame.localPort), decoded["local_port"]?.intValue, id)
            XCTAssertEqual(Int(frame.clientIP), decoded["client_ip"]?.intValue, id)
            XCTAssertEqual(IPv4.format(frame.clientIP), decoded["client_ip_str"]?.stringValue, id)
            XCTAssertEqual(Int(frame.clientPort), decoded["client_port"]?.intValue, id)
            XCTAssertEqual(Int(frame.connectionID), decoded["connection_id"]?.intValue, id)
            XCTAssertEqual(Int(frame.flags.rawValue), decoded["flag"]?.intValue, id)
            XCTAssertEqual(Int(frame.gatewayPort), decoded["gateway_port"]?.intValue, id)
            XCTAssertEqual(frame.extData.readableBytes, decoded["ext_len"]?.intValue, id)
            XCTAssertEqual(Array(frame.extData.readableBytesView), Fixtures.payload(decoded["ext_data"]), id)
            XCTAssertEqual(Array(frame.body.readableBytesView), Fixtures.payload(decoded["body"]), id)
            XCTAssertEqual(frame, Fixtures.expectedFrame(vector), id)

            var encoded = ByteBuffer()
            XCTAssertEqual(encoded.writeGatewayFrame(frame), bytes.count, id)
            XCTAssertEqual(Array(encoded.readableBytesView), bytes, id)
            XCTAssertEqual(Fixtures.hex(bytes.prefix(28)), decoded["header_hex"]?.stringValue, id)

            var hotPath = ByteBuffer()
            let ext = Array(frame.extData.readableBytesView)
            let body = Array(frame.body.readableBytesView)
            ext.withUnsafeBytes { ext in
                body.withUnsafeBytes { body in
                    _ = hotPath.writeGatewayFrame(
                        command: frame.command, connectionID: frame.connectionID, flags: frame.flags,
                        extData: ext, body: body, localIP: frame.localIP, localPort: frame.localPort,
                        clientIP: frame.clientIP, clientPort: frame.clientPort, gatewayPort: frame.gatewayPort
                    )
                }
            }
            XCTAssertEqual(Array(hotPath.readableBytesView), bytes, id)
        }
    }

    /// Sessions in ext_data and serialized bodies (flag bit 0 clear) unserialize and
    /// re-serialize byte-identically.
    func testSerializedExtDataAndBodiesRoundTrip() throws {
        var checked = 0
        for vector in Fixtures.frameVectors {
            let decoded = vector["decoded"]!
            for field in ["ext_data", "body"] where decoded["\(field)_format"]?.stringValue == "php-serialize" {
                let bytes = Fixtures.payload(decoded[field])
                let value = try PHPSerializer.unserialize(bytes)
                XCTAssertEqual(PHPSerializer.serialize(value), bytes, vector["id"]!.stringValue!)
                if let expected = decoded["\(field)_value"] {
                    XCTAssertEqual(value.json, expected, vector["id"]!.stringValue!)
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    /// JSON ext_data and bodies re-encode with PHP escaping to the captured bytes (except the
    /// probe-built bodies, which have a space PHP's json_encode never writes).
    func testJSONExtDataAndBodiesReEncodeLikePHP() throws {
        var checked = 0
        for vector in Fixtures.frameVectors {
            let decoded = vector["decoded"]!
            for field in ["ext_data", "body"] where decoded["\(field)_format"]?.stringValue == "json" {
                let bytes = Fixtures.payload(decoded[field])
                let json = try JSONValue.parse(bytes)
                if let expected = decoded["\(field)_value"] {
                    XCTAssertEqual(PHPValue(json: json).json, expected, vector["id"]!.stringValue!)
                }
                guard !bytes.contains(UInt8(ascii: " ")) else { continue }
                XCTAssertEqual(json.serialized(escaping: .php), bytes, vector["id"]!.stringValue!)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 30)
    }

    func testNeedsMoreBytesWithoutConsuming() throws {
        let bytes = Fixtures.bytes(hex: Fixtures.vector("G2.on_message.with_session")["hex"]!.stringValue!)
        var parser = GatewayFrameParser()
        for length in 0..<bytes.count {
            var partial = ByteBuffer(bytes: bytes[..<length])
            XCTAssertNil(try parser.parse(&partial))
            XCTAssertEqual(partial.readableBytes, length)
        }
    }

    func testConsumesExactlyOneFrame() throws {
        let first = Fixtures.bytes(hex: Fixtures.vector("G2.on_connect")["hex"]!.stringValue!)
        let second = Fixtures.bytes(hex: Fixtures.vector("G2.on_message")["hex"]!.stringValue!)
        var buffer = ByteBuffer(bytes: first + second + [0, 0])
        var parser = GatewayFrameParser()
        XCTAssertEqual(try parser.parse(&buffer)?.command, .onConnect)
        XCTAssertEqual(try parser.parse(&buffer)?.command, .onMessage)
        XCTAssertNil(try parser.parse(&buffer))
        XCTAssertEqual(buffer.readableBytes, 2)
    }

    func testFrameShorterThanHeaderIsRejected() {
        var parser = GatewayFrameParser()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 27] + [UInt8](repeating: 0, count: 40))
        XCTAssertThrowsError(try parser.parse(&buffer)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooShort(declared: 27))
        }
        var zero = ByteBuffer(bytes: [0, 0, 0, 0])
        XCTAssertThrowsError(try parser.parse(&zero)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooShort(declared: 0))
        }
    }

    /// A hostile 4 GiB length is refused from the first four bytes, before anything is buffered.
    func testHugeDeclaredLengthIsRejectedImmediately() {
        var parser = GatewayFrameParser()
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try parser.parse(&buffer)) { error in
            XCTAssertEqual(
                error as? GatewayFrameError,
                .frameTooLarge(declared: 0xFFFF_FFFF, limit: 16 * 1024 * 1024)
            )
        }
        XCTAssertEqual(buffer.readableBytes, 4)

        var small = GatewayFrameParser(maximumFrameLength: 100)
        var frame = ByteBuffer()
        frame.writeGatewayFrame(GatewayFrame(command: .onMessage, body: ByteBuffer(bytes: [UInt8](repeating: 1, count: 73))))
        XCTAssertThrowsError(try small.parse(&frame)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(declared: 101, limit: 100))
        }
        var fits = ByteBuffer()
        fits.writeGatewayFrame(GatewayFrame(command: .onMessage, body: ByteBuffer(bytes: [UInt8](repeating: 1, count: 72))))
        XCTAssertNotNil(try small.parse(&fits))
    }

    func testExtLengthBeyondFrameIsRejected() {
        var header = ByteBuffer()
        header.writeGatewayFrame(GatewayFrame(command: .onMessage, body: ByteBuffer(bytes: [1, 2, 3])))
        // ext_len is the last header field: claim 4 bytes of ext_data in a 3-byte payload.
        header.setInteger(UInt32(4), at: 24)
        var parser = GatewayFrameParser()
        XCTAssertThrowsError(try parser.parse(&header)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .extDataOverflow(extLength: 4, frameLength: 31))
        }
        header.setInteger(UInt32.max, at: 24)
        XCTAssertThrowsError(try parser.parse(&header)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .extDataOverflow(extLength: Int(UInt32.max), frameLength: 31))
        }
        header.setInteger(UInt32(3), at: 24)
        XCTAssertEqual(try parser.parse(&header)?.extData, ByteBuffer(bytes: [1, 2, 3]))
    }

    func testUnknownCommandAndFlagsSurvive() throws {
        // G5.auth_sticky_and_unknown_cmd sent command 99.
        let bytes = Fixtures.bytes(hex: "0000001c630000000000000000000000000000000001000000000000")
        var buffer = ByteBuffer(bytes: bytes)
        var parser = GatewayFrameParser()
        let frame = try XCTUnwrap(try parser.parse(&buffer))
        XCTAssertEqual(frame.command.rawValue, 99)
        XCTAssertEqual(frame.flags, .scalarBody)

        var custom = GatewayFrame(command: GatewayCommand(rawValue: 250), flags: GatewayFrameFlags(rawValue: 0xF3))
        custom.connectionID = .max
        var out = ByteBuffer()
        out.writeGatewayFrame(custom)
        XCTAssertEqual(try parser.parse(&out), custom)
    }

    /// Random and mutated inputs never crash the parser.
    func testMutatedFramesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let seeds = Fixtures.frameVectors.map { Fixtures.bytes(hex: $0["hex"]!.stringValue!) }
        var parser = GatewayFrameParser(maximumFrameLength: 4096)
        for round in 0..<2000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + round % 4) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if round % 3 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            var buffer = ByteBuffer(bytes: bytes)
            while let frame = try? parser.parse(&buffer) {
                XCTAssertLessThanOrEqual(frame.encodedLength, 4096)
            }
        }
    }
}

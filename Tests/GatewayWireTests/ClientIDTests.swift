import GatewayWire
import XCTest

final class ClientIDTests: XCTestCase {
    func testEveryClientIDInTheVectorsRoundTrips() throws {
        var seen = 0
        for vector in Fixtures.vectors {
            for entry in vector["client_ids"]?.arrayValue ?? [] {
                let text = try XCTUnwrap(entry["client_id"]?.stringValue)
                let id = try XCTUnwrap(ClientID(text), text)
                XCTAssertEqual(id.description, text)
                XCTAssertEqual(IPv4.format(id.ipv4), entry["local_ip"]?.stringValue)
                XCTAssertEqual(Int(id.port), entry["local_port"]?.intValue)
                XCTAssertEqual(Int(id.connectionID), entry["connection_id"]?.intValue)
                XCTAssertEqual(
                    ClientID(ipv4: id.ipv4, port: id.port, connectionID: id.connectionID).description,
                    text
                )
                seen += 1
            }
        }
        XCTAssertGreaterThan(seen, 50)
    }

    func testFrameHeaderNamesTheClientID() throws {
        let vector = Fixtures.vector("G2.on_message")
        var buffer = Fixtures.buffer(hex: vector["hex"]!.stringValue!)
        var parser = GatewayFrameParser()
        let frame = try XCTUnwrap(try parser.parse(&buffer))
        XCTAssertEqual(frame.clientID.description, "7f000001326400000001")
    }

    func testDocumentedExamples() {
        let id = ClientID(ipv4: 0x7F00_0001, port: 12900, connectionID: 999)
        XCTAssertEqual(id.description, "7f0000013264000003e7")
        XCTAssertEqual(id.gatewayAddress, "127.0.0.1:12900")
        XCTAssertEqual(ClientID("7f000002326400000001")?.gatewayAddress, "127.0.0.2:12900")
        XCTAssertEqual(ClientID(ipv4: .max, port: .max, connectionID: .max).description, "ffffffffffffffffffff")
        XCTAssertEqual(ClientID(ipv4: 0, port: 0, connectionID: 0).description, "00000000000000000000")
    }

    func testAcceptsUppercaseAndSubstrings() {
        XCTAssertEqual(ClientID("7F0000013264000003E7"), ClientID(ipv4: 0x7F00_0001, port: 12900, connectionID: 999))
        let text = "x7f0000013264000003e7x"
        let inner = text.dropFirst().dropLast()
        XCTAssertEqual(ClientID(inner)?.connectionID, 999)
    }

    func testRejectsWrongLengthAndNonHex() {
        XCTAssertNil(ClientID(""))
        XCTAssertNil(ClientID("7f000001326400000001 "))
        XCTAssertNil(ClientID("7f00000132640000001"))
        XCTAssertNil(ClientID("7f0000013264000000011"))
        XCTAssertNil(ClientID("7f00000132640000000g"))
        XCTAssertNil(ClientID("7f00000132640000000-"))
        XCTAssertNil(ClientID("７f000001326400000001"))
    }

    func testParsesRawBytes() {
        let bytes = Array("7f000001326400000002".utf8)
        let id = bytes.withUnsafeBytes { ClientID(bytes: $0) }
        XCTAssertEqual(id?.connectionID, 2)
        XCTAssertNil([UInt8](repeating: 0x30, count: 21).withUnsafeBytes { ClientID(bytes: $0) })
        XCTAssertNil([UInt8](repeating: 0xFF, count: 20).withUnsafeBytes { ClientID(bytes: $0) })
    }
}

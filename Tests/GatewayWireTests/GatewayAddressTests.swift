import GatewayWire
import XCTest

final class GatewayAddressTests: XCTestCase {
    func testTextRoundTrips() throws {
        for text in ["127.0.0.1:2900", "0.0.0.0:0", "255.255.255.255:65535", "10.1.2.3:12900"] {
            XCTAssertEqual(try XCTUnwrap(GatewayAddress(text), text).description, text)
        }
        XCTAssertEqual(GatewayAddress("192.168.100.200:2900"), GatewayAddress(ipv4: 0xC0A8_64C8, port: 2900))
    }

    func testRejectsWhatIsNotIPv4ColonPort() {
        for text in [
            "", "127.0.0.1", "127.0.0.1:", ":2900", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.01:2900",
            "localhost:2900", "[::1]:2900", "127.0.0.1:2900 ", "1.2.3:2900",
        ] {
            XCTAssertNil(GatewayAddress(text), text)
        }
    }

    func testIsTheGatewayPartOfAClientID() throws {
        let id = try XCTUnwrap(ClientID("7f0000013264000003e7"))
        XCTAssertEqual(id.gateway, GatewayAddress(ipv4: 0x7F00_0001, port: 12900))
        XCTAssertEqual(id.gateway.description, id.gatewayAddress)
        XCTAssertEqual(ClientID(gateway: id.gateway, connectionID: 999), id)
    }

    func testOrdersByAddressThenPort() {
        let sorted = [
            GatewayAddress(ipv4: 0x0A00_000A, port: 1), GatewayAddress(ipv4: 0x0A00_0009, port: 2901),
            GatewayAddress(ipv4: 0x0A00_0009, port: 2900),
        ].sorted()
        XCTAssertEqual(sorted.map(\.description), ["10.0.0.9:2900", "10.0.0.9:2901", "10.0.0.10:1"])
    }

    func testClientIDHexDigitsWithoutAString() {
        let id = ClientID(ipv4: 0x7F00_0001, port: 12900, connectionID: 999)
        var bytes = [UInt8](repeating: 0xEE, count: 21)
        bytes.withUnsafeMutableBytes { id.writeHexDigits(to: $0) }
        XCTAssertEqual(String(decoding: bytes.prefix(20), as: UTF8.self), id.description)
        XCTAssertEqual(bytes[20], 0xEE, "only the 20 digits are written")
    }

    func testClientIDHexDigitsMatchTheRadixFormatting() {
        func padded<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        var generator = SystemRandomNumberGenerator()
        let edges: [UInt32] = [0, 9, 10, 15, 0x9999_9999, 0xAAAA_AAAA, 0xFFFF_FFFF, 0x0123_4567, 0x89AB_CDEF]
        for index in 0..<2000 {
            let ipv4 = index < edges.count ? edges[index] : generator.next()
            let port = index < edges.count ? UInt16(truncatingIfNeeded: edges[index]) : generator.next()
            let connection = index < edges.count ? edges[edges.count - 1 - index] : generator.next()
            let id = ClientID(ipv4: ipv4, port: port, connectionID: connection)
            var bytes = [UInt8](repeating: 0, count: 20)
            bytes.withUnsafeMutableBytes { id.writeHexDigits(to: $0) }
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), padded(ipv4, 8) + padded(port, 4) + padded(connection, 8))
        }
    }
}

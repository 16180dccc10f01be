import GatewayWire
import XCTest

final class IPv4Tests: XCTestCase {
    func testParseAndFormat() {
        XCTAssertEqual(IPv4.parse("127.0.0.1"), 0x7F00_0001)
        XCTAssertEqual(IPv4.parse("0.0.0.0"), 0)
        XCTAssertEqual(IPv4.parse("255.255.255.255"), .max)
        XCTAssertEqual(IPv4.parse("10.20.30.40"[...]), 0x0A14_1E28)
        XCTAssertEqual(IPv4.format(0x7F00_0002), "127.0.0.2")
        XCTAssertEqual(IPv4.format(.max), "255.255.255.255")
        for value: UInt32 in [0, 1, 0x7F00_0001, 0xC0A8_0101, .max] {
            XCTAssertEqual(IPv4.parse(IPv4.format(value)), value)
        }
    }

    func testRejectsMalformed() {
        for text in ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", ".1.2.3", "1.2.3.", "01.2.3.4", "1.2.3.4 ",
            " 1.2.3.4", "a.b.c.d", "1.2.3.4:80", "::1", "1.2.3.-4", "1234.1.1.1"]
        {
            XCTAssertNil(IPv4.parse(text), text)
        }
    }
}

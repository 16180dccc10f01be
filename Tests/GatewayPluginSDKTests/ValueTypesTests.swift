import GatewayPluginSDK
import XCTest

final class ValueTypesTests: XCTestCase {
    func testClientIDAcceptsOnlyTwentyLowercaseHexCharacters() {
        XCTAssertEqual(ClientID("7f0000010b5400000001")?.rawValue, "7f0000010b5400000001")
        XCTAssertEqual(ClientID(rawValue: "7f0000010b5400000001"), ClientID("7f0000010b5400000001"))
        XCTAssertNil(ClientID("7F0000010B5400000001"), "uppercase")
        XCTAssertNil(ClientID("7f0000010b540000000"), "19 characters")
        XCTAssertNil(ClientID("7f0000010b54000000011"), "21 characters")
        XCTAssertNil(ClientID("7f0000010b540000000g"), "not hex")
        XCTAssertNil(ClientID(""))
        XCTAssertEqual("\(ClientID("00000000000000000000")!)", "00000000000000000000")
    }

    func testMessageHelpers() {
        let text: Message = "héllo"
        XCTAssertEqual(text, .text("héllo"))
        XCTAssertEqual(text.text, "héllo")
        XCTAssertEqual(text.bytes, Array("héllo".utf8))
        XCTAssertTrue(text.isText)
        XCTAssertFalse(text.isBinary)

        let binary = Message.binary([0x68, 0x69, 0xFF])
        XCTAssertNil(binary.text)
        XCTAssertEqual(binary.bytes, [0x68, 0x69, 0xFF])
        XCTAssertEqual(binary.string, "hi\u{FFFD}")
        XCTAssertTrue(binary.isBinary)
    }

    func testQueryParameters() {
        let request = HandshakeRequest(path: "/", query: "a=1&&flag&b=x=y&reject=1")
        XCTAssertEqual(request.queryParameters.map { "\($0.name)|\($0.value)" }, ["a|1", "flag|", "b|x=y", "reject|1"])
        XCTAssertEqual(request.queryParameter("b"), "x=y")
        XCTAssertNil(request.queryParameter("c"))
    }

    func testLogLevelsMatchTheHeader() {
        XCTAssertEqual(Gateway.LogLevel.allCases.map(\.rawValue), [0, 1, 2, 3])
    }
}

import XCTest

/// The test client's own SHA-1, against FIPS 180 and RFC 6455 vectors: a wrong hash would make
/// every handshake look broken.
final class SHA1Tests: XCTestCase {
    private func hex(_ text: String) -> String {
        SHA1.hash(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func testKnownVectors() {
        XCTAssertEqual(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        // 56 bytes: the length no longer fits in the first block.
        XCTAssertEqual(
            hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(
            hex(String(repeating: "a", count: 1000)), "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    func testWebSocketAcceptOfRFC6455Example() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let accept = Data(SHA1.hash(Array((key + WebSocketTestClient.acceptGUID).utf8))).base64EncodedString()
        XCTAssertEqual(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}

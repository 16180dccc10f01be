import GatewayWebSocket
import NIOHTTP1
import XCTest

final class WebSocketHandshakeResponseTests: XCTestCase {
    func testTheAcceptValueOfRFC6455sExample() {
        XCTAssertEqual(WebSocketHandshakeResponse.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testTheSwitchingProtocolsResponse() {
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeResponse.switchingProtocols(key: "dGhlIHNhbXBsZSBub25jZQ=="), as: UTF8.self),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    func testRefusals() {
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeRefusal.invalidKey.response, as: UTF8.self),
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeRefusal.notAnUpgrade.response, as: UTF8.self),
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\nUpgrade: websocket\r\n\r\n")
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeRefusal.unsupportedWebSocketVersion.response, as: UTF8.self),
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n\r\n")
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeResponse.refusal(status: 503), as: UTF8.self),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        // A status without a name keeps the space before its empty phrase, as SwiftNIO wrote it.
        XCTAssertEqual(
            String(decoding: WebSocketHandshakeResponse.refusal(status: 499), as: UTF8.self),
            "HTTP/1.1 499 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    func testEveryStatusHasSwiftNIOsReasonPhrase() {
        for status in 100...999 {
            let expected = "HTTP/1.1 \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            XCTAssertEqual(String(decoding: WebSocketHandshakeResponse.refusal(status: status), as: UTF8.self), expected)
        }
    }

    func testEveryRefusalsStatusAndCounter() {
        let all: [WebSocketHandshakeRefusal] = [
            .malformedRequest, .requestTooLarge, .invalidContentLength, .transferEncoding, .methodNotGet, .httpVersionTooOld,
            .notAnUpgrade, .unsupportedWebSocketVersion, .invalidKey,
        ]
        XCTAssertEqual(all.map(\.status), [400, 400, 400, 400, 400, 400, 426, 426, 400])
        XCTAssertEqual(all.map(\.isMalformedHTTP), [true, true, true, true, false, false, false, false, false])
        for refusal in all where refusal.status == 400 { XCTAssertEqual(refusal.extraHeaders, "") }
    }
}

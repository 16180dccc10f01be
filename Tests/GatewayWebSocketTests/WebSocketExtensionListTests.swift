import GatewayWebSocket
import XCTest

/// `Sec-WebSocket-Extensions` as RFC 6455 §9.1 writes it, and how an upgrade request hands
/// its offers over.
final class WebSocketExtensionListTests: XCTestCase {
    func testTheListGrammar() {
        XCTAssertEqual(
            WebSocketExtensionList.parse(" a ; b = \"c\\d\" ;e,f"),
            [WebSocketExtensionOffer(name: "a", parameters: [.init("b", "cd"), .init("e")]), WebSocketExtensionOffer(name: "f")])
        XCTAssertEqual(WebSocketExtensionList.parse("a; b=c d"), [])
        XCTAssertEqual(WebSocketExtensionList.parse("a\u{00E9}"), [])
    }

    func testARequestOffersTheExtensionsOfEveryHeaderInOrder() {
        let request = WebSocketUpgradeRequest(
            method: "GET", uri: "/", httpVersion: "HTTP/1.1",
            headers: [
                ("SEC-WebSocket-Extensions", "x-one, permessage-deflate; client_max_window_bits"), ("Host", "a"),
                ("sec-websocket-extensions", "broken;"), ("Sec-WebSocket-Extensions", "x-two"),
                // The Kelvin sign lowercases to "k": not the header's name in ASCII.
                ("Sec-Websoc\u{212A}et-Extensions", "x-three"),
            ],
            key: "k")
        XCTAssertEqual(
            request.extensionOffers.map(\.name), ["x-one", "permessage-deflate", "x-two"],
            "a header whose list breaks the grammar offers nothing; names compare in ASCII")
    }
}

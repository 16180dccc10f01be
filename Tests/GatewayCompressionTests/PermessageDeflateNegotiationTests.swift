import GatewayCompression
import GatewayWebSocket
import XCTest

final class PermessageDeflateNegotiationTests: XCTestCase {
    /// The agreement for a request with these `Sec-WebSocket-Extensions` header values.
    private func agree(_ values: String...) -> PermessageDeflateAgreement? {
        PermessageDeflateNegotiation.agree(offers: values.flatMap(WebSocketExtensionList.parse))
    }

    func testAPlainOfferIsAnsweredWithoutContextTakeoverOnEitherSide() throws {
        let agreement = try XCTUnwrap(agree("permessage-deflate"))
        XCTAssertEqual(agreement.serverWindowBits, 15)
        XCTAssertEqual(agreement.responseHeaderValue, "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    func testABrowsersOfferIsTaken() throws {
        // What Chromium and Firefox send.
        let agreement = try XCTUnwrap(agree("permessage-deflate; client_max_window_bits"))
        XCTAssertNil(agreement.requestedServerWindowBits)
    }

    func testAServerWindowAskedForIsRepeatedAndUsed() throws {
        let agreement = try XCTUnwrap(agree("permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"))
        XCTAssertEqual(agreement.serverWindowBits, 10)
        XCTAssertEqual(
            agreement.responseHeaderValue,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")
        XCTAssertEqual(agree("permessage-deflate; server_max_window_bits=\"8\"")?.serverWindowBits, 8)
    }

    func testTheFirstAcceptableOfferWins() throws {
        // Autobahn 13.7's shape: several offers, the first with a value outside 8...15.
        let agreement = try XCTUnwrap(
            agree("permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9, permessage-deflate"))
        XCTAssertEqual(agreement.serverWindowBits, 9)
        XCTAssertEqual(agree("x-webkit-deflate-frame", "permessage-deflate; server_no_context_takeover")?.serverWindowBits, 15)
    }

    func testOffersBreakingTheRFCAreDeclined() {
        for value in [
            "permessage-deflate; server_max_window_bits",  // needs a value
            "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=7", "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",  // repeated
            "permessage-deflate; mystery", "deflate-frame", "", "permessage-deflate;", "permessage-deflate; =1",
            "permessage-deflate, ,", "permessage-deflate; server_max_window_bits=\"1 0\"",
            "permessage-deflate; server_max_window_bits=\"10",
        ] {
            XCTAssertNil(agree(value), value)
        }
    }
}

import Foundation
import GatewayCore
import XCTest

/// The HTTP API's settings: the config keys, and the rule that an API without a token may
/// only listen on loopback and only when that is asked for explicitly.
final class HTTPAPISettingsTests: XCTestCase {
    private var scratch: ConfigurationScratch!

    override func setUpWithError() throws {
        scratch = try ConfigurationScratch()
    }

    override func tearDown() {
        scratch = nil
    }

    private func apply(_ yaml: String) throws -> GatewayConfiguration { try scratch.configuration(yaml) }

    func testTheKeysSetTheRole() throws {
        let configuration = try apply(
            """
            http_api_listen: 0.0.0.0:7273
            http_api_token: t0ken
            http_api_max_body_bytes: 65536
            """)
        XCTAssertEqual(configuration.httpAPI, HTTPAPISettings(listen: "0.0.0.0:7273", token: "t0ken", maxBodyBytes: 65536))
        XCTAssertNoThrow(try configuration.validate())
        XCTAssertNil(GatewayConfiguration().httpAPI, "off unless configured")
    }

    func testOtherKeysWithoutAListenAddressAreRefused() {
        XCTAssertEqual(
            scratch.error("http_api_token: t0ken"),
            "\(scratch.directory)/gatewayd.yaml: http_api_token: needs http_api_listen, which is not set")
    }

    func testATokenIsRequiredUnlessExplicitlyWaivedOnLoopback() {
        XCTAssertThrowsError(try HTTPAPISettings(listen: "127.0.0.1:7273").validate()) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "http_api_token: is required (or http_api_allow_no_token on a loopback http_api_listen)")
        }
        XCTAssertNoThrow(try HTTPAPISettings(listen: "127.0.0.1:7273", allowNoToken: true).validate())
        XCTAssertThrowsError(try HTTPAPISettings(listen: "0.0.0.0:7273", allowNoToken: true).validate()) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "http_api_allow_no_token: needs a loopback http_api_listen (127.x.x.x); 0.0.0.0:7273 is not one")
        }
    }

    func testBadValuesNameTheirKey() {
        let file = scratch.directory + "/gatewayd.yaml"
        XCTAssertEqual(
            scratch.error("http_api_listen: nowhere:1\nhttp_api_token: t"),
            "\(file): http_api_listen: \"nowhere:1\" is not an IPv4 host:port or localhost:port")
        XCTAssertEqual(
            scratch.error("http_api_listen: 127.0.0.1:1\nhttp_api_token: t\nhttp_api_max_body_bytes: 10"),
            "\(file): http_api_max_body_bytes: \"10\" is not in 1024...1073741824")
        XCTAssertNotNil(scratch.error("http_api_listen: 127.0.0.1:1\nhttp_api_allow_no_token: maybe"))
    }

    func testAConfigurationSavedWithoutTheRoleStillDecodes() throws {
        var saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GatewayConfiguration())) as! [String: Any]
        saved.removeValue(forKey: "httpAPI")
        let decoded = try JSONDecoder().decode(GatewayConfiguration.self, from: JSONSerialization.data(withJSONObject: saved))
        XCTAssertNil(decoded.httpAPI)
    }
}

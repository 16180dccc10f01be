import Foundation
import GatewayCore
import XCTest

/// The HTTP API's settings: the config keys, and the rule that an API without a token may
/// only listen on loopback and only when that is asked for explicitly.
final class HTTPAPISettingsTests: XCTestCase {
    private func apply(_ yaml: String) throws -> GatewayConfiguration {
        let path = NSTemporaryDirectory() + "gatewayd-http-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: path, to: &configuration)
        return configuration
    }

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
        XCTAssertThrowsError(try apply("http_api_token: t0ken")) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "invalid http_api_listen '': expected host:port (the other http_api_* keys need it)")
        }
    }

    func testATokenIsRequiredUnlessExplicitlyWaivedOnLoopback() {
        XCTAssertThrowsError(try HTTPAPISettings(listen: "127.0.0.1:7273").validate()) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "invalid http_api_token '': expected a bearer token (or http_api_allow_no_token on a loopback listener)")
        }
        XCTAssertNoThrow(try HTTPAPISettings(listen: "127.0.0.1:7273", allowNoToken: true).validate())
        XCTAssertThrowsError(try HTTPAPISettings(listen: "0.0.0.0:7273", allowNoToken: true).validate()) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.description,
                "invalid http_api_allow_no_token 'true': expected a loopback http_api_listen (127.x.x.x) when there is no token")
        }
    }

    func testBadValuesNameTheirKey() {
        XCTAssertThrowsError(try HTTPAPISettings(listen: "localhost:1", token: "t").validate()) { error in
            XCTAssertTrue((error as? ConfigurationError)?.description.hasPrefix("invalid http_api_listen 'localhost:1'") ?? false)
        }
        XCTAssertThrowsError(try HTTPAPISettings(listen: "127.0.0.1:1", token: "t", maxBodyBytes: 10).validate()) { error in
            XCTAssertEqual((error as? ConfigurationError)?.description, "invalid http_api_max_body_bytes '10': expected 1024...1073741824")
        }
        XCTAssertThrowsError(try apply("http_api_listen: 127.0.0.1:1\nhttp_api_allow_no_token: maybe"))
    }

    func testAConfigurationSavedWithoutTheRoleStillDecodes() throws {
        var saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GatewayConfiguration())) as! [String: Any]
        saved.removeValue(forKey: "httpAPI")
        let decoded = try JSONDecoder().decode(GatewayConfiguration.self, from: JSONSerialization.data(withJSONObject: saved))
        XCTAssertNil(decoded.httpAPI)
    }
}

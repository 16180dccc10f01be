import GatewayCore
import XCTest

/// When a start is refused for want of a secret (InnerPortPolicy); where secrets may come from is
/// in ConfigurationFileTests.
final class InnerPortPolicyTests: XCTestCase {
    func testLoopbackInnerPortsNeedNoSecret() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] {
            XCTAssertTrue(InnerPortPolicy.isLoopback(host), host)
            XCTAssertNil(InnerPortPolicy.refusal(for: [.init(key: "lan_ip", host: host)], secretKey: "", allowNoSecret: false))
        }
        for host in ["0.0.0.0", "10.0.0.5", "192.168.1.2", "128.0.0.1", "example.com"] {
            XCTAssertFalse(InnerPortPolicy.isLoopback(host), host)
        }
    }

    func testAnInnerPortOnTheNetworkNeedsASecretOrAnExplicitAllowance() throws {
        let listeners: [InnerPortPolicy.Listener] = [.init(key: "lan_ip", host: "127.0.0.1"), .init(key: "register_listen", host: "0.0.0.0")]
        let refusal = try XCTUnwrap(InnerPortPolicy.refusal(for: listeners, secretKey: "", allowNoSecret: false))
        XCTAssertTrue(refusal.hasPrefix("refusing to start: register_listen 0.0.0.0 puts an inner port on the network without a secret_key"), refusal)
        XCTAssertFalse(refusal.contains("\n"))
        XCTAssertNil(InnerPortPolicy.refusal(for: listeners, secretKey: "k", allowNoSecret: false))
        XCTAssertNil(InnerPortPolicy.refusal(for: listeners, secretKey: "", allowNoSecret: true))
    }
}

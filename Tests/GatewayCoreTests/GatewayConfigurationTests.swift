import GatewayCore
import XCTest

final class GatewayConfigurationTests: XCTestCase {
    func testDefaultsAreValid() {
        XCTAssertNoThrow(try GatewayConfiguration().validate())
    }

    func testOutOfRangeValuesNameTheKey() {
        func refusal(_ change: (inout GatewayConfiguration) -> Void) -> ConfigurationError? {
            var configuration = GatewayConfiguration()
            change(&configuration)
            do {
                try configuration.validate()
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(refusal { $0.gatewayCount = 0 }, .invalid(key: "gateway_count", value: "0", expected: "in 1...256"))
        XCTAssertEqual(refusal { $0.workerCount = 5000 }, .invalid(key: "worker_count", value: "5000", expected: "in 1...1024"))
        XCTAssertEqual(
            refusal { $0.lanIP = "::1" }, .invalid(key: "lan_ip", value: "::1", expected: "an IPv4 address (or localhost)"))
        XCTAssertEqual(
            refusal { $0.logLevel = "loud" },
            .invalid(key: "log_level", value: "loud", expected: "one of debug, info, warning, error"))
        XCTAssertEqual(
            refusal { $0.listen = ["ws://0.0.0.0:1"] },
            .invalid(key: "listen", value: "ws://0.0.0.0:1", expected: "a URL starting with one of websocket://, wss://, text://, frame://"))
        XCTAssertEqual(
            refusal { $0.maxConnections = 0 }, .invalid(key: "max_connections", value: "0", expected: "in 1...10000000"))
        XCTAssertEqual(
            refusal { $0.sendBufferBytes = 10 }, .invalid(key: "send_buffer_bytes", value: "10", expected: "in 1024...1073741824"))
        XCTAssertEqual(
            refusal { $0.register = "127.0.0.1" }, .invalid(key: "register", value: "127.0.0.1", expected: "host:port"))
        XCTAssertEqual(
            refusal { $0.startPort = 65535; $0.gatewayCount = 2 },
            .invalid(key: "start_port", value: "65535", expected: "low enough for gateway_count ports below 65536"))
        XCTAssertEqual(
            refusal { $0.workerName = "a:b" },
            .invalid(key: "worker_name", value: "a:b", expected: "a non-empty name without ':'"))
        XCTAssertEqual(
            refusal { $0.maxMessageBytes = 10 },
            .invalid(key: "max_message_bytes", value: "10", expected: "in 125...1073741824"))
    }

    func testListenAddressParsing() throws {
        let address = try ListenAddress(parsing: "websocket://127.0.0.1:7272/")
        XCTAssertEqual(address.scheme, .websocket)
        XCTAssertEqual(address.endpoint, HostPort(host: "127.0.0.1", port: 7272))
        XCTAssertEqual(address.description, "websocket://127.0.0.1:7272")
        XCTAssertThrowsError(try ListenAddress(parsing: "websocket://127.0.0.1:99999"))
        XCTAssertThrowsError(try ListenAddress(parsing: "127.0.0.1:80"))
        XCTAssertThrowsError(try HostPort(parsing: "300.0.0.1:80"))
    }

    func testIPv4RoundTrip() {
        XCTAssertEqual(IPv4Address("10.1.2.3")?.value, 0x0A01_0203)
        XCTAssertEqual(IPv4Address(value: 0x7F00_0001).description, "127.0.0.1")
        XCTAssertNil(IPv4Address("1.2.3"))
        XCTAssertNil(IPv4Address("1.2.3.4.5"))
        XCTAssertNil(IPv4Address("1..2.3"))
    }
}

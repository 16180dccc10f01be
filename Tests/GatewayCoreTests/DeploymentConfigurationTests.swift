import Foundation
import GatewayCore
import XCTest

@testable import GatewaySupervisor

/// The settings of a deployment spread over hosts: roles, register lists, where a register
/// binds, the inner heartbeat.
final class DeploymentConfigurationTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "gatewayd-deploy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func apply(_ text: String) throws -> GatewayConfiguration {
        let path = directory + "/gatewayd.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: path, to: &configuration)
        try configuration.validate()
        return configuration
    }

    func testDefaultsRunEveryRoleWithOneRegister() {
        let configuration = GatewayConfiguration()
        XCTAssertEqual(configuration.roles, [.register, .gateway, .worker])
        XCTAssertEqual(configuration.registerAddresses, ["127.0.0.1:1236"])
        XCTAssertEqual(configuration.innerHeartbeatIntervalMilliseconds, 5000)
        XCTAssertEqual(configuration.innerHeartbeatTimeoutMilliseconds, 15000)
    }

    func testRolesAndRegistersAsListsOrCommaStrings() throws {
        let lists = try apply(
            """
            role: [worker, gateway]
            register:
              - 10.0.0.1:1236
              - 10.0.0.2:1236
            register_listen: 0.0.0.0:1236
            inner_heartbeat_interval_ms: 1000
            inner_heartbeat_timeout_ms: 3000
            """)
        XCTAssertEqual(lists.roles, [.gateway, .worker])
        XCTAssertEqual(lists.registerAddresses, ["10.0.0.1:1236", "10.0.0.2:1236"])
        XCTAssertEqual(lists.registerListen, "0.0.0.0:1236")
        XCTAssertEqual(lists.innerHeartbeatIntervalMilliseconds, 1000)
        XCTAssertEqual(lists.innerHeartbeatTimeoutMilliseconds, 3000)

        let strings = try apply("role: register\nregister: 10.0.0.1:1236, 10.0.0.2:1236\n")
        XCTAssertEqual(strings.roles, [.register])
        XCTAssertEqual(strings.registerAddresses, ["10.0.0.1:1236", "10.0.0.2:1236"])
        XCTAssertEqual(Role.parseList("worker,register,worker"), [.register, .worker])
    }

    func testBadValuesNameTheKey() throws {
        XCTAssertThrowsError(try apply("role: master\n")) {
            XCTAssertEqual(
                $0 as? ConfigurationError,
                .invalid(key: "role", value: "master", expected: "one or more of register, gateway, worker"))
        }
        XCTAssertThrowsError(try apply("register: 10.0.0.1:1236,10.0.0.2\n")) {
            XCTAssertEqual($0 as? ConfigurationError, .invalid(key: "register", value: "10.0.0.2", expected: "host:port"))
        }
        XCTAssertThrowsError(try apply("inner_heartbeat_interval_ms: 1000\ninner_heartbeat_timeout_ms: 1500\n")) {
            XCTAssertEqual(
                $0 as? ConfigurationError,
                .invalid(
                    key: "inner_heartbeat_timeout_ms", value: "1500",
                    expected: "2 × inner_heartbeat_interval_ms ... 3600000 milliseconds"))
        }
        XCTAssertThrowsError(try apply("register_listen: somewhere\n")) {
            XCTAssertEqual(
                $0 as? ConfigurationError, .invalid(key: "register_listen", value: "somewhere", expected: "host:port"))
        }
    }

    func testTheRegisterBindsTheFirstListedAddressOfThisHost() throws {
        var configuration = GatewayConfiguration()
        // 192.0.2.0/24 is documentation space: never an address of this host.
        configuration.register = "192.0.2.10:1236,127.0.0.1:1237,127.0.0.1:1238"
        let choice = try RegisterBinding.choose(for: configuration)
        XCTAssertEqual(choice.address, HostPort(host: "127.0.0.1", port: 1237))
        XCTAssertEqual(choice.listIndex, 1)

        configuration.registerListen = "0.0.0.0:1300"
        XCTAssertEqual(try RegisterBinding.choose(for: configuration).address, HostPort(host: "0.0.0.0", port: 1300))
        XCTAssertNil(try RegisterBinding.choose(for: configuration).listIndex)

        configuration.registerListen = nil
        configuration.register = "192.0.2.10:1236"
        XCTAssertThrowsError(try RegisterBinding.choose(for: configuration)) {
            XCTAssertTrue("\($0)".contains("register_listen"), "\($0)")
        }
    }
}

import Foundation
import GatewayCore
import XCTest

@testable import GatewaySupervisor

/// The settings of a deployment spread over hosts: roles, register lists, where a register
/// binds, the inner heartbeat.
final class DeploymentConfigurationTests: XCTestCase {
    private var scratch: ConfigurationScratch!

    override func setUpWithError() throws {
        scratch = try ConfigurationScratch()
    }

    override func tearDown() {
        scratch = nil
    }

    private func apply(_ text: String) throws -> GatewayConfiguration { try scratch.configuration(text) }

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
        let file = scratch.directory + "/gatewayd.yaml"
        XCTAssertEqual(scratch.error("role: master\n"), "\(file): role: \"master\" is not one of register, gateway, worker")
        XCTAssertEqual(
            scratch.error("register: 10.0.0.1:1236,10.0.0.2\n"), "\(file): register: \"10.0.0.2\" is not host:port")
        XCTAssertEqual(
            scratch.error("inner_heartbeat_interval_ms: 1000\ninner_heartbeat_timeout_ms: 1500\n"),
            "\(file): inner_heartbeat_timeout_ms: \"1500\" is not at least twice inner_heartbeat_interval_ms (1000)")
        XCTAssertEqual(scratch.error("register_listen: somewhere\n"), "\(file): register_listen: \"somewhere\" is not host:port")
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

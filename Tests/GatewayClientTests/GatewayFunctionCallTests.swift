import GatewayClient
import GatewayWire
import NIOPosix
import XCTest

/// The function table (`GatewayFunction`) and `GatewayClient.call`: names as GatewayWorker has
/// them, arguments checked before anything is sent, and each function reaching the gateway
/// with the command GatewayWorker uses for it.
final class GatewayFunctionCallTests: XCTestCase {
    func testEveryGatewayWorkerFunctionIsThereUnderItsPHPName() {
        let php = [
            "sendToAll", "sendToClient", "sendToUid", "sendToGroup", "closeClient", "destroyClient", "bindUid", "unbindUid",
            "joinGroup", "leaveGroup", "ungroup", "setSession", "updateSession", "getSession", "isOnline", "isUidOnline",
            "isUidsOnline", "getClientIdByUid", "getUidByClientId", "getClientIdCountByGroup", "getAllClientIdCount",
            "getClientIdListByGroup", "getAllClientIdList", "getClientSessionsByGroup", "getAllClientSessions", "getAllGroupIdList",
            "getUidListByGroup", "getUidCountByGroup", "getAllUidList", "getAllUidCount", "getAllGroupUidList",
            "getAllGroupUidCount", "getAllGroupClientIdList", "getAllGroupClientIdCount", "batchGetClientIdByUid",
            "batchGetClientIdCountByGroup",
        ]
        XCTAssertEqual(GatewayFunction.allCases.map(\.phpName), php)
        for function in GatewayFunction.allCases {
            let names = function.parameters.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "\(function): parameter names are unique")
            let required = function.parameters.prefix { $0.isRequired }.count
            XCTAssertEqual(required, function.parameters.filter(\.isRequired).count, "\(function): required parameters come first")
        }
    }

    func testArgumentsAreCheckedBeforeAnythingIsSent() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let register = try await FakeRegister(group: group, addresses: [])
        let client = GatewayClient(configuration: try GatewayClientConfiguration(registers: [register.address]), eventLoopGroup: group)
        let cases: [(GatewayFunction, JSONValue, GatewayClientError)] = [
            (.sendToUID, ["uid": "alice"], .invalidArgument("send-to-uid needs 'message' (the message)")),
            (.sendToUID, ["uid": 1, "message": "x"], .invalidArgument("'uid' must be a string or a list of strings")),
            (.sendToUID, ["uid": ["a", 2], "message": "x"], .invalidArgument("'uid' must be a string or a list of strings")),
            (.isUIDsOnline, ["uids": "alice"], .invalidArgument("'uids' must be a list of strings")),
            (.isOnline, ["client_id": "xyz"], .invalidClientID("xyz")),
            (.sendToAll, ["message": "x", "exclude": ["7f0000010b5400000001", "no"]], .invalidClientID("no")),
            (.getAllUIDCount, ["group": "x"], .invalidArgument("get-all-uid-count has no argument 'group' (it takes none)")),
            (.joinGroup, ["client_id": "7f0000010b5400000001", "grup": "x"],
             .invalidArgument("join-group has no argument 'grup' (it takes client_id, group)")),
            (.setSession, ["client_id": "7f0000010b5400000001", "session": "[1]"], .invalidArgument("'session' must be a JSON object")),
            (.sendToAll, ["message_base64": "%%%"], .invalidArgument("'message_base64' must be a base64 string")),
            (.sendToAll, ["message": "x", "message_base64": "eA=="], .invalidArgument("give either 'message' or 'message_base64', not both")),
            (.sendToAll, .null, .invalidArgument("the arguments must be a JSON object")),
            (.sendToAll, ["message": "x", "binary": "yes"], .invalidArgument("'binary' must be true or false")),
            (.closeClient, ["client_id": "7f0000010b5400000001", "message": .null], .invalidArgument("'message' must be a string")),
            (.sendToAll, ["x"], .invalidArgument("the arguments must be a JSON object")),
        ]
        for (function, arguments, expected) in cases {
            do {
                _ = try await client.call(function, arguments: arguments)
                XCTFail("\(function) \(arguments) was accepted")
            } catch {
                XCTAssertEqual(error, expected)
            }
        }
        XCTAssertEqual(register.connectionsAccepted, 0, "nothing was asked of the cluster")
        await client.close()
        try await register.stop()
        try await group.shutdownGracefully()
    }

    /// The inner-protocol command each function sends (GatewayWorker 4.x).
    private let expectedCommands: [GatewayFunction: UInt8] = [
        .sendToAll: 6, .sendToClient: 5, .sendToUID: 14, .sendToGroup: 22, .closeClient: 7, .destroyClient: 8, .bindUID: 12,
        .unbindUID: 13, .joinGroup: 20, .leaveGroup: 21, .ungroup: 27, .setSession: 204, .updateSession: 9, .getSession: 203,
        .isOnline: 11, .isUIDOnline: 15, .isUIDsOnline: 16, .getClientIDByUID: 15, .getUIDByClientID: 25,
        .getClientIDCountByGroup: 24, .getAllClientIDCount: 24, .getClientIDListByGroup: 25, .getAllClientIDList: 25,
        .getClientSessionsByGroup: 23, .getAllClientSessions: 10, .getAllGroupIDList: 26, .getUIDListByGroup: 25,
        .getUIDCountByGroup: 25, .getAllUIDList: 25, .getAllUIDCount: 25, .getAllGroupUIDList: 25, .getAllGroupUIDCount: 25,
        .getAllGroupClientIDList: 25, .getAllGroupClientIDCount: 25, .batchGetClientIDByUID: 16, .batchGetClientIDCountByGroup: 28,
    ]

    func testEveryFunctionSendsItsCommandAndAnswersJSON() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let gateway = try await FakeGateway(group: group) { _, _ in .value(.null) }
        let register = try await FakeRegister(group: group, addresses: [gateway.address])
        let client = GatewayClient(configuration: try GatewayClientConfiguration(registers: [register.address]), eventLoopGroup: group)
        let port = UInt16(gateway.address.split(separator: ":")[1])!
        let clientID = ClientID(ipv4: 0x7f00_0001, port: port, connectionID: 9).description

        for function in GatewayFunction.allCases {
            var arguments: [JSONMember] = []
            for parameter in function.parameters where parameter.isRequired {
                switch parameter.kind {
                case .clientID, .clientIDs: arguments.append(JSONMember(parameter.name, .string(clientID)))
                case .name, .nameOrNames, .message: arguments.append(JSONMember(parameter.name, "x"))
                case .names: arguments.append(JSONMember(parameter.name, ["x", "y"]))
                case .session: arguments.append(JSONMember(parameter.name, ["k": "v"]))
                case .flag, .messageBase64: break
                }
            }
            let before = gateway.received.count
            let outcome = try await client.call(function, arguments: .object(arguments))
            if function.isQuery {
                XCTAssertNotNil(outcome.json["result"], "\(function)")
            } else {
                XCTAssertEqual(outcome.json, ["ok": true], "\(function)")
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while gateway.received.count == before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            XCTAssertEqual(gateway.received.last?.command.rawValue, expectedCommands[function], "\(function)")
        }
        await client.close()
        try await gateway.stop()
        try await register.stop()
        try await group.shutdownGracefully()
    }

    func testANameAskedTwiceIsOneKeyAndABase64MessageIsItsBytes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let gateway = try await FakeGateway(group: group) { _, _ in .value(.array(["a": 2])) }
        let register = try await FakeRegister(group: group, addresses: [gateway.address])
        let client = GatewayClient(configuration: try GatewayClientConfiguration(registers: [register.address]), eventLoopGroup: group)

        let counts = try await client.call(.batchGetClientIDCountByGroup, arguments: ["groups": ["a", "a", "b"]])
        XCTAssertEqual(counts.json, ["result": ["a": 2, "b": 0]])
        _ = try await client.call(.sendToAll, arguments: ["message_base64": "AP8=", "binary": true])
        let deadline = ContinuousClock.now + .seconds(5)
        while gateway.received.last?.command != .sendToAll, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertEqual(gateway.received.last?.body, [0x00, 0xFF])

        await client.close()
        try await gateway.stop()
        try await register.stop()
        try await group.shutdownGracefully()
    }
}

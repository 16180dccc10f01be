import CGatewayABI
import GatewayPluginSDK
import XCTest

/// The ABI 1.1 methods of ``Gateway``: each makes exactly the host call it names, copies the
/// result into Swift values, and releases the host's memory with the host's `free` — also when
/// the status is an error that still hands out a partial result.
final class GatewayVersion1_1Tests: GatewayCallTestCase {

    func testDestroy() throws {
        try inCallback { [b] gateway in
            try gateway.destroy(b)
            try gateway.destroyCurrentClient()
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "destroy_client", client: clientB),
            HostCall(function: "destroy_current_client"),
        ])
    }

    func testSendsToLists() throws {
        try inCallback { [b, c] gateway in
            try gateway.send("hi", toClients: [b, c])
            try gateway.send([1, 2], toUIDs: ["u1", "u 2"])
            try gateway.send(.text("raw"), toGroups: ["g1", "g2"], excluding: [c], options: .raw)
            try gateway.send("nobody", toClients: [])
            try gateway.send("", toGroups: [])
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "send_to_clients", data: "hi", bytes: Array("hi".utf8), list: [clientB, clientC]),
            HostCall(function: "send_to_uids", data: lossy([1, 2]), bytes: [1, 2], flags: GWD_SEND_BINARY, list: ["u1", "u 2"]),
            HostCall(function: "send_to_groups", data: "raw", bytes: Array("raw".utf8), flags: GWD_SEND_RAW,
                     exclude: [clientC], list: ["g1", "g2"]),
            HostCall(function: "send_to_clients", data: "nobody", bytes: Array("nobody".utf8)),
            HostCall(function: "send_to_groups", data: "", bytes: []),
        ])
    }

    func testListQueries() throws {
        fakeHost.lists = [
            "get_all_client_id_list": [clientA, clientB, "not a client id"],
            "get_client_id_by_uid": [clientC],
            "get_client_id_list_by_group": [],
            "get_uid_list_by_group": ["ada", "bob"],
            "get_all_uid_list": ["ada"],
            "get_all_group_id_list": ["room 1", "room 2"],
        ]
        var seen: [String] = []
        try inCallback { gateway in
            seen.append("\(try gateway.allClientIDs().map(\.rawValue))")
            seen.append("\(try gateway.clientIDs(ofUID: "carol").map(\.rawValue))")
            seen.append("\(try gateway.clientIDs(inGroup: "empty"))")
            seen.append("\(try gateway.uids(inGroup: "room 1"))")
            seen.append("\(try gateway.allUIDs())")
            seen.append("\(try gateway.allGroups())")
        }
        XCTAssertEqual(seen, [
            "[\"\(clientA)\", \"\(clientB)\"]", "[\"\(clientC)\"]", "[]", "[\"ada\", \"bob\"]", "[\"ada\"]",
            "[\"room 1\", \"room 2\"]",
        ])
        XCTAssertEqual(fakeHost.sends.map(\.function), [
            "get_all_client_id_list", "get_client_id_by_uid", "get_client_id_list_by_group", "get_uid_list_by_group",
            "get_all_uid_list", "get_all_group_id_list",
        ])
        XCTAssertEqual(fakeHost.sends.map(\.name), [nil, "carol", "empty", "room 1", nil, nil])
        XCTAssertEqual(fakeHost.freedBuffers, 6, "each list released with the host's free")
    }

    func testTableQueries() throws {
        fakeHost.tables = [
            "get_all_group_uid_list": [("g1", 2, ["ada", "bob"]), ("g2", 0, [])],
            "get_all_group_uid_count": [("g1", 2, nil), ("g2", 0, nil)],
            "get_all_group_client_id_list": [("g1", 1, [clientA])],
            "get_all_group_client_id_count": [("g1", 1, nil)],
            "batch_get_client_id_by_uid": [("ada", 2, [clientA, clientB]), ("nobody", 0, [])],
            "batch_get_client_count_by_group": [("g1", 3, nil), ("g9", 0, nil)],
            "is_uids_online": [("ada", 1, nil), ("nobody", 0, nil)],
        ]
        var lists: [[String: [String]]] = []
        var numbers: [[String: Int]] = []
        var online: [String: Bool] = [:]
        try inCallback { gateway in
            lists.append(try gateway.allGroupUIDs())
            numbers.append(try gateway.allGroupUIDCounts())
            lists.append(try gateway.allGroupClientIDs().mapValues { $0.map(\.rawValue) })
            numbers.append(try gateway.allGroupClientCounts())
            lists.append(try gateway.clientIDs(ofUIDs: ["ada", "nobody"]).mapValues { $0.map(\.rawValue) })
            numbers.append(try gateway.clientCounts(inGroups: ["g1", "g9"]))
            online = try gateway.areUIDsOnline(["ada", "nobody"])
        }
        XCTAssertEqual(lists, [
            ["g1": ["ada", "bob"], "g2": []], ["g1": [clientA]], ["ada": [clientA, clientB], "nobody": []],
        ])
        XCTAssertEqual(numbers, [["g1": 2, "g2": 0], ["g1": 1], ["g1": 3, "g9": 0]])
        XCTAssertEqual(online, ["ada": true, "nobody": false])
        XCTAssertEqual(fakeHost.sends.map(\.list), [[], [], [], [], ["ada", "nobody"], ["g1", "g9"], ["ada", "nobody"]])
        XCTAssertEqual(fakeHost.freedBuffers, 7)
    }

    func testCountsFlagsAndBuffers() throws {
        fakeHost.counts = ["get_client_count_by_group": 4, "get_uid_count_by_group": 2, "get_all_uid_count": 9]
        fakeHost.answers = ["is_uid_online": true]
        fakeHost.buffers = [
            "get_all_client_sessions": #"{"\#(clientA)":{"k":"v"}}"#,
            "get_client_sessions_by_group": "{}",
            "get_uid_by_client_id": "ada",
        ]
        var seen: [String] = []
        try inCallback { [a] gateway in
            seen.append("\(try gateway.clientCount(inGroup: "g"))")
            seen.append("\(try gateway.uidCount(inGroup: "g"))")
            seen.append("\(try gateway.allUIDCount())")
            seen.append("\(try gateway.isUIDOnline("ada"))")
            seen.append(try gateway.allClientSessionsJSON())
            seen.append(try gateway.clientSessionsJSON(inGroup: "g"))
            seen.append(try gateway.uid(of: a) ?? "nil")
            fakeHost.buffers["get_uid_by_client_id"] = nil  // the fake answers NOT_FOUND
            seen.append(try gateway.uid(of: a) ?? "nil")
        }
        XCTAssertEqual(seen, ["4", "2", "9", "true", #"{"\#(clientA)":{"k":"v"}}"#, "{}", "ada", "nil"])
        XCTAssertEqual(fakeHost.freedBuffers, 3)
    }

    /// A query of every gateway with a silent gateway: the host hands out the others' answers
    /// with GWD_ERR_TIMEOUT; the SDK releases them and throws.
    func testAPartialResultIsReleasedAndThrown() {
        fakeHost.lists["get_all_client_id_list"] = [clientA]
        fakeHost.tables["get_all_group_uid_count"] = [("g", 1, nil)]
        fakeHost.statuses = [
            "get_all_client_id_list": Int32(GWD_ERR_TIMEOUT.rawValue),
            "get_all_group_uid_count": Int32(GWD_ERR_UNAVAILABLE.rawValue),
        ]
        XCTAssertEqual(gatewayError { _ = try $0.allClientIDs() }?.code, .timeout)
        XCTAssertEqual(gatewayError { _ = try $0.allGroupUIDCounts() }?.code, .unavailable)
        XCTAssertEqual(fakeHost.freedBuffers, 2)
    }

    /// On a host whose table ends at ABI 1.0, the 1.1 methods throw `unsupported` naming the
    /// entry, without calling anything.
    func testA1_0HostAnswersUnsupported() throws {
        let size = MemoryLayout<gwd_host_api>.offset(of: \.destroy_client)!
        let descriptor = try register(
            ScriptedPlugin.self, table: FakeHostTable.allocate { $0.struct_size = UInt32(size); $0.abi_minor = 0 })
        var errors: [GatewayError] = []
        ScriptedPlugin.script = { gateway, client, _ in
            for call in [
                { try gateway.destroy(client) }, { _ = try gateway.allClientIDs() }, { try gateway.send("x", toUIDs: ["u"]) },
                { _ = try gateway.areUIDsOnline(["u"]) },
            ] as [() throws -> Void] {
                do { try call() } catch let error as GatewayError { errors.append(error) }
            }
            _ = try gateway.allClientCount()  // a 1.0 entry still works
        }
        deliver(.text("go"), to: descriptor)
        XCTAssertEqual(errors.map(\.code), Array(repeating: .unsupported, count: 4))
        XCTAssertEqual(errors.map(\.message), [
            "the host's API table has no destroy_client (ABI 1.0)",
            "the host's API table has no get_all_client_id_list (ABI 1.0)",
            "the host's API table has no send_to_uids (ABI 1.0)",
            "the host's API table has no is_uids_online (ABI 1.0)",
        ])
        XCTAssertEqual(fakeHost.sends.map(\.function), ["get_all_client_count"])
    }
}

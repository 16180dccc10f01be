import Foundation
import XCTest

/// Every GatewayWorker 4.x API function, called through the conformance plugins' `api:`
/// message (plugins/conformance-c/README.md), against a real cluster of 2 gateway processes and
/// 2 workers, with clients on both gateways: sends reach exactly their clients on either
/// gateway, exclude lists work across gateways, queries merge both gateways' answers, destroy
/// closes without a close frame.
///
/// Abstract like ``ConformanceSuite`` (one cluster per subclass, fresh clients and unique names
/// per test): ``APIParityCTests`` and ``APIParitySwiftTests`` run the checks. A client changes
/// its own uid, groups and session (`api:bind_uid <own id> …`), so the command reaches its
/// gateway before the reply on the same connection and a later query sees it; a change made
/// for a client on the other gateway, or by every gateway, is polled for.
class APIParitySuite: ConformanceSuite {
    // MARK: - Helpers

    /// Sends `api:<call>` and returns what follows `api:<function>:`.
    func api(
        _ client: WebSocketTestClient, _ call: String, file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let function = call.prefix { $0 != " " }
        let reply = try request(client, "api:" + call, file: file, line: line)
        guard reply.hasPrefix("api:\(function):") else {
            throw GatewaydFixtureError("api:\(call) answered \"\(reply)\"")
        }
        return String(reply.dropFirst("api:\(function):".count))
    }

    /// Calls a send; it must answer `null`.
    func apiSend(
        _ client: WebSocketTestClient, _ call: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertEqual(try api(client, call, file: file, line: line), "null", call, file: file, line: line)
    }

    /// Polls `call` until it answers `expected` (compared as JSON, see ``sameJSON(_:_:)``).
    func eventually(
        _ client: WebSocketTestClient, _ call: String, answers expected: String, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        var last = ""
        let matched = try GatewaydProcess.poll(
            until: { last = try api(client, call, file: file, line: line); return sameJSON(last, expected) },
            timeout: .seconds(10), interval: .milliseconds(50))
        XCTAssertTrue(matched, "api:\(call) answers \(last), not \(expected)", file: file, line: line)
    }

    /// Equal as JSON values: an object's member order does not count (a session keeps the order
    /// its keys were set in, and the Swift SDK passes pairs as a dictionary); an array's does.
    func sameJSON(_ actual: String, _ expected: String) -> Bool {
        func parse(_ text: String) -> NSObject? {
            try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? NSObject
        }
        guard let left = parse(actual), let right = parse(expected) else { return actual == expected }
        return left.isEqual(right)
    }

    func assertSameJSON(
        _ actual: String, _ expected: String, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertTrue(sameJSON(actual, expected), "\(actual) is not \(expected) \(message)", file: file, line: line)
    }

    /// A JSON array of strings, sorted as the host sorts them.
    func json(_ strings: [String]) -> String {
        "[" + strings.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]"
    }

    /// A JSON object with keys in order and values already JSON.
    func json(_ members: [String: String]) -> String {
        "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    /// The part of a JSON answer that names this test's groups or uids (keys or items starting
    /// with `prefix`); the cluster may still hold other tests' leftovers for a moment.
    func restricted(_ answer: String, to prefix: String) throws -> String {
        let value = try JSONSerialization.jsonObject(with: Data(answer.utf8))
        let kept: Any
        switch value {
        case let object as [String: Any]: kept = object.filter { $0.key.hasPrefix(prefix) }
        case let array as [String]: kept = array.filter { $0.hasPrefix(prefix) }.sorted()
        default: throw GatewaydFixtureError("not a JSON object or array of strings: \(answer)")
        }
        let data = try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// `count` fresh clients on both gateways, each with its id; the first two on different ones.
    func spread(_ count: Int) throws -> [(client: WebSocketTestClient, id: String)] {
        let (first, second, rest) = splitAcrossGateways(try clientsOnBothGateways(minimum: count))
        return [first, second] + rest
    }

    // MARK: - Sends

    func checkSendToClientReachesOneClientOnEitherGateway() throws {
        let clients = try spread(3)
        let (a, b, other) = (clients[0], clients[1], clients[2])
        let message = unique("direct")
        try a.client.sendText("api:send_to_client \(b.id) \(message) with spaces")
        try b.client.expectText("\(message) with spaces")
        try a.client.expectText("api:send_to_client:null")
        try a.client.sendText("api:send_to_current_client \(message)")
        try a.client.expectText(message)
        try a.client.expectText("api:send_to_current_client:null")
        try expectNothingElse(b.client)
        try expectNothingElse(other.client)
    }

    func checkSendToClientsReachesExactlyTheListedClients() throws {
        let clients = try spread(5)
        let (a, b, sender, others) = (clients[0], clients[1], clients[2], Array(clients[3...]))
        let message = unique("listed")
        try apiSend(sender.client, "send_to_clients \(a.id),\(b.id) \(message)")
        try a.client.expectText(message)
        try b.client.expectText(message)
        for other in others + [sender] { try expectNothingElse(other.client) }
        try apiSend(sender.client, "send_to_clients - nobody")
        for client in clients { try expectNothingElse(client.client) }
    }

    func checkSendToAllSkipsTheExcludedClientsOnBothGateways() throws {
        let clients = try spread(4)
        let (a, b, rest) = (clients[0], clients[1], Array(clients[2...]))
        let message = unique("all-but")
        try rest[0].client.sendText("api:send_to_all \(a.id),\(b.id) \(message)")
        for entry in rest { try entry.client.expectText(message) }
        try rest[0].client.expectText("api:send_to_all:null")
        try expectNothingElse(a.client)
        try expectNothingElse(b.client)
    }

    func checkSendToUIDsReachesEveryBoundClientOnce() throws {
        let clients = try spread(4)
        let (a, b, c, sender) = (clients[0], clients[1], clients[2], clients[3])
        let (first, second) = (unique("uid"), unique("uid"))
        try apiSend(a.client, "bind_uid \(a.id) \(first)")
        try apiSend(b.client, "bind_uid \(b.id) \(second)")
        try apiSend(c.client, "bind_uid \(c.id) \(first)")

        let one = unique("to-uid")
        try apiSend(sender.client, "send_to_uid \(first) \(one)")
        try a.client.expectText(one)
        try c.client.expectText(one)
        try expectNothingElse(b.client)

        let both = unique("to-uids")
        try apiSend(sender.client, "send_to_uids \(first),\(second),\(unique("nobody")) \(both)")
        for entry in [a, b, c] {
            try entry.client.expectText(both)
            try expectNothingElse(entry.client)
        }
        try expectNothingElse(sender.client)
    }

    func checkSendToGroupsReachesMembersOnceAndSkipsTheExcluded() throws {
        let clients = try spread(5)
        let (a, b, c, d, sender) = (clients[0], clients[1], clients[2], clients[3], clients[4])
        let (red, blue) = (unique("red"), unique("blue"))
        for (entry, group) in [(a, red), (b, blue), (c, red), (c, blue), (d, blue)] {
            try apiSend(entry.client, "join_group \(entry.id) \(group)")
        }

        let once = unique("to-groups")
        try apiSend(sender.client, "send_to_groups \(red),\(blue) - \(once)")
        for entry in [a, b, c, d] {
            try entry.client.expectText(once)
            try expectNothingElse(entry.client)  // c is in both groups: once
        }

        let excluding = unique("to-groups")
        try apiSend(sender.client, "send_to_groups \(red),\(blue) \(a.id),\(b.id) \(excluding)")
        try c.client.expectText(excluding)
        try d.client.expectText(excluding)
        for entry in [a, b, c, d, sender] { try expectNothingElse(entry.client) }

        let single = unique("to-group")
        try apiSend(sender.client, "send_to_group \(blue) \(d.id) \(single)")
        try b.client.expectText(single)
        try c.client.expectText(single)
        for entry in [a, b, c, d] { try expectNothingElse(entry.client) }

        try apiSend(b.client, "leave_group \(b.id) \(blue)")
        try apiSend(sender.client, "ungroup \(red)")
        try eventually(sender.client, "get_client_count_by_group \(red)", answers: "0")
        let after = unique("after")
        try apiSend(sender.client, "send_to_groups \(red),\(blue) - \(after)")
        try c.client.expectText(after)
        try d.client.expectText(after)
        for entry in [a, b, c, d] { try expectNothingElse(entry.client) }
    }

    // MARK: - Queries

    func checkClientQueriesMergeBothGateways() throws {
        let clients = try spread(4)
        let ids = clients.map(\.id)
        let asking = clients[0].client
        // Clients of earlier tests were closed in their tearDown; their gateway may take a moment.
        try eventually(asking, "get_all_client_id_list", answers: json(ids))
        XCTAssertEqual(try api(asking, "get_all_client_count"), "\(ids.count)")
        XCTAssertEqual(Set(ids.map(gatewayKey)).count, 2)
        for id in ids { XCTAssertEqual(try api(asking, "is_online \(id)"), "true", id) }

        let leaving = clients[1]
        try leaving.client.sendClose(code: 1000)
        XCTAssertTrue(try leaving.client.receive().isConnectionEnd)
        try eventually(asking, "is_online \(leaving.id)", answers: "false")
        try eventually(asking, "get_all_client_id_list", answers: json(ids.filter { $0 != leaving.id }))
        XCTAssertEqual(try api(asking, "get_all_client_count"), "\(ids.count - 1)")
    }

    func checkUIDQueriesMergeBothGateways() throws {
        let clients = try spread(4)
        let (a, b, c, unbound) = (clients[0], clients[1], clients[2], clients[3])
        let prefix = unique("u")
        let (shared, alone, nobody) = ("\(prefix)-shared", "\(prefix)-alone", "\(prefix)-nobody")
        try apiSend(a.client, "bind_uid \(a.id) \(shared)")
        try apiSend(b.client, "bind_uid \(b.id) \(shared)")
        try apiSend(c.client, "bind_uid \(c.id) \(alone)")
        let asking = unbound.client

        XCTAssertEqual(try api(asking, "is_uid_online \(shared)"), "true")
        XCTAssertEqual(try api(asking, "is_uid_online \(nobody)"), "false")
        XCTAssertEqual(try api(asking, "get_client_id_by_uid \(shared)"), json([a.id, b.id]))
        XCTAssertEqual(try api(asking, "get_client_id_by_uid \(nobody)"), "[]")
        XCTAssertEqual(try api(asking, "get_uid_by_client_id \(b.id)"), "\"\(shared)\"")
        XCTAssertEqual(try api(asking, "get_uid_by_client_id \(unbound.id)"), "error:GWD_ERR_NOT_FOUND")
        XCTAssertEqual(
            try api(asking, "batch_get_client_id_by_uid \(shared),\(alone),\(nobody)"),
            json([shared: json([a.id, b.id]), alone: json([c.id]), nobody: "[]"]))
        XCTAssertEqual(
            try api(asking, "is_uids_online \(shared),\(nobody)"), json([shared: "true", nobody: "false"]))
        try eventually(asking, "get_all_uid_list", answers: json([shared, alone]))
        XCTAssertEqual(try api(asking, "get_all_uid_count"), "2")

        try apiSend(b.client, "unbind_uid \(b.id) \(shared)")
        XCTAssertEqual(try api(asking, "get_client_id_by_uid \(shared)"), json([a.id]))
        try apiSend(c.client, "unbind_uid \(c.id) \(alone)")
        XCTAssertEqual(try api(asking, "get_all_uid_list"), json([shared]))
        XCTAssertEqual(try api(asking, "is_uid_online \(alone)"), "false")
    }

    func checkGroupQueriesMergeBothGateways() throws {
        let clients = try spread(4)
        let (a, b, c, asking) = (clients[0], clients[1], clients[2], clients[3].client)
        let prefix = unique("g")
        let (room, hall, empty) = ("\(prefix)-room", "\(prefix)-hall", "\(prefix)-empty")
        let (ua, ub) = (unique("ua"), unique("ub"))
        try apiSend(a.client, "join_group \(a.id) \(room)")
        try apiSend(a.client, "bind_uid \(a.id) \(ua)")
        try apiSend(b.client, "join_group \(b.id) \(room)")
        try apiSend(b.client, "bind_uid \(b.id) \(ub)")
        try apiSend(c.client, "join_group \(c.id) \(hall)")

        XCTAssertEqual(try api(asking, "get_client_count_by_group \(room)"), "2")
        XCTAssertEqual(try api(asking, "get_client_id_list_by_group \(room)"), json([a.id, b.id]))
        XCTAssertEqual(try api(asking, "get_client_id_list_by_group \(empty)"), "[]")
        XCTAssertEqual(try api(asking, "get_uid_list_by_group \(room)"), json([ua, ub]))
        XCTAssertEqual(try api(asking, "get_uid_count_by_group \(room)"), "2")
        XCTAssertEqual(try api(asking, "get_uid_count_by_group \(hall)"), "0", "c has no uid")
        XCTAssertEqual(
            try api(asking, "batch_get_client_count_by_group \(room),\(hall),\(empty)"),
            json([room: "2", hall: "1", empty: "0"]))

        // The whole-cluster tables, restricted to this test's groups.
        XCTAssertEqual(try restricted(try api(asking, "get_all_group_id_list"), to: prefix), json([room, hall]))
        XCTAssertEqual(try restricted(try api(asking, "get_all_group_uid_list"), to: prefix), json([room: json([ua, ub])]))
        XCTAssertEqual(try restricted(try api(asking, "get_all_group_uid_count"), to: prefix), json([room: "2"]))
        XCTAssertEqual(
            try restricted(try api(asking, "get_all_group_client_id_list"), to: prefix),
            json([room: json([a.id, b.id]), hall: json([c.id])]))
        XCTAssertEqual(
            try restricted(try api(asking, "get_all_group_client_id_count"), to: prefix), json([room: "2", hall: "1"]))

        try apiSend(asking, "ungroup \(room)")
        try eventually(asking, "get_client_id_list_by_group \(room)", answers: "[]")
        XCTAssertEqual(try restricted(try api(asking, "get_all_group_client_id_count"), to: prefix), json([hall: "1"]))
    }

    func checkSessionQueriesMergeBothGateways() throws {
        let clients = try spread(4)
        let (a, b, c, asking) = (clients[0], clients[1], clients[2], clients[3].client)
        let group = unique("s")
        try apiSend(a.client, "set_session - name=ada,n=1")
        try apiSend(b.client, #"update_session_json - {"room":{"n":2,"tags":["x","y"]}}"#)
        try apiSend(b.client, "update_session - name=bob")
        try apiSend(a.client, "join_group \(a.id) \(group)")
        try apiSend(b.client, "join_group \(b.id) \(group)")

        // The session as delivered with later events, and as the gateways hold it.
        XCTAssertEqual(try api(a.client, "session_get name"), #""ada""#)
        let aSession = #"{"name":"ada","n":"1"}"#
        let bSession = #"{"room":{"n":2,"tags":["x","y"]},"name":"bob"}"#
        XCTAssertEqual(try api(b.client, "session_json"), bSession, "keys in the order they were set")
        assertSameJSON(try api(asking, "get_session_json \(a.id)"), aSession)
        XCTAssertEqual(try api(asking, "get_session_json \(b.id)"), bSession)
        XCTAssertEqual(try api(asking, "get_session_json \(c.id)"), "{}", "no session reads as an empty object")
        assertSameJSON(try api(asking, "get_client_sessions_by_group \(group)"), json([a.id: aSession, b.id: bSession]))
        let all = try JSONSerialization.jsonObject(with: Data(try api(asking, "get_all_client_sessions").utf8)) as? [String: Any]
        let ours = (all ?? [:]).filter { [a.id, b.id, c.id].contains($0.key) }
        let oursJSON = String(decoding: try JSONSerialization.data(withJSONObject: ours), as: UTF8.self)
        assertSameJSON(oursJSON, json([a.id: aSession, b.id: bSession, c.id: "{}"]))

        // Another client's session, on the other gateway, replaced and merged by id.
        try apiSend(a.client, "set_session \(b.id) only=this")
        try eventually(asking, "get_session_json \(b.id)", answers: #"{"only":"this"}"#)
        try apiSend(b.client, #"update_session_json \#(a.id) {"n":{"deep":true}}"#)
        try eventually(asking, "get_session_json \(a.id)", answers: #"{"name":"ada","n":{"deep":true}}"#)
    }

    // MARK: - Closing

    func checkDestroyClosesWithoutACloseFrame() throws {
        let clients = try spread(4)
        let (a, b, c, d) = (clients[0], clients[1], clients[2], clients[3])

        try a.client.sendText("destroy:")
        XCTAssertEqual(try a.client.receive(), .endOfStream, "destroy: ends TCP with no close frame and no reply")
        try c.client.sendText("api:destroy_current_client")
        XCTAssertEqual(try c.client.receive(), .endOfStream)

        // Across gateways, by id.
        try apiSend(d.client, "destroy_client \(b.id)")
        XCTAssertEqual(try b.client.receive(), .endOfStream)
        try eventually(d.client, "is_online \(b.id)", answers: "false")
        try eventually(d.client, "is_online \(a.id)", answers: "false")
    }

    func checkCloseClientSendsItsMessageFirst() throws {
        let clients = try spread(3)
        let (a, b, c) = (clients[0], clients[1], clients[2])
        let bye = unique("bye")
        try apiSend(a.client, "close_client \(b.id) \(bye) now")
        try b.client.expectText("\(bye) now")
        XCTAssertTrue(try b.client.receive().isConnectionEnd)
        try c.client.sendText("api:close_current_client \(bye)")
        try c.client.expectText(bye)
        XCTAssertTrue(try c.client.receive().isConnectionEnd)
        try eventually(a.client, "is_online \(c.id)", answers: "false")
    }

    // MARK: - Argument errors

    func checkMalformedCallsAnswerTheirStatus() throws {
        let client = try connectClient()
        XCTAssertEqual(try api(client, "is_online nope"), "error:GWD_ERR_INVALID_ARGUMENT")
        XCTAssertEqual(try api(client, "no_such_function"), "error:GWD_ERR_UNSUPPORTED")
        XCTAssertEqual(try api(client, "get_client_count_by_group"), "error:GWD_ERR_INVALID_ARGUMENT")
        XCTAssertTrue(try api(client, "worker_info").hasPrefix("{\"index\":"))
        XCTAssertEqual(try api(client, "current_client_id"), "\"\(try clientID(of: client))\"")
    }
}

/// ``APIParitySuite`` against plugins/conformance-c, on one cluster of 2 gateways and 2 workers.
final class APIParityCTests: APIParitySuite {
    override class var pluginKind: ConformancePlugin? { .c }

    func testSendToClientReachesOneClientOnEitherGateway() throws { try checkSendToClientReachesOneClientOnEitherGateway() }
    func testSendToClientsReachesExactlyTheListedClients() throws { try checkSendToClientsReachesExactlyTheListedClients() }
    func testSendToAllSkipsTheExcludedClientsOnBothGateways() throws { try checkSendToAllSkipsTheExcludedClientsOnBothGateways() }
    func testSendToUIDsReachesEveryBoundClientOnce() throws { try checkSendToUIDsReachesEveryBoundClientOnce() }
    func testSendToGroupsReachesMembersOnceAndSkipsTheExcluded() throws { try checkSendToGroupsReachesMembersOnceAndSkipsTheExcluded() }
    func testClientQueriesMergeBothGateways() throws { try checkClientQueriesMergeBothGateways() }
    func testUIDQueriesMergeBothGateways() throws { try checkUIDQueriesMergeBothGateways() }
    func testGroupQueriesMergeBothGateways() throws { try checkGroupQueriesMergeBothGateways() }
    func testSessionQueriesMergeBothGateways() throws { try checkSessionQueriesMergeBothGateways() }
    func testDestroyClosesWithoutACloseFrame() throws { try checkDestroyClosesWithoutACloseFrame() }
    func testCloseClientSendsItsMessageFirst() throws { try checkCloseClientSendsItsMessageFirst() }
    func testMalformedCallsAnswerTheirStatus() throws { try checkMalformedCallsAnswerTheirStatus() }
}

/// ``APIParitySuite`` against plugins/conformance-swift, on one cluster of 2 gateways and 2 workers.
final class APIParitySwiftTests: APIParitySuite {
    override class var pluginKind: ConformancePlugin? { .swift }

    func testSendToClientReachesOneClientOnEitherGateway() throws { try checkSendToClientReachesOneClientOnEitherGateway() }
    func testSendToClientsReachesExactlyTheListedClients() throws { try checkSendToClientsReachesExactlyTheListedClients() }
    func testSendToAllSkipsTheExcludedClientsOnBothGateways() throws { try checkSendToAllSkipsTheExcludedClientsOnBothGateways() }
    func testSendToUIDsReachesEveryBoundClientOnce() throws { try checkSendToUIDsReachesEveryBoundClientOnce() }
    func testSendToGroupsReachesMembersOnceAndSkipsTheExcluded() throws { try checkSendToGroupsReachesMembersOnceAndSkipsTheExcluded() }
    func testClientQueriesMergeBothGateways() throws { try checkClientQueriesMergeBothGateways() }
    func testUIDQueriesMergeBothGateways() throws { try checkUIDQueriesMergeBothGateways() }
    func testGroupQueriesMergeBothGateways() throws { try checkGroupQueriesMergeBothGateways() }
    func testSessionQueriesMergeBothGateways() throws { try checkSessionQueriesMergeBothGateways() }
    func testDestroyClosesWithoutACloseFrame() throws { try checkDestroyClosesWithoutACloseFrame() }
    func testCloseClientSendsItsMessageFirst() throws { try checkCloseClientSendsItsMessageFirst() }
    func testMalformedCallsAnswerTheirStatus() throws { try checkMalformedCallsAnswerTheirStatus() }
}

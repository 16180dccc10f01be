import Foundation
import XCTest

/// Every GatewayWorker function pushed and queried from outside the cluster (`gatewayd client`
/// or the HTTP API), checked against real WebSocket clients spread over the cluster's two
/// gateways, so every query's answer is merged from both.
///
/// Abstract, like `ConformanceSuite`: a subclass names the surface and declares one test per
/// check. The cluster runs the C conformance plugin with a secret key and the HTTP API; the
/// plugin's messages (`uid:`, `join:`, `sess:`, `getsess:`) set state up and read it back from
/// inside, so each function is checked against what the clients and the plugin see.
class PushSuite: ConformanceSuite {
    static let secretKey = "push-secret"
    static let token = "push-token"

    override class var pluginKind: ConformancePlugin? { nil }
    override class var extraArguments: [String] {
        ["--secret-key", secretKey, "--http-api", "127.0.0.1:0", "--http-api-token", token]
    }

    /// The surface under test (the subclass's).
    func makeSurface() throws -> PushSurface {
        throw GatewaydFixtureError("PushSuite is abstract")
    }

    private(set) var surface: PushSurface!

    override func setUpWithError() throws {
        try super.setUpWithError()
        surface = try makeSurface()
    }

    /// The HTTP API's port, from `status --json`.
    func httpAPIPort() throws -> Int {
        guard let listen = try cluster.status().processes(role: "http-api").first?.details?["listen"],
            let port = GatewaydProcess.port(of: listen)
        else { throw GatewaydFixtureError("status lists no http-api process with a listen address") }
        return port
    }

    // MARK: - Helpers

    /// Runs `call` until its result equals `expected` (sends before it went over another
    /// connection, so the gateway may not have executed them yet), for up to 10 s.
    func expect(_ call: PushCall, equals expected: Any, file: StaticString = #filePath, line: UInt = #line) throws {
        var last: Any = "nothing"
        let matched = try GatewaydProcess.poll(
            until: {
                last = try surface.query(call)
                return canonicalJSON(last) == canonicalJSON(expected)
            }, timeout: .seconds(10), interval: .milliseconds(50))
        XCTAssertTrue(
            matched, "\(call.function) \(call.json): expected \(canonicalJSON(expected)), got \(canonicalJSON(last))", file: file,
            line: line)
    }

    /// Tells the plugin `text` on behalf of `client` and waits for its `reply`.
    func tell(_ client: WebSocketTestClient, _ text: String, reply: String) throws {
        try client.sendText(text)
        try client.expectText(reply)
    }

    func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    // MARK: - Sends

    func checkSendsReachTheirClientsOnBothGateways() throws {
        let (a, b, rest) = splitAcrossGateways(try clientsOnBothGateways(minimum: 3))
        let c = rest[0]
        let everyone = [a, b] + rest

        var message = unique("one")
        try surface.send(PushCall("send-to-client", [a.id, message], json: ["client_id": a.id, "message": message]))
        try a.client.expectText(message)

        message = unique("all")
        try surface.send(PushCall("send-to-all", [message], json: ["message": message]))
        for entry in everyone { try entry.client.expectText(message) }

        message = unique("only")
        try surface.send(
            PushCall("send-to-all", [message, "--client-id", a.id, "--client-id", b.id], json: ["message": message, "client_id": [a.id, b.id]]))
        try a.client.expectText(message)
        try b.client.expectText(message)
        try expectNothingElse(c.client)

        message = unique("but")
        try surface.send(PushCall("send-to-all", [message, "--exclude", a.id], json: ["message": message, "exclude": [a.id]]))
        for entry in [b] + rest { try entry.client.expectText(message) }
        try expectNothingElse(a.client)

        let (uidA, uidB) = (unique("uid"), unique("uid"))
        try tell(a.client, "uid:\(uidA)", reply: "uid:\(uidA)")
        try tell(b.client, "uid:\(uidB)", reply: "uid:\(uidB)")
        message = unique("to-uid")
        try surface.send(PushCall("send-to-uid", [uidA, message], json: ["uid": uidA, "message": message]))
        try a.client.expectText(message)
        try expectNothingElse(b.client)
        message = unique("to-uids")
        try surface.send(PushCall("send-to-uid", [uidA, uidB, message], json: ["uid": [uidA, uidB], "message": message]))
        try a.client.expectText(message)
        try b.client.expectText(message)

        let (group, other) = (unique("group"), unique("group"))
        for entry in [a, b, c] { try tell(entry.client, "join:\(group)", reply: "joined:\(group)") }
        try tell(a.client, "join:\(other)", reply: "joined:\(other)")
        message = unique("to-group")
        try surface.send(PushCall("send-to-group", [group, message, "--exclude", c.id], json: ["group": group, "message": message, "exclude": c.id]))
        try a.client.expectText(message)
        try b.client.expectText(message)
        try expectNothingElse(c.client)
        message = unique("to-groups")
        try surface.send(PushCall("send-to-group", [group, other, message], json: ["group": [group, other], "message": message]))
        for entry in [a, b, c] { try entry.client.expectText(message) }
        try expectNothingElse(a.client)  // in both groups, yet only once

        try surface.send(PushCall("send-to-client", [b.id, "bin", "--binary"], json: ["client_id": b.id, "message": "bin", "binary": true]))
        XCTAssertEqual(try b.client.receive(), .binary(Array("bin".utf8)))
        // raw: the bytes go to the socket as they are, here a hand-made WebSocket text frame.
        let frame = base64([0x81, 0x03] + Array("raw".utf8))
        try surface.send(
            PushCall("send-to-client", [a.id, frame, "--raw", "--base64"], json: ["client_id": a.id, "message_base64": frame, "raw": true]))
        try a.client.expectText("raw")
    }

    // MARK: - uids

    func checkUIDFunctions() throws {
        let (a, b, _) = splitAcrossGateways(try clientsOnBothGateways(minimum: 2))
        let (uid, other, nobody) = (unique("uid"), unique("uid"), unique("nobody"))

        try surface.send(PushCall("bind-uid", [a.id, uid], json: ["client_id": a.id, "uid": uid]))
        try expect(PushCall("get-client-id-by-uid", [uid], json: ["uid": uid]), equals: [a.id])
        try surface.send(PushCall("bind-uid", [b.id, uid], json: ["client_id": b.id, "uid": uid]))
        try expect(PushCall("get-client-id-by-uid", [uid], json: ["uid": uid]), equals: [a.id, b.id].sorted())
        try expect(PushCall("get-uid-by-client-id", [a.id], json: ["client_id": a.id]), equals: uid)
        try expect(PushCall("is-uid-online", [uid], json: ["uid": uid]), equals: true)
        try expect(PushCall("is-uid-online", [nobody], json: ["uid": nobody]), equals: false)

        try surface.send(PushCall("unbind-uid", [b.id, uid], json: ["client_id": b.id, "uid": uid]))
        try expect(PushCall("get-client-id-by-uid", [uid], json: ["uid": uid]), equals: [a.id])
        try tell(b.client, "uid:\(other)", reply: "uid:\(other)")
        try expect(PushCall("is-uids-online", [uid, other, nobody], json: ["uids": [uid, other, nobody]]), equals: [uid: true, other: true, nobody: false])
        try expect(
            PushCall("batch-get-client-id-by-uid", [uid, other, nobody], json: ["uids": [uid, other, nobody]]),
            equals: [uid: [a.id], other: [b.id], nobody: [String]()])

        // Other tests' uids may be there too (until their closed clients are gone): ours must
        // be, and the count must match the list.
        var all: [String] = []
        var count = -1
        try GatewaydProcess.poll(
            until: {
                all = try surface.query(PushCall("get-all-uid-list", json: [:])) as? [String] ?? []
                count = try surface.query(PushCall("get-all-uid-count", json: [:])) as? Int ?? -1
                return count == all.count
            }, timeout: .seconds(10), interval: .milliseconds(50))
        XCTAssertTrue(Set(all).isSuperset(of: [uid, other]), "\(all)")
        XCTAssertEqual(count, all.count)
    }

    // MARK: - Groups

    func checkGroupFunctions() throws {
        let (a, b, rest) = splitAcrossGateways(try clientsOnBothGateways(minimum: 3))
        let c = rest[0]
        let (group, empty) = (unique("group"), unique("empty"))
        let (uidA, uidB) = (unique("uid"), unique("uid"))
        try tell(a.client, "uid:\(uidA)", reply: "uid:\(uidA)")
        try tell(b.client, "uid:\(uidB)", reply: "uid:\(uidB)")

        for entry in [a, b, c] { try surface.send(PushCall("join-group", [entry.id, group], json: ["client_id": entry.id, "group": group])) }
        let members = [a.id, b.id, c.id].sorted()
        try expect(PushCall("get-client-id-list-by-group", [group], json: ["group": group]), equals: members)
        try expect(PushCall("get-client-id-count-by-group", [group], json: ["group": group]), equals: 3)
        try expect(PushCall("get-uid-list-by-group", [group], json: ["group": group]), equals: [uidA, uidB].sorted())
        try expect(PushCall("get-uid-count-by-group", [group], json: ["group": group]), equals: 2)
        try expect(PushCall("batch-get-client-id-count-by-group", [group, empty], json: ["groups": [group, empty]]), equals: [group: 3, empty: 0])

        let groups = try surface.query(PushCall("get-all-group-id-list", json: [:])) as? [String] ?? []
        XCTAssertTrue(groups.contains(group), "\(groups)")
        func member(_ function: String) throws -> Any? { (try surface.query(PushCall(function, json: [:])) as? [String: Any])?[group] }
        XCTAssertEqual(canonicalJSON(try member("get-all-group-client-id-list") ?? "missing"), canonicalJSON(members))
        XCTAssertEqual(canonicalJSON(try member("get-all-group-client-id-count") ?? "missing"), "3")
        XCTAssertEqual(canonicalJSON(try member("get-all-group-uid-list") ?? "missing"), canonicalJSON([uidA, uidB].sorted()))
        XCTAssertEqual(canonicalJSON(try member("get-all-group-uid-count") ?? "missing"), "2")

        try surface.send(PushCall("leave-group", [c.id, group], json: ["client_id": c.id, "group": group]))
        try expect(PushCall("get-client-id-list-by-group", [group], json: ["group": group]), equals: [a.id, b.id].sorted())
        try surface.send(PushCall("ungroup", [group], json: ["group": group]))
        try expect(PushCall("get-client-id-count-by-group", [group], json: ["group": group]), equals: 0)
        let after = try surface.query(PushCall("get-all-group-id-list", json: [:])) as? [String] ?? []
        XCTAssertFalse(after.contains(group), "\(after)")
    }

    // MARK: - Sessions

    func checkSessionFunctions() throws {
        let (a, b, _) = splitAcrossGateways(try clientsOnBothGateways(minimum: 2))
        let group = unique("group")
        for entry in [a, b] { try tell(entry.client, "join:\(group)", reply: "joined:\(group)") }

        try surface.send(
            PushCall("set-session", [a.id, #"{"name":"alice","n":1}"#], json: ["client_id": a.id, "session": ["name": "alice", "n": 1]]))
        try expect(PushCall("get-session", [a.id], json: ["client_id": a.id]), equals: ["name": "alice", "n": 1])
        try tell(a.client, "getsess:name", reply: "sess:name=alice")  // the plugin sees it too

        try surface.send(
            PushCall("update-session", [a.id, #"{"n":2,"tags":{"x":"y"}}"#], json: ["client_id": a.id, "session": ["n": 2, "tags": ["x": "y"]]]))
        let merged: [String: Any] = ["name": "alice", "n": 2, "tags": ["x": "y"]]
        try expect(PushCall("get-session", [a.id], json: ["client_id": a.id]), equals: merged)

        try tell(b.client, "sess:k=v", reply: "sess:ok")
        try expect(PushCall("get-client-sessions-by-group", [group], json: ["group": group]), equals: [a.id: merged, b.id: ["k": "v"]])
        let all = try surface.query(PushCall("get-all-client-sessions", json: [:])) as? [String: Any] ?? [:]
        XCTAssertEqual(canonicalJSON(all[a.id] ?? "missing"), canonicalJSON(merged))
        XCTAssertEqual(canonicalJSON(all[b.id] ?? "missing"), canonicalJSON(["k": "v"]))
    }

    // MARK: - Clients

    func checkClientFunctions() throws {
        let clients = try clientsOnBothGateways(minimum: 3)
        let (a, b, rest) = splitAcrossGateways(clients)
        let ids = clients.map(\.id).sorted()

        // Clients of earlier tests are closed; the gateways notice within moments.
        try expect(PushCall("get-all-client-id-list", json: [:]), equals: ids)
        try expect(PushCall("get-all-client-id-count", json: [:]), equals: ids.count)
        try expect(PushCall("is-online", [a.id], json: ["client_id": a.id]), equals: true)
        try expect(PushCall("is-online", [b.id], json: ["client_id": b.id]), equals: true)

        let bye = unique("bye")
        try surface.send(PushCall("close-client", [a.id, "--message", bye], json: ["client_id": a.id, "message": bye]))
        try a.client.expectText(bye)
        XCTAssertTrue(try a.client.receive().isConnectionEnd)
        try surface.send(PushCall("destroy-client", [b.id], json: ["client_id": b.id]))
        XCTAssertTrue(try b.client.receive().isConnectionEnd)
        try expect(PushCall("is-online", [a.id], json: ["client_id": a.id]), equals: false)
        try expect(PushCall("is-online", [b.id], json: ["client_id": b.id]), equals: false)
        try expect(PushCall("get-all-client-id-list", json: [:]), equals: rest.map(\.id).sorted())
    }
}

import CGatewayABI
import GatewayPluginSDK
import XCTest

/// Tests that call ``Gateway`` methods inside a callback against a fresh fake host.
class GatewayCallTestCase: XCTestCase {
    let a = ClientID(clientA)!
    let b = ClientID(clientB)!
    let c = ClientID(clientC)!

    override func setUp() {
        resetFakeHost()
        ScriptedPlugin.reset()
    }

    override func tearDown() {
        XCTAssertEqual(fakeHost.foreignContexts, 0, "every host call passes the callback's ctx")
        XCTAssertTrue(fakeHost.outstandingBuffers.isEmpty, "host memory left unfreed")
    }
}

/// Each ``Gateway`` method, called inside a callback, makes exactly the host call it names.
final class GatewayTests: GatewayCallTestCase {

    func testSendToClientByKind() throws {
        try inCallback { [b] gateway in
            try gateway.send("hi", to: b)
            try gateway.send([0, 1, 0xFF], to: b)
            try gateway.send(.binary([7]), to: b, options: .raw)
            try gateway.send("", to: b)
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "send_to_client", client: clientB, data: "hi", bytes: Array("hi".utf8), flags: 0),
            HostCall(function: "send_to_client", client: clientB, data: lossy([0, 1, 0xFF]), bytes: [0, 1, 0xFF],
                     flags: GWD_SEND_BINARY),
            HostCall(function: "send_to_client", client: clientB, data: lossy([7]), bytes: [7],
                     flags: GWD_SEND_BINARY | GWD_SEND_RAW),
            HostCall(function: "send_to_client", client: clientB, data: "", bytes: [], flags: 0),
        ])
    }

    func testReplyGoesToTheCurrentClient() throws {
        try inCallback { gateway in
            try gateway.reply("pong")
            try gateway.reply([9, 8])
            try gateway.reply(.text("raw line\n"), options: .raw)
        }
        XCTAssertEqual(fakeHost.sends.map(\.function), Array(repeating: "send_to_current_client", count: 3))
        XCTAssertEqual(fakeHost.sends.map(\.bytes), [Array("pong".utf8), [9, 8], Array("raw line\n".utf8)])
        XCTAssertEqual(fakeHost.sends.map(\.flags), [0, GWD_SEND_BINARY, GWD_SEND_RAW])
    }

    func testSendToAllWithExclusions() throws {
        try inCallback { [b, c] gateway in
            try gateway.sendToAll("news")
            try gateway.sendToAll([1, 2], excluding: [b, c])
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "send_to_all", data: "news", bytes: Array("news".utf8)),
            HostCall(function: "send_to_all", data: lossy([1, 2]), bytes: [1, 2], flags: GWD_SEND_BINARY,
                     exclude: [clientB, clientC]),
        ])
    }

    func testClosing() throws {
        try inCallback { [b] gateway in
            try gateway.close(b)
            try gateway.close(b, lastMessage: "bye")
            try gateway.closeCurrentClient()
            try gateway.closeCurrentClient(lastMessage: .binary([0x42]))
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "close_client", client: clientB),
            HostCall(function: "close_client", client: clientB, data: "bye"),
            HostCall(function: "close_current_client"),
            HostCall(function: "close_current_client", data: "B", flags: GWD_SEND_BINARY),
        ])
    }

    func testGroups() throws {
        try inCallback { [a, b] gateway in
            try gateway.join(a, group: "room:1")
            try gateway.leave(a, group: "room:1")
            try gateway.sendToGroup("room:2", "hi all", excluding: [b])
            try gateway.sendToGroup("room:2", [3])
            try gateway.ungroup("room:2")
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "join_group", client: clientA, name: "room:1"),
            HostCall(function: "leave_group", client: clientA, name: "room:1"),
            HostCall(function: "send_to_group", name: "room:2", data: "hi all", bytes: Array("hi all".utf8),
                     exclude: [clientB]),
            HostCall(function: "send_to_group", name: "room:2", data: lossy([3]), bytes: [3], flags: GWD_SEND_BINARY),
            HostCall(function: "ungroup", name: "room:2"),
        ])
    }

    func testUIDs() throws {
        try inCallback { [a] gateway in
            try gateway.bind(a, uid: "user-7")
            try gateway.sendToUID("user-7", "ping")
            try gateway.sendToUID("user-7", [0])
            try gateway.unbind(a, uid: "user-7")
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "bind_uid", client: clientA, name: "user-7"),
            HostCall(function: "send_to_uid", name: "user-7", data: "ping", bytes: Array("ping".utf8)),
            HostCall(function: "send_to_uid", name: "user-7", data: lossy([0]), bytes: [0], flags: GWD_SEND_BINARY),
            HostCall(function: "unbind_uid", client: clientA, name: "user-7"),
        ])
    }

    func testQueries() throws {
        fakeHost.online = [clientB]
        fakeHost.clientCount = 123_456
        var answers: [String] = []
        try inCallback { [b, c] gateway in
            answers.append("\(try gateway.isOnline(b))")
            answers.append("\(try gateway.isOnline(c))")
            answers.append("\(try gateway.allClientCount())")
        }
        XCTAssertEqual(answers, ["true", "false", "123456"])
        XCTAssertEqual(fakeHost.sends.map(\.function), ["is_online", "is_online", "get_all_client_count"])
    }

    func testWorkerInfoAndCurrentClient() throws {
        var seen: [String] = []
        try inCallback { gateway in
            seen.append("\(try gateway.workerPID) \(try gateway.workerIndex) \(gateway.currentClient?.rawValue ?? "nil")")
            fakeHost.currentClient = nil
            seen.append(gateway.currentClient?.rawValue ?? "nil")
            seen.append("\(gateway.hostABIVersion.major).\(gateway.hostABIVersion.minor)")
        }
        XCTAssertEqual(seen, ["4242 3 \(clientA)", "nil", "1.2"])
    }

    func testLogLevels() throws {
        try inCallback { gateway in
            gateway.log("started")
            gateway.log("detail", level: .debug)
            gateway.log("odd", level: .warning)
            gateway.log("bad", level: .error)
        }
        XCTAssertEqual(fakeHost.logs, ["started", "detail", "odd", "bad"])
        XCTAssertEqual(fakeHost.calls.map(\.flags), [GWD_LOG_INFO, GWD_LOG_DEBUG, GWD_LOG_WARNING, GWD_LOG_ERROR].map(UInt32.init))
    }

    func testSessionReads() throws {
        fakeHost.session = ["name": "ada", "empty": ""]
        var seen: [String?] = []
        try inCallback { gateway in
            seen.append(try gateway.session["name"])
            seen.append(try gateway.session["empty"])
            seen.append(try gateway.session["missing"])
            seen.append(try gateway.sessionJSON)
        }
        XCTAssertEqual(seen, ["ada", "", nil, #"{"room":"lobby"}"#])
        XCTAssertEqual(fakeHost.sends.map(\.function), ["session_get", "session_get", "session_get", "session_json"])
    }

    func testSessionOfAnotherClientIsFreedWithTheHostsFree() throws {
        fakeHost.otherSessions = [clientB: #"{"uid":"7"}"#]
        var json = ""
        try inCallback { [b] gateway in json = try gateway.sessionJSON(of: b) }
        XCTAssertEqual(json, #"{"uid":"7"}"#)
        XCTAssertEqual(fakeHost.freedBuffers, 1)
        XCTAssertTrue(fakeHost.outstandingBuffers.isEmpty)

        let error = gatewayError { [c] gateway in _ = try gateway.sessionJSON(of: c) }
        XCTAssertEqual(error?.code, .notFound)
    }

    func testSessionWrites() throws {
        try inCallback { [b] gateway in
            try gateway.updateSession(["k": "v", "n": "1"])
            try gateway.setSession(["only": "this"], of: b)
            try gateway.setSession([:])
            try gateway.updateSessionJSON(#"{"a":{"b":1}}"#)
            try gateway.setSessionJSON("{}", of: b)
        }
        XCTAssertEqual(fakeHost.sends, [
            HostCall(function: "update_session", pairs: ["k": "v", "n": "1"]),
            HostCall(function: "set_session", client: clientB, pairs: ["only": "this"]),
            HostCall(function: "set_session"),
            HostCall(function: "update_session_json", data: #"{"a":{"b":1}}"#),
            HostCall(function: "set_session_json", client: clientB, data: "{}"),
        ])
        XCTAssertEqual(fakeHost.session, [:], "set_session with no pairs cleared the current session")
    }

    // MARK: Errors

    func testStatusesBecomeGatewayErrorsWithTheHostsText() {
        fakeHost.statuses["send_to_client"] = Int32(GWD_ERR_NOT_FOUND.rawValue)
        let error = gatewayError { [b] gateway in try gateway.send("x", to: b) }
        XCTAssertEqual(error, GatewayError(code: .notFound, message: "not found"))
        XCTAssertEqual(error?.description, "not found (GWD_ERR_NOT_FOUND)")
    }

    func testEveryKindOfCallMapsItsStatus() {
        let cases: [(String, Int32, GatewayError.Code, (Gateway) throws -> Void)] = [
            ("send_to_current_client", 3, .noCurrentClient, { try $0.reply("x") }),
            ("session_get", 7, .wrongThread, { _ = try $0.session["k"] }),
            ("is_online", 5, .timeout, { _ = try $0.isOnline(ClientID(clientB)!) }),
            ("get_all_client_count", 5, .timeout, { _ = try $0.allClientCount() }),
            ("worker_info", 7, .wrongThread, { _ = try $0.workerPID }),
            ("update_session_json", 1, .invalidArgument, { try $0.updateSessionJSON("[]") }),
            ("send_to_group", 9, .tooLarge, { try $0.sendToGroup("g", "x") }),
        ]
        for (function, status, code, call) in cases {
            resetFakeHost()
            fakeHost.statuses[function] = status
            let error = gatewayError(call)
            XCTAssertEqual(error?.code, code, function)
            XCTAssertEqual(error?.code.rawValue, status, function)
        }
        XCTAssertEqual(gatewayError { _ = try $0.allClientCount() }, nil)
    }

    func testUnknownStatusCodes() {
        fakeHost.statuses["ungroup"] = 99
        let error = gatewayError { try $0.ungroup("g") }
        XCTAssertEqual(error?.code.rawValue, 99)
        XCTAssertEqual(error?.message, "fake: unknown status")
        XCTAssertEqual(error?.code.description, "gwd_status 99")
        XCTAssertEqual(GatewayError.Code.internal.description, "GWD_ERR_INTERNAL")
    }

    func testStatusTextFallsBackToTheCodeNameWithoutStatusString() throws {
        let table = FakeHostTable.allocate { $0.status_string = nil }
        let descriptor = try register(ScriptedPlugin.self, table: table)
        fakeHost.statuses["bind_uid"] = 4
        var caught: GatewayError?
        ScriptedPlugin.script = { gateway, client, _ in
            do { try gateway.bind(client, uid: "u") } catch let error as GatewayError { caught = error }
        }
        deliver(.text("go"), to: descriptor)
        XCTAssertEqual(caught, GatewayError(code: .unavailable, message: "GWD_ERR_UNAVAILABLE"))
    }
}

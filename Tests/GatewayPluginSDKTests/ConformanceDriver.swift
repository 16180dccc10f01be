import CGatewayABI
import Foundation
import XCTest

/// Loads a conformance plugin .so and drives the rows of the conformance protocol that need no
/// real gateway through the fake host table. Shared by the C and the Swift plugin's tests, so
/// both are held to the same expectations.
struct ConformanceDriver {
    let plugin: UnsafePointer<gwd_plugin>
    /// The plugin's name, which prefixes its log lines.
    let name: String

    /// dlopens `library` as the host does, checks it exports only the entry, and calls the entry.
    static func load(_ library: URL, table: UnsafePointer<gwd_host_api> = FakeHostTable.allocate()) throws -> ConformanceDriver {
        let handle = try XCTUnwrap(dlopen(library.path, RTLD_NOW | RTLD_LOCAL), String(cString: dlerror()))
        for hidden in ["on_message", "on_websocket_handshake", "$s16GatewayPluginSDK8ClientIDVN"] {
            XCTAssertNil(dlsym(handle, hidden), "\(hidden) is not exported")
        }
        let entry = unsafeBitCast(try XCTUnwrap(dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL)), to: gwd_plugin_entry_fn.self)
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(entry(table, &descriptor, &reason, reason.count), 0, string(reason))
        let plugin = try XCTUnwrap(descriptor)
        return ConformanceDriver(plugin: plugin, name: String(cString: plugin.pointee.name))
    }

    /// Calls the entry of an already loaded `library` with a host of another ABI major version
    /// and returns the status and reason.
    static func refuse(_ library: URL, hostMajor: UInt16, hostMinor: UInt16) throws -> (Int32, String, Bool) {
        let handle = try XCTUnwrap(dlopen(library.path, RTLD_NOW | RTLD_LOCAL))
        let entry = unsafeBitCast(try XCTUnwrap(dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL)), to: gwd_plugin_entry_fn.self)
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0, count: 256)
        let table = FakeHostTable.allocate { $0.abi_major = hostMajor; $0.abi_minor = hostMinor }
        let status = entry(table, &descriptor, &reason, reason.count)
        return (status, string(reason), descriptor == nil)
    }

    // MARK: Driving

    /// Sends `message` from `client` (the current client) and returns the host calls it made.
    @discardableResult
    func send(_ message: String, from client: String = clientA) -> [HostCall] {
        send(Array(message.utf8), kind: GWD_MESSAGE_TEXT, from: client)
    }

    @discardableResult
    func send(_ payload: [UInt8], kind: UInt32, from client: String = clientA) -> [HostCall] {
        fakeHost.calls = []
        fakeHost.currentClient = client
        payload.withUnsafeBytes { bytes in
            client.withCString { plugin.pointee.on_message?(FakeHost.context, $0, bytes.baseAddress, bytes.count, kind) }
        }
        XCTAssertEqual(fakeHost.foreignContexts, 0)
        return fakeHost.calls
    }

    func handshake(path: String, query: String, client: String = clientA) -> Int32? {
        withHandshake(path: path, query: query) { request in
            client.withCString { plugin.pointee.on_websocket_handshake?(FakeHost.context, $0, request) }
        }
    }

    func close(_ client: String) {
        client.withCString { plugin.pointee.on_close?(FakeHost.context, $0) }
    }

    func reply(_ text: String) -> HostCall {
        HostCall(function: "send_to_current_client", data: text, bytes: Array(text.utf8))
    }

    func failure(_ command: String, _ text: String, _ status: gwd_status) -> String {
        "\(name): \(command) failed: \(text) (\(status.rawValue))"
    }

    // MARK: The rows

    func checkDescriptor(version: String, file: StaticString = #filePath, line: UInt = #line) {
        let descriptor = plugin.pointee
        XCTAssertEqual(Int(descriptor.struct_size), MemoryLayout<gwd_plugin>.size, file: file, line: line)
        XCTAssertEqual(descriptor.abi_major, 1, file: file, line: line)
        XCTAssertEqual(descriptor.abi_minor, 2, file: file, line: line)
        XCTAssertEqual(String(cString: descriptor.version), version, file: file, line: line)
        XCTAssertNotNil(descriptor.on_message, file: file, line: line)
        XCTAssertNotNil(descriptor.on_websocket_handshake, file: file, line: line)
        XCTAssertNotNil(descriptor.on_close, file: file, line: line)
    }

    func checkEcho(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("echo:hello"), [reply("echo:hello")], file: file, line: line)
        XCTAssertEqual(send("echo:"), [reply("echo:")], file: file, line: line)
        let withNUL = Array("echo:a".utf8) + [0] + Array("b".utf8)
        XCTAssertEqual(send(withNUL, kind: GWD_MESSAGE_TEXT).first?.bytes, withNUL, "lengths, not strlen", file: file, line: line)
        XCTAssertEqual(send(Array("echo:bin".utf8), kind: GWD_MESSAGE_BINARY), [reply("echo:bin")],
                       "a command in a binary frame gets a text reply", file: file, line: line)
    }

    func checkIDAndVersion(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("id:"), [reply("id:\(clientA)")], file: file, line: line)
        let version = String(cString: plugin.pointee.version)
        XCTAssertEqual(send("ver:"), [HostCall(function: "worker_info"), reply("ver:\(version):4242")], file: file, line: line)
    }

    func checkGroups(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("join:room 1"), [HostCall(function: "join_group", client: clientA, name: "room 1"),
                                              reply("joined:room 1")], file: file, line: line)
        XCTAssertEqual(send("leave:room 1"), [HostCall(function: "leave_group", client: clientA, name: "room 1"),
                                               reply("left:room 1")], file: file, line: line)
        XCTAssertEqual(send("group:room 1:hi: there"),
                       [HostCall(function: "send_to_group", name: "room 1", data: "hi: there", bytes: Array("hi: there".utf8))],
                       "the group name ends at the second colon", file: file, line: line)
        XCTAssertEqual(send("group:no-second-colon"), [], "unparsable: ignored", file: file, line: line)
    }

    func checkSends(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("all:news"), [HostCall(function: "send_to_all", data: "news", bytes: Array("news".utf8))],
                       file: file, line: line)
        XCTAssertEqual(send("to:\(clientB):psst:x"),
                       [HostCall(function: "send_to_client", client: clientB, data: "psst:x", bytes: Array("psst:x".utf8))],
                       file: file, line: line)
        XCTAssertEqual(send("to:nope:x").map(\.data), [failure("to", "invalid argument", GWD_ERR_INVALID_ARGUMENT)],
                       "a malformed id is logged, not sent", file: file, line: line)
    }

    func checkUIDs(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("uid:u-9"), [HostCall(function: "bind_uid", client: clientA, name: "u-9"), reply("uid:u-9")],
                       file: file, line: line)
        XCTAssertEqual(send("touid:u-9:ping"),
                       [HostCall(function: "send_to_uid", name: "u-9", data: "ping", bytes: Array("ping".utf8))],
                       file: file, line: line)
    }

    func checkQueries(file: StaticString = #filePath, line: UInt = #line) {
        fakeHost.online = [clientB]
        XCTAssertEqual(send("count:"), [HostCall(function: "get_all_client_count"), reply("count:17")], file: file, line: line)
        XCTAssertEqual(send("online:\(clientB)"), [HostCall(function: "is_online", client: clientB), reply("online:1")],
                       file: file, line: line)
        XCTAssertEqual(send("online:\(clientC)").last, reply("online:0"), file: file, line: line)
        XCTAssertEqual(send("online:garbage").last, reply("online:0"), file: file, line: line)
        fakeHost.statuses["is_online"] = Int32(GWD_ERR_NOT_FOUND.rawValue)
        XCTAssertEqual(send("online:\(clientB)").last, reply("online:0"), "NOT_FOUND reads as offline", file: file, line: line)
    }

    func checkSession(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("sess:name=ada=lovelace"),
                       [HostCall(function: "update_session", pairs: ["name": "ada=lovelace"]), reply("sess:ok")],
                       "the key ends at the first '='; the current client's session", file: file, line: line)
        XCTAssertEqual(fakeHost.session, ["name": "ada=lovelace"], file: file, line: line)
        XCTAssertEqual(send("getsess:name"), [HostCall(function: "session_get", name: "name"), reply("sess:name=ada=lovelace")],
                       file: file, line: line)
        XCTAssertEqual(send("getsess:unset").last, reply("sess:unset="), file: file, line: line)
        XCTAssertEqual(send("sess:novalue"), [], "no '=': ignored", file: file, line: line)
    }

    func checkKickSleepUnknownAndFailures(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("kick:"), [HostCall(function: "close_current_client")], file: file, line: line)
        let start = ContinuousClock.now
        XCTAssertEqual(send("sleep:30"), [reply("slept:30")], file: file, line: line)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(30), "it blocked", file: file, line: line)
        XCTAssertEqual(send("sleep:soon"), [], file: file, line: line)
        XCTAssertEqual(send("hello"), [], file: file, line: line)
        XCTAssertEqual(send("unknown:x"), [], file: file, line: line)
        XCTAssertEqual(send(""), [], file: file, line: line)

        fakeHost.statuses["join_group"] = Int32(GWD_ERR_TIMEOUT.rawValue)
        let failed = send("join:g")
        XCTAssertEqual(failed.map(\.function), ["join_group", "log"], "no joined: reply after a failure", file: file, line: line)
        XCTAssertEqual(failed.last?.data, failure("join", "timeout", GWD_ERR_TIMEOUT), file: file, line: line)
        XCTAssertEqual(failed.last?.flags, UInt32(GWD_LOG_WARNING), file: file, line: line)
        fakeHost.statuses = [:]
    }

    func checkRejectParameter(file: StaticString = #filePath, line: UInt = #line) {
        for query in ["reject=1", "reject=1&a=2", "a=2&reject=1", "a=2&reject=1&b=3"] {
            XCTAssertEqual(handshake(path: "/", query: query), 403, query, file: file, line: line)
        }
        for query in ["", "reject=10", "xreject=1", "reject=0", "a=reject=1", "reject=1x&b"] {
            XCTAssertEqual(handshake(path: "/", query: query), 0, query, file: file, line: line)
        }
    }

    func checkRawEcho(file: StaticString = #filePath, line: UInt = #line) {
        let echoClient = "0e0000000000000000e5"
        XCTAssertEqual(handshake(path: "/raw-echo", query: "", client: echoClient), 0, file: file, line: line)
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0x3A]
        XCTAssertEqual(send(binary, kind: GWD_MESSAGE_BINARY, from: echoClient),
                       [HostCall(function: "send_to_current_client", data: lossy(binary), bytes: binary, flags: GWD_SEND_BINARY)],
                       "binary as binary", file: file, line: line)
        XCTAssertEqual(send("id:", from: echoClient), [reply("id:")], "text as text; commands are echoed, not run",
                       file: file, line: line)
        XCTAssertEqual(send("id:"), [reply("id:\(clientA)")], "other connections still run commands", file: file, line: line)

        close(echoClient)
        XCTAssertEqual(send("id:", from: echoClient), [reply("id:\(echoClient)")], "forgotten on close", file: file, line: line)
        XCTAssertEqual(handshake(path: "/raw-echo", query: "reject=1", client: echoClient), 403, file: file, line: line)
        XCTAssertEqual(send("id:", from: echoClient), [reply("id:\(echoClient)")], "a refused handshake is no echo connection",
                       file: file, line: line)
    }

    /// Every row check, in order.
    func checkAllRows(file: StaticString = #filePath, line: UInt = #line) {
        checkEcho(file: file, line: line)
        checkIDAndVersion(file: file, line: line)
        checkGroups(file: file, line: line)
        checkSends(file: file, line: line)
        checkUIDs(file: file, line: line)
        checkQueries(file: file, line: line)
        checkSession(file: file, line: line)
        checkKickSleepUnknownAndFailures(file: file, line: line)
        checkRejectParameter(file: file, line: line)
        checkRawEcho(file: file, line: line)
    }
}

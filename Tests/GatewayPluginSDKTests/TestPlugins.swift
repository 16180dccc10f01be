import CGatewayABI
import GatewayPluginSDK
import XCTest

/// A plugin whose behaviour each test scripts, and which logs every event it gets.
final class ScriptedPlugin: GatewayPlugin {
    static let name = "scripted"
    static let version = "0.1.0"

    // Test-owned state; tests run one at a time on one thread.
    nonisolated(unsafe) static var events: [String] = []
    nonisolated(unsafe) static var instances = 0
    nonisolated(unsafe) static var startError: (any Error)?
    /// Runs inside workerStarted (e.g. to declare events); what it throws refuses the start.
    nonisolated(unsafe) static var start: ((Gateway) throws -> Void)?
    nonisolated(unsafe) static var decision: HandshakeDecision = .accept
    nonisolated(unsafe) static var requests: [HandshakeRequest] = []
    nonisolated(unsafe) static var messages: [Message] = []
    /// Runs inside on_message; what it throws is kept in ``scriptError``.
    nonisolated(unsafe) static var script: ((Gateway, ClientID, Message) throws -> Void)?
    nonisolated(unsafe) static var scriptError: (any Error)?

    static func reset() {
        events = []
        instances = 0
        startError = nil
        start = nil
        decision = .accept
        requests = []
        messages = []
        script = nil
        scriptError = nil
    }

    init() {
        ScriptedPlugin.instances += 1
    }

    func workerStarted(_ gateway: Gateway) throws {
        ScriptedPlugin.events.append("workerStarted")
        if let error = ScriptedPlugin.startError { throw error }
        try ScriptedPlugin.start?(gateway)
    }

    func workerStopping(_ gateway: Gateway) {
        ScriptedPlugin.events.append("workerStopping")
    }

    func clientConnected(_ gateway: Gateway, client: ClientID) {
        ScriptedPlugin.events.append("connected \(client)")
    }

    func handshake(_ gateway: Gateway, client: ClientID, request: HandshakeRequest) -> HandshakeDecision {
        ScriptedPlugin.events.append("handshake \(client)")
        ScriptedPlugin.requests.append(request)
        return ScriptedPlugin.decision
    }

    func message(_ gateway: Gateway, client: ClientID, message: Message) {
        ScriptedPlugin.events.append("message \(client)")
        ScriptedPlugin.messages.append(message)
        do {
            try ScriptedPlugin.script?(gateway, client, message)
        } catch {
            ScriptedPlugin.scriptError = error
        }
    }

    func clientClosed(_ gateway: Gateway, client: ClientID) {
        ScriptedPlugin.events.append("closed \(client)")
    }
}

/// A plugin that implements nothing: it runs on the protocol's defaults.
final class MinimalPlugin: GatewayPlugin {
    static let name = "minimal"
    static let version = "2.0.0"
}

let clientA = "0a0000000000000000a1"
let clientB = "0b0000000000000000b2"
let clientC = "0c0000000000000000c3"

/// Registers `Plugin` with a table made by ``FakeHostTable``; fails the test when the entry does.
func register<Plugin: GatewayPlugin>(_ type: Plugin.Type,
                                     table: UnsafePointer<gwd_host_api> = FakeHostTable.allocate(),
                                     file: StaticString = #filePath, line: UInt = #line) throws -> UnsafePointer<gwd_plugin> {
    var descriptor: UnsafePointer<gwd_plugin>?
    var reason = [CChar](repeating: 0, count: 256)
    let status = GatewayPluginExport.entry(type, table, &descriptor, &reason, reason.count)
    XCTAssertEqual(status, 0, string(reason), file: file, line: line)
    return try XCTUnwrap(descriptor, file: file, line: line)
}

/// Calls `descriptor`'s on_message for `client` with `message`, as the host does.
func deliver(_ message: Message, from client: String = clientA, to descriptor: UnsafePointer<gwd_plugin>) {
    let kind = message.isBinary ? GWD_MESSAGE_BINARY : GWD_MESSAGE_TEXT
    message.bytes.withUnsafeBytes { payload in
        client.withCString { id in
            descriptor.pointee.on_message?(FakeHost.context, id, payload.baseAddress, payload.count, kind)
        }
    }
}

/// Runs `body` inside an on_message callback of ``ScriptedPlugin`` (registered fresh) and
/// rethrows what it threw, so a test can call ``Gateway`` methods as a plugin does.
func inCallback(_ body: @escaping (Gateway) throws -> Void) throws {
    let descriptor = try register(ScriptedPlugin.self)
    ScriptedPlugin.script = { gateway, _, _ in try body(gateway) }
    deliver(.text("go"), to: descriptor)
    ScriptedPlugin.script = nil
    if let error = ScriptedPlugin.scriptError {
        ScriptedPlugin.scriptError = nil
        throw error
    }
}

/// The ``GatewayError`` that `body` throws inside a callback, or nil.
func gatewayError(_ body: @escaping (Gateway) throws -> Void) -> GatewayError? {
    do {
        try inCallback(body)
        return nil
    } catch let error as GatewayError {
        return error
    } catch {
        XCTFail("expected a GatewayError, got \(error)")
        return nil
    }
}

/// Makes a borrowed `gwd_handshake` for the duration of `body`.
func withHandshake<Result>(path: String, query: String = "", headers: [(String, String)] = [],
                           structSize: Int = MemoryLayout<gwd_handshake>.size,
                           _ body: (UnsafePointer<gwd_handshake>) -> Result) -> Result {
    // Every string lives in one buffer for the call, like the host's borrowed views.
    var strings: [String] = ["GET", path, query, "127.0.0.1"]
    for (name, value) in headers { strings += [name, value] }
    var storage: [UInt8] = []
    var ranges: [Range<Int>] = []
    for string in strings {
        let start = storage.count
        storage += string.utf8
        ranges.append(start..<storage.count)
    }
    storage.append(0)
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        func view(_ index: Int) -> gwd_bytes { gwd_bytes(data: base + ranges[index].lowerBound, len: ranges[index].count) }
        let headerList = headers.indices.map { gwd_header(name: view(4 + 2 * $0), value: view(5 + 2 * $0)) }
        return headerList.withUnsafeBufferPointer { list in
            var request = gwd_handshake(struct_size: UInt32(structSize), abi_major: 1, abi_minor: 0,
                                        method: view(0), path: view(1), query: view(2), remote_address: view(3),
                                        remote_port: 54321, header_count: headers.count, headers: list.baseAddress)
            return withUnsafePointer(to: &request) { body($0) }
        }
    }
}

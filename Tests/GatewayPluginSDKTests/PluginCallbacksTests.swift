import CGatewayABI
import GatewayPluginSDK
import XCTest

struct PluginRefusal: Error {}

final class PluginCallbacksTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
        ScriptedPlugin.reset()
    }

    func testWorkerStartAndStop() throws {
        let descriptor = try register(ScriptedPlugin.self)
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), 0)
        descriptor.pointee.on_worker_stop?(FakeHost.context)
        XCTAssertEqual(ScriptedPlugin.events, ["workerStarted", "workerStopping"])
    }

    func testThrowingAGatewayErrorRefusesTheStartWithItsStatus() throws {
        let descriptor = try register(ScriptedPlugin.self)
        ScriptedPlugin.startError = GatewayError(code: .unsupported, message: "needs a newer host")
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_UNSUPPORTED.rawValue))
        XCTAssertEqual(fakeHost.logs, ["workerStarted refused the start: needs a newer host (GWD_ERR_UNSUPPORTED)"])
        XCTAssertEqual(fakeHost.calls.first?.flags, UInt32(GWD_LOG_ERROR))
    }

    func testThrowingAnyOtherErrorRefusesTheStartAsFailed() throws {
        let descriptor = try register(ScriptedPlugin.self)
        ScriptedPlugin.startError = PluginRefusal()
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_FAILED.rawValue))
        XCTAssertEqual(fakeHost.logs, ["workerStarted refused the start: PluginRefusal()"])
    }

    func testConnectAndCloseCarryTheClient() throws {
        let descriptor = try register(ScriptedPlugin.self)
        clientA.withCString { descriptor.pointee.on_connect?(FakeHost.context, $0) }
        clientB.withCString { descriptor.pointee.on_close?(FakeHost.context, $0) }
        XCTAssertEqual(ScriptedPlugin.events, ["connected \(clientA)", "closed \(clientB)"])
    }

    func testTextAndBinaryMessagesArriveAsTheirKind() throws {
        let descriptor = try register(ScriptedPlugin.self)
        deliver(.text("héllo"), to: descriptor)
        deliver(.binary([0, 0xFF, 0x0A, 0xC3]), from: clientB, to: descriptor)
        deliver(.text(""), to: descriptor)
        deliver(.binary([]), to: descriptor)
        XCTAssertEqual(ScriptedPlugin.messages, [.text("héllo"), .binary([0, 0xFF, 0x0A, 0xC3]), .text(""), .binary([])])
        XCTAssertEqual(ScriptedPlugin.events[1], "message \(clientB)")
    }

    func testUnknownMessageKindIsDroppedWithAWarning() throws {
        let descriptor = try register(ScriptedPlugin.self)
        clientA.withCString { descriptor.pointee.on_message?(FakeHost.context, $0, "x", 1, 3) }
        XCTAssertEqual(ScriptedPlugin.messages, [])
        XCTAssertEqual(fakeHost.logs, ["on_message: unknown message kind 3; message dropped"])
        XCTAssertEqual(fakeHost.calls.first?.flags, UInt32(GWD_LOG_WARNING))
    }

    func testMalformedClientIDDropsTheEvent() throws {
        let descriptor = try register(ScriptedPlugin.self)
        "NOT-A-CLIENT-ID".withCString { descriptor.pointee.on_message?(FakeHost.context, $0, "x", 1, GWD_MESSAGE_TEXT) }
        descriptor.pointee.on_close?(FakeHost.context, nil)
        XCTAssertEqual(ScriptedPlugin.events, [])
        XCTAssertEqual(fakeHost.logs.count, 2)
    }

    func testHandshakeRequestIsCopiedAndTheDecisionReturned() throws {
        let descriptor = try register(ScriptedPlugin.self)
        let status = withHandshake(path: "/chat", query: "room=1&token=a%20b",
                                   headers: [("Host", "example.test"), ("Sec-WebSocket-Protocol", "chat")]) { request in
            clientA.withCString { descriptor.pointee.on_websocket_handshake?(FakeHost.context, $0, request) }
        }
        XCTAssertEqual(status, 0)
        let request = try XCTUnwrap(ScriptedPlugin.requests.first)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/chat")
        XCTAssertEqual(request.query, "room=1&token=a%20b")
        XCTAssertEqual(request.remoteAddress, "127.0.0.1")
        XCTAssertEqual(request.remotePort, 54321)
        XCTAssertEqual(request.headers, [.init(name: "Host", value: "example.test"),
                                         .init(name: "Sec-WebSocket-Protocol", value: "chat")])
        XCTAssertEqual(request[header: "sec-websocket-protocol"], "chat")
        XCTAssertNil(request[header: "Origin"])
        XCTAssertEqual(request.queryParameter("token"), "a%20b")
        XCTAssertEqual(ScriptedPlugin.events, ["handshake \(clientA)"])
    }

    func testHandshakeRejection() throws {
        let descriptor = try register(ScriptedPlugin.self)
        func decide(_ decision: HandshakeDecision) -> Int32? {
            ScriptedPlugin.decision = decision
            return withHandshake(path: "/") { request in
                clientA.withCString { descriptor.pointee.on_websocket_handshake?(FakeHost.context, $0, request) }
            }
        }
        XCTAssertEqual(decide(.reject(status: 403)), 403)
        XCTAssertEqual(decide(.reject(status: 599)), 599)
        XCTAssertEqual(fakeHost.logs, [])
        XCTAssertEqual(decide(.reject(status: 200)), 500, "outside 400...599 is not a refusal the ABI allows")
        XCTAssertEqual(fakeHost.logs, ["handshake rejected with HTTP status 200, outside 400...599: sending 500"])
        XCTAssertEqual(decide(.accept), 0)
    }

    /// A request whose struct_size ends before some fields: those read as empty, the others as given.
    func testHandshakeReadsOnlyWhatStructSizeCovers() throws {
        let descriptor = try register(ScriptedPlugin.self)
        let size = MemoryLayout<gwd_handshake>.offset(of: \.remote_address)!
        _ = withHandshake(path: "/short", query: "a=1", headers: [("Host", "x")], structSize: size) { request in
            clientA.withCString { descriptor.pointee.on_websocket_handshake?(FakeHost.context, $0, request) }
        }
        let request = try XCTUnwrap(ScriptedPlugin.requests.first)
        XCTAssertEqual(request.path, "/short")
        XCTAssertEqual(request.query, "a=1")
        XCTAssertEqual(request.remoteAddress, "")
        XCTAssertEqual(request.remotePort, 0)
        XCTAssertEqual(request.headers, [])
    }

    func testDefaultsAcceptAndIgnore() throws {
        let descriptor = try register(MinimalPlugin.self)
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), 0)
        let status = withHandshake(path: "/") { request in
            clientA.withCString { descriptor.pointee.on_websocket_handshake?(FakeHost.context, $0, request) }
        }
        XCTAssertEqual(status, 0)
        deliver(.text("hello"), to: descriptor)
        clientA.withCString {
            descriptor.pointee.on_connect?(FakeHost.context, $0)
            descriptor.pointee.on_close?(FakeHost.context, $0)
        }
        descriptor.pointee.on_worker_stop?(FakeHost.context)
        XCTAssertEqual(fakeHost.calls, [])
    }
}

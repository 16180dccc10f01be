import Foundation
import XCTest

/// The small plugins a newcomer copies — plugins/hello-c, plugins/hello-swift, and the demo
/// built into gatewayd — each built the way the README says and run in a real cluster.
final class ExamplePluginTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// `gatewayd plugin build SRC -o OUT` into a fresh temporary directory.
    private func build(_ source: String, timeout: Duration) throws -> String {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-example-")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let output = "\(directory)/plugin.so"
        let sourcePath = GatewaydProcess.repositoryRoot.appendingPathComponent(source).path
        let result = try GatewaydProcess.run(["plugin", "build", sourcePath, "-o", output], timeout: timeout)
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        return output
    }

    /// Echo of text as text and binary as binary, and `later:` through a timer: what both hello
    /// plugins do (`async:`, through a Task and the poster, the Swift one).
    private func assertEchoes(plugin: String?, async: Bool = false) throws {
        let cluster = try GatewaydProcess.start(plugin: plugin, gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("hello, gatewayd ✓")
        XCTAssertEqual(try client.receive(), .text("hello, gatewayd ✓"))
        try client.sendBinary([0, 1, 2, 255])
        XCTAssertEqual(try client.receive(), .binary([0, 1, 2, 255]))
        let started = ContinuousClock.now
        try client.sendText("later:from a timer")
        try client.sendText("now")
        XCTAssertEqual(try client.receive(), .text("now"), "the timer does not hold up the echo")
        XCTAssertEqual(try client.receive(), .text("from a timer"))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(100))
        if async {
            try client.sendText("async:from a task")
            XCTAssertEqual(try client.receive(), .text("from a task"))
        }
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    func testHelloCEchoes() throws {
        try assertEchoes(plugin: try build("plugins/hello-c/hello.c", timeout: .seconds(120)))
    }

    /// plugins/events-c, the three-event plugin of docs/events.md: decoded arguments in, events
    /// out, an acknowledgement, and an error frame — with no JSON code in the plugin.
    func testEventsCPluginAnswersItsEvents() throws {
        let cluster = try GatewaydProcess.start(
            plugin: try build("plugins/events-c/events.c", timeout: .seconds(120)), gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText(#"["add", 2, 40]"#)
        XCTAssertEqual(try client.receive(), .text(#"["sum",42]"#))
        try client.sendText(#"{"event": "shout", "text": "hi there", "ack": 9}"#)
        XCTAssertEqual(try client.receive(), .text(#"["shouted","HI THERE"]"#))
        XCTAssertEqual(try client.receive(), .text(#"{"ack":9,"status":0}"#))
        try client.sendText(#"["types", "s", 1, 0.5, false, {"a": [1]}]"#)
        XCTAssertEqual(try client.receive(), .text(#"["types","s",1,0.5,false,{"a":[1]}]"#))
        try client.sendText(#"["add", 1]"#)
        XCTAssertEqual(try client.receive(), .text(#"{"error":"missing_argument","event":"add","argument":2,"expected":"integer"}"#))
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// A 1 MiB argument (with the gateway's message limit raised so that it reaches the worker)
    /// gets the "too large" error frame, and the connection goes on.
    func testAOneMebibyteArgumentGetsAnErrorFrameAndTheConnectionStaysOpen() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-events-big-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "max_message_bytes: 2097152\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try build("plugins/events-c/events.c", timeout: .seconds(120)), gatewayCount: 1, workerCount: 1,
            extraArguments: ["--config", config])
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("[\"shout\", \"" + String(repeating: "y", count: 1 << 20) + "\"]")
        XCTAssertEqual(
            try client.receive(),
            .text(#"{"error":"bad_argument","event":"shout","argument":1,"expected":"string","reason":"too large"}"#))
        try client.sendText(#"["add", 2, 3]"#)
        XCTAssertEqual(try client.receive(), .text(#"["sum",5]"#))
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    func testHelloSwiftEchoes() throws {
        try assertEchoes(plugin: try build("plugins/hello-swift", timeout: .seconds(1200)), async: true)
    }

    /// With no --plugin, gatewayd runs the push demo: every client is greeted with its id.
    func testBuiltInDemoGreetsWithTheClientIDAndEchoes() throws {
        let cluster = try GatewaydProcess.start(plugin: nil, gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        guard case .text(let welcome) = try client.receive() else { return XCTFail("expected a text welcome") }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(welcome.utf8)) as? [String: String])
        XCTAssertEqual(object["type"], "welcome")
        let clientID = try XCTUnwrap(object["client_id"])
        XCTAssertEqual(clientID.count, 20)

        // What examples/push/push.sh does: a backend pushes to that id through the register.
        let push = try GatewaydProcess.run(
            ["client", "send-to-client", clientID, "pushed", "--register", cluster.registerAddress],
            timeout: .seconds(30))
        XCTAssertEqual(push.exitCode, 0, "\(push)")
        XCTAssertEqual(try client.receive(), .text("pushed"))
        try client.sendText("echo me")
        XCTAssertEqual(try client.receive(), .text("echo me"))
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// examples/push/index.html in headless Chromium, served as its README says and pointed at
    /// the cluster with ?ws=: it shows its client id, and a message pushed to that id.
    func testThePushPageInChromiumShowsWhatIsPushedToIt() throws {
        if let missing = HeadlessChromium.missing ?? StaticFileServer.missing { throw XCTSkip(missing) }
        let cluster = try GatewaydProcess.start(plugin: nil, gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-push-page-")
        let web = try StaticFileServer(
            directory: GatewaydProcess.repositoryRoot.appendingPathComponent("examples").path, log: "\(directory)/http.log")
        let browser = try HeadlessChromium.launch()
        addTeardownBlock {
            try? browser.close()
            web.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let page = try browser.open(
            "http://127.0.0.1:\(web.port)/push/?ws=ws://127.0.0.1:\(cluster.listenPort)/", name: "push page")
        try page.waitUntil("/^[0-9a-f]{20}$/.test(document.getElementById('client-id').textContent)", "showing its client id")
        let clientID = try page.value("document.getElementById('client-id').textContent", as: String.self)
        let push = try GatewaydProcess.run(
            ["client", "send-to-client", clientID, "pushed <b>to</b> the page", "--register", cluster.registerAddress],
            timeout: .seconds(30))
        XCTAssertEqual(push.exitCode, 0, "\(push)")
        try page.waitUntil(
            "document.getElementById('log').textContent.endsWith('  pushed <b>to</b> the page\\n')", "showing the pushed message")
        XCTAssertEqual(try page.value("document.querySelectorAll('#log b').length", as: Int.self), 0, "shown as text")
        try browser.close()
        web.stop()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// A client that sends its first frames in the same write as its upgrade request (allowed:
    /// it may send as soon as it has sent the request) gets them handled once the worker's
    /// verdict is in, in order, after the 101 and the welcome.
    func testFramesPipelinedBehindTheUpgradeRequestAreHandledAfterTheVerdict() throws {
        let cluster = try GatewaydProcess.start(plugin: nil, gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let socket = try TCPTestSocket(port: cluster.listenPort)
        defer { socket.close() }
        let request =
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let frames = ["first", "second"].flatMap {
            WebSocketTestClient.encodeFrame(opcode: .text, payload: Array($0.utf8), fin: true, masked: true)
        }
        try socket.write(Array(request.utf8) + frames)
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) { head += try socket.read(exactly: 1) }
        XCTAssertTrue(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101 "), String(decoding: head, as: UTF8.self))
        func textFrame() throws -> String {
            let header = try socket.read(exactly: 2)
            XCTAssertEqual(header[0], 0x81, "a final text frame")
            XCTAssertLessThan(header[1], 126, "short test messages")
            return String(decoding: try socket.read(exactly: Int(header[1])), as: UTF8.self)
        }
        XCTAssertTrue(try textFrame().contains("\"welcome\""))
        XCTAssertEqual(try textFrame(), "first")
        XCTAssertEqual(try textFrame(), "second")
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }
}

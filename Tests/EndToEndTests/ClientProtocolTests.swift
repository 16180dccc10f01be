import Foundation
import XCTest

/// `text://` and `frame://` listeners next to a WebSocket one, on one cluster: the same plugin
/// events, each client framed in its own protocol, oversized input refused.
final class ClientProtocolTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    private func port(_ scheme: String, in cluster: GatewaydProcess) throws -> Int {
        let url = try XCTUnwrap(cluster.listenURLs.first { $0.hasPrefix("\(scheme)://") }, "no \(scheme) listener")
        return try XCTUnwrap(GatewaydProcess.port(of: url))
    }

    func testTextAndFrameClientsShareThePluginWithWebSocketClients() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-protocols-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "max_message_bytes: 200\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1,
            extraArguments: ["--listen", "text://127.0.0.1:0", "--listen", "frame://127.0.0.1:0", "--config", config])
        self.cluster = cluster

        let web = try cluster.connect()
        let text = try StreamTestClient(framing: .text, port: try port("text", in: cluster))
        let frame = try StreamTestClient(framing: .frame, port: try port("frame", in: cluster))

        try text.send("echo:over text")
        XCTAssertEqual(try text.receive(), "echo:over text")
        try frame.send("echo:über frame")
        XCTAssertEqual(try frame.receive(), "echo:über frame")
        try text.send("id:")
        let textID = try XCTUnwrap(try text.receive())
        XCTAssertTrue(textID.hasPrefix("id:") && textID.count == 23, textID)

        // One broadcast, framed three ways.
        try web.sendText("all:to everyone")
        XCTAssertEqual(try web.receive(), .text("to everyone"))
        XCTAssertEqual(try text.receive(), "to everyone")
        XCTAssertEqual(try frame.receive(), "to everyone")
        // A send to the text client by its id, from the WebSocket client.
        try web.sendText("to:\(textID.dropFirst(3)):just you")
        XCTAssertEqual(try text.receive(), "just you")

        // Oversized input closes the connection (no close code in these protocols) and is counted.
        try text.sendBytes(Array(repeating: UInt8(ascii: "a"), count: 300))
        XCTAssertNil(try text.receive(), "an oversized line must close the connection")
        try frame.sendBytes([0, 0, 0x10, 0])  // announces a 4 KiB frame
        XCTAssertNil(try frame.receive(), "an oversized frame must close the connection")
        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertEqual(gateway.details?["oversized_messages"], "2")

        // The WebSocket client was never disturbed.
        try web.sendText("echo:still here")
        XCTAssertEqual(try web.receive(), .text("echo:still here"))
        web.close()
        try cluster.stop()
    }
}

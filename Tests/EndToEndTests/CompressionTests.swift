import Foundation
import XCTest

/// permessage-deflate (RFC 7692) on a real cluster: negotiated with clients that offer it,
/// compressed both ways, a broadcast compressed once for every client that agreed, and the
/// ways a compressed message can be hostile refused with the RFC's close codes.
final class CompressionTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var directory: String?
    private static let offer = ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")
    private static let agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    /// Chat-like JSON, repetitive as real traffic is: compresses to a fraction.
    private let json = "[" + (0..<30).map { #"{"type":"say","room":"lobby","from":"user\#($0)","text":"hello, room number \#($0 % 3)"}"# }
        .joined(separator: ",") + "]"

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    private func start(config: String) throws -> GatewaydProcess {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-deflate-")
        self.directory = directory
        let cluster = try GatewaydProcess.start(config: config, in: directory)
        self.cluster = cluster
        return cluster
    }

    func testMessagesAreCompressedBothWaysWithAClientThatOffersIt() throws {
        let cluster = try start(config: "compression: true\nping_interval: 0\n")
        let client = try cluster.connect(path: "/raw-echo", headers: [Self.offer])
        XCTAssertEqual(client.extensions, Self.agreed)

        // A compressed message in, the echo compressed out.
        try client.sendFrame(opcode: .text, payload: WebSocketTestClient.deflate(Array(json.utf8)), rsv1: true)
        try client.expectText(json)
        XCTAssertEqual(client.compressedMessagesReceived, 1)
        XCTAssertLessThan(client.lastCompressedPayload.count, json.utf8.count / 3, "the echo went out compressed")
        // Below compression_min_bytes (64): uncompressed, whichever way it came.
        try client.sendFrame(opcode: .text, payload: WebSocketTestClient.deflate(Array("short".utf8)), rsv1: true)
        try client.expectText("short")
        XCTAssertEqual(client.compressedMessagesReceived, 1)
        // An uncompressed message from the client is fine too; its echo is compressed.
        try client.sendText(json)
        try client.expectText(json)
        let binary = [UInt8](repeating: 0xAB, count: 5000) + Array(0...255)
        try client.sendFrame(opcode: .binary, payload: WebSocketTestClient.deflate(binary), rsv1: true)
        XCTAssertEqual(try client.receive(), .binary(binary))
        XCTAssertEqual(client.compressedMessagesReceived, 3)
        // A message compressed and sent in three fragments, RSV1 on the first only.
        let fragments = WebSocketTestClient.deflate(Array(json.utf8))
        let third = fragments.count / 3
        try client.sendFrame(opcode: .text, payload: Array(fragments[..<third]), fin: false, rsv1: true)
        try client.sendFrame(opcode: .continuation, payload: Array(fragments[third..<(2 * third)]), fin: false)
        try client.sendFrame(opcode: .continuation, payload: Array(fragments[(2 * third)...]), fin: true)
        try client.expectText(json)
        client.close()
        try cluster.stop()
    }

    func testABroadcastGoesCompressedToThoseWhoAgreedAndPlainToTheOthers() throws {
        let cluster = try start(config: "compression: true\nping_interval: 0\n")
        let compressing = try (0..<3).map { _ in try cluster.connect(headers: [Self.offer]) }
        let plain = try cluster.connect()
        XCTAssertNil(plain.extensions)
        try compressing[0].sendText("all:" + json)
        for client in compressing + [plain] { try client.expectText(json) }
        for client in compressing { XCTAssertEqual(client.compressedMessagesReceived, 1) }
        XCTAssertEqual(plain.compressedMessagesReceived, 0)
        // Without context takeover every receiver gets the very same bytes: one deflate call.
        XCTAssertEqual(Set(compressing.map(\.lastCompressedPayload)).count, 1)
        for client in compressing + [plain] { client.close() }
        try cluster.stop()
    }

    func testAMessageThatInflatesPastTheLimitIsRefusedWith1009() throws {
        let cluster = try start(config: "compression: true\nping_interval: 0\nmax_message_bytes: 65536\n")
        let client = try cluster.connect(path: "/raw-echo", headers: [Self.offer])
        let gatewayPID = try XCTUnwrap(try cluster.status().processes(role: "gateway").first).pid
        let before = GatewaydProcess.residentBytes(of: gatewayPID)
        // 64 MiB of zeros deflate to about 64 KiB: within the frame limit, 1024× past the message limit.
        let bomb = WebSocketTestClient.deflate([UInt8](repeating: 0, count: 64 << 20), level: 9)
        XCTAssertLessThan(bomb.count, 65536)
        try client.sendFrame(opcode: .binary, payload: bomb, rsv1: true)
        XCTAssertEqual(try client.receive(timeout: .seconds(30)), .closed(code: 1009, reason: ""))
        let growth = GatewaydProcess.residentBytes(of: gatewayPID) - before
        XCTAssertLessThan(growth, 8 << 20, "gateway RSS grew by \(growth) bytes inflating a bomb")
        let details = try XCTUnwrap(try cluster.status().processes(role: "gateway").first).details ?? [:]
        XCTAssertEqual(details["oversized_messages"], "1")
        try cluster.stop()
    }

    func testABrokenDeflateStreamOrTextThatIsNotUTF8IsRefusedWith1007() throws {
        let cluster = try start(config: "compression: true\nping_interval: 0\n")
        let garbage = try cluster.connect(path: "/raw-echo", headers: [Self.offer])
        try garbage.sendFrame(opcode: .text, payload: [0xFF, 0xFF, 0xFF, 0xFF, 0x00], rsv1: true)
        XCTAssertEqual(try garbage.receive(), .closed(code: 1007, reason: ""))
        let latin1 = try cluster.connect(path: "/raw-echo", headers: [Self.offer])
        try latin1.sendFrame(opcode: .text, payload: WebSocketTestClient.deflate([0x63, 0x61, 0x66, 0xE9]), rsv1: true)
        XCTAssertEqual(try latin1.receive(), .closed(code: 1007, reason: ""))
        try cluster.stop()
    }

    func testRSV1WithoutAnAgreementIsAProtocolError() throws {
        // The server has compression on, but this client did not offer it.
        let cluster = try start(config: "compression: true\nping_interval: 0\n")
        let client = try cluster.connect(path: "/raw-echo")
        XCTAssertNil(client.extensions)
        try client.sendFrame(opcode: .text, payload: WebSocketTestClient.deflate(Array(json.utf8)), rsv1: true)
        XCTAssertEqual(try client.receive(), .closed(code: 1002, reason: ""))
        try cluster.stop()
    }

    func testCompressionIsOffByDefault() throws {
        let cluster = try start(config: "ping_interval: 0\n")
        let client = try cluster.connect(path: "/raw-echo", headers: [Self.offer])
        XCTAssertNil(client.extensions, "no permessage-deflate without compression: true")
        try client.sendText(json)
        try client.expectText(json)
        XCTAssertEqual(client.compressedMessagesReceived, 0)
        try cluster.stop()
    }

    func testCompressionOnTheNIOPathIsRefusedAtStart() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-deflate-")
        self.directory = directory
        try "compression: true\nclient_io: nio\n".write(toFile: "\(directory)/gatewayd.yaml", atomically: true, encoding: .utf8)
        let result = try GatewaydProcess.run(["start", "--config", "\(directory)/gatewayd.yaml", "--run-dir", "\(directory)/run"])
        XCTAssertNotEqual(result.exitCode, 0)
        XCTAssertTrue(result.stderr.contains("compression"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/run/gatewayd.pid"), "nothing started")
    }
}

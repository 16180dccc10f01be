import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// A PHP BusinessWorker attached to a gatewayd gateway: the WORKER_CONNECT and the commands a
/// real GatewayWorker 4.0 BusinessWorker sent (captured bytes, `G1.*` / `G3.*`) are replayed,
/// and each client sees what the capture says the PHP gateway's clients saw.
final class PHPWorkerCompatTests: XCTestCase {
    private var fixture: GatewayServerFixture!
    private var phpWorker: InnerConnectionHandler.Peer!
    private var clients: [String: (connection: ClientConnection, channel: EmbeddedChannel)] = [:]
    private var closed: Set<String> = []

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
        let channel = EmbeddedChannel(loop: fixture.loop)
        let peer = fixture.server.innerFrame(try captured("G1.worker_connect.no_secret"), peer: .unauthenticated, channel: channel)
        guard case .worker(let link)? = peer else { return XCTFail("the PHP worker's WORKER_CONNECT was refused") }
        XCTAssertEqual(link.key.hasSuffix(":CapBusinessWorker:0"), true, link.key)
        XCTAssertFalse(link.speaksGatewayd)
        phpWorker = peer
        // Clients A…D get connection ids 1…4, as in the capture's scenario A.
        for name in ["A", "B", "C", "D"] {
            let channel = EmbeddedChannel(loop: fixture.loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
            clients[name] = (fixture.acceptClient(on: channel), channel)
        }
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
    }

    private func captured(_ id: String) throws -> GatewayFrame {
        let hex = try XCTUnwrap(CompatVectors.vector(id)?["hex"]?.stringValue, "no vector \(id)")
        var bytes = ByteBuffer(bytes: CompatVectors.bytes(hex: hex))
        var parser = GatewayFrameParser()
        return try XCTUnwrap(try parser.parse(&bytes))
    }

    private func replay(_ id: String) throws {
        _ = fixture.server.innerFrame(try captured(id), peer: phpWorker, channel: fixture.worker)
        fixture.server.flushPending()
        fixture.loop.run()
    }

    /// What a client received since the last call: text messages, raw bytes, "<eof>" once closed.
    private func seen(_ name: String) throws -> [String] {
        let (_, channel) = clients[name]!
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        var messages: [String] = []
        var index = 0
        while index + 2 <= bytes.count {
            let length = Int(bytes[index + 1] & 0x7f)  // short frames only in these captures
            messages.append(String(decoding: bytes[(index + 2)..<(index + 2 + length)], as: UTF8.self))
            index += 2 + length
        }
        if !channel.isActive && closed.insert(name).inserted { messages.append("<eof>") }
        return messages
    }

    /// The capture's `client_visible_result` for a vector, limited to `names`.
    private func expected(_ id: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for member in CompatVectors.vector(id)?["client_visible_result"]?.objectValue ?? [] {
            result[member.key] = member.value.arrayValue?.compactMap(\.stringValue) ?? []
        }
        return result
    }

    private func assertEffect(_ id: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try replay(id)
        let wanted = expected(id)
        for name in clients.keys.sorted() {
            XCTAssertEqual(try seen(name), wanted[name] ?? [], "\(id): client \(name)", file: file, line: line)
        }
    }

    func testCapturedCommandsHaveTheCapturedEffects() throws {
        try assertEffect("G3.send_to_one.current_client")
        try assertEffect("G3.send_to_one.other_client")
        try assertEffect("G3.send_to_one.raw")
        // C and D were not connected yet in the capture's broadcasts.
        let later = ["C", "D"].map { clients.removeValue(forKey: $0)! }
        try assertEffect("G3.send_to_all.plain")
        try assertEffect("G3.send_to_all.exclude")
        try assertEffect("G3.send_to_all.client_list")
        try replay("G3.join_group")
        fixture.server.tableForTesting.join(clients["B"]!.connection.id, group: "room1")  // B joined in an uncaptured step
        try assertEffect("G3.send_to_group")
        try assertEffect("G3.send_to_group.exclude")
        try replay("G3.bind_uid")
        try assertEffect("G3.send_to_uid")

        try replay("G3.set_session.from_SESSION")
        try replay("G3.update_session")
        XCTAssertEqual(String(buffer: clients["A"]!.connection.session), #"a:2:{s:4:"name";s:5:"alice";s:4:"lang";s:2:"zh";}"#)
        try replay("G3.set_session.explicit")
        XCTAssertEqual(String(buffer: clients["A"]!.connection.session), #"a:1:{s:1:"k";s:1:"v";}"#)
        try replay("G3.leave_group")
        try replay("G3.unbind_uid")
        XCTAssertEqual(fixture.server.tableForTesting.members(of: "room1"), [clients["B"]!.connection.id])
        XCTAssertEqual(fixture.server.tableForTesting.clients(of: "alice"), [])
        try replay("G3.ungroup")
        XCTAssertEqual(fixture.server.tableForTesting.members(of: "room1"), [])
        try replay("G3.ping")

        clients["C"] = later[0]
        clients["D"] = later[1]
        _ = try seen("C")  // (connected here during the broadcasts above, unlike in the capture)
        _ = try seen("D")
        try assertEffect("G3.kick.no_message")
        try assertEffect("G3.kick.with_message")
        try assertEffect("G3.destroy")
    }
}

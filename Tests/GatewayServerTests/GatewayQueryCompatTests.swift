import Foundation
import GatewayWire
import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// Replays the GatewayClient queries captured from PHP GatewayWorker 4.0 (`G4.*` in
/// `../shared/compat/vectors.json`) against a gateway holding the same clients, and expects the
/// captured reply bytes exactly.
final class GatewayQueryCompatTests: XCTestCase {
    private var fixture: GatewayServerFixture!
    private var clients: [ClientConnection] = []

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture()
    }

    override func tearDown() {
        fixture.shutdown()
        fixture = nil
        clients = []
    }

    /// Two clients, connection ids 1 and 2, as the capture's scenario had them.
    private func connect(_ setups: [(uid: String, groups: [String], session: String)]) {
        for setup in setups {
            let client = fixture.acceptClient(on: EmbeddedChannel(loop: fixture.loop))
            fixture.server.tableForTesting.bind(client.id, uid: setup.uid)
            for group in setup.groups { fixture.server.tableForTesting.join(client.id, group: group) }
            client.session = ByteBuffer(string: setup.session)
            clients.append(client)
        }
    }

    /// Scenario B: alice (room1, session name=alice) and bob (room1, room2, no session).
    private func scenarioB() {
        connect([
            ("alice", ["room1"], #"a:1:{s:4:"name";s:5:"alice";}"#),
            ("bob", ["room1", "room2"], ""),
        ])
    }

    /// Scenario E: numeric and UTF-8 names.
    private func scenarioE() {
        connect([
            ("42", ["123", "房间/1"], #"a:1:{s:6:"名字";s:6:"张三";}"#),
            ("用户/1", ["房间/1"], ""),
        ])
    }

    /// Sends the captured request on a GatewayClient connection; returns the reply bytes.
    private func ask(_ vectorID: String) throws -> [UInt8] {
        let request = try XCTUnwrap(CompatVectors.vector(vectorID + ".request"))
        var bytes = ByteBuffer(bytes: CompatVectors.bytes(hex: try XCTUnwrap(request["hex"]?.stringValue)))
        var parser = GatewayFrameParser()
        let frame = try XCTUnwrap(try parser.parse(&bytes))
        let channel = EmbeddedChannel(loop: fixture.loop)
        _ = fixture.server.innerFrame(frame, peer: .client, channel: channel)
        fixture.server.flushPending()
        fixture.loop.run()
        var reply: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { reply += buffer.readableBytesView }
        return reply
    }

    private func assertReply(_ vectorID: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try XCTUnwrap(CompatVectors.vector(vectorID + ".reply")?["hex"]?.stringValue)
        let actual = try ask(vectorID)
        XCTAssertEqual(
            String(decoding: actual.dropFirst(4), as: UTF8.self),
            String(decoding: CompatVectors.bytes(hex: expected).dropFirst(4), as: UTF8.self), vectorID, file: file, line: line)
        XCTAssertEqual(actual, CompatVectors.bytes(hex: expected), "\(vectorID): bytes", file: file, line: line)
    }

    func testScenarioBQueriesAnswerTheCapturedBytes() throws {
        scenarioB()
        for id in [
            "G4.is_online", "G4.is_online_missing", "G4.get_all_client_id_count", "G4.get_all_client_sessions",
            "G4.get_client_id_by_uid", "G4.get_client_id_by_uid_none", "G4.get_client_id_count_by_group",
            "G4.get_client_sessions_by_group", "G4.get_client_sessions_by_group_none", "G4.get_session",
            "G4.get_session_empty", "G4.get_session_missing", "G4.get_all_group_id_list",
            "G4.select.all_client_id_list", "G4.select.uid_list_by_group", "G4.select.uid_by_client_id",
            "G4.select.all_group_client_id_list", "G4.batch_get_client_id_by_uid",
            "G4.batch_get_client_id_count_by_group",
        ] {
            try assertReply(id)
        }
    }

    func testScenarioENumericAndUTF8NamesAnswerTheCapturedBytes() throws {
        scenarioE()
        for id in [
            "G4.get_all_group_id_list.numeric_utf8", "G4.batch_get_client_id_by_uid.numeric_utf8",
            "G4.select.groups.numeric_utf8", "G4.select.uid_by_group.utf8",
            "G4.batch_get_client_id_count_by_group.numeric_utf8", "G4.get_all_client_sessions.utf8",
            "G4.select.all_fields_by_connection",
        ] {
            try assertReply(id)
        }
    }

    func testUnreadableSelectAnswersAnEmptyArray() throws {
        scenarioB()
        let channel = EmbeddedChannel(loop: fixture.loop)
        _ = fixture.server.innerFrame(
            GatewayFrame(command: .select, extData: ByteBuffer(string: "{not json")), peer: .client, channel: channel)
        fixture.server.flushPending()
        fixture.loop.run()
        let reply = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(Array(reply.readableBytesView), [0, 0, 0, 6] + Array("a:0:{}".utf8))
    }
}

/// The captured vectors, read from GatewayWireTests' copy of `../shared/compat`.
enum CompatVectors {
    static let vectors: [JSONValue] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../GatewayWireTests/Fixtures/vectors.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONValue.parse(Array(data)) else {
            fatalError("cannot read \(url.path)")
        }
        return json["vectors"]?.arrayValue ?? []
    }()

    static func vector(_ id: String) -> JSONValue? {
        vectors.first { $0["id"]?.stringValue == id }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            out.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
        }
        return out
    }
}

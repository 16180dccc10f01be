import Foundation
import GatewayCore
import XCTest

final class StatusReportTests: XCTestCase {
    /// `status --json` is read by tests and outside tooling: snake_case keys, numeric pids.
    func testJSONShape() throws {
        let report = StatusReport(
            master: .init(pid: 10, uptimeSeconds: 1, runDir: "/tmp/x", version: "0.1.0", plugin: "demo"),
            listen: ["websocket://127.0.0.1:7272"], register: "127.0.0.1:1236",
            processes: [
                .init(
                    role: .gateway, index: 1, pid: 12, state: "running", rssBytes: 1024, connections: 3, messagesIn: 4,
                    messagesOut: 5, uptimeSeconds: 1, restarts: 0, details: ["inner": "127.0.0.1:2901"])
            ], exits: ["gateway": 0])
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        let process = try XCTUnwrap((object["processes"] as? [[String: Any]])?.first)
        XCTAssertEqual(process["role"] as? String, "gateway")
        XCTAssertEqual(process["pid"] as? Int, 12)
        XCTAssertEqual(process["rss_bytes"] as? Int, 1024)
        XCTAssertEqual(process["messages_out"] as? Int, 5)
        XCTAssertEqual((object["master"] as? [String: Any])?["run_dir"] as? String, "/tmp/x")
    }
}

final class ControlResponseTests: XCTestCase {
    /// The master encodes with snake_case keys and `gatewayd` decodes them back.
    func testConnectionsSurviveTheSnakeCaseRoundTrip() throws {
        let connection = ConnectionInfo(
            clientID: "7f000001326400000001", remoteAddress: "127.0.0.1:5000", transport: "websocket", uid: "alice",
            groups: ["room"], messagesIn: 1, messagesOut: 2, connectedSeconds: 3)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(ControlResponse(ok: true, connections: [connection]))
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"client_id\":\"7f000001326400000001\""))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        XCTAssertEqual(try decoder.decode(ControlResponse.self, from: data).connections, [connection])
    }
}

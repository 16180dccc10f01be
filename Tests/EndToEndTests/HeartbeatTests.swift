import Foundation
import XCTest

/// GatewayWorker's heartbeat on a real cluster: a client that never answers is closed after
/// `ping_not_response_limit` intervals and counted; one whose WebSocket stack answers pings
/// stays connected.
final class HeartbeatTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testASilentClientIsClosedAndAnAnsweringOneStays() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-heartbeat-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "ping_interval: 0.3\nping_not_response_limit: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster

        let answering = try cluster.connect()
        let silent = try cluster.connect()
        answering.answersPings = false  // answered by hand below, to see the ping arrive
        silent.answersPings = false

        // Both get the heartbeat (a WebSocket ping) once they have been quiet for an interval.
        XCTAssertEqual(try answering.receive(timeout: .seconds(5)), .ping([]))
        try answering.sendFrame(opcode: .pong, payload: [])  // a pong counts as hearing from it
        XCTAssertEqual(try silent.receive(timeout: .seconds(5)), .ping([]))
        // The silent one is closed on the next tick; the one that answered is still served.
        XCTAssertTrue(try silent.receive(timeout: .seconds(5)).isConnectionEnd, "the silent client was not closed")
        answering.answersPings = true  // from here on, as a browser would
        try answering.sendText("echo:alive")
        XCTAssertEqual(try answering.receive(), .text("echo:alive"))

        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertEqual(gateway.details?["heartbeat_timeouts"], "1")
        answering.close()
        try cluster.stop()
    }
}

import XCTest

/// `gatewayd stop -g` and `gatewayd restart`, with real clients.
final class GracefulStopTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// Requests already accepted are answered, then every client gets close code 1001
    /// (going away), and no process is left.
    func testGracefulStopAnswersInFlightRequestsThenClosesWith1001() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 2, workerCount: 2)
        self.cluster = cluster
        let clients = try (0..<6).map { _ in try cluster.connect() }
        for client in clients { try client.sendText("sleep:300") }

        // Returns once every process has exited; what they sent waits in the clients' sockets.
        try cluster.stop(graceful: true)
        for client in clients {
            XCTAssertEqual(try client.receive(), .text("slept:300"), "an accepted request is answered")
            XCTAssertEqual(try client.receive(), .closed(code: 1001, reason: ""))
        }
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    func testRestartComesBackWithTheSameAddresses() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let before = try cluster.status()
        let restart = try GatewaydProcess.run(["restart", "--run-dir", cluster.runDirectory], timeout: .seconds(120))
        XCTAssertEqual(restart.exitCode, 0, "\(restart)")
        XCTAssertTrue(restart.stdout.contains("gatewayd ready: "), "\(restart)")
        let after = try cluster.status()
        XCTAssertEqual(after.listen, before.listen)
        XCTAssertNotEqual(after.master.pid, before.master.pid, "a new master")
        let client = try cluster.connect()
        try client.sendText("echo:again")
        try client.expectText("echo:again")
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }
}

import XCTest

/// `gatewayd start -d`: the command returns only when every process serves, so a client can
/// talk to the cluster at once; `gatewayd stop` then leaves nothing behind.
final class StartDaemonTests: XCTestCase {
    private var daemon: GatewaydProcess?

    override func tearDown() {
        daemon?.killLeftovers()
        daemon = nil
        super.tearDown()
    }

    func testStartDaemonReturnsWhenReadyAndStopLeavesNothing() throws {
        let plugin = try ConformancePlugin.c.path()
        let (daemon, result) = try GatewaydProcess.startDaemon(plugin: plugin, gatewayCount: 1, workerCount: 1)
        self.daemon = daemon
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        let readyLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix(GatewaydProcess.readyPrefix) }
        XCTAssertEqual(readyLines.count, 1, "\(result)")
        XCTAssertFalse(ProcessTable.isGone(daemon.masterPID), "the daemon's master \(daemon.masterPID) is not running")

        // Ready means serving: the first attempt must succeed, no retry loop.
        let client = try daemon.connect()
        try client.sendText("echo:daemon")
        try client.expectText("echo:daemon")
        client.close()

        let status = try daemon.status()
        XCTAssertEqual(status.master.pid, daemon.masterPID)
        XCTAssertEqual(status.processes(role: "register").count, 1)
        XCTAssertEqual(status.processes(role: "gateway").count, 1)
        XCTAssertEqual(status.processes(role: "worker").count, 1)

        let runDirectory = daemon.runDirectory
        try daemon.stop()
        XCTAssertEqual(daemon.leftoverPIDs(), [])

        // Nothing runs there any more.
        let again = try GatewaydProcess.run(["stop", "--run-dir", runDirectory], timeout: .seconds(30))
        XCTAssertEqual(again.exitCode, 1, "\(again)")
        XCTAssertEqual(again.errorLines.count, 1, "\(again)")
    }
}

import Foundation
import XCTest

/// A plugin callback that overruns `process_timeout_ms` is logged while it is still running,
/// naming the callback and the client (GatewayWorker's processTimeout).
final class SlowHandlerTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testAnOverrunningCallbackIsLoggedWithItsClient() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-slow-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "process_timeout_ms: 200\n".write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("id:")
        let clientID = String(try client.receiveText().dropFirst(3))

        try client.sendText("sleep:1500")
        // Logged while the callback still runs: before its answer arrives.
        XCTAssertTrue(
            GatewaydProcess.poll(
                until: { cluster.stderrTail().contains("gw.client_id=\(clientID)") },
                timeout: .seconds(1)),
            "no slow-handler line for \(clientID) within 1 s:\n\(cluster.stderrTail())")
        let line = cluster.stderrTail().split(separator: "\n").last { $0.contains("gw.client_id=\(clientID)") } ?? ""
        XCTAssertTrue(line.contains("on_message"), String(line))
        XCTAssertEqual(try client.receiveText(timeout: .seconds(10)), "slept:1500")

        let worker = try XCTUnwrap(try cluster.status().processes(role: "worker").first)
        XCTAssertEqual(worker.details?["slow_events"], "1")
        client.close()
        try cluster.stop()
    }
}

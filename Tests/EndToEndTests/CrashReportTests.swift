import Foundation
import XCTest

/// A worker whose plugin crashes dies at once, with one log line naming the signal, the
/// callback that was running and its client — not after the Swift runtime's backtrace, which
/// took 2.6 s while every event routed to the worker waited for nothing (issue 15).
final class CrashReportTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testACrashingWorkerDiesAtOnceWithOneLineNamingTheCallbackAndTheClient() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("id:")
        let clientID = String(try client.receiveText().dropFirst(3))
        try client.sendText("ver:")
        let version = try client.receiveText()
        let worker = try XCTUnwrap(Int32(version.split(separator: ":").last ?? ""), "ver: answered \"\(version)\"")

        let sent = ContinuousClock.now
        try client.sendText("crash:")
        XCTAssertTrue(
            GatewaydProcess.poll(until: { ProcessTable.isGone(worker) }, timeout: .seconds(10), interval: .milliseconds(2)),
            "worker \(worker) still runs after crash:")
        let died = ContinuousClock.now - sent
        // The handler itself takes microseconds; the bound leaves room for a loaded CI machine.
        XCTAssertLessThan(died, .milliseconds(500), "the worker took \(died) to die")

        var log = ""
        XCTAssertTrue(
            GatewaydProcess.poll(until: { log = cluster.stderrTail(20000); return log.contains("fatal SIGSEGV") }, timeout: .seconds(5)),
            "no crash line:\n\(log)")
        let lines = log.split(separator: "\n").filter { $0.contains("fatal SIGSEGV") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        let line = String(lines.first ?? "")
        XCTAssertTrue(line.contains(" ERROR   gatewayd.worker[\(worker)] "), line)
        XCTAssertTrue(line.contains("in the plugin's on_message"), line)
        XCTAssertTrue(line.contains("gw.callback=on_message gw.client_id=\(clientID) gw.index=0 gw.signal=SIGSEGV"), line)
        XCTAssertFalse(log.contains("Program crashed"), "the runtime's backtracer ran:\n\(log)")

        // Replaced, and the client still served.
        XCTAssertTrue(
            try GatewaydProcess.poll(
                until: {
                    let workers = try cluster.status().processes(role: "worker").map(\.pid)
                    return workers.count == 1 && !workers.contains(worker)
                }, timeout: .seconds(30), interval: .milliseconds(50)))
        try client.sendText("ver:")
        XCTAssertNotEqual(try client.receiveText(timeout: .seconds(10)), version)
        client.close()
        try cluster.stop()
    }
}

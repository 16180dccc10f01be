import Foundation
import XCTest

/// A worker that dies loses at most the event it crashed in (issue 15): the gateway keeps the
/// events it sent until the worker says it finished them, and hands those it had not to the
/// other worker, in order per client. Checked under load: 50 clients, each with 4 messages in
/// flight all the time, every reply compared with the next one expected.
final class WorkerCrashAccountingTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testACrashLosesOnlyTheEventItCrashedInWhile50ClientsKeep4InFlight() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 2)
        self.cluster = cluster
        let load = try PipelinedLoad(cluster: cluster, clients: 50, messagesPerClient: 30)
        // Client 7's worker sleeps, so that the messages of its clients pile up behind the
        // crash: those it read and those still in its socket were sent and never started.
        let crasher = 7
        load.scripts[crasher].insert(contentsOf: [.expect("sleep:300", reply: "slept:300"), .unanswered("crash:")], at: 4)
        try load.run()

        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertEqual(gateway.details?["events_lost"], "1", "\(String(describing: gateway.details))")
        let resent = Int(gateway.details?["events_resent"] ?? "") ?? 0
        XCTAssertGreaterThan(resent, 0, "the crashed worker's unstarted events went to the other worker")
        let log = cluster.stderrTail(60000)
        let lost = log.split(separator: "\n").filter { $0.contains("an event is lost") }
        XCTAssertEqual(lost.count, 1, "\(lost)")
        XCTAssertTrue(lost.first?.contains("gw.client_id=\(load.clientIDs[crasher])") ?? false, "\(lost)")
        XCTAssertTrue(lost.first?.contains("the worker crashed (Segmentation fault) handling it") ?? false, "\(lost)")
        try cluster.stop()
    }

    func testAWorkerKilledWithoutAWordLosesNothing() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 2)
        self.cluster = cluster
        let load = try PipelinedLoad(cluster: cluster, clients: 50, messagesPerClient: 30)
        let victim = load.workerPIDs[0]
        var killed = false
        try load.run { answered in
            // Mid-run, with every client's 4 messages in flight.
            if !killed && answered >= 500 {
                killed = true
                kill(victim, SIGKILL)
            }
        }
        XCTAssertTrue(killed)
        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertNil(gateway.details?["events_lost"], "\(String(describing: gateway.details))")
        try cluster.stop()
    }
}

import Foundation
import GatewayCore
import XCTest

@testable import GatewaySupervisor

/// What the master keeps for `/metrics`: a scrape's query of the children, bounded in time,
/// the counters a child leaves behind, and restarts per role.
final class SupervisorMetricsTests: XCTestCase {
    private let scraper = RequesterID(rawValue: 9)

    private func stats(_ id: UInt64?, messagesIn: UInt64) -> ControlMessage {
        ControlMessage(
            kind: .stats, id: id,
            stats: ProcessCounters(
                messagesIn: messagesIn, metrics: ProcessMetrics(samples: [MetricSample(name: "gatewayd_messages_in_total", value: Double(messagesIn))])))
    }

    func testAScrapeAsksEveryReadyChildAndIsAnsweredWhenAllReplied() {
        var master = MasterHarness.running()
        let asked = master.machine.query(.metrics, requester: scraper, now: master.clock)
        XCTAssertEqual(asked.sent(.statsRequest), master.machine.children.map(\.id))
        let id = asked.compactMap { if case .send(let message, _) = $0 { message.id } else { nil } }.first
        for child in master.machine.children {
            XCTAssertEqual(master.tick(), [], "not before every child replied")
            _ = master.machine.received(stats(id, messagesIn: 5), from: child.id, now: master.clock)
        }
        XCTAssertEqual(master.tick(), [.answerMetrics(scraper)])
        XCTAssertEqual(master.machine.children.map { $0.counters?.messagesIn }, [5, 5, 5, 5])
    }

    func testAScrapeWaitsAtMostASecondForASilentChild() {
        var master = MasterHarness.running()
        _ = master.machine.query(.metrics, requester: scraper, now: master.clock)
        XCTAssertEqual(master.machine.nextWakeUp(now: master.clock), master.clock.addingTimeInterval(1))
        master.advance(0.99)
        XCTAssertEqual(master.tick(), [])
        master.advance(0.01)
        XCTAssertEqual(master.tick(), [.answerMetrics(scraper)])
    }

    /// A drained worker's last counters come without a query id, right before it exits.
    func testCountersAChildSendsUnaskedAreKept() {
        var master = MasterHarness.running()
        let worker = master.slot(.worker, 0)
        XCTAssertEqual(master.machine.received(stats(nil, messagesIn: 42), from: worker, now: master.clock), [])
        XCTAssertEqual(master.machine.child(worker)?.counters?.messagesIn, 42)
    }

    func testRestartsAreCountedPerRoleCrashesOnlyForUncleanExits() {
        var master = MasterHarness.running()
        _ = master.exit(master.slot(.worker, 0), .killed(signal: SIGKILL))
        _ = master.exit(master.slot(.worker, 1), .exited(status: 0))
        _ = master.exit(master.slot(.gateway, 0), .exited(status: 1))
        XCTAssertEqual(master.machine.restartCounts, [.worker: 2, .gateway: 1])
        XCTAssertEqual(master.machine.exits, [.register: 0, .gateway: 1, .worker: 1])
    }
}

import GatewayCore
import XCTest

@testable import GatewayMetrics

final class MetricsLedgerTests: XCTestCase {
    private func report(_ samples: [(String, Double, [String: String])], histograms: [HistogramSample] = []) -> ProcessMetrics {
        ProcessMetrics(samples: samples.map { MetricSample(name: $0.0, labels: $0.2, value: $0.1) }, histograms: histograms)
    }

    private func value(_ series: HostSeries, _ name: String, _ labels: [String]) -> Double? {
        series.values[SeriesKey(name: name, labels: labels)]
    }

    /// A restarted process starts from zero; what its predecessor reported stays counted, so
    /// the host's counter never goes down. Gauges are the live process's only.
    func testCountersCarryOverAnExitGaugesDoNot() {
        var ledger = MetricsLedger()
        let first = report([("gatewayd_messages_in_total", 10, [:]), ("gatewayd_client_connections", 3, [:])])
        let before = ledger.series(of: [ProcessView(role: .gateway, index: 0, serving: true, up: true, residentBytes: 0, metrics: first)])
        XCTAssertEqual(value(before, "gatewayd_messages_in_total", ["gateway", "0"]), 10)
        XCTAssertEqual(value(before, "gatewayd_client_connections", ["gateway", "0"]), 3)

        ledger.retire(first, role: .gateway, index: 0)
        let restarted = report([("gatewayd_messages_in_total", 4, [:]), ("gatewayd_client_connections", 1, [:])])
        let after = ledger.series(of: [ProcessView(role: .gateway, index: 0, serving: true, up: true, residentBytes: 0, metrics: restarted)])
        XCTAssertEqual(value(after, "gatewayd_messages_in_total", ["gateway", "0"]), 14)
        XCTAssertEqual(value(after, "gatewayd_client_connections", ["gateway", "0"]), 1)
    }

    /// Role-scoped series add the role's processes up; an old worker draining during a reload
    /// adds its counters but not its gauges.
    func testRoleScopeSumsAndRetiringProcessesGiveNoGauges() {
        let ledger = MetricsLedger()
        let gateway = ["gateway": "127.0.0.1:2900"]
        let series = ledger.series(of: [
            ProcessView(
                role: .worker, index: 0, serving: true, up: true, residentBytes: 0,
                metrics: report([("gatewayd_queries_total", 2, gateway), ("gatewayd_worker_gateways", 1, [:])])),
            ProcessView(
                role: .worker, index: 1, serving: false, up: true, residentBytes: 0,
                metrics: report([("gatewayd_queries_total", 3, gateway), ("gatewayd_worker_gateways", 1, [:])])),
        ])
        XCTAssertEqual(value(series, "gatewayd_queries_total", ["worker", "127.0.0.1:2900"]), 5)
        XCTAssertEqual(value(series, "gatewayd_worker_gateways", ["worker", "0"]), 1)
        XCTAssertNil(value(series, "gatewayd_worker_gateways", ["worker", "1"]))
    }

    /// A name the catalog does not list, or a sample with other labels, never reaches the output.
    func testUnknownNamesAndLabelsAreLeftOut() {
        let series = MetricsLedger().series(of: [
            ProcessView(
                role: .gateway, index: 0, serving: true, up: true, residentBytes: 0,
                metrics: report([
                    ("gatewayd_made_up_total", 1, [:]), ("gatewayd_messages_in_total", 1, ["extra": "x"]),
                    ("gatewayd_client_connections_closed_total", 1, [:]),
                ]))
        ])
        XCTAssertTrue(series.values.isEmpty)
    }

    func testHistogramsAddUpAndCarry() {
        var ledger = MetricsLedger()
        let buckets = MetricsCatalog.eventDurationBounds.count + 1
        func timings(_ first: UInt64) -> ProcessMetrics {
            var counts = [UInt64](repeating: 0, count: buckets)
            counts[0] = first
            counts[buckets - 1] = 1
            return report(
                [], histograms: [HistogramSample(name: "gatewayd_worker_event_duration_seconds", labels: ["callback": "on_message"], counts: counts, sum: 1)])
        }
        ledger.retire(timings(5), role: .worker, index: 0)
        let series = ledger.series(of: [ProcessView(role: .worker, index: 1, serving: true, up: true, residentBytes: 0, metrics: timings(2))])
        let histogram = series.histograms[SeriesKey(name: "gatewayd_worker_event_duration_seconds", labels: ["worker", "on_message"])]
        XCTAssertEqual(histogram?.counts.first, 7)
        XCTAssertEqual(histogram?.counts.last, 2)
        XCTAssertEqual(histogram?.sum, 2)
    }
}

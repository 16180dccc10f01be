import GatewayCore
import XCTest

@testable import GatewayMetrics

final class MetricsExporterTests: XCTestCase {
    private func gateway(messagesIn: Double, connections: Double, up: Bool = true) -> ProcessView {
        ProcessView(
            role: .gateway, index: 0, serving: true, up: up, residentBytes: 1000,
            metrics: ProcessMetrics(samples: [
                MetricSample(name: "gatewayd_messages_in_total", value: messagesIn),
                MetricSample(name: "gatewayd_client_connections", value: connections),
            ]))
    }

    private func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init) }

    private func value(_ lines: [String], _ series: String) -> Double? {
        lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    func testCountersGaugesAndTheMastersOwnSeries() {
        let exporter = MetricsExporter(version: "9.9.9")
        let master = ProcessView(role: .master, index: 0, serving: true, up: true, residentBytes: 500, metrics: nil)
        let text = lines(exporter.render(processes: [master, gateway(messagesIn: 7, connections: 2)], crashes: [.gateway: 1], restarts: [:]))
        XCTAssertTrue(text.contains("# TYPE gatewayd_messages_in_total counter"))
        XCTAssertTrue(text.contains { $0.hasPrefix("# HELP gatewayd_messages_in_total Gateway: client messages received.") })
        XCTAssertEqual(value(text, #"gatewayd_messages_in_total{role="gateway",index="0"}"#), 7)
        XCTAssertEqual(value(text, #"gatewayd_client_connections{role="gateway",index="0"}"#), 2)
        XCTAssertEqual(value(text, #"gatewayd_process_up{role="master",index="0"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_process_resident_memory_bytes{role="gateway",index="0"}"#), 1000)
        XCTAssertEqual(value(text, #"gatewayd_process_crashes_total{role="gateway"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_process_restarts_total{role="gateway"}"#), 0)
        XCTAssertEqual(value(text, #"gatewayd_build_info{version="9.9.9"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_reloads_total{outcome="done"}"#), 0)
        // Every family the output has is in the catalog.
        for line in text where line.hasPrefix("# TYPE ") {
            XCTAssertNotNil(MetricsCatalog.definition(named: String(line.split(separator: " ")[2])), line)
        }
    }

    /// A gateway restarts: its counter goes on from what the old process reported; a gauge of a
    /// process gone is not left behind.
    func testACounterNeverGoesDownAcrossARestart() {
        let exporter = MetricsExporter(version: "1")
        _ = exporter.render(processes: [gateway(messagesIn: 10, connections: 4)], crashes: [:], restarts: [:])
        exporter.ledger.retire(gateway(messagesIn: 10, connections: 4).metrics!, role: .gateway, index: 0)
        let down = lines(
            exporter.render(
                processes: [ProcessView(role: .gateway, index: 0, serving: true, up: false, residentBytes: 0, metrics: nil)], crashes: [:],
                restarts: [:]))
        XCTAssertEqual(value(down, #"gatewayd_messages_in_total{role="gateway",index="0"}"#), 10)
        XCTAssertNil(value(down, #"gatewayd_client_connections{role="gateway",index="0"}"#))
        XCTAssertEqual(value(down, #"gatewayd_process_up{role="gateway",index="0"}"#), 0)
        let again = lines(exporter.render(processes: [gateway(messagesIn: 3, connections: 1)], crashes: [:], restarts: [:]))
        XCTAssertEqual(value(again, #"gatewayd_messages_in_total{role="gateway",index="0"}"#), 13)
    }

    func testHistogramsAreCumulativeWithSumAndCount() {
        let exporter = MetricsExporter(version: "1")
        var counts = [UInt64](repeating: 0, count: MetricsCatalog.eventDurationBounds.count + 1)
        counts[0] = 3  // ≤ 10 µs
        counts[6] = 1  // ≤ 1 ms
        counts[counts.count - 1] = 1  // over 10 s
        let worker = ProcessView(
            role: .worker, index: 0, serving: true, up: true, residentBytes: 0,
            metrics: ProcessMetrics(histograms: [
                HistogramSample(name: "gatewayd_worker_event_duration_seconds", labels: ["callback": "on_message"], counts: counts, sum: 12.5)
            ]))
        let text = lines(exporter.render(processes: [worker], crashes: [:], restarts: [:]))
        let name = "gatewayd_worker_event_duration_seconds"
        XCTAssertTrue(text.contains("# TYPE \(name) histogram"))
        XCTAssertEqual(value(text, #"\#(name)_bucket{role="worker",callback="on_message",le="1e-05"}"#), 3)
        XCTAssertEqual(value(text, #"\#(name)_bucket{role="worker",callback="on_message",le="0.0005"}"#), 3)
        XCTAssertEqual(value(text, #"\#(name)_bucket{role="worker",callback="on_message",le="0.001"}"#), 4)
        XCTAssertEqual(value(text, #"\#(name)_bucket{role="worker",callback="on_message",le="10.0"}"#), 4)
        XCTAssertEqual(value(text, #"\#(name)_bucket{role="worker",callback="on_message",le="+Inf"}"#), 5)
        XCTAssertEqual(value(text, #"\#(name)_sum{role="worker",callback="on_message"}"#), 12.5)
        XCTAssertEqual(value(text, #"\#(name)_count{role="worker",callback="on_message"}"#), 5)
    }

    func testReloadsByOutcomeAndDuration() {
        let exporter = MetricsExporter(version: "1")
        exporter.reloadFinished(.done, seconds: 0.2, killedWorkers: 1)
        exporter.reloadFinished(.refused, seconds: nil, killedWorkers: 0)
        let text = lines(exporter.render(processes: [], crashes: [:], restarts: [:]))
        XCTAssertEqual(value(text, #"gatewayd_reloads_total{outcome="done"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_reloads_total{outcome="refused"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_reloads_total{outcome="failed"}"#), 0)
        XCTAssertEqual(value(text, "gatewayd_reload_workers_killed_total"), 1)
        XCTAssertEqual(value(text, #"gatewayd_reload_duration_seconds_count{outcome="done"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_reload_duration_seconds_bucket{outcome="done",le="0.25"}"#), 1)
        XCTAssertEqual(value(text, #"gatewayd_reload_duration_seconds_bucket{outcome="done",le="0.1"}"#), 0)
    }
}

import GatewayCore
import XCTest

@testable import GatewayWorker

/// The worker's per-callback timings: each duration in the first bucket whose bound it does
/// not exceed (Prometheus' `le`), the sum in seconds, callbacks that never ran left out.
final class CallbackTimingsTests: XCTestCase {
    func testDurationsLandInTheirBucketsAndSumUp() throws {
        let timings = CallbackTimings(bounds: [0.00001, 0.001])
        timings.record(.message, nanoseconds: 2_000)  // ≤ 10 µs
        timings.record(.message, nanoseconds: 10_000)  // exactly on the bound: still ≤ 10 µs
        timings.record(.message, nanoseconds: 500_000)  // ≤ 1 ms
        timings.record(.message, nanoseconds: 3_000_000_000)  // +Inf
        timings.record(.timer, nanoseconds: 1)
        let samples = timings.samples()
        XCTAssertEqual(samples.map { $0.labels["callback"] }, ["on_message", "timer"])
        let message = try XCTUnwrap(samples.first)
        XCTAssertEqual(message.name, "gatewayd_worker_event_duration_seconds")
        XCTAssertEqual(message.counts, [2, 1, 1])
        XCTAssertEqual(message.sum, 3.000512, accuracy: 1e-9)
    }

    func testTheCatalogsBoundsAreTheDefault() {
        let timings = CallbackTimings()
        timings.record(.connect, nanoseconds: 1)
        XCTAssertEqual(timings.samples().first?.counts.count, MetricsCatalog.eventDurationBounds.count + 1)
    }
}

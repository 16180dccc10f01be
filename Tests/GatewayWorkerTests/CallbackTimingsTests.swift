import GatewayCore
import XCTest

@testable import GatewayWorker

/// The worker's callback timings: a duration lands in the first bucket whose bound it does not
/// exceed (Prometheus' `le`); callbacks of a kind closer than the spacing are counted, not
/// timed, and the next timed one stands for them; counts stay exact.
final class CallbackTimingsTests: XCTestCase {
    func testDurationsLandInTheirBucketsAndSumUp() throws {
        let timings = CallbackTimings(bounds: [0.00001, 0.001], spacing: 0)
        for duration: Int64 in [2_000, 10_000, 500_000, 3_000_000_000] {  // ≤ 10 µs, on the bound, ≤ 1 ms, +Inf
            XCTAssertTrue(timings.isDue(.message, at: 0))
            timings.record(.message, nanoseconds: duration)
        }
        XCTAssertTrue(timings.isDue(.timer, at: 0))
        timings.record(.timer, nanoseconds: 1)
        let samples = timings.samples()
        XCTAssertEqual(samples.map { $0.labels["callback"] }, ["on_message", "timer"])
        let message = try XCTUnwrap(samples.first)
        XCTAssertEqual(message.name, "gatewayd_worker_event_duration_seconds")
        XCTAssertEqual(message.counts, [2, 1, 1])
        XCTAssertEqual(message.sum, 3.000512, accuracy: 1e-9)
    }

    func testCallbacksCloserThanTheSpacingAreCountedAndStoodForByTheNextTimedOne() throws {
        let timings = CallbackTimings(bounds: [0.00001, 0.001], spacing: 1_000_000)
        XCTAssertTrue(timings.isDue(.message, at: 5_000_000), "the first of a kind is timed")
        timings.record(.message, nanoseconds: 2_000)
        for at: Int64 in [5_000_000, 5_500_000, 5_999_999] {
            XCTAssertFalse(timings.isDue(.message, at: at))
            timings.skipped(.message)
        }
        XCTAssertTrue(timings.isDue(.close, at: 5_500_000), "each kind has its own spacing")
        timings.record(.close, nanoseconds: 1)
        // Untimed ones so far go where the last timed one went, at its duration.
        var message = try XCTUnwrap(timings.samples().first { $0.labels["callback"] == "on_message" })
        XCTAssertEqual(message.counts, [4, 0, 0])
        XCTAssertEqual(message.sum, 8e-6, accuracy: 1e-12)
        XCTAssertTrue(timings.isDue(.message, at: 6_000_000))
        timings.record(.message, nanoseconds: 400_000)  // stands for the 3 before it and itself
        message = try XCTUnwrap(timings.samples().first { $0.labels["callback"] == "on_message" })
        XCTAssertEqual(message.counts, [1, 4, 0])
        XCTAssertEqual(message.sum, 0.000002 + 4 * 0.0004, accuracy: 1e-12)
    }

    func testTheCatalogsBoundsAreTheDefault() {
        let timings = CallbackTimings()
        XCTAssertTrue(timings.isDue(.connect, at: 0))
        timings.record(.connect, nanoseconds: 1)
        XCTAssertEqual(timings.samples().first?.counts.count, MetricsCatalog.eventDurationBounds.count + 1)
    }
}

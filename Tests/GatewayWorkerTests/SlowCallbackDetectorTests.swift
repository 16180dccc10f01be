import GatewayWire
import XCTest

@testable import GatewayWorker

/// The slow-callback watchdog's decisions, from samples and an injected time, and the
/// lock-free record it samples.
final class SlowCallbackDetectorTests: XCTestCase {
    private let client = ClientID(ipv4: 0x7F00_0001, port: 2900, connectionID: 7)
    private let ms: Int64 = 1_000_000

    private func sample(_ serial: UInt64, _ callback: CallbackWatch.Callback = .message) -> CallbackWatch.Sample {
        CallbackWatch.Sample(serial: serial, callback: callback, clientID: client)
    }

    func testACallbackSeenRunningForTheTimeoutIsReportedOnce() {
        var detector = SlowCallbackDetector(timeoutNanoseconds: 200 * ms)
        XCTAssertNil(detector.observe(sample(1), at: 0))
        XCTAssertNil(detector.observe(sample(1), at: 150 * ms))
        XCTAssertEqual(detector.observe(sample(1), at: 200 * ms), sample(1))
        XCTAssertNil(detector.observe(sample(1), at: 400 * ms), "reported once")
    }

    func testCallbacksThatFinishInTimeAreNotReportedHoweverManyRun() {
        var detector = SlowCallbackDetector(timeoutNanoseconds: 200 * ms)
        // A new callback at every sample (a busy but healthy worker), and idle gaps.
        for step in 0..<20 {
            let observed = step % 3 == 2 ? nil : sample(UInt64(2 * step + 1))
            XCTAssertNil(detector.observe(observed, at: Int64(step) * 100 * ms))
        }
    }

    func testTheNextSlowCallbackIsReportedToo() {
        var detector = SlowCallbackDetector(timeoutNanoseconds: 100 * ms)
        XCTAssertNil(detector.observe(sample(1), at: 0))
        XCTAssertEqual(detector.observe(sample(1), at: 100 * ms)?.serial, 1)
        XCTAssertNil(detector.observe(nil, at: 150 * ms))
        XCTAssertNil(detector.observe(sample(3, .timer), at: 200 * ms))
        XCTAssertEqual(detector.observe(sample(3, .timer), at: 300 * ms), sample(3, .timer))
    }

    func testTheWatchPublishesTheRunningCallbackAndItsClient() {
        let watch = CallbackWatch()
        XCTAssertNil(watch.sample())
        watch.begin(.message, clientID: client)
        let first = watch.sample()
        XCTAssertEqual(first?.callback, .message)
        XCTAssertEqual(first?.clientID, client)
        XCTAssertEqual(first?.callback.name, "on_message")
        watch.end()
        XCTAssertNil(watch.sample())
        watch.begin(.post, clientID: ClientID(ipv4: 0, port: 0, connectionID: 0))
        XCTAssertNotEqual(watch.sample()?.serial, first?.serial, "every callback has a serial of its own")
        XCTAssertEqual(watch.sample()?.callback, .post)
    }
}

import GatewayWire
import NIOCore
import XCTest

@testable import GatewayHub

/// The record of a worker's unfinished events, without a hub: what is forgotten on an
/// acknowledgement, and what becomes of the rest when the worker dies.
final class UnfinishedEventsTests: XCTestCase {
    private let events = UnfinishedEvents()

    private func record(_ bodies: [String], replayed: Bool = false) {
        for body in bodies {
            let frame = ByteBuffer.command(.onMessage, connectionID: 7, body: Array(body.utf8))
            frame.withUnsafeReadableBytes { events.record($0, replayed: replayed) }
        }
    }

    private func settled() -> [String] {
        events.settle().map { settled in
            let body = String(buffer: settled.frame.body)
            switch settled.fate {
            case .resend: return "resend \(body)"
            case .lost(.crashedIn(let signal)): return "lost \(body): crashed \(signal)"
            case .lost(.partlyHandled): return "lost \(body): partly"
            case .lost(.diedTwice): return "lost \(body): twice"
            }
        }
    }

    func testFinishedEventsAreForgottenAndTheRestResentInOrder() {
        record(["a", "b", "c", "d"])
        XCTAssertTrue(events.acknowledge(EventsDone(finished: 2, started: 2)))
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(settled(), ["resend c", "resend d"])
        XCTAssertTrue(events.isEmpty)
        record(["e"])
        XCTAssertEqual(events.sent, 5, "counted from the worker's WORKER_CONNECT, across settles")
        XCTAssertTrue(events.acknowledge(EventsDone(finished: 5, started: 5)))
        XCTAssertTrue(events.isEmpty)
    }

    func testTheEventACrashReportNamesIsLostAndTheOthersResent() {
        record(["a", "b", "c"])
        XCTAssertTrue(events.crashed(WorkerCrashed(event: 1, signal: 11)))
        XCTAssertEqual(settled(), ["resend a", "lost b: crashed 11", "resend c"])
    }

    func testAnEventWhoseCommandsPartlyWentOutIsNotResent() {
        record(["a", "b", "c"])
        XCTAssertTrue(events.acknowledge(EventsDone(finished: 1, started: 2)))
        XCTAssertEqual(settled(), ["lost b: partly", "resend c"])
    }

    func testAnEventResentOnceIsLostWhenASecondWorkerDiesWithoutSayingWhy() {
        record(["a"], replayed: true)
        record(["b"])
        XCTAssertEqual(settled(), ["lost a: twice", "resend b"])
        record(["c"], replayed: true)
        record(["d"])
        XCTAssertTrue(events.crashed(WorkerCrashed(event: 3, signal: 6)))
        XCTAssertEqual(settled(), ["resend c", "lost d: crashed 6"], "a crash report names the culprit: the others go again")
    }

    func testTheBufferGrowsAndReusesItsStartWithoutMixingFrames() {
        record((0..<100).map { "first \($0) " + String(repeating: "x", count: $0 * 7) })
        XCTAssertTrue(events.acknowledge(EventsDone(finished: 90, started: 90)))
        record((0..<50).map { "then \($0)" })
        let bodies = events.settle().map { String(buffer: $0.frame.body) }
        XCTAssertEqual(bodies.count, 60)
        XCTAssertEqual(bodies.first, "first 90 " + String(repeating: "x", count: 630))
        XCTAssertEqual(bodies[10], "then 0")
        XCTAssertEqual(bodies.last, "then 49")
    }

    func testRandomRecordsAndAcknowledgementsKeepExactlyTheUnfinishedFrames() {
        // A model (the bodies not finished yet) against the buffer, through growth, reuse of
        // the start (head > 0 and no room at the end) and the release of a large buffer.
        var model: [String] = []
        var seed: UInt64 = 42
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(bound))
        }
        for step in 0..<2000 {
            if next(3) < 2 {
                let body = "\(step):" + String(repeating: "y", count: next(5) == 0 ? 200_000 : next(900))
                record([body])
                model.append(body)
            } else if !model.isEmpty {
                let done = next(model.count + 1)
                XCTAssertTrue(events.acknowledge(EventsDone(finished: events.finished + UInt64(done), started: events.finished + UInt64(done))))
                model.removeFirst(done)
            }
            XCTAssertEqual(events.count, model.count)
        }
        XCTAssertEqual(events.settle().map { String(buffer: $0.frame.body) }, model)
    }

    func testCountsTheWorkerCannotHaveAreRefused() {
        record(["a", "b"])
        XCTAssertFalse(events.acknowledge(EventsDone(finished: 3, started: 3)), "more than were sent")
        XCTAssertTrue(events.acknowledge(EventsDone(finished: 2, started: 2)))
        XCTAssertFalse(events.acknowledge(EventsDone(finished: 1, started: 2)), "fewer than before")
        XCTAssertFalse(events.crashed(WorkerCrashed(event: 1, signal: 11)), "finished already")
        XCTAssertFalse(events.crashed(WorkerCrashed(event: 2, signal: 11)), "never sent")
        XCTAssertNil(EventsDone(body: ByteBuffer(bytes: [0, 1])))
    }

    func testTheWireFormsRoundTrip() throws {
        var buffer = ByteBuffer()
        buffer.writeEventsDone(EventsDone(finished: 1 << 40, started: 1 << 40 + 1))
        var parser = GatewayFrameParser()
        let frame = try XCTUnwrap(try parser.parse(&buffer))
        XCTAssertEqual(frame.command, .eventsDone)
        XCTAssertEqual(EventsDone(body: frame.body), EventsDone(finished: 1 << 40, started: 1 << 40 + 1))

        let template = WorkerCrashed.template()
        var notice = template.frame
        notice.replaceSubrange(template.bodyOffset..<template.bodyOffset + 12, with: [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 11])
        var bytes = ByteBuffer(bytes: notice)
        let crash = try XCTUnwrap(try parser.parse(&bytes))
        XCTAssertEqual(crash.command, .workerCrashed)
        XCTAssertEqual(WorkerCrashed(body: crash.body), WorkerCrashed(event: 258, signal: 11))
    }
}

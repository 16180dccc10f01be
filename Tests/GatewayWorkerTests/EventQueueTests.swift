import GatewayWire
import NIOCore
import XCTest

@testable import GatewayWorker

/// The plugin host's backlog keeps events in order through wrap-around and growth, and lets
/// go of the buffers of events still queued when it goes.
final class EventQueueTests: XCTestCase {
    private func event(_ number: UInt32) -> PluginEvent {
        PluginEvent(frame: GatewayFrame(command: .onMessage, connectionID: number, body: ByteBuffer(string: "m\(number)")))!
    }

    func testEventsComeOutInOrderThroughWrapAroundAndGrowth() {
        var queue = EventQueue(initialCapacity: 4)
        var next: UInt32 = 0
        var expected: UInt32 = 0
        // Interleaved appends and pops: the head wraps before the ring grows, twice over.
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 1) {
                queue.append(event(next))
                next += 1
            }
            for _ in 0..<(round % 5) {
                guard let popped = queue.popFirst() else { break }
                XCTAssertEqual(popped.clientID.connectionID, expected)
                XCTAssertEqual(String(buffer: popped.body), "m\(expected)")
                expected += 1
            }
        }
        XCTAssertEqual(queue.count, Int(next - expected))
        while let popped = queue.popFirst() {
            XCTAssertEqual(popped.clientID.connectionID, expected)
            expected += 1
        }
        XCTAssertEqual(expected, next)
        XCTAssertTrue(queue.isEmpty)
    }

    func testEventsLeftInTheQueueReleaseTheirBuffers() {
        var body = ByteBuffer(string: "kept")
        do {
            var queue = EventQueue(initialCapacity: 2)
            for number in 0..<5 {
                queue.append(PluginEvent(frame: GatewayFrame(command: .onMessage, connectionID: UInt32(number), body: body))!)
            }
            _ = queue.popFirst()
        }
        // Every copy is gone: the buffer is unique again, so writing to it does not copy it.
        let before = body.withUnsafeReadableBytes { $0.baseAddress }
        body.setString("KEPT", at: body.readerIndex)
        XCTAssertEqual(body.withUnsafeReadableBytes { $0.baseAddress }, before)
    }
}

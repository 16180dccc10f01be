import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayServer

/// Counts flushes that reach the channel, passing everything on.
private final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

private final class Target: OutboundTarget {
    let channel: Channel
    var queuedWrites = 0

    init(channel: Channel) {
        self.channel = channel
    }
}

final class OutboundQueueTests: XCTestCase {
    private var loop: EmbeddedEventLoop!

    override func setUp() {
        loop = EmbeddedEventLoop()
    }

    override func tearDown() {
        XCTAssertNoThrow(try loop.syncShutdownGracefully())
        loop = nil
    }

    private func target() throws -> (Target, EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(counter)
        return (Target(channel: channel), channel, counter)
    }

    private func written(_ channel: EmbeddedChannel) throws -> [String] {
        var strings: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { strings.append(String(buffer: buffer)) }
        return strings
    }

    private func arenaFrame(_ queue: OutboundQueue, _ text: String) -> OutboundQueue.Payload {
        queue.encode(size: text.utf8.count) { $0.writeString(text) }
    }

    func testWritesWaitForTheScheduledTask() throws {
        let (target, channel, counter) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(ByteBuffer(string: "one"), to: target)
        queue.enqueue(ByteBuffer(string: "two"), to: target)

        XCTAssertEqual(try written(channel), [], "nothing is written before the loop runs the task")
        XCTAssertEqual(counter.flushes, 0)

        loop.run()

        XCTAssertEqual(try written(channel), ["one", "two"])
        XCTAssertEqual(counter.flushes, 1)
        XCTAssertEqual(target.queuedWrites, 0)
    }

    func testEachTouchedChannelIsFlushedOnceInOrder() throws {
        let (first, firstChannel, firstCounter) = try target()
        let (second, secondChannel, secondCounter) = try target()
        let (_, untouched, untouchedCounter) = try target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(ByteBuffer(string: "1a"), to: first)
        queue.enqueue(arenaFrame(queue, "2a"), to: second)
        queue.enqueue(arenaFrame(queue, "1b"), to: first)
        queue.enqueue(ByteBuffer(string: "1c"), to: first)
        queue.enqueue(arenaFrame(queue, "2b"), to: second)
        loop.run()

        XCTAssertEqual(firstCounter.flushes, 1)
        XCTAssertEqual(secondCounter.flushes, 1)
        XCTAssertEqual(untouchedCounter.flushes, 0)
        XCTAssertEqual(try written(firstChannel), ["1a", "1b", "1c"])
        XCTAssertEqual(try written(secondChannel), ["2a", "2b"])
        XCTAssertEqual(try written(untouched), [])
    }

    func testConsecutiveArenaFramesForOneTargetBecomeOneWrite() throws {
        let (target, channel, counter) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(arenaFrame(queue, "ab"), to: target)
        queue.enqueue(arenaFrame(queue, "cd"), to: target)
        XCTAssertEqual(target.queuedWrites, 1)
        loop.run()

        XCTAssertEqual(try written(channel), ["abcd"])
        XCTAssertEqual(counter.flushes, 1)
    }

    func testOneEncodingWrittenToManyTargets() throws {
        let (first, firstChannel, _) = try target()
        let (second, secondChannel, _) = try target()
        let queue = OutboundQueue(eventLoop: loop)

        let shared = arenaFrame(queue, "all")
        queue.enqueue(shared, to: first)
        queue.enqueue(shared, to: second)
        loop.run()

        XCTAssertEqual(try written(firstChannel), ["all"])
        XCTAssertEqual(try written(secondChannel), ["all"])
    }

    func testTheArenaIsReusedOnceItsBytesAreWritten() throws {
        let (target, channel, _) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(arenaFrame(queue, "first"), to: target)
        loop.run()
        XCTAssertEqual(try written(channel), ["first"])  // the channel lets go of its slice
        queue.enqueue(arenaFrame(queue, "second"), to: target)
        loop.run()

        XCTAssertEqual(try written(channel), ["second"])
    }

    func testASliceStillHeldDoesNotSeeTheNextTicksFrames() throws {
        let (target, channel, _) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(arenaFrame(queue, "kept"), to: target)
        loop.run()
        let kept = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))  // still referenced
        queue.enqueue(arenaFrame(queue, "XXXX"), to: target)
        loop.run()

        XCTAssertEqual(String(buffer: kept), "kept")
        XCTAssertEqual(try written(channel), ["XXXX"])
    }

    func testARefusedEncodingLeavesNothing() throws {
        let (target, channel, _) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        XCTAssertNil(queue.encodeIf(size: 4) { $0.writeString("nope"); return false })
        queue.enqueue(arenaFrame(queue, "yes"), to: target)
        loop.run()

        XCTAssertEqual(try written(channel), ["yes"])
    }

    func testLargeFramesGetABufferOfTheirOwn() throws {
        let queue = OutboundQueue(eventLoop: loop)
        let big = String(repeating: "x", count: OutboundQueue.largestArenaFrame + 1)
        guard case .buffer(let buffer) = queue.encode(size: big.utf8.count, { $0.writeString(big) }) else {
            return XCTFail("a frame above the arena limit was put in the arena")
        }
        XCTAssertEqual(buffer.readableBytes, big.utf8.count)
    }

    func testDetachedCopiesOutOfTheArena() throws {
        let queue = OutboundQueue(eventLoop: loop)
        let payload = arenaFrame(queue, "later")
        let detached = queue.detached(payload)
        loop.run()  // the arena is cleared
        XCTAssertEqual(String(buffer: detached), "later")
    }

    func testRunningWithNothingQueuedFlushesNothing() throws {
        let (_, _, counter) = try target()
        _ = OutboundQueue(eventLoop: loop)
        loop.run()
        XCTAssertEqual(counter.flushes, 0)
    }

    func testFlushWritesAtOnceAndTheScheduledTaskFindsNothingLeft() throws {
        let (target, channel, counter) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(ByteBuffer(string: "now"), to: target)
        queue.flush()

        XCTAssertEqual(try written(channel), ["now"])
        XCTAssertEqual(counter.flushes, 1)

        loop.run()
        XCTAssertEqual(counter.flushes, 1, "the already scheduled task has nothing left to flush")
    }

    func testWriteAfterFlushIsStillFlushed() throws {
        let (target, channel, counter) = try self.target()
        let queue = OutboundQueue(eventLoop: loop)

        queue.enqueue(ByteBuffer(string: "a"), to: target)
        queue.flush()
        queue.enqueue(ByteBuffer(string: "b"), to: target)
        XCTAssertEqual(try written(channel), ["a"])
        loop.run()

        XCTAssertEqual(try written(channel), ["b"])
        XCTAssertEqual(counter.flushes, 2)
    }
}

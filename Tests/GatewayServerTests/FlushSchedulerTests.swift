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

final class FlushSchedulerTests: XCTestCase {
    private var loop: EmbeddedEventLoop!

    override func setUp() {
        loop = EmbeddedEventLoop()
    }

    override func tearDown() {
        XCTAssertNoThrow(try loop.syncShutdownGracefully())
        loop = nil
    }

    private func channel() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(counter)
        return (channel, counter)
    }

    private func written(_ channel: EmbeddedChannel) throws -> [String] {
        var strings: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { strings.append(String(buffer: buffer)) }
        return strings
    }

    func testWritesWaitForTheScheduledTask() throws {
        let (channel, counter) = try self.channel()
        let scheduler = FlushScheduler(eventLoop: loop)

        scheduler.write(ByteBuffer(string: "one"), to: channel)
        scheduler.write(ByteBuffer(string: "two"), to: channel)

        XCTAssertEqual(try written(channel), [], "nothing is flushed before the loop runs the task")
        XCTAssertEqual(counter.flushes, 0)

        loop.run()

        XCTAssertEqual(try written(channel), ["one", "two"])
        XCTAssertEqual(counter.flushes, 1)
    }

    func testEachTouchedChannelIsFlushedOnce() throws {
        let (first, firstCounter) = try channel()
        let (second, secondCounter) = try channel()
        let (untouched, untouchedCounter) = try channel()
        let scheduler = FlushScheduler(eventLoop: loop)

        scheduler.write(ByteBuffer(string: "1a"), to: first)
        scheduler.write(ByteBuffer(string: "2a"), to: second)
        scheduler.write(ByteBuffer(string: "1b"), to: first)
        scheduler.write(ByteBuffer(string: "1c"), to: first)
        scheduler.write(ByteBuffer(string: "2b"), to: second)
        loop.run()

        XCTAssertEqual(firstCounter.flushes, 1)
        XCTAssertEqual(secondCounter.flushes, 1)
        XCTAssertEqual(untouchedCounter.flushes, 0)
        XCTAssertEqual(try written(first), ["1a", "1b", "1c"])
        XCTAssertEqual(try written(second), ["2a", "2b"])
        XCTAssertEqual(try written(untouched), [])
    }

    func testALaterTickSchedulesAgain() throws {
        let (channel, counter) = try self.channel()
        let scheduler = FlushScheduler(eventLoop: loop)

        scheduler.write(ByteBuffer(string: "one"), to: channel)
        loop.run()
        scheduler.write(ByteBuffer(string: "two"), to: channel)
        XCTAssertEqual(try written(channel), ["one"])
        loop.run()

        XCTAssertEqual(try written(channel), ["two"])
        XCTAssertEqual(counter.flushes, 2)
    }

    func testRunningWithNothingWrittenFlushesNothing() throws {
        let (_, counter) = try channel()
        _ = FlushScheduler(eventLoop: loop)
        loop.run()
        XCTAssertEqual(counter.flushes, 0)
    }

    func testFlushAllFlushesAtOnceAndTheScheduledTaskFindsNothingLeft() throws {
        let (channel, counter) = try self.channel()
        let scheduler = FlushScheduler(eventLoop: loop)

        scheduler.write(ByteBuffer(string: "now"), to: channel)
        scheduler.flushAll()

        XCTAssertEqual(try written(channel), ["now"])
        XCTAssertEqual(counter.flushes, 1)

        loop.run()
        XCTAssertEqual(counter.flushes, 1, "the already scheduled task has nothing left to flush")
    }

    func testWriteAfterFlushAllIsStillFlushed() throws {
        let (channel, counter) = try self.channel()
        let scheduler = FlushScheduler(eventLoop: loop)

        scheduler.write(ByteBuffer(string: "a"), to: channel)
        scheduler.flushAll()
        scheduler.write(ByteBuffer(string: "b"), to: channel)
        XCTAssertEqual(try written(channel), ["a"])
        loop.run()

        XCTAssertEqual(try written(channel), ["b"])
        XCTAssertEqual(counter.flushes, 2)
    }
}

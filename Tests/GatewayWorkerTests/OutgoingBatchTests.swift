import GatewayWire
import NIOCore
import XCTest

@testable import GatewayWorker

final class OutgoingBatchTests: XCTestCase {
    private let A = GatewayAddress(ipv4: 0x0A00_0001, port: 2900)
    private let B = GatewayAddress(ipv4: 0x0A00_0002, port: 2900)
    private let g = GatewayAddress(ipv4: 0x0A00_0009, port: 2909)

    /// A gateway as the tests name it: A, B, g, or its address.
    private func name(_ address: GatewayAddress) -> String {
        [A: "A", B: "B", g: "g"][address] ?? address.description
    }

    /// A segment as (target, bytes) for comparison; per-gateway segments are built for `g`.
    private func describe(_ segments: [OutgoingBatch.Segment]) -> [String] {
        segments.map { segment in
            switch segment {
            case .gateway(let address, let buffer): return "\(name(address))=\(String(buffer: buffer))"
            case .all(let buffer): return "*=\(String(buffer: buffer))"
            case .perGateway(let make): return "each(g)=\(String(buffer: make(g) ?? ByteBuffer()))"
            }
        }
    }

    private func write(_ text: String) -> (inout ByteBuffer) -> Void {
        { $0.writeString(text) }
    }

    func testNewBatchIsEmpty() {
        let batch = OutgoingBatch()
        XCTAssertTrue(batch.isEmpty)
        XCTAssertEqual(batch.frameCount, 0)
        XCTAssertTrue(batch.segments.isEmpty)
    }

    func testConsecutiveAppendsToOneGatewayCoalesce() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("a"))
        batch.append(to: A, write("b"))
        batch.append(to: A, write("c"))
        XCTAssertEqual(describe(batch.segments), ["A=abc"])
        XCTAssertEqual(batch.frameCount, 3)
    }

    func testAppendsToDifferentGatewaysStaySeparateAndInOrder() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("1"))
        batch.append(to: B, write("2"))
        batch.append(to: A, write("3"))
        XCTAssertEqual(describe(batch.segments), ["A=1", "B=2", "A=3"])
    }

    func testOrderIsKeptAcrossABroadcast() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("one"))
        batch.appendToAll(write("all"))
        batch.append(to: A, write("two"))
        XCTAssertEqual(describe(batch.segments), ["A=one", "*=all", "A=two"])
        XCTAssertEqual(batch.frameCount, 3)
    }

    func testConsecutiveBroadcastsCoalesce() {
        var batch = OutgoingBatch()
        batch.appendToAll(write("x"))
        batch.appendToAll(write("y"))
        batch.append(to: A, write("z"))
        batch.appendToAll(write("w"))
        XCTAssertEqual(describe(batch.segments), ["*=xy", "A=z", "*=w"])
        XCTAssertEqual(batch.frameCount, 4)
    }

    func testPerGatewaySegmentsNeverCoalesceAndSplitTheirNeighbours() {
        var batch = OutgoingBatch()
        batch.appendToAll(write("a"))
        batch.appendPerGateway { ByteBuffer(string: "for \($0)") }
        batch.appendPerGateway { ByteBuffer(string: "again \($0)") }
        batch.appendToAll(write("b"))
        XCTAssertEqual(describe(batch.segments), ["*=a", "each(g)=for 10.0.0.9:2909", "each(g)=again 10.0.0.9:2909", "*=b"])
        XCTAssertEqual(batch.frameCount, 4)
    }

    func testPerGatewayBuilderGetsEachAddress() {
        var batch = OutgoingBatch()
        batch.appendPerGateway { ByteBuffer(string: "exclude on \($0)") }
        guard case .perGateway(let make)? = batch.segments.first else { return XCTFail("\(batch.segments)") }
        XCTAssertEqual(make(A).map { String(buffer: $0) }, "exclude on 10.0.0.1:2900")
        XCTAssertEqual(make(GatewayAddress(ipv4: 0x0A00_0002, port: 2901)).map { String(buffer: $0) }, "exclude on 10.0.0.2:2901")
    }

    func testAppendWritesIntoTheExistingBuffer() {
        var batch = OutgoingBatch()
        batch.append(to: A, { $0.writeInteger(UInt32(1)) })
        batch.append(to: A, { buffer in
            XCTAssertEqual(buffer.readableBytes, 4, "the writer sees what is already queued for this gateway")
            buffer.writeInteger(UInt32(2))
        })
        guard case .gateway(_, let buffer)? = batch.segments.first else { return XCTFail("\(batch.segments)") }
        XCTAssertEqual(Array(buffer.readableBytesView), [0, 0, 0, 1, 0, 0, 0, 2])
    }

    func testFrameCountCountsEveryAppend() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("1"))
        batch.append(to: A, write("2"))
        batch.appendToAll(write("3"))
        batch.appendPerGateway { _ in ByteBuffer() }
        batch.append(to: B, write("4"))
        XCTAssertEqual(batch.frameCount, 5)
        XCTAssertEqual(batch.segments.count, 4)
    }

    func testTakeReturnsTheSegmentsAndEmptiesTheBatch() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("1"))
        batch.appendToAll(write("2"))

        let taken = batch.take()

        XCTAssertEqual(describe(taken), ["A=1", "*=2"])
        XCTAssertTrue(batch.isEmpty)
        XCTAssertEqual(batch.frameCount, 0)
        XCTAssertEqual(describe(batch.take()), [])
    }

    func testWhatWasHandedOutIsNeverWrittenAgain() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("old"))
        let taken = batch.take()
        batch.append(to: A, write("new"))
        let seen = batch.segments
        batch.append(to: A, write("more"))
        XCTAssertEqual(describe(taken), ["A=old"])
        XCTAssertEqual(describe(seen), ["A=new"])
        XCTAssertEqual(describe(batch.take()), ["A=newmore"])
    }

    func testAppendAfterTakeStartsAFreshSegment() {
        var batch = OutgoingBatch()
        batch.append(to: A, write("old"))
        _ = batch.take()
        batch.append(to: A, write("new"))
        XCTAssertEqual(describe(batch.segments), ["A=new"])
        XCTAssertEqual(batch.frameCount, 1)
    }
}

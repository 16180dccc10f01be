import GatewayWire
import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import GatewayServer

final class WebSocketConnectionHandlerTests: XCTestCase {
    private struct ServerFrame: Equatable {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]

        /// The status code of a close frame.
        var closeCode: UInt16? {
            guard opcode == 0x8, payload.count >= 2 else { return nil }
            return UInt16(payload[0]) << 8 | UInt16(payload[1])
        }
    }

    private static let maxMessageBytes = 64
    private let maskKey: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
    private var fixture: GatewayServerFixture!
    private var channel: EmbeddedChannel!
    private var connection: ClientConnection!

    override func setUpWithError() throws {
        fixture = try GatewayServerFixture(maxMessageBytes: Self.maxMessageBytes)
        channel = EmbeddedChannel(loop: fixture.loop)
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 50123)).wait()
        connection = fixture.acceptClient(on: channel)
        try channel.pipeline.syncOperations.addHandler(
            WebSocketConnectionHandler(server: fixture.server, connection: connection, maxMessageBytes: Self.maxMessageBytes))
        let connects = try fixture.workerFrames()
        XCTAssertEqual(connects.map(\.command), [.onConnect])
    }

    override func tearDown() {
        _ = try? channel.finish()
        fixture.shutdown()
        channel = nil
        connection = nil
        fixture = nil
    }

    // MARK: - Helpers

    private func send(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false,
        rsv2: Bool = false, rsv3: Bool = false
    ) throws {
        var data = ByteBuffer(bytes: payload)
        if masked { data.webSocketMask(maskKey) }
        let frame = WebSocketFrame(
            fin: fin, rsv1: rsv1, rsv2: rsv2, rsv3: rsv3, opcode: opcode, maskKey: masked ? maskKey : nil, data: data)
        try channel.writeInbound(Self.wireBytes(of: frame))
        fixture.loop.run()
    }

    /// A frame as a client puts it on the wire (RFC 6455 §5.2), its payload already masked.
    private static func wireBytes(of frame: WebSocketFrame) -> ByteBuffer {
        var bytes = ByteBuffer()
        let flags: UInt8 = (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0)
        bytes.writeInteger(flags | UInt8(webSocketOpcode: frame.opcode))
        let maskBit: UInt8 = frame.maskKey == nil ? 0 : 0x80
        let length = frame.data.readableBytes
        if length < 126 {
            bytes.writeInteger(maskBit | UInt8(length))
        } else if length <= Int(UInt16.max) {
            bytes.writeMultipleIntegers(maskBit | 126, UInt16(length))
        } else {
            bytes.writeMultipleIntegers(maskBit | 127, UInt64(length))
        }
        if let key = frame.maskKey { bytes.writeBytes(Array(key)) }
        bytes.writeImmutableBuffer(frame.data)
        return bytes
    }

    private func send(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) throws {
        try send(opcode, Array(text.utf8), fin: fin)
    }

    /// Close payload: the code, then the reason bytes.
    private func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    private func serverFrames() throws -> [ServerFrame] {
        var frames: [ServerFrame] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes > 0 {
                guard let (first, second) = buffer.readMultipleIntegers(as: (UInt8, UInt8).self) else {
                    XCTFail("truncated frame header")
                    return frames
                }
                XCTAssertEqual(second & 0x80, 0, "server frames are never masked")
                var length = Int(second & 0x7F)
                if length == 126 {
                    length = Int(buffer.readInteger(as: UInt16.self)!)
                } else if length == 127 {
                    length = Int(buffer.readInteger(as: UInt64.self)!)
                }
                guard let payload = buffer.readBytes(length: length) else {
                    XCTFail("truncated frame payload")
                    return frames
                }
                frames.append(ServerFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload))
            }
        }
        return frames
    }

    private func messages() throws -> [GatewayFrame] {
        try fixture.workerFrames().filter { $0.command == .onMessage }
    }

    /// Asserts the handler failed the connection with `code`: one close frame, the channel
    /// closed, no message delivered, and the worker told the client is gone.
    private func assertFailed(with code: UInt16, file: StaticString = #filePath, line: UInt = #line) throws {
        let frames = try serverFrames()
        XCTAssertEqual(frames.count, 1, "\(frames)", file: file, line: line)
        XCTAssertEqual(frames.first?.opcode, 0x8, file: file, line: line)
        XCTAssertEqual(frames.first?.closeCode, code, file: file, line: line)
        XCTAssertEqual(frames.first?.payload.count, 2, "no reason", file: file, line: line)
        XCTAssertFalse(channel.isActive, "the connection is closed", file: file, line: line)
        let events = try fixture.workerFrames().map(\.command)
        XCTAssertEqual(events, [.onClose], file: file, line: line)
    }

    // MARK: - Data frames

    func testMaskedTextMessageReachesTheWorker() throws {
        try send(.text, "héllo")
        let delivered = try messages()
        XCTAssertEqual(delivered.count, 1)
        XCTAssertEqual(delivered.first.map { String(buffer: $0.body) }, "héllo")
        XCTAssertEqual(delivered.first?.connectionID, connection.id)
        XCTAssertEqual(delivered.first?.flags.contains(.binary), false)
        XCTAssertEqual(delivered.first?.flags.contains(.scalarBody), true)
        XCTAssertEqual(delivered.first?.localPort, 2900)
        XCTAssertEqual(delivered.first?.gatewayPort, 8282)
        XCTAssertEqual(try serverFrames(), [], "nothing is answered to a data frame")
        XCTAssertEqual(fixture.server.counters().messagesIn, 1)
        XCTAssertEqual(connection.messagesIn, 1)
    }

    func testBinaryMessageIsFlaggedBinary() throws {
        try send(.binary, [0x00, 0xFF, 0xC0, 0x80])
        let delivered = try messages()
        XCTAssertEqual(delivered.count, 1)
        XCTAssertEqual(delivered.first.map { Array($0.body.readableBytesView) }, [0x00, 0xFF, 0xC0, 0x80])
        XCTAssertEqual(delivered.first?.flags.contains(.binary), true)
    }

    func testEmptyTextMessageIsDelivered() throws {
        try send(.text, [])
        XCTAssertEqual(try messages().map(\.body.readableBytes), [0])
    }

    func testUnmaskedFrameFailsWithProtocolError() throws {
        try send(.text, Array("hi".utf8), masked: false)
        try assertFailed(with: 1002)
    }

    func testReservedBitsFailWithProtocolError() throws {
        try send(.text, Array("hi".utf8), rsv1: true)
        try assertFailed(with: 1002)
    }

    func testReservedBit3FailsWithProtocolError() throws {
        try send(.binary, [1], rsv3: true)
        try assertFailed(with: 1002)
    }

    func testInvalidUTF8TextFailsWith1007() throws {
        try send(.text, [0x61, 0xC0, 0x80])
        try assertFailed(with: 1007)
    }

    func testInvalidUTF8IsFineInBinary() throws {
        try send(.binary, [0xC0, 0x80])
        XCTAssertEqual(try messages().count, 1)
        XCTAssertTrue(channel.isActive)
    }

    func testMessageOfExactlyTheLimitIsDelivered() throws {
        try send(.binary, [UInt8](repeating: 7, count: Self.maxMessageBytes))
        XCTAssertEqual(try messages().map(\.body.readableBytes), [Self.maxMessageBytes])
    }

    func testOversizedMessageFailsWith1009AndIsCounted() throws {
        try send(.binary, [UInt8](repeating: 7, count: Self.maxMessageBytes + 1))
        try assertFailed(with: 1009)
        XCTAssertEqual(fixture.incidents("oversized_messages"), 1)
    }

    func testReservedOpcodeFailsWithProtocolError() throws {
        try send(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, [1])
        try assertFailed(with: 1002)
    }

    // MARK: - Fragmentation

    func testFragmentsAreJoinedIntoOneMessage() throws {
        try send(.text, "Hel", fin: false)
        try send(.continuation, "lo, ", fin: false)
        XCTAssertEqual(try messages(), [], "nothing before the final fragment")
        try send(.continuation, "wörld")
        let delivered = try messages()
        XCTAssertEqual(delivered.map { String(buffer: $0.body) }, ["Hello, wörld"])
        XCTAssertEqual(delivered.first?.flags.contains(.binary), false)
    }

    func testBinaryFragmentsStayBinary() throws {
        try send(.binary, [1, 2], fin: false)
        try send(.continuation, [3])
        let delivered = try messages()
        XCTAssertEqual(delivered.map { Array($0.body.readableBytesView) }, [[1, 2, 3]])
        XCTAssertEqual(delivered.first?.flags.contains(.binary), true)
    }

    func testACharacterSplitAcrossFragmentsIsValid() throws {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        try send(.text, Array(euro[..<1]), fin: false)
        try send(.continuation, Array(euro[1...]))
        XCTAssertEqual(try messages().map { String(buffer: $0.body) }, ["€"])
    }

    func testMessagesAfterAFragmentedOneStartFresh() throws {
        try send(.text, "a", fin: false)
        try send(.continuation, "b")
        try send(.text, "c")
        XCTAssertEqual(try messages().map { String(buffer: $0.body) }, ["ab", "c"])
    }

    func testPingBetweenFragmentsIsAnsweredAndTheMessageContinues() throws {
        try send(.text, "ab", fin: false)
        try send(.ping, [9])
        try send(.continuation, "cd")
        XCTAssertEqual(try serverFrames(), [ServerFrame(fin: true, opcode: 0xA, payload: [9])])
        XCTAssertEqual(try messages().map { String(buffer: $0.body) }, ["abcd"])
    }

    func testContinuationWithoutAStartFailsWithProtocolError() throws {
        try send(.continuation, "x")
        try assertFailed(with: 1002)
    }

    func testNewDataFrameInsideAFragmentedMessageFailsWithProtocolError() throws {
        try send(.text, "a", fin: false)
        try send(.text, "b")
        try assertFailed(with: 1002)
    }

    func testFragmentsExceedingTheLimitFailWith1009() throws {
        try send(.binary, [UInt8](repeating: 1, count: 40), fin: false)
        try send(.continuation, [UInt8](repeating: 2, count: 25), fin: false)
        try assertFailed(with: 1009)
        XCTAssertEqual(fixture.incidents("oversized_messages"), 1)
    }

    func testFragmentedInvalidUTF8FailsWith1007() throws {
        try send(.text, [0x61, 0xED], fin: false)
        try send(.continuation, [0xA0, 0x80])  // U+D800, a surrogate
        try assertFailed(with: 1007)
    }

    // MARK: - Control frames

    func testPingIsAnsweredWithPongCarryingItsPayload() throws {
        try send(.ping, Array("are you there".utf8))
        XCTAssertEqual(try serverFrames(), [ServerFrame(fin: true, opcode: 0xA, payload: Array("are you there".utf8))])
        XCTAssertEqual(try messages(), [])
        XCTAssertTrue(channel.isActive)
    }

    func testPingOf125BytesIsAnswered() throws {
        try send(.ping, [UInt8](repeating: 0x41, count: 125))
        XCTAssertEqual(try serverFrames().map(\.payload.count), [125])
    }

    func testPingOver125BytesFailsWithProtocolError() throws {
        try send(.ping, [UInt8](repeating: 0x41, count: 126))
        try assertFailed(with: 1002)
    }

    func testFragmentedPingFailsWithProtocolError() throws {
        try send(.ping, [1], fin: false)
        try assertFailed(with: 1002)
    }

    func testPongIsIgnored() throws {
        try send(.pong, [1, 2, 3])
        XCTAssertEqual(try serverFrames(), [])
        XCTAssertEqual(try messages(), [])
        XCTAssertTrue(channel.isActive)
    }

    func testOversizedPongFailsWithProtocolError() throws {
        try send(.pong, [UInt8](repeating: 0, count: 126))
        try assertFailed(with: 1002)
    }

    // MARK: - Close handshake

    func testCloseIsEchoedThenTheConnectionCloses() throws {
        try send(.connectionClose, closePayload(1000, Array("bye".utf8)))
        let frames = try serverFrames()
        XCTAssertEqual(frames.map(\.closeCode), [1000])
        XCTAssertEqual(frames.first?.payload.count, 2)
        XCTAssertFalse(channel.isActive)
        XCTAssertEqual(try fixture.workerFrames().map(\.command), [.onClose])
    }

    func testCloseWithApplicationCodeIsEchoed() throws {
        try send(.connectionClose, closePayload(4321))
        XCTAssertEqual(try serverFrames().map(\.closeCode), [4321])
        XCTAssertFalse(channel.isActive)
    }

    func testEmptyCloseIsAnsweredWithEmptyClose() throws {
        try send(.connectionClose, [])
        XCTAssertEqual(try serverFrames(), [ServerFrame(fin: true, opcode: 0x8, payload: [])])
        XCTAssertFalse(channel.isActive)
    }

    func testCloseWithOneBytePayloadFailsWithProtocolError() throws {
        try send(.connectionClose, [0x03])
        try assertFailed(with: 1002)
    }

    func testCloseWithAnInvalidCodeFailsWithProtocolError() throws {
        try send(.connectionClose, closePayload(1005))  // "no status": never sent on the wire
        try assertFailed(with: 1002)
    }

    func testCloseWithAnInvalidUTF8ReasonFailsWithProtocolError() throws {
        try send(.connectionClose, closePayload(1000, [0xFF]))
        try assertFailed(with: 1002)
    }

    func testCloseOver125BytesFailsWithProtocolError() throws {
        try send(.connectionClose, closePayload(1000, [UInt8](repeating: 0x61, count: 124)))
        try assertFailed(with: 1002)
    }

    /// Holds the handler in its "closing" state: the close frame is written, but its write
    /// never completes, so the handler's close after it never runs.
    private func holdWriteCompletions() throws -> WriteCompletionHolder {
        let holder = WriteCompletionHolder()
        try channel.pipeline.syncOperations.addHandler(holder, position: .first)
        return holder
    }

    func testFramesAfterTheClientsCloseAreIgnored() throws {
        let holder = try holdWriteCompletions()
        try send(.connectionClose, closePayload(1000))
        XCTAssertEqual(try serverFrames().map(\.closeCode), [1000])
        XCTAssertTrue(channel.isActive, "still waiting for the close frame to be written")

        try send(.text, "late")
        try send(.ping, [1])
        try send(.connectionClose, closePayload(1000))

        XCTAssertEqual(try serverFrames(), [], "no pong, no second close")
        XCTAssertEqual(try messages(), [])
        holder.completeAll()
        XCTAssertFalse(channel.isActive, "closes once the close frame is written")
    }

    func testFailingIsDoneOnce() throws {
        let holder = try holdWriteCompletions()
        try send(.text, Array("x".utf8), masked: false)
        try send(.text, Array("y".utf8), masked: false)
        channel.pipeline.fireErrorCaught(NIOWebSocketError.fragmentedControlFrame)
        XCTAssertTrue(channel.isActive)
        holder.completeAll()
        try assertFailed(with: 1002)
    }

    // MARK: - Frames on the wire

    func testAFrameAnnouncingTooLargeAPayloadFailsWith1009BeforeItArrives() throws {
        // Only the header: a 64-bit length above the limit is refused without waiting for it.
        var header = ByteBuffer()
        header.writeMultipleIntegers(UInt8(0x81), UInt8(0x80 | 127), UInt64(1 << 40))
        try channel.writeInbound(header)
        fixture.loop.run()
        try assertFailed(with: 1009)
        XCTAssertEqual(fixture.incidents("oversized_messages"), 1)
    }

    func testFramesSplitAtEveryByteAndSeveralInOneRead() throws {
        var data = ByteBuffer(bytes: Array("hello".utf8))
        data.webSocketMask(maskKey)
        var wire = ByteBuffer()
        for _ in 0..<3 {
            wire.writeMultipleIntegers(UInt8(0x81), UInt8(0x80 | 5))
            wire.writeBytes(Array(maskKey))
            wire.writeImmutableBuffer(data)
        }
        // The first frame one byte at a time, the other two in one read.
        let firstLength = 2 + 4 + 5
        for offset in 0..<firstLength { try channel.writeInbound(wire.getSlice(at: offset, length: 1)!) }
        try channel.writeInbound(wire.getSlice(at: firstLength, length: 2 * firstLength)!)
        fixture.loop.run()
        XCTAssertEqual(try messages().map { String(buffer: $0.body) }, ["hello", "hello", "hello"])
        XCTAssertTrue(channel.isActive)
    }

    func testAPipelineErrorFailsWithProtocolError() throws {
        channel.pipeline.fireErrorCaught(NIOWebSocketError.fragmentedControlFrame)
        fixture.loop.run()
        try assertFailed(with: 1002)
    }

    // MARK: - Close codes

    func testValidCloseCodes() {
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            XCTAssertTrue(WebSocketConnectionHandler.isValidCloseCode(code), "\(code)")
        }
    }

    func testInvalidCloseCodes() {
        // 1004–1006 and 1015 are reserved and never sent; 1012–1014 and 1016… are not in RFC 6455;
        // 0–999 and 1100–2999 are unused; 5000+ is out of range.
        for code: UInt16 in [0, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            XCTAssertFalse(WebSocketConnectionHandler.isValidCloseCode(code), "\(code)")
        }
    }

    // MARK: - UTF-8

    private func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { WebSocketConnectionHandler.isValidUTF8($0) }
    }

    func testValidUTF8() {
        XCTAssertTrue(isValid([]))
        XCTAssertTrue(isValid(Array("plain ASCII, all of it ~\u{7F}".utf8)))
        XCTAssertTrue(isValid([0x00]))
        XCTAssertTrue(isValid([0xC2, 0x80]), "U+0080, smallest two-byte")
        XCTAssertTrue(isValid([0xC3, 0xA9]), "é")
        XCTAssertTrue(isValid([0xDF, 0xBF]), "U+07FF")
        XCTAssertTrue(isValid([0xE0, 0xA0, 0x80]), "U+0800, smallest three-byte")
        XCTAssertTrue(isValid([0xE2, 0x82, 0xAC]), "€")
        XCTAssertTrue(isValid([0xED, 0x9F, 0xBF]), "U+D7FF, just below the surrogates")
        XCTAssertTrue(isValid([0xEE, 0x80, 0x80]), "U+E000, just above the surrogates")
        XCTAssertTrue(isValid([0xEF, 0xBF, 0xBF]), "U+FFFF")
        XCTAssertTrue(isValid([0xF0, 0x90, 0x80, 0x80]), "U+10000, smallest four-byte")
        XCTAssertTrue(isValid([0xF0, 0x9F, 0x98, 0x80]), "😀")
        XCTAssertTrue(isValid([0xF4, 0x8F, 0xBF, 0xBF]), "U+10FFFF, the last code point")
        XCTAssertTrue(isValid(Array("κόσμε".utf8)))
    }

    func testOverlongEncodingsAreInvalid() {
        XCTAssertFalse(isValid([0xC0, 0x80]), "overlong NUL")
        XCTAssertFalse(isValid([0xC0, 0xAF]), "overlong /")
        XCTAssertFalse(isValid([0xC1, 0xBF]), "overlong U+007F")
        XCTAssertFalse(isValid([0xE0, 0x80, 0xAF]), "overlong / in three bytes")
        XCTAssertFalse(isValid([0xE0, 0x9F, 0xBF]), "overlong U+07FF")
        XCTAssertFalse(isValid([0xF0, 0x80, 0x80, 0xAF]), "overlong / in four bytes")
        XCTAssertFalse(isValid([0xF0, 0x8F, 0xBF, 0xBF]), "overlong U+FFFF")
    }

    func testSurrogatesAreInvalid() {
        XCTAssertFalse(isValid([0xED, 0xA0, 0x80]), "U+D800")
        XCTAssertFalse(isValid([0xED, 0xAD, 0xBF]), "U+DB7F")
        XCTAssertFalse(isValid([0xED, 0xB0, 0x80]), "U+DC00")
        XCTAssertFalse(isValid([0xED, 0xBF, 0xBF]), "U+DFFF")
        XCTAssertFalse(isValid([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]), "a CESU-8 surrogate pair")
    }

    func testCodePointsAboveTheRangeAreInvalid() {
        XCTAssertFalse(isValid([0xF4, 0x90, 0x80, 0x80]), "U+110000")
        XCTAssertFalse(isValid([0xF5, 0x80, 0x80, 0x80]))
        XCTAssertFalse(isValid([0xF7, 0xBF, 0xBF, 0xBF]))
        XCTAssertFalse(isValid([0xF8, 0x88, 0x80, 0x80, 0x80]), "five-byte form")
        XCTAssertFalse(isValid([0xFC, 0x84, 0x80, 0x80, 0x80, 0x80]), "six-byte form")
        XCTAssertFalse(isValid([0xFE]))
        XCTAssertFalse(isValid([0xFF]))
    }

    func testTruncatedAndStraySequencesAreInvalid() {
        XCTAssertFalse(isValid([0xC3]), "lead byte alone")
        XCTAssertFalse(isValid([0xE2, 0x82]), "three-byte sequence cut short")
        XCTAssertFalse(isValid([0xF0, 0x9F, 0x98]), "four-byte sequence cut short")
        XCTAssertFalse(isValid([0x80]), "lone continuation byte")
        XCTAssertFalse(isValid([0xBF, 0x41]))
        XCTAssertFalse(isValid([0xC3, 0x41]), "continuation replaced by ASCII")
        XCTAssertFalse(isValid([0xE2, 0x82, 0xAC, 0xAC]), "one continuation too many")
        XCTAssertFalse(isValid([0xE2, 0x41, 0xAC]))
    }

    func testASCIIFastPathFollowedByMultiByte() {
        let prefix = [UInt8](repeating: 0x61, count: 1000)
        XCTAssertTrue(isValid(prefix + [0xE2, 0x82, 0xAC]))
        XCTAssertTrue(isValid(prefix + [0xF0, 0x9F, 0x98, 0x80] + prefix))
        XCTAssertTrue(isValid(Array("abc€def😀".utf8)))
        XCTAssertFalse(isValid(prefix + [0xC0, 0x80]), "overlong after ASCII")
        XCTAssertFalse(isValid(prefix + [0xED, 0xA0, 0x80]), "surrogate after ASCII")
        XCTAssertFalse(isValid(prefix + [0xE2, 0x82]), "truncated after ASCII")
        XCTAssertFalse(isValid(prefix + [0x80]), "stray continuation after ASCII")
        XCTAssertFalse(isValid(Array("abc€def".utf8) + [0xFF] + Array("ghi".utf8)), "invalid after mixed text")
        XCTAssertFalse(isValid(Array("é".utf8) + prefix + [0xC3]), "truncated at the very end after a long run")
    }

    func testValidatesASliceOfALargerBuffer() {
        let bytes: [UInt8] = [0xFF, 0x61, 0x62, 0xC3, 0xA9]
        bytes.withUnsafeBufferPointer { all in
            XCTAssertFalse(WebSocketConnectionHandler.isValidUTF8(all))
            XCTAssertTrue(WebSocketConnectionHandler.isValidUTF8(UnsafeBufferPointer(rebasing: all[1...])))
        }
    }
}

/// Passes writes on but keeps their promises pending until `completeAll()`.
private final class WriteCompletionHolder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let promise { promises.append(promise) }
        context.write(data, promise: nil)
    }

    func completeAll() {
        let pending = promises
        promises = []
        for promise in pending { promise.succeed() }
    }
}

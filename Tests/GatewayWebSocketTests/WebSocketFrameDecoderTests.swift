import GatewayWebSocket
import XCTest

/// Every rule and path of `WebSocketFrameDecoder`, byte-level. Every stream is also decoded one
/// byte per read and in two reads cut at every offset (`EngineFeed.assertEveryDelivery`), which
/// checks the consumed-count contract the engine relies on.
final class WebSocketFrameDecoderTests: XCTestCase {
    // MARK: - Whole messages

    func testSingleFrameMessages() {
        let stream: [ClientFrame] = [
            .text("hello"), .text(""), .text("héllo wörld 😀"), .binary([0, 1, 2, 0xFF]), .binary([]),
        ]
        EngineFeed.assertEveryDelivery(
            stream.bytes,
            gives: [.text("hello"), .text(""), .text("héllo wörld 😀"), .binary([0, 1, 2, 0xFF]), .binary([])])
    }

    func testEveryLengthFormAndItsBoundaries() {
        for length in [0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70_000] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            XCTAssertEqual(
                EngineFeed.decode(ClientFrame.binary(payload).bytes, maximumMessageBytes: 1 << 20), [.binary(payload)],
                "length \(length)")
        }
        // Long frames cut everywhere would take minutes; a 300-byte one crosses the 16-bit form.
        EngineFeed.assertEveryDelivery(ClientFrame.binary(Array(repeating: 0x5A, count: 300)).bytes, gives: [.binary(Array(repeating: 0x5A, count: 300))])
    }

    func testLengthsInALongerFormThanNeededAreAccepted() {
        // RFC 6455 asks for the shortest form, but SwiftNIO's parser took any; so does this one.
        for form in [ClientFrame.LengthForm.medium, .long] {
            EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x1, payload: Array("hi".utf8), lengthForm: form).bytes, gives: [.text("hi")])
        }
    }

    func testUnmaskingKeepsEveryKeyByteInPlace() {
        for key in [[0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [1, 2, 3, 4], [0x80, 0x7F, 0x00, 0xC3]] as [[UInt8]] {
            for length in 0..<20 {
                let payload = (0..<length).map { UInt8($0 + 0x41) }
                let frame = ClientFrame(opcode: 0x2, payload: payload, maskingKey: key)
                XCTAssertEqual(EngineFeed.decode(frame.bytes, maximumMessageBytes: 100), [.binary(payload)], "key \(key) length \(length)")
            }
        }
    }

    func testEachCallReportsOneEventAndConsumesExactlyItsFrame() {
        let first = ClientFrame.text("one").bytes
        let second = ClientFrame.ping([9]).bytes
        let partial = Array(ClientFrame.binary([1, 2, 3]).bytes.prefix(5))
        var bytes = first + second + partial
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        bytes.withUnsafeMutableBytes { buffer in
            let one = decoder.decode(buffer)
            XCTAssertEqual(one.consumed, first.count)
            guard case .message(let message) = one.event else { return XCTFail("\(one.event)") }
            XCTAssertEqual(Array(message.payload), Array("one".utf8))
            // The payload was unmasked where it lies, inside the bytes handed over.
            XCTAssertEqual(message.payload.baseAddress, UnsafeRawPointer(buffer.baseAddress! + 2 + 4))

            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[one.consumed...])
            let two = decoder.decode(rest)
            XCTAssertEqual(two.consumed, second.count)
            guard case .ping(let payload) = two.event else { return XCTFail("\(two.event)") }
            XCTAssertEqual(Array(payload), [9])

            let three = decoder.decode(UnsafeMutableRawBufferPointer(rebasing: rest[two.consumed...]))
            XCTAssertEqual(three.consumed, 0)
            guard case .needMoreBytes = three.event else { return XCTFail("\(three.event)") }
        }
        XCTAssertEqual(Array(bytes.suffix(5)), partial, "the partial frame is left as it came")
    }

    func testAPartialFramesSizeIsReportedOnceItsHeaderIsIn() {
        for (frame, size) in [
            (ClientFrame.text("hello"), 2 + 4 + 5), (.binary(Array(repeating: 1, count: 300)), 4 + 4 + 300),
            (.binary(Array(repeating: 1, count: 70_000)), 10 + 4 + 70_000), (.ping([]), 6),
        ] {
            let bytes = frame.bytes
            let lengthEnd = size - 4 - frame.payload.count  // where the masking key starts
            for end in Array(0..<min(bytes.count, 40)) + [bytes.count - 1] {
                var partial = Array(bytes.prefix(end))
                var decoder = WebSocketFrameDecoder(maximumMessageBytes: 1 << 20)
                let result = partial.withUnsafeMutableBytes { decoder.decode($0) }
                guard case .needMoreBytes = result.event else { return XCTFail("\(result.event)") }
                XCTAssertEqual(result.consumed, 0)
                XCTAssertEqual(result.pendingFrameSize, end < lengthEnd ? 0 : size, "\(size)-byte frame cut at \(end)")
            }
        }
        // Behind whole frames, the size is the partial one's.
        var bytes = ClientFrame.text("one").bytes + Array(ClientFrame.binary([1, 2, 3]).bytes.prefix(3))
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        bytes.withUnsafeMutableBytes { buffer in
            let first = decoder.decode(buffer)
            let second = decoder.decode(UnsafeMutableRawBufferPointer(rebasing: buffer[first.consumed...]))
            XCTAssertEqual(second.consumed, 0)
            XCTAssertEqual(second.pendingFrameSize, 2 + 4 + 3)
        }
    }

    func testEmptyInputNeedsMoreBytes() {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        let result = decoder.decode(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(result.consumed, 0)
        guard case .needMoreBytes = result.event else { return XCTFail("\(result.event)") }
    }

    // MARK: - Control frames

    func testPingsAndPongsCarryTheirPayloads() {
        let maximal = Array(repeating: UInt8(0xA5), count: 125)
        EngineFeed.assertEveryDelivery(
            [.ping(), .ping([1, 2, 3]), .pong(), .pong(Array("beat".utf8)), .ping(maximal)].bytes,
            gives: [.ping([]), .ping([1, 2, 3]), .pong([]), .pong(Array("beat".utf8)), .ping(maximal)])
    }

    func testControlFramesAreJudgedRegardlessOfTheMessageLimit() {
        // A 100-byte ping passes with a 16-byte message limit: control frames have their own.
        let payload = Array(repeating: UInt8(7), count: 100)
        EngineFeed.assertEveryDelivery(ClientFrame.ping(payload).bytes, gives: [.ping(payload)], maximumMessageBytes: 16)
    }

    func testControlFramesLongerThan125BytesFail() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let frame = ClientFrame(opcode: opcode, payload: Array(repeating: 1, count: 126))
            EngineFeed.assertEveryDelivery(frame.bytes, gives: [.failure(.controlFrameTooLong)])
            // Judged from the length alone: no payload, masking key or rule comes first.
            let header = ClientFrame(reservedBits: 7, opcode: opcode, maskingKey: nil, announcedLength: UInt64.max).bytes
            XCTAssertEqual(EngineFeed.decode(Array(header.prefix(10)), maximumMessageBytes: 64), [.failure(.controlFrameTooLong)])
        }
    }

    func testFragmentedControlFramesFail() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            EngineFeed.assertEveryDelivery(ClientFrame(fin: false, opcode: opcode).bytes, gives: [.failure(.fragmentedControlFrame)])
        }
    }

    // MARK: - Close frames

    func testCloseFrames() {
        EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x8).bytes, gives: [.close(code: nil, reason: [])])
        EngineFeed.assertEveryDelivery(ClientFrame.close(code: 1000).bytes, gives: [.close(code: 1000, reason: [])])
        EngineFeed.assertEveryDelivery(
            ClientFrame.close(code: 4999, reason: Array("bye ✓".utf8)).bytes, gives: [.close(code: 4999, reason: Array("bye ✓".utf8))])
        let longest = Array(repeating: UInt8(ascii: "r"), count: 123)
        EngineFeed.assertEveryDelivery(ClientFrame.close(code: 1001, reason: longest).bytes, gives: [.close(code: 1001, reason: longest)])
    }

    func testEveryCloseCodeIsJudgedAsTheSwiftNIOHandlerJudgedIt() {
        let valid = Set<UInt16>([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011]).union(3000...4999)
        for code in UInt16(0)...UInt16(6000) {
            let events = EngineFeed.decode(ClientFrame.close(code: code).bytes, maximumMessageBytes: 64)
            XCTAssertEqual(events, valid.contains(code) ? [.close(code: code, reason: [])] : [.failure(.invalidCloseCode)], "code \(code)")
        }
        XCTAssertEqual(EngineFeed.decode(ClientFrame.close(code: 0xFFFF).bytes, maximumMessageBytes: 64), [.failure(.invalidCloseCode)])
    }

    func testCloseFrameRules() {
        EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x8, payload: [0x03]).bytes, gives: [.failure(.oneByteClosePayload)])
        EngineFeed.assertEveryDelivery(ClientFrame.close(code: 1000, reason: [0xCE, 0xBA, 0xE1]).bytes, gives: [.failure(.invalidCloseReason)])
        EngineFeed.assertEveryDelivery(ClientFrame.close(code: 1000, reason: [0xED, 0xA0, 0x80]).bytes, gives: [.failure(.invalidCloseReason)])
    }

    func testNothingIsReportedAfterTheClientsClose() {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        let close = ClientFrame.close(code: 1000).bytes
        var bytes = ClientFrame.text("before").bytes + close + ClientFrame.text("after").bytes
        let closeEnd = ClientFrame.text("before").bytes.count + close.count
        XCTAssertEqual(EngineFeed.decode(bytes, cuts: [], with: &decoder), [.text("before"), .close(code: 1000, reason: [])])
        XCTAssertTrue(decoder.isFinished)
        bytes.withUnsafeMutableBytes { buffer in
            let result = decoder.decode(UnsafeMutableRawBufferPointer(rebasing: buffer[closeEnd...]))
            XCTAssertEqual(result.consumed, buffer.count - closeEnd)
            guard case .finished = result.event else { return XCTFail("\(result.event)") }
        }
    }

    func testTheCloseFrameIsConsumedAndWhatFollowsIsLeft() {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        let close = ClientFrame.close(code: 1000).bytes
        var bytes = close + ClientFrame.text("after").bytes
        bytes.withUnsafeMutableBytes { buffer in
            XCTAssertEqual(decoder.decode(buffer).consumed, close.count)
        }
    }

    // MARK: - Rules every frame obeys

    func testUnmaskedFramesFail() {
        for frame in [ClientFrame.text("hi"), .binary([1]), .ping(), .pong(), ClientFrame(opcode: 0x8), .continuation([], fin: true)] {
            var unmasked = frame
            unmasked.maskingKey = nil
            EngineFeed.assertEveryDelivery(unmasked.bytes, gives: [.failure(.unmaskedFrame)])
        }
    }

    func testReservedBitsFail() {
        for bits: UInt8 in 1...7 {
            EngineFeed.assertEveryDelivery(ClientFrame(reservedBits: bits, opcode: 0x1, payload: Array("x".utf8)).bytes, gives: [.failure(.reservedBitsSet)])
            EngineFeed.assertEveryDelivery(ClientFrame(reservedBits: bits, opcode: 0x9).bytes, gives: [.failure(.reservedBitsSet)])
        }
    }

    func testUnknownOpcodesFail() {
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            EngineFeed.assertEveryDelivery(ClientFrame(opcode: opcode, payload: [1, 2]).bytes, gives: [.failure(.unknownOpcode)])
            EngineFeed.assertEveryDelivery(ClientFrame(fin: false, opcode: opcode).bytes, gives: [.failure(.unknownOpcode)])
        }
    }

    func testRulesAreCheckedInTheSwiftNIOHandlersOrder() {
        // Length limits first (as WebSocketFrameParser threw before the handler saw the frame),
        // then masking, then reserved bits, then the opcode's rules.
        let oversizedUnmasked = ClientFrame(reservedBits: 1, opcode: 0x3, payload: Array(repeating: 0, count: 17), maskingKey: nil)
        XCTAssertEqual(EngineFeed.decode(oversizedUnmasked.bytes, maximumMessageBytes: 16), [.failure(.messageTooLarge)])
        let unmaskedWithReservedBits = ClientFrame(reservedBits: 1, opcode: 0x3, maskingKey: nil)
        XCTAssertEqual(EngineFeed.decode(unmaskedWithReservedBits.bytes, maximumMessageBytes: 16), [.failure(.unmaskedFrame)])
        XCTAssertEqual(EngineFeed.decode(ClientFrame(reservedBits: 1, opcode: 0x3).bytes, maximumMessageBytes: 16), [.failure(.reservedBitsSet)])
        XCTAssertEqual(EngineFeed.decode(ClientFrame(fin: false, reservedBits: 4, opcode: 0x9).bytes, maximumMessageBytes: 16), [.failure(.reservedBitsSet)])
        let unmaskedContinuation = ClientFrame(opcode: 0x0, maskingKey: nil)
        XCTAssertEqual(EngineFeed.decode(unmaskedContinuation.bytes, maximumMessageBytes: 16), [.failure(.unmaskedFrame)])
    }

    func testABrokenRuleFailsOnceTheHeaderIsInWithoutWaitingForThePayload() {
        let header = Array(ClientFrame(reservedBits: 2, opcode: 0x1, payload: Array(repeating: 0x61, count: 40)).bytes.prefix(6))
        XCTAssertEqual(EngineFeed.decode(header, maximumMessageBytes: 64), [.failure(.reservedBitsSet)])
        // A masked frame is judged once its masking key is in, not before.
        XCTAssertEqual(EngineFeed.decode(Array(header.prefix(5)), maximumMessageBytes: 64), [])
    }

    // MARK: - The size limit

    func testTheLimitIsInclusive() {
        let limit = 16
        let atLimit = Array(repeating: UInt8(0x41), count: limit)
        EngineFeed.assertEveryDelivery(ClientFrame.binary(atLimit).bytes, gives: [.binary(atLimit)], maximumMessageBytes: limit)
        EngineFeed.assertEveryDelivery(
            ClientFrame.binary(atLimit + [0x41]).bytes, gives: [.failure(.messageTooLarge)], maximumMessageBytes: limit)
        XCTAssertEqual(WebSocketProtocolFailure.messageTooLarge.closeCode, 1009)
    }

    func testAnOversizedFrameFailsFromItsHeaderAlone() {
        for announced: UInt64 in [17, 65_536, 1 << 40, UInt64.max] {
            let header = ClientFrame(opcode: 0x2, announcedLength: announced).bytes
            // The header without the masking key: the length is enough.
            let lengthOnly = Array(header.prefix(announced < 126 ? 2 : announced <= 0xFFFF ? 4 : 10))
            XCTAssertEqual(EngineFeed.decode(lengthOnly, maximumMessageBytes: 16), [.failure(.messageTooLarge)], "\(announced)")
        }
    }

    func testAZeroLimitAllowsOnlyEmptyMessages() {
        EngineFeed.assertEveryDelivery(
            [.text(""), .text("", fin: false), .continuation([], fin: true), .ping([1])].bytes,
            gives: [.text(""), .text(""), .ping([1])], maximumMessageBytes: 0)
        EngineFeed.assertEveryDelivery(ClientFrame.text("x").bytes, gives: [.failure(.messageTooLarge)], maximumMessageBytes: 0)
    }

    // MARK: - Fragmented messages

    func testFragmentedMessagesAreReassembled() {
        EngineFeed.assertEveryDelivery(
            [.text("Hel", fin: false), .continuation(Array("lo, ".utf8), fin: false), .continuation(Array("world".utf8), fin: true)].bytes,
            gives: [.text("Hello, world")])
        EngineFeed.assertEveryDelivery(
            [.binary([1], fin: false), .continuation([], fin: false), .continuation([2, 3], fin: true)].bytes, gives: [.binary([1, 2, 3])])
        EngineFeed.assertEveryDelivery(
            [.text("", fin: false), .continuation([], fin: true)].bytes, gives: [.text("")])
    }

    func testControlFramesMayComeBetweenFragments() {
        EngineFeed.assertEveryDelivery(
            [.text("a", fin: false), .ping([1]), .continuation(Array("b".utf8), fin: false), .pong([]), .continuation(Array("c".utf8), fin: true),
             .text("next")].bytes,
            gives: [.ping([1]), .pong([]), .text("abc"), .text("next")])
    }

    func testACloseBetweenFragmentsEndsTheConnection() {
        EngineFeed.assertEveryDelivery(
            [.text("a", fin: false), .close(code: 1000), .continuation(Array("b".utf8), fin: true)].bytes,
            gives: [.close(code: 1000, reason: [])])
    }

    func testACharacterMaySpanFragments() {
        let euro = Array("€".utf8)  // E2 82 AC
        EngineFeed.assertEveryDelivery(
            [ClientFrame(fin: false, opcode: 0x1, payload: [euro[0]]), .continuation([euro[1]], fin: false), .continuation([euro[2]], fin: true)].bytes,
            gives: [.text("€")])
    }

    func testFragmentSequencingRules() {
        EngineFeed.assertEveryDelivery(ClientFrame.continuation([1], fin: true).bytes, gives: [.failure(.unexpectedContinuation)])
        EngineFeed.assertEveryDelivery(ClientFrame.continuation([1], fin: false).bytes, gives: [.failure(.unexpectedContinuation)])
        EngineFeed.assertEveryDelivery([.text("a", fin: false), .text("b")].bytes, gives: [.failure(.interruptedFragmentedMessage)])
        EngineFeed.assertEveryDelivery([.text("a", fin: false), .binary([1], fin: false)].bytes, gives: [.failure(.interruptedFragmentedMessage)])
        // After a whole fragmented message, a continuation is unexpected again.
        EngineFeed.assertEveryDelivery(
            [.binary([1], fin: false), .continuation([2], fin: true), .continuation([3], fin: true)].bytes,
            gives: [.binary([1, 2]), .failure(.unexpectedContinuation)])
    }

    func testFragmentsCountTogetherAgainstTheLimit() {
        let eight = Array(repeating: UInt8(0x42), count: 8)
        EngineFeed.assertEveryDelivery(
            [.binary(eight, fin: false), .continuation(eight, fin: true)].bytes, gives: [.binary(eight + eight)], maximumMessageBytes: 16)
        EngineFeed.assertEveryDelivery(
            [.binary(eight, fin: false), .continuation(eight, fin: false), .continuation([1], fin: true)].bytes,
            gives: [.failure(.messageTooLarge)], maximumMessageBytes: 16)
        // Judged from the continuation's header (masking key included: masking is checked
        // first), before its payload is in.
        let header = Array(ClientFrame.continuation(eight + [1], fin: true).bytes.prefix(6))
        XCTAssertEqual(EngineFeed.decode(ClientFrame.binary(eight, fin: false).bytes + header, maximumMessageBytes: 16), [.failure(.messageTooLarge)])
    }

    func testLargeFragmentedMessagesGrowTheirBuffer() {
        let chunks = (0..<5).map { index in (0..<(3000 + index * 1111)).map { UInt8(truncatingIfNeeded: $0 ^ index) } }
        var frames: [ClientFrame] = [.binary(chunks[0], fin: false)]
        frames += chunks.dropFirst().enumerated().map { ClientFrame.continuation($0.element, fin: $0.offset == chunks.count - 2) }
        let expected = chunks.flatMap { $0 }
        // Twice: the buffer of the first message is released and a new one built for the second.
        XCTAssertEqual(EngineFeed.decode((frames + frames).bytes, maximumMessageBytes: 1 << 20), [.binary(expected), .binary(expected)])
        // At a limit just above the message, the buffer's growth stops at the limit.
        XCTAssertEqual(EngineFeed.decode(frames.bytes, maximumMessageBytes: expected.count), [.binary(expected)])
        XCTAssertEqual(
            EngineFeed.decode(frames.bytes, cuts: Array(stride(from: 0, to: expected.count, by: 997)), maximumMessageBytes: expected.count),
            [.binary(expected)])
    }

    // MARK: - UTF-8

    func testTextMustBeUTF8OnceWhole() {
        XCTAssertEqual(WebSocketProtocolFailure.invalidUTF8.closeCode, 1007)
        EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x1, payload: [0x61, 0xFF]).bytes, gives: [.failure(.invalidUTF8)])
        EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x1, payload: [0xE2, 0x82]).bytes, gives: [.failure(.invalidUTF8)])
        // Binary messages are not text.
        EngineFeed.assertEveryDelivery(ClientFrame(opcode: 0x2, payload: [0xFF]).bytes, gives: [.binary([0xFF])])
        // A fragmented message is judged when it is whole, not fragment by fragment.
        EngineFeed.assertEveryDelivery(
            [ClientFrame(fin: false, opcode: 0x1, payload: [0xE2, 0x82]), .ping([]), .continuation([0x61], fin: true)].bytes,
            gives: [.ping([]), .failure(.invalidUTF8)])
    }

    // MARK: - Decoding in a stream

    func testManyMessagesInOneRead() {
        var frames: [ClientFrame] = []
        var expected: [DecodedEvent] = []
        for index in 0..<50 {
            switch index % 3 {
            case 0:
                frames.append(.binary([UInt8(index)]))
                expected.append(.binary([UInt8(index)]))
            case 1:
                frames.append(.text("m\(index)"))
                expected.append(.text("m\(index)"))
            default:
                frames.append(.ping([UInt8(index)]))
                expected.append(.ping([UInt8(index)]))
            }
        }
        EngineFeed.assertEveryDelivery(frames.bytes, gives: expected)
    }

    func testTheDecoderIsSmallEnoughForAPerConnectionRecord() {
        XCTAssertLessThanOrEqual(MemoryLayout<WebSocketFrameDecoder>.stride, 24)
    }

    func testAFailureConsumesEverythingAndLaterCallsAreFinished() {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 64)
        var bytes = ClientFrame(opcode: 0x3).bytes + ClientFrame.text("ignored").bytes
        bytes.withUnsafeMutableBytes { buffer in
            let failed = decoder.decode(buffer)
            XCTAssertEqual(failed.consumed, buffer.count)
            guard case .failure(.unknownOpcode) = failed.event else { return XCTFail("\(failed.event)") }
            let after = decoder.decode(buffer)
            XCTAssertEqual(after.consumed, buffer.count)
            guard case .finished = after.event else { return XCTFail("\(after.event)") }
        }
    }
}

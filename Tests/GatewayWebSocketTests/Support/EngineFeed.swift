import GatewayWebSocket
import XCTest

/// What a decoder reported, copied out of the buffers it points into.
enum DecodedEvent: Equatable {
    case message(WebSocketMessageKind, [UInt8])
    /// permessage-deflate: the payload as sent (still compressed).
    case compressedMessage(WebSocketMessageKind, [UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(code: UInt16?, reason: [UInt8])
    case failure(WebSocketProtocolFailure)

    static func text(_ text: String) -> DecodedEvent { .message(.text, Array(text.utf8)) }
    static func binary(_ bytes: [UInt8]) -> DecodedEvent { .message(.binary, bytes) }
}

/// Feeds bytes to the codecs the way `ClientEngine` does: each read is appended to the bytes
/// not consumed so far, and the whole is offered again. Checks the consumed-count contract on
/// the way: never more than offered, a failure consumes everything, and bytes left unconsumed
/// are exactly the stream's (a frame cut off is not unmasked, or touched at all, early).
enum EngineFeed {
    /// Decodes `stream` delivered in pieces cut at `cuts` (ascending offsets), until the
    /// stream ends or the decoder reports a close or a failure.
    static func decode(
        _ stream: [UInt8], cuts: [Int] = [], maximumMessageBytes: Int, file: StaticString = #filePath, line: UInt = #line
    ) -> [DecodedEvent] {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: maximumMessageBytes)
        return decode(stream, cuts: cuts, with: &decoder, file: file, line: line)
    }

    static func decode(
        _ stream: [UInt8], cuts: [Int], with decoder: inout WebSocketFrameDecoder, file: StaticString = #filePath,
        line: UInt = #line
    ) -> [DecodedEvent] {
        var events: [DecodedEvent] = []
        var pending: [UInt8] = []
        var pendingStart = 0  // where pending[0] sits in the stream
        for piece in pieces(of: stream, cuts: cuts) {
            pending += piece
            var consumed = 0
            var finished = false
            pending.withUnsafeMutableBytes { buffer in
                while !finished {
                    let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[consumed...])
                    let result = decoder.decode(rest)
                    XCTAssertLessThanOrEqual(result.consumed, rest.count, "consumed more than offered", file: file, line: line)
                    XCTAssertGreaterThanOrEqual(result.consumed, 0, file: file, line: line)
                    consumed += result.consumed
                    switch result.event {
                    case .needMoreBytes:
                        if result.pendingFrameSize > 0 {
                            XCTAssertGreaterThan(result.pendingFrameSize, buffer.count - consumed, "a whole frame left", file: file, line: line)
                        }
                        XCTAssertEqual(
                            Array(buffer[consumed...]), Array(stream[(pendingStart + consumed)..<(pendingStart + buffer.count)]),
                            "unconsumed bytes were changed", file: file, line: line)
                        return
                    case .message(let message):
                        events.append(
                            message.compressed
                                ? .compressedMessage(message.kind, Array(message.payload)) : .message(message.kind, Array(message.payload)))
                    case .ping(let payload):
                        events.append(.ping(Array(payload)))
                    case .pong(let payload):
                        events.append(.pong(Array(payload)))
                    case .close(let close):
                        events.append(.close(code: close.code, reason: Array(close.reason)))
                        finished = true
                    case .failure(let failure):
                        XCTAssertEqual(result.consumed, rest.count, "a failure consumes everything", file: file, line: line)
                        events.append(.failure(failure))
                        finished = true
                    case .finished:
                        XCTFail("finished before a close or failure", file: file, line: line)
                        finished = true
                    }
                    XCTAssertEqual(decoder.isFinished, finished, file: file, line: line)
                }
            }
            pending.removeFirst(consumed)
            pendingStart += consumed
            if finished { break }
        }
        return events
    }

    /// Decodes `stream` whole, one byte per read, and in two reads cut at every offset, and
    /// checks that every way gives `expected`.
    static func assertEveryDelivery(
        _ stream: [UInt8], gives expected: [DecodedEvent], maximumMessageBytes: Int = 1 << 20,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(decode(stream, maximumMessageBytes: maximumMessageBytes, file: file, line: line), expected, "whole", file: file, line: line)
        XCTAssertEqual(
            decode(stream, cuts: Array(0..<stream.count), maximumMessageBytes: maximumMessageBytes, file: file, line: line), expected,
            "one byte at a time", file: file, line: line)
        for cut in 1..<max(stream.count, 1) {
            let events = decode(stream, cuts: [cut], maximumMessageBytes: maximumMessageBytes, file: file, line: line)
            XCTAssertEqual(events, expected, "cut at \(cut)", file: file, line: line)
            if events != expected { return }
        }
    }

    static func pieces(of stream: [UInt8], cuts: [Int]) -> [ArraySlice<UInt8>] {
        var start = 0
        var pieces: [ArraySlice<UInt8>] = []
        for cut in cuts + [stream.count] where cut >= start {
            pieces.append(stream[start..<cut])
            start = cut
        }
        return pieces
    }

    /// Parses a handshake delivered in pieces; for an upgrade, also returns the bytes that
    /// followed the request in the stream (pipelined frames).
    static func handshake(
        _ stream: [UInt8], cuts: [Int] = [], maximumRequestBytes: Int = WebSocketHandshakeParser.defaultMaximumRequestBytes
    ) -> (result: HandshakeOutcome, rest: [UInt8]) {
        var parser = WebSocketHandshakeParser(maximumRequestBytes: maximumRequestBytes)
        var pending: [UInt8] = []
        for piece in pieces(of: stream, cuts: cuts) {
            pending += piece
            let result = pending.withUnsafeBytes { parser.parse($0) }
            switch result {
            case .needMoreBytes: continue
            case .refused(let refusal): return (.refused(refusal), [])
            case .upgrade(let request, let consumed):
                XCTAssertLessThanOrEqual(consumed, pending.count)
                return (.upgrade(HandshakeOutcome.Request(request)), Array(stream[consumed...]))
            }
        }
        return (.needMoreBytes, [])
    }
}

/// A handshake result that can be compared.
enum HandshakeOutcome: Equatable {
    case needMoreBytes
    case refused(WebSocketHandshakeRefusal)
    case upgrade(Request)

    struct Request: Equatable {
        var method: String
        var uri: String
        var httpVersion: String
        var headers: [[String]]
        var key: String

        init(_ request: WebSocketUpgradeRequest) {
            method = request.method
            uri = request.uri
            httpVersion = request.httpVersion
            headers = request.headers.map { [$0.name, $0.value] }
            key = request.key
        }
    }

    var request: Request? {
        if case .upgrade(let request) = self { return request }
        return nil
    }
}

import Foundation
import GatewayWebSocket
import GatewayWire

/// A client's bytes through the codecs, with the engine's contract checked at every call.
struct CodecSession {
    struct Message: Equatable {
        var binary: Bool
        var body: [UInt8]
    }

    /// What the gateway writes back: the 101 or a refusal, pongs, close replies and failures' close frames.
    private(set) var written: [UInt8] = []
    /// The ON_WEBSOCKET_CONNECT body the worker would get.
    private(set) var connectInfo: [UInt8]?
    private(set) var messages: [Message] = []
    private(set) var closed = false
    /// The stream ends inside a frame: where the decoder judges a frame from its header,
    /// SwiftNIO waited for all of it.
    private(set) var endsInsideAFrame = false
    private(set) var refusal: WebSocketHandshakeRefusal?
    /// The request is not whole yet.
    private(set) var awaitingRequest = true
    /// The request was refused from its head while it announced a body.
    private(set) var refusedBeforeItsBody = false

    init(_ reads: [[UInt8]], maximumMessageBytes: Int) {
        let stream = reads.flatMap { $0 }
        var parser = WebSocketHandshakeParser()
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: maximumMessageBytes)
        var pending: [UInt8] = []
        var pendingStart = 0  // where pending[0] is in the stream
        var upgraded = false
        for read in reads where !closed {
            pending += read
            if !upgraded {
                switch pending.withUnsafeBytes({ parser.parse($0) }) {
                case .needMoreBytes:
                    continue
                case .refused(let refusal):
                    written = refusal.response
                    self.refusal = refusal
                    awaitingRequest = false
                    closed = true
                    refusedBeforeItsBody = Self.announcesBody(stream)
                    continue
                case .upgrade(let request, let consumed):
                    precondition(consumed > 0 && consumed <= pending.count, "consumed \(consumed) of \(pending.count)")
                    Self.check(request)
                    connectInfo = WebSocketConnectInfo(method: request.method, uri: request.uri, httpVersion: request.httpVersion, headers: request.headers)
                        .serializedBody()
                    written = WebSocketHandshakeResponse.switchingProtocols(key: request.key)
                    pending.removeFirst(consumed)
                    pendingStart += consumed
                    upgraded = true
                    awaitingRequest = false
                    endsInsideAFrame = Self.endsInsideAFrame(stream[pendingStart...])
                }
            }
            let consumed = decodeFrames(in: &pending, at: pendingStart, of: stream, with: &decoder, limit: maximumMessageBytes)
            pending.removeFirst(consumed)
            pendingStart += consumed
        }
    }

    /// Offers `pending` to the decoder until it needs more bytes or is finished; returns the
    /// bytes consumed.
    private mutating func decodeFrames(
        in pending: inout [UInt8], at start: Int, of stream: [UInt8], with decoder: inout WebSocketFrameDecoder, limit: Int
    ) -> Int {
        var offset = 0
        pending.withUnsafeMutableBytes { buffer in
            while !closed {
                let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[offset...])
                let result = decoder.decode(rest)
                precondition(result.consumed >= 0 && result.consumed <= rest.count, "consumed \(result.consumed) of \(rest.count)")
                offset += result.consumed
                switch result.event {
                case .needMoreBytes:
                    precondition(buffer[offset...].elementsEqual(stream[(start + offset)..<(start + buffer.count)]), "unconsumed bytes changed")
                    // The frame the rest begins, when its header is in: not there yet, and within the limits.
                    let size = result.pendingFrameSize
                    precondition(size == 0 || (size > buffer.count - offset && size <= 14 + max(limit, 125)), "pending frame size \(size)")
                    return
                case .message(let message):
                    precondition(message.payload.count <= limit, "a message over the limit")
                    precondition(message.kind == .binary || String(validating: message.payload, as: UTF8.self) != nil, "text not UTF-8")
                    messages.append(Message(binary: message.kind == .binary, body: Array(message.payload)))
                case .ping(let payload):
                    precondition(payload.count <= 125)
                    written += Self.bytes { WebSocketServerFrameWriter.writeFrame(opcode: WebSocketServerFrameWriter.pongOpcode, payload: payload, to: $0) }
                case .pong(let payload):
                    precondition(payload.count <= 125)
                case .close(let close):
                    precondition(close.code.map(WebSocketCloseFrame.isValidCode) ?? close.reason.isEmpty, "invalid close code")
                    precondition(String(validating: close.reason, as: UTF8.self) != nil, "close reason not UTF-8")
                    written += Self.bytes { close.writeReply(to: $0) }
                    closed = true
                case .failure(let failure):
                    precondition(result.consumed == rest.count, "a failure left bytes")
                    written += WebSocketServerFrameWriter.closeFrame(code: failure.closeCode)
                    closed = true
                case .finished:
                    preconditionFailure("finished before a close or failure")
                }
                precondition(decoder.isFinished == closed)
            }
        }
        return offset
    }

    /// An accepted request is GET over HTTP/1.1 with a 16-byte key, and re-serialized it
    /// parses to itself.
    private static func check(_ request: WebSocketUpgradeRequest) {
        precondition(request.method == "GET" && request.httpVersion == "HTTP/1.1")
        // What the handler checked (Foundation's decoder takes some non-canonical forms, such as "…===").
        precondition(Data(base64Encoded: request.key)?.count == 16, "key \(request.key)")
        var text = "GET \(request.uri) HTTP/1.1\r\n"
        for header in request.headers { text += "\(header.name): \(header.value)\r\n" }
        var again = Array((text + "\r\n").utf8)
        // A body the request announced must follow it (it fitted the default limit).
        again += [UInt8](repeating: 0, count: WebSocketHandshakeParser.defaultMaximumRequestBytes)
        var parser = WebSocketHandshakeParser(maximumRequestBytes: Int.max)
        guard case .upgrade(let reparsed, _) = again.withUnsafeBytes({ parser.parse($0) }) else {
            preconditionFailure("a re-serialized request does not parse")
        }
        precondition(reparsed.uri == request.uri && reparsed.key == request.key, "re-parsed request differs")
        precondition(reparsed.headers.elementsEqual(request.headers) { $0.name == $1.name && $0.value == $1.value }, "re-parsed headers differ")
    }

    /// Whether frames, walked by their lengths from the first, end before the bytes do.
    private static func endsInsideAFrame(_ frames: ArraySlice<UInt8>) -> Bool {
        var position = frames.startIndex
        while position < frames.endIndex {
            guard frames.endIndex - position >= 2 else { return true }
            let second = frames[position + 1]
            let extended = second & 0x7F == 126 ? 2 : second & 0x7F == 127 ? 8 : 0
            let header = 2 + extended + (second & 0x80 != 0 ? 4 : 0)
            guard frames.endIndex - position >= header else { return true }
            let length = extended == 0 ? UInt64(second & 0x7F) : (0..<extended).reduce(UInt64(0)) { $0 << 8 | UInt64(frames[position + 2 + $1]) }
            guard UInt64(frames.endIndex - position - header) >= length else { return true }
            position += header + Int(length)
        }
        return false
    }

    /// Whether a request head in `stream` announces a body SwiftNIO would have waited for.
    private static func announcesBody(_ stream: [UInt8]) -> Bool {
        let lowercased = String(decoding: stream, as: UTF8.self).lowercased()
        return lowercased.contains("content-length") || lowercased.contains("transfer-encoding")
    }

    /// Equal sessions: the same bytes back, the same worker input, the same ending.
    func sameOutcome(as other: CodecSession) -> Bool {
        written == other.written && connectInfo == other.connectInfo && messages == other.messages && closed == other.closed
    }

    private static func bytes(_ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 256) { buffer, count in count = write(buffer.baseAddress!) }
    }
}

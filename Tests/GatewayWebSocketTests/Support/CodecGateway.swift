import GatewayWebSocket
import GatewayWire
import XCTest

/// The same client session as `NIOReferenceGateway.session`, run through this module's codecs
/// the way the engine-based gateway will: handshake parser, 101 or refusal, then the frame
/// decoder on what follows, with pongs, close replies and failure close frames written back.
enum CodecGateway {
    static func session(_ reads: [[UInt8]], maxMessageBytes: Int, verdict: Int = 0) -> ClientSession {
        var session = ClientSession()
        let stream = reads.flatMap { $0 }
        var cuts: [Int] = []
        for read in reads.dropLast() { cuts.append((cuts.last ?? 0) + read.count) }
        let (outcome, rest) = EngineFeed.handshake(stream, cuts: cuts)
        switch outcome {
        case .needMoreBytes:
            return session
        case .refused(let refusal):
            session.written = refusal.response
            session.closed = true
            return session
        case .upgrade(let request):
            let info = WebSocketConnectInfo(
                method: request.method, uri: request.uri, httpVersion: request.httpVersion,
                headers: request.headers.map { (name: $0[0], value: $0[1]) })
            session.connectInfo = info.serializedBody()
            guard verdict == 0 else {
                session.written = WebSocketHandshakeResponse.refusal(status: verdict)
                session.closed = true
                return session
            }
            session.written = WebSocketHandshakeResponse.switchingProtocols(key: request.key)
        }
        let requestLength = stream.count - rest.count
        let frameCuts = cuts.filter { $0 > requestLength }.map { $0 - requestLength }
        for event in EngineFeed.decode(rest, cuts: frameCuts, maximumMessageBytes: maxMessageBytes) {
            switch event {
            case .message(let kind, let body):
                session.messages.append(.init(binary: kind == .binary, body: body))
            case .compressedMessage:
                XCTFail("a compressed message without permessage-deflate")
            case .ping(let payload):
                session.written += written { target in
                    payload.withUnsafeBytes { bytes in
                        WebSocketServerFrameWriter.writeFrame(opcode: WebSocketServerFrameWriter.pongOpcode, payload: bytes, to: target)
                    }
                }
            case .pong:
                break
            case .close(let code, _):
                let close = WebSocketCloseFrame(code: code, reason: UnsafeRawBufferPointer(start: nil, count: 0))
                session.written += written { close.writeReply(to: $0) }
                session.closed = true
            case .failure(let failure):
                session.written += WebSocketServerFrameWriter.closeFrame(code: failure.closeCode)
                session.closed = true
            }
        }
        return session
    }

    /// Bytes a writer puts into raw memory.
    static func written(_ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 256) { buffer, count in count = write(buffer.baseAddress!) }
    }
}

// GatewayWebSocket's codecs over raw bytes, as the engine-based gateway will drive them: a
// client's bytes in 1-3 reads, each appended to what was not consumed and offered again, to
// WebSocketHandshakeParser and then WebSocketFrameDecoder (CodecSession.swift).
//
// Control byte 0: bits 0-1 the message size limit, bit 2 the same reads also go through the
// SwiftNIO pipeline of a real GatewayServer (GatewayHarness, a PHP worker) and both must agree,
// bit 3 the stream is also delivered one byte per read.
//
// Checks, beyond no crash: consumed counts never exceed what was offered, a failure consumes
// everything, bytes left unconsumed are untouched, a partial frame's reported size is more
// than what is there and within the limits; the same stream whole, in the fuzzer's reads
// and byte by byte gives the same session; an accepted request re-serialized parses to the same
// request and is GET over HTTP/1.1 with a 16-byte key; messages fit the limit, text is UTF-8,
// close codes are valid. Against SwiftNIO: the same bytes written back (response, pongs, close
// frames), the same ON_WEBSOCKET_CONNECT body and messages, the same connection state, except
// where one decides earlier: a broken frame is failed from its header while SwiftNIO waited for
// the rest of it, a refused request is answered before its body, and llhttp refuses some heads
// before their end (an unknown method, an HTTP version; the codec then gives the same answer
// once the head ends); and where they differ on purpose: a chunked body is refused, SwiftNIO
// read it.
import FuzzSupport
import GatewayHarness
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzWebSocketCodec) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let limit = [1024, 125, 16, 1 << 20][Int(options & 3)]
    let reads = input.reads().map { Array($0.readableBytesView) }
    let stream = reads.flatMap { $0 }

    let session = CodecSession(reads, maximumMessageBytes: limit)
    precondition(CodecSession([stream], maximumMessageBytes: limit).sameOutcome(as: session), "the session depends on how reads are cut")
    if options & 8 != 0 {
        precondition(CodecSession(stream.map { [$0] }, maximumMessageBytes: limit).sameOutcome(as: session), "one byte per read differs")
    }
    if options & 4 != 0 { compareWithSwiftNIO(session, reads: reads, maximumMessageBytes: limit) }
    return 0
}

/// Runs the reads through the gateway's SwiftNIO client pipeline and compares.
private func compareWithSwiftNIO(_ session: CodecSession, reads: [[UInt8]], maximumMessageBytes: Int) {
    if session.refusal == .transferEncoding { return }
    let harness = GatewayHarness(maxMessageBytes: maximumMessageBytes, gatewaydWorker: false)
    let client = harness.connectClient(.websocket)
    var written: [UInt8] = []
    var connectInfo: [UInt8]?
    var messages: [CodecSession.Message] = []
    for read in reads {
        harness.deliver(ByteBuffer(bytes: read), to: client)
        for frame in harness.workerFrames() {
            switch frame.command {
            case .onWebSocketConnect: connectInfo = Array(frame.body.readableBytesView)
            case .onMessage: messages.append(.init(binary: frame.flags.contains(.binary), body: Array(frame.body.readableBytesView)))
            default: break
            }
        }
        written += harness.outbound(of: client).readableBytesView
    }
    let open = client.isActive
    harness.finish()

    precondition(connectInfo == session.connectInfo, "ON_WEBSOCKET_CONNECT bodies differ")
    precondition(messages == session.messages, "messages differ")
    if open && session.closed && written.isEmpty && session.refusedBeforeItsBody { return }
    if !open && session.awaitingRequest {
        let ended = CodecSession(reads + [Array("\r\n\r\n".utf8)], maximumMessageBytes: maximumMessageBytes)
        precondition(ended.closed && ended.written == written, "SwiftNIO refused a head the codec does not refuse once it ends")
        return
    }
    if open && session.closed && session.endsInsideAFrame {
        // SwiftNIO still waits for the rest of the last frame, which the codec failed from its header.
        precondition(session.written.count == written.count + 4 && session.written.starts(with: written), "output differs before the failure")
        return
    }
    precondition(written == session.written, "written bytes differ: \(String(decoding: written.prefix(40), as: UTF8.self).debugDescription)")
    precondition(open == !session.closed, "one closed and the other did not")
}

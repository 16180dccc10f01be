// The inner protocol (gateway <-> worker / GatewayClient), as either side reads it.
//
// Control byte 0 picks the decoder:
//   0: a stream of binary frames (28-byte header) through GatewayFrameDecoder, in 1-3 reads;
//      every frame must re-encode to exactly the bytes it was parsed from, and its ext_data and
//      body go through every ext-data / body decoder.
//   1: a stream of replies (u32 length + PHP serialize payload) through GatewayReplyDecoder;
//      each payload goes through PHPSerializer.unserialize.
//   2...: the rest of the input straight into one ext-data / body decoder (byte 1 picks it);
//      what decodes must encode to bytes that decode again.
// Errors are expected; crashes, sanitizer reports and the traps below are findings.
import FuzzSupport
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzInner) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.byte() % 3 {
    case 0: frames(&input)
    case 1: replies(&input)
    default:
        let which = input.byte()
        decodeExt(ByteBuffer(bytes: input.remaining), with: which)
    }
    return 0
}

private func frames(_ input: inout FuzzInput) {
    // A small limit now and then, so the too-large path is reachable with short inputs.
    let limit = input.byte() % 4 == 0 ? 64 : 16 << 20
    var decoder = GatewayFrameDecoder(maximumFrameLength: limit)
    var stream = ByteBuffer()
    for var read in input.reads() {
        stream.writeBuffer(&read)
        while true {
            let before = stream
            guard let frame = try? decoder.decode(buffer: &stream) else { break }
            // The frame is exactly the bytes consumed: encoding it must give them back.
            let consumed = before.readableBytesView.prefix(before.readableBytes - stream.readableBytes)
            var encoded = ByteBuffer()
            _ = encoded.writeGatewayFrame(frame)
            precondition(encoded.readableBytesView.elementsEqual(consumed), "frame does not re-encode to its bytes")
            for which in UInt8(0)..<8 {
                decodeExt(frame.extData, with: which)
                decodeExt(frame.body, with: which)
            }
        }
    }
    _ = try? decoder.decodeLast(buffer: &stream, seenEOF: true)
}

private func replies(_ input: inout FuzzInput) {
    let limit = input.byte() % 4 == 0 ? 64 : 64 << 20
    var decoder = GatewayReplyDecoder(maximumLength: limit)
    var stream = ByteBuffer()
    for var read in input.reads() {
        stream.writeBuffer(&read)
        while let payload = try? decoder.decode(buffer: &stream) {
            _ = try? PHPSerializer.unserialize(payload)
        }
    }
    _ = try? decoder.decodeLast(buffer: &stream, seenEOF: true)
}

/// Runs one decoder on `bytes`; whatever it decodes must survive its own encoder.
private func decodeExt(_ bytes: ByteBuffer, with which: UInt8) {
    switch which % 8 {
    case 0:
        if let scope = try? SendToAllScope(extData: bytes) {
            _ = try! SendToAllScope(extData: ByteBuffer(bytes: scope.encodedExtData()))
        }
    case 1:
        if let ext = try? SendToGroupExt(extData: bytes) {
            let again = try! SendToGroupExt(extData: ByteBuffer(bytes: ext.encodedExtData()))
            precondition(again.groups == ext.groups, "SendToGroupExt groups changed in a round trip")
        }
    case 2:
        if let uids = try? UIDListExt.decode(bytes) {
            precondition(try! UIDListExt.decode(ByteBuffer(bytes: UIDListExt.encode(uids))) == uids, "uid list changed")
        }
    case 3:
        if let ext = try? SelectExt(extData: bytes) {
            let again = try! SelectExt(extData: ByteBuffer(bytes: ext.encodedExtData()))
            precondition(again.fields == ext.fields, "SelectExt fields changed in a round trip")
        }
    case 4:
        if let body = try? WorkerConnectBody(body: bytes) {
            let again = try! WorkerConnectBody(body: ByteBuffer(bytes: body.encoded()))
            precondition(again.workerKey == body.workerKey && again.secretKey == body.secretKey, "worker hello changed")
        }
    case 5:
        if let body = try? GatewayClientConnectBody(body: bytes) {
            precondition(try! GatewayClientConnectBody(body: ByteBuffer(bytes: body.encoded())) == body, "client hello changed")
        }
    case 6:
        // ON_WEBSOCKET_CONNECT's body as a worker reads it (PHP-serialized $_SERVER and friends).
        if let info = try? WebSocketConnectInfo(body: bytes) {
            _ = info.phpValue()
        }
    default:
        // The query string of a client's upgrade request, parsed as PHP's parse_str would.
        _ = PHPQueryString.parse(bytes.readableBytesView)
    }
}

// The text:// and frame:// client protocols as the engine gateway reads them: a socket adopted
// by the ClientEngine of a real EngineGateway (client_io: engine; see EngineGatewayHarness),
// its bytes through TextLineScanner or LengthPrefixedScanner (u32 big-endian total length +
// body) to the hub, sent in 1-3 writes.
//
// Control byte 0: bit 0 frame:// rather than text://, bits 1-2 the message size limit.
//
// Checks, beyond no crash: the worker gets well-formed frames, ON_CONNECT first, ON_CLOSE at
// most once and last, no message over the limit; text:// messages hold no "\n" and end in no
// "\r" and are flagged text; frame:// messages are flagged binary and, re-encoded, are exactly
// the input's first bytes (nothing lost, reordered or invented).
import FuzzSupport
import GatewayCore
import GatewayHarness
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzTextFrame) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let frameProtocol = options & 1 != 0
    let limits = [1024, 16, 0, 1 << 20]
    let harness = EngineGatewayHarness(maxMessageBytes: limits[Int(options >> 1 & 3)], gatewaydWorker: true)
    let client = harness.connectClient(frameProtocol ? .frame : .text)

    let reads = input.reads()
    var sent = ByteBuffer()
    for read in reads {
        sent.writeImmutableBuffer(read)
        harness.deliver(read, to: client)
    }
    harness.finish()

    var connected = false
    var closed = false
    var reencoded = ByteBuffer()
    for frame in harness.workerFrames() {
        precondition(!closed, "the worker heard of the client after ON_CLOSE: \(frame.command)")
        switch frame.command {
        case .onConnect:
            precondition(!connected, "ON_CONNECT twice")
            connected = true
        case .onMessage:
            precondition(connected, "a message before ON_CONNECT")
            let body = frame.body.readableBytesView
            precondition(body.count <= harness.maxMessageBytes, "a message over the size limit reached the worker")
            precondition(frame.flags.contains(.binary) == frameProtocol, "message flagged with the wrong type")
            if frameProtocol {
                reencoded.writeInteger(UInt32(4 + body.count))
                reencoded.writeBytes(body)
            } else {
                precondition(!body.contains(UInt8(ascii: "\n")) && body.last != UInt8(ascii: "\r"), "line not split right")
            }
        case .onClose:
            precondition(connected, "ON_CLOSE before ON_CONNECT")
            closed = true
        default:
            fatalError("unexpected event for the worker: \(frame.command)")
        }
    }
    precondition(
        sent.readableBytesView.starts(with: reencoded.readableBytesView), "frame:// messages are not the bytes sent")
    return 0
}

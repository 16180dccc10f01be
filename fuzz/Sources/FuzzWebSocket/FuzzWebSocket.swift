// A WebSocket client's bytes as the engine gateway reads them: a socket adopted by the
// ClientEngine of a real EngineGateway (client_io: engine; see EngineGatewayHarness), the HTTP
// upgrade request (WebSocketHandshakeParser, the worker's verdict while reading is paused,
// then the frames pipelined behind the request), then frames (WebSocketFrameDecoder, its
// unmasking and reassembly, pings, close) fed to the hub. The input is sent in 1-3 writes.
//
// Control byte 0: bits 0-1 the message size limit, bit 2 a gatewayd worker (the gateway waits
// for its verdict) rather than a PHP one, bit 3 the verdict refuses (status 400 + byte 1), bit 4
// permessage-deflate on (a request offering it gets it; compressed frames are inflated, and
// the worker echoes every message so that the deflate side runs too).
//
// Checks, beyond no crash: the gateway answers with an HTTP response first; its worker gets
// well-formed frames, ON_CONNECT first, ON_CLOSE at most once and last, no message unless the
// handshake was accepted, no message over the limit, and text messages valid UTF-8.
import FuzzSupport
import GatewayCore
import GatewayHarness
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzWebSocket) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let refusal = input.byte()
    let limits = [1024, 125, 16, 1 << 20]
    let gatewaydWorker = options & 4 != 0
    let refuses = options & 8 != 0
    let compression = options & 16 != 0
    let harness = EngineGatewayHarness(maxMessageBytes: limits[Int(options & 3)], gatewaydWorker: gatewaydWorker, compression: compression)
    let client = harness.connectClient(.websocket)
    var events = EventLog(maxMessageBytes: harness.maxMessageBytes)
    var response = ByteBuffer()

    for read in input.reads() {
        harness.deliver(read, to: client)
        for frame in harness.workerFrames() {
            events.record(frame)
            if frame.command == .onWebSocketConnect, frame.flags.contains(.awaitsVerdict) {
                let status = refuses ? "\(400 + Int(refusal) % 200)" : "0"
                if !refuses { events.accepted = true }
                harness.workerSends(
                    GatewayFrame(command: .handshakeVerdict, connectionID: frame.connectionID, body: ByteBuffer(string: status)))
            } else if frame.command == .onWebSocketConnect, !gatewaydWorker {
                events.accepted = true  // a PHP worker gives no verdict: accepted at once
            } else if frame.command == .onMessage, compression {
                harness.workerSends(GatewayFrame(command: .sendToOne, connectionID: frame.connectionID, body: frame.body))
            }
        }
        var out = harness.outbound(of: client)
        response.writeBuffer(&out)
    }
    harness.finish()
    for frame in harness.workerFrames() { events.record(frame) }
    if response.readableBytes > 0 {
        precondition(response.readableBytesView.starts(with: "HTTP/1.1 ".utf8), "the gateway's first bytes are no HTTP response")
    }
    return 0
}

/// What the worker heard about the one client, checked as it arrives.
private struct EventLog {
    let maxMessageBytes: Int
    var accepted = false
    private var connected = false
    private var closed = false

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    mutating func record(_ frame: GatewayFrame) {
        precondition(!closed, "the worker heard of the client after ON_CLOSE: \(frame.command)")
        switch frame.command {
        case .onConnect:
            precondition(!connected, "ON_CONNECT twice")
            connected = true
        case .onWebSocketConnect:
            precondition(connected, "ON_WEBSOCKET_CONNECT before ON_CONNECT")
        case .onMessage:
            precondition(connected && accepted, "a message from a client whose handshake was not accepted")
            precondition(frame.body.readableBytes <= maxMessageBytes, "a message over the size limit reached the worker")
            if !frame.flags.contains(.binary) {
                precondition(String(validating: frame.body.readableBytesView, as: UTF8.self) != nil, "invalid UTF-8 text")
            }
        case .onClose:
            precondition(connected, "ON_CLOSE before ON_CONNECT")
            closed = true
        default:
            fatalError("unexpected event for the worker: \(frame.command)")
        }
    }
}

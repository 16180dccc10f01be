// The engine gateway's inner port as a hostile peer sees it: a socket handed to a real
// EngineGateway's innerConnectionAccepted (client_io: engine; see EngineGatewayHarness), read
// as a StreamConnection, parsed with GatewayFrameParser and fed to the hub, in a gateway that
// has a worker and two upgraded WebSocket clients (connection ids 1 and 2), so every command
// runs: sends, kicks, sessions (PHP serialize merges), uid and group maps, queries and their
// replies, drains, verdicts. The input is sent in 1-3 writes.
//
// Control byte 0: bit 0 sets the secret key "k9", bit 1 the inner heartbeat (pings to links
// that become workers, closing silent ones; the loop's clock jumps 60 s at the end).
//
// Checks, beyond no crash: the gateway's frames to its worker stay well-formed; and with a
// secret set, an input that does not contain it can make nothing happen to the clients (no
// byte sent to them, none closed).
import FuzzSupport
import GatewayHarness
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzGatewayInner) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGatewayInner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let secretKey = options & 1 == 1 ? "k9" : ""
    let harness = EngineGatewayHarness(
        maxMessageBytes: 1024, secretKey: secretKey, gatewaydWorker: true, innerHeartbeat: options & 2 != 0)
    let clients = [harness.connectUpgradedClient().client, harness.connectUpgradedClient().client]
    _ = harness.workerFrames()
    let peer = harness.connectInnerPeer()

    let reads = input.reads()
    let knowsSecret = secretKey.isEmpty || containsSecret(reads, secretKey)
    var clientBytes = 0
    for read in reads {
        harness.deliver(read, to: peer)
        _ = harness.workerFrames()
        _ = harness.outbound(of: peer)
        for client in clients { clientBytes += harness.outbound(of: client).readableBytes }
    }
    if !knowsSecret {
        precondition(clientBytes == 0, "an unauthenticated peer made the gateway write to a client")
        precondition(clients.allSatisfy(harness.isOpen), "an unauthenticated peer closed a client")
    }
    harness.finish()
    _ = harness.workerFrames()
    return 0
}

private func containsSecret(_ buffer: ByteBuffer, _ secret: String) -> Bool {
    let bytes = Array(buffer.readableBytesView)
    let needle = Array(secret.utf8)
    guard bytes.count >= needle.count else { return false }
    return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
}

/// Whether the secret is anywhere in the input (it may straddle two reads).
private func containsSecret(_ reads: [ByteBuffer], _ secret: String) -> Bool {
    var all = ByteBuffer()
    for var read in reads { all.writeBuffer(&read) }
    return containsSecret(all, secret)
}

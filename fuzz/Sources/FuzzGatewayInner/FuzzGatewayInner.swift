// The gateway's inner port as a hostile peer sees it: bytes into the real inner pipeline
// (InnerHeartbeatHandler when configured, InnerConnectionHandler with its frame parser) of a
// GatewayServer that has a worker and two WebSocket clients (connection ids 1 and 2), so
// every command runs: sends, kicks, sessions (PHP serialize merges), uid and group maps,
// queries and their replies, drains, verdicts.
// The input arrives in 1-3 reads.
//
// Control byte 0: bit 0 sets the secret key "k9", bit 1 the inner heartbeat (pings to a peer
// that becomes a worker, closing it when silent; the loop's clock jumps 60 s at the end).
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
    let harness = GatewayHarness(
        maxMessageBytes: 1024, secretKey: secretKey, gatewaydWorker: true, innerHeartbeat: options & 2 != 0)
    let clients = [harness.connectUpgradedClient().channel, harness.connectUpgradedClient().channel]
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
        precondition(clients.allSatisfy(\.isActive), "an unauthenticated peer closed a client")
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

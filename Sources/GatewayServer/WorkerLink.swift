import GatewayHub
import NIOCore

/// A BusinessWorker attached to this gateway over the inner protocol.
final class WorkerLink: OutboundTarget, RoutedWorker, @unchecked Sendable {  // confined to the gateway's event loop
    /// "<remote ip>:<worker_key>", GatewayWorker's identity for a worker.
    let key: String
    let channel: Channel
    /// A gatewayd worker: understands binary flags and answers handshake verdicts.
    let speaksGatewayd: Bool
    /// Announced it pings every heartbeat interval: silence means it is gone.
    var sendsHeartbeats = false
    /// Announced capability 3 or higher: its queries on this connection are answered there, with
    /// QUERY_REPLY frames, and it got GATEWAYD_HELLO.
    var framedReplies = false
    var assignedClients = 0
    /// Asked for no more events (reload): keeps its clients until it is done, gets no new ones.
    var draining = false
    /// Clients not read from while this worker's link is congested (back-pressure).
    var pausedClients: [ClientConnection] = []
    /// Writes to this worker waiting in the gateway's outbound queue.
    var queuedWrites = 0

    init(key: String, channel: Channel, speaksGatewayd: Bool) {
        self.key = key
        self.channel = channel
        self.speaksGatewayd = speaksGatewayd
    }
}

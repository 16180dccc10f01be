import NIOCore

/// A BusinessWorker attached to this gateway over the inner protocol.
final class WorkerLink: OutboundTarget, @unchecked Sendable {  // confined to the gateway's event loop
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

/// Picks the worker for each client: sticky for the client's lifetime, least-assigned when
/// first seen, re-picked only if its worker goes away (GatewayWorker's default router).
/// Confined to the gateway's event loop.
struct WorkerRouter {
    private(set) var workers: [String: WorkerLink] = [:]

    var count: Int { workers.count }

    /// Adds a worker; returns the link it replaces (same key), which the caller closes.
    mutating func add(_ link: WorkerLink) -> WorkerLink? {
        let old = workers[link.key]
        workers[link.key] = link
        return old
    }

    mutating func remove(_ link: WorkerLink) {
        if workers[link.key] === link { workers[link.key] = nil }
    }

    func contains(_ link: WorkerLink) -> Bool { workers[link.key] === link }

    /// The client's worker, assigning one if it has none or its worker left. A draining worker
    /// keeps the clients it has (their events wait for it) but is never chosen for others.
    mutating func worker(for client: ClientConnection) -> WorkerLink? {
        if let current = client.worker, contains(current) { return current }
        let candidates = workers.values.filter { !$0.draining }
        guard let chosen = candidates.min(by: { ($0.assignedClients, $0.key) < ($1.assignedClients, $1.key) }) else {
            client.worker = nil
            return nil
        }
        chosen.assignedClients += 1
        client.worker = chosen
        return chosen
    }

    func release(_ client: ClientConnection) {
        if let worker = client.worker { worker.assignedClients -= 1 }
        client.worker = nil
    }
}

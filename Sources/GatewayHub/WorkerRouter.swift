/// A worker as the router sees it.
public protocol RoutedWorker: AnyObject {
    /// "<remote ip>:<worker_key>", GatewayWorker's identity for a worker.
    var key: String { get }
    var assignedClients: Int { get set }
    /// Asked for no more events (reload): keeps its clients, gets no new ones.
    var draining: Bool { get }
    /// In the router right now (kept by the router): checked per message instead of a lookup
    /// by key, which hashed the key's string every time.
    var isRouted: Bool { get set }
}

/// A client as the router sees it: the worker its events go to.
public protocol RoutedClient: AnyObject {
    associatedtype Worker: RoutedWorker
    var worker: Worker? { get set }
}

/// Picks the worker for each client: sticky for the client's lifetime, least-assigned when
/// first seen, re-picked only if its worker goes away (GatewayWorker's default router).
/// Confined to the gateway's loop.
public struct WorkerRouter<Worker: RoutedWorker> {
    public private(set) var workers: [String: Worker] = [:]

    public init() {}

    public var count: Int { workers.count }

    /// Adds a worker; returns the link it replaces (same key), which the caller closes.
    public mutating func add(_ link: Worker) -> Worker? {
        let old = workers[link.key]
        old?.isRouted = false
        workers[link.key] = link
        link.isRouted = true
        return old
    }

    public mutating func remove(_ link: Worker) {
        guard link.isRouted else { return }
        workers[link.key] = nil
        link.isRouted = false
    }

    public func contains(_ link: Worker) -> Bool { link.isRouted }

    /// The client's worker, assigning one if it has none or its worker left. A draining worker
    /// keeps the clients it has (their events wait for it) but is never chosen for others.
    public mutating func worker<Client: RoutedClient>(for client: Client) -> Worker? where Client.Worker == Worker {
        worker(for: client, avoiding: { _ in false })
    }

    /// As `worker(for:)`, but a client that needs a new worker gets one that `avoid` does not
    /// name when there is one (events resent from a dead worker go to another host, which did
    /// not go down with it).
    public mutating func worker<Client: RoutedClient>(for client: Client, avoiding avoid: (Worker) -> Bool) -> Worker?
    where Client.Worker == Worker {
        if let current = client.worker, contains(current) { return current }
        return choose(for: client) { !$0.draining && !avoid($0) } ?? choose(for: client) { !$0.draining }
    }

    private mutating func choose<Client: RoutedClient>(for client: Client, among eligible: (Worker) -> Bool) -> Worker?
    where Client.Worker == Worker {
        var chosen: Worker?
        for candidate in workers.values where eligible(candidate) {
            guard let best = chosen else {
                chosen = candidate
                continue
            }
            if (candidate.assignedClients, candidate.key) < (best.assignedClients, best.key) { chosen = candidate }
        }
        guard let chosen else {
            client.worker = nil
            return nil
        }
        chosen.assignedClients += 1
        client.worker = chosen
        return chosen
    }

    public func release<Client: RoutedClient>(_ client: Client) where Client.Worker == Worker {
        if let worker = client.worker { worker.assignedClients -= 1 }
        client.worker = nil
    }
}

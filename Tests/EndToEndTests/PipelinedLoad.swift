import Foundation

/// Clients that each keep `window` messages in flight: a reply is read from each client in
/// turn and must be the next one that client expects, and then the client sends more. Ends
/// with one more echo per client, so that a late duplicate is caught too. Clients listed in
/// `mayDrop` may lose their connection instead (a gateway killed under them): they leave the
/// run and are listed in `dropped`; any other client's failure fails the run.
final class PipelinedLoad {
    enum Step {
        /// Sent; `reply` must come back, in order.
        case expect(String, reply: String)
        /// Sent; nothing comes back for it.
        case unanswered(String)
    }

    private let clients: [WebSocketTestClient]
    /// Each client's id, as the plugin sees it.
    let clientIDs: [String]
    /// The pid of the worker each client's events go to.
    let clientWorkers: [Int32]
    var scripts: [[Step]]
    let window: Int
    /// Clients whose connection may go away during the run.
    var mayDrop: Set<Int> = []
    /// Those whose connection did.
    private(set) var dropped: Set<Int> = []

    /// The inner port of the gateway holding each client (from its client id: address, port,
    /// connection number in hex).
    var clientGatewayPorts: [Int] { clientIDs.map(Self.gatewayPort) }

    /// The inner port of the gateway a client id names (address, port, connection in hex).
    static func gatewayPort(ofClientID id: String) -> Int {
        Int(id.dropFirst(8).prefix(4), radix: 16) ?? 0
    }

    /// The workers serving the clients, in order of first appearance.
    var workerPIDs: [Int32] {
        var seen: [Int32] = []
        for pid in clientWorkers where !seen.contains(pid) { seen.append(pid) }
        return seen
    }

    /// `count` clients connected to `cluster`'s listen port.
    convenience init(cluster: GatewaydProcess, clients count: Int, messagesPerClient: Int, window: Int = 4) throws {
        try self.init(clients: (0..<count).map { _ in try cluster.connect() }, messagesPerClient: messagesPerClient, window: window)
    }

    /// Takes the clients over: each learns its id and its worker, and gets a script of
    /// `messagesPerClient` echoes.
    init(clients: [WebSocketTestClient], messagesPerClient: Int, window: Int = 4) throws {
        var ids: [String] = []
        var workers: [Int32] = []
        for client in clients {
            try client.sendText("id:")
            ids.append(String(try client.receiveText().dropFirst(3)))
            try client.sendText("ver:")
            let version = try client.receiveText()
            workers.append(Int32(version.split(separator: ":").last ?? "") ?? 0)
        }
        self.clients = clients
        clientIDs = ids
        clientWorkers = workers
        self.window = window
        scripts = clients.indices.map { client in
            (0..<messagesPerClient).map { .expect("echo:\(client)-\($0)", reply: "echo:\(client)-\($0)") }
        }
    }

    deinit {
        for client in clients { client.close() }
    }

    /// Runs every script to its end; `progress` gets the number of replies read so far after
    /// each one. Throws at the first reply that is missing (10 s), out of order or repeated.
    func run(progress: (Int) -> Void = { _ in }) throws {
        var next = Array(repeating: 0, count: clients.count)
        var expected = Array(repeating: [String](), count: clients.count)
        var answered = 0
        func fill(_ client: Int) throws {
            while expected[client].count < window && next[client] < scripts[client].count {
                switch scripts[client][next[client]] {
                case .expect(let text, let reply):
                    try clients[client].sendText(text)
                    expected[client].append(reply)
                case .unanswered(let text):
                    try clients[client].sendText(text)
                }
                next[client] += 1
            }
        }
        /// Runs `step` for a client; a client that may drop and whose socket fails (not a
        /// timeout, not a wrong reply) has dropped.
        func attempt(_ client: Int, _ step: () throws -> Void) throws {
            do {
                try step()
            } catch let error as WebSocketTestClientError where mayDrop.contains(client) {
                if case .timedOut = error { throw error }
                dropped.insert(client)
                expected[client] = []
            }
        }
        for client in clients.indices { try attempt(client) { try fill(client) } }
        while expected.contains(where: { !$0.isEmpty }) {
            for client in clients.indices where !expected[client].isEmpty {
                try attempt(client) {
                    let reply = try clients[client].receiveText(timeout: .seconds(10))
                    guard reply == expected[client][0] else {
                        throw GatewaydFixtureError("client \(client) got \"\(reply)\", expected \"\(expected[client][0])\"")
                    }
                    expected[client].removeFirst()
                    answered += 1
                    progress(answered)
                    try fill(client)
                }
            }
        }
        for client in clients.indices where !dropped.contains(client) { try clients[client].sendText("echo:end-\(client)") }
        for client in clients.indices where !dropped.contains(client) {
            let reply = try clients[client].receiveText(timeout: .seconds(10))
            guard reply == "echo:end-\(client)" else {
                throw GatewaydFixtureError("client \(client) got \"\(reply)\" after its last reply, expected \"echo:end-\(client)\"")
            }
        }
    }
}

import Foundation

/// Keeps echo traffic flowing on a thread of its own while a test changes the cluster: every
/// round sends `echo:<round>-<client>` on each client, then requires exactly that echo back on
/// each, in order. The first echo that is missing, late (5 s) or different stops the pump and
/// is reported, so "nothing lost" means every round completed.
///
/// The clients belong to the pump between `start()` and `stop()`.
final class EchoPump: @unchecked Sendable {  // the clients are touched by one thread at a time
    private let clients: [WebSocketTestClient]
    private let state = LockedValue<(rounds: Int, failure: String?, stopping: Bool, finished: Bool)>(
        (0, nil, false, false))

    init(clients: [WebSocketTestClient]) {
        self.clients = clients
    }

    /// Rounds completed so far.
    var rounds: Int { state.withLock { $0.rounds } }
    /// Why the pump stopped early, if it did.
    var failure: String? { state.withLock { $0.failure } }

    func start() {
        Thread.detachNewThread { self.run() }
    }

    /// Stops after the current round and waits for it; returns what happened.
    @discardableResult
    func stop() -> (rounds: Int, failure: String?) {
        state.withLock { $0.stopping = true }
        GatewaydProcess.poll(until: { state.withLock { $0.finished } }, timeout: .seconds(30))
        return state.withLock { ($0.rounds, $0.failure) }
    }

    private func run() {
        defer { state.withLock { $0.finished = true } }
        var round = 0
        while !state.withLock({ $0.stopping }) {
            do {
                for (index, client) in clients.enumerated() { try client.sendText("echo:\(round)-\(index)") }
                for (index, client) in clients.enumerated() {
                    let expected = "echo:\(round)-\(index)"
                    let received = try client.receiveText(timeout: .seconds(5))
                    guard received == expected else {
                        throw GatewaydFixtureError("client \(index) expected \"\(expected)\", received \"\(received)\"")
                    }
                }
            } catch {
                state.withLock { $0.failure = "round \(round): \(error)" }
                return
            }
            round += 1
            state.withLock { $0.rounds = round }
        }
    }
}

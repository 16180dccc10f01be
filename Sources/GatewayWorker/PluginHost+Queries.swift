import GatewayAPI
import GatewayWire
import NIOCore

/// Queries (plugin thread): GatewayAPI's requests go to every gateway involved in parallel,
/// behind whatever this callback sent them before; the thread then waits on the links alone,
/// until each gateway answered or timed out.
extension PluginHost {
    /// Runs `query` and merges the answers as GatewayWorker does.
    ///
    /// A query of one client's gateway that gets no answer throws. A query of every gateway
    /// returns what the others answered, with the shortfall, and logs the silent gateways.
    func run<Value>(_ query: GatewayQuery<Value>) throws -> QueryOutcome<Value> {
        let dispatch = query.dispatch
        let replies = transport.ask(dispatch)
        var answers: [GatewayAnswer] = []
        var silent: [(gateway: String, error: HostError)] = []
        for reply in replies {
            // Text from here on: answers are merged into client ids and reported by name.
            switch reply.result {
            case .success(let payload): answers.append(GatewayAnswer(gateway: reply.gateway.description, payload: payload))
            case .failure(let error): silent.append((reply.gateway.description, error))
            }
        }
        guard !silent.isEmpty else { return QueryOutcome(value: query.result(from: answers, unanswered: []).value) }
        let shortfall: HostError = silent.contains { $0.error == .timeout } ? .timeout : .unavailable
        let described = silent.map { "\($0.gateway) (\($0.error == .timeout ? "no answer in time" : "not connected"))" }
        if case .gateway = dispatch {
            logger.warning("query \(query.name) failed: gateway \(described.joined())", metadata: ["gw.query": "\(query.name)"])
            throw shortfall
        }
        logger.warning(
            "query \(query.name) is partial: no answer from \(described.joined(separator: ", ")); returning the other gateways' answers",
            metadata: ["gw.query": "\(query.name)", "gw.gateways": "\(silent.map(\.gateway).joined(separator: ","))"])
        let result = query.result(from: answers, unanswered: silent.map(\.gateway))
        return QueryOutcome(value: result.value, shortfall: shortfall)
    }
}

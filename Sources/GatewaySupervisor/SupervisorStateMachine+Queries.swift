import Foundation
import GatewayCore

/// `status` and `connections`: the master asks its ready children and answers when all have
/// replied, or at the query timeout with what it has.
extension SupervisorStateMachine {
    struct PendingQuery: Hashable {
        var id: UInt64
        var command: ControlRequest.Command
        var requester: RequesterID
        var deadline: MasterInstant
        var awaiting: Set<ChildID>
        var connections: [ConnectionInfo] = []
    }

    static let queryTimeout: TimeInterval = 2
    /// A scrape waits at most this long for the children; one that did not answer in time is
    /// shown with its previous report (a gateway answers between two events; a worker's
    /// counters are read off its control thread, never waiting for the plugin).
    static let metricsQueryTimeout: TimeInterval = 1

    /// `status` and `metrics` ask every ready child for its counters, `connections` every
    /// ready gateway.
    mutating func query(_ command: ControlRequest.Command, requester: RequesterID, now: MasterInstant) -> [SupervisorAction] {
        let id = nextQueryID
        nextQueryID += 1
        let targets = children.filter { $0.hasControlChannel && $0.state == .ready }
        let requestKind: ControlMessage.Kind = command == .connections ? .connectionsRequest : .statsRequest
        let recipients = command == .connections ? targets.filter { $0.role == .gateway } : targets
        let timeout = command == .metrics ? Self.metricsQueryTimeout : Self.queryTimeout
        pendingQueries.append(
            PendingQuery(
                id: id, command: command, requester: requester, deadline: now.addingTimeInterval(timeout),
                awaiting: Set(recipients.map(\.id))))
        return recipients.map { .send(ControlMessage(kind: requestKind, id: id), to: $0.id) }
    }

    /// A reply to a query, or a child's last counters before it exits (no id).
    mutating func recordReply(_ message: ControlMessage, from id: ChildID) {
        if let counters = message.stats, let slot = position(of: id) { children[slot].counters = counters }
        guard let queryID = message.id, let index = pendingQueries.firstIndex(where: { $0.id == queryID }) else { return }
        if let connections = message.connections { pendingQueries[index].connections += connections }
        pendingQueries[index].awaiting.remove(id)
    }

    /// A child that exited answers nothing more.
    mutating func forgetAwaitedReplies(from id: ChildID) {
        for index in pendingQueries.indices { pendingQueries[index].awaiting.remove(id) }
    }

    mutating func answerDueQueries(now: MasterInstant) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        var remaining: [PendingQuery] = []
        for query in pendingQueries {
            guard query.awaiting.isEmpty || query.deadline <= now else {
                remaining.append(query)
                continue
            }
            switch query.command {
            case .status:
                actions.append(.answerStatus(query.requester))
            case .metrics:
                actions.append(.answerMetrics(query.requester))
            case .connections:
                let sorted = query.connections.sorted { $0.clientID < $1.clientID }
                actions.append(.respond(query.requester, ControlResponse(ok: true, connections: sorted)))
            case .stop, .reload:
                break
            }
        }
        pendingQueries = remaining
        return actions
    }

    /// The children's lines of `gatewayd status`; `residentBytes` reads a process's memory.
    func childProcesses(now: MasterInstant, residentBytes: (pid_t) -> Int) -> [StatusReport.Process] {
        children.map { child in
            let counters = child.counters ?? ProcessCounters()
            var details = child.info
            details.merge(counters.details) { $1 }
            details["generation"] = "\(child.generation)"
            if child.quickFailures > 0 && restartPolicy.isCrashLooping(quickFailures: child.quickFailures) {
                details["crash_loop"] = "\(child.quickFailures) quick failures in a row"
            }
            let state = child.purpose == .retiring ? "draining" : child.purpose == .canary ? "canary" : child.state.name
            return StatusReport.Process(
                role: child.role, index: child.index, pid: child.pid, state: state,
                rssBytes: child.isRunning ? residentBytes(child.pid) : 0, connections: counters.connections,
                messagesIn: counters.messagesIn, messagesOut: counters.messagesOut,
                uptimeSeconds: child.isRunning ? now.timeIntervalSince(child.startedAt) : 0,
                restarts: child.restarts, details: details)
        }
    }

    /// Crashes per role, keyed as `status` shows them.
    var exitCounts: [String: Int] { Dictionary(uniqueKeysWithValues: exits.map { ($0.key.rawValue, $0.value) }) }
}

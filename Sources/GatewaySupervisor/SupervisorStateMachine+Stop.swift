import Foundation
import GatewayCore

/// `gatewayd stop` (or SIGTERM): every child is asked to stop, role by role; what has not
/// exited at the stop timeout is killed.
extension SupervisorStateMachine {
    /// SIGTERM or SIGINT. During start-up there is nothing to stop gracefully: start fails.
    mutating func terminationSignal(now: MasterInstant) -> [SupervisorAction] {
        if case .starting = phase { return abortStart("interrupted by a signal during start-up") }
        return stop(requester: nil, graceful: false, now: now)
    }

    /// A graceful stop (`stop -g`) first lets gateways stop accepting and workers drain, and has
    /// the drain timeout on top of the stop timeout.
    mutating func stop(requester: RequesterID?, graceful: Bool, now: MasterInstant) -> [SupervisorAction] {
        if case .stopping(let deadline, let requesters) = phase {
            if let requester { phase = .stopping(deadline: deadline, requesters: requesters + [requester]) }
            return []
        }
        var actions: [SupervisorAction] = []
        if let current = reload {
            reload = nil
            if let requester = current.requester {
                actions.append(.respond(requester, ControlResponse(ok: false, error: "gatewayd is stopping; the reload was abandoned")))
            }
        }
        actions.append(.log(.info, graceful ? "stopping gracefully: workers finish what they were sent" : "stopping all processes"))
        actions.append(.tellServiceManager(.stopping))
        var seconds = Double(configuration.stopTimeoutMilliseconds) / 1000
        if graceful { seconds += Double(configuration.drainTimeoutMilliseconds) / 1000 }
        phase = .stopping(deadline: now.addingTimeInterval(seconds), requesters: requester.map { [$0] } ?? [])
        for slot in children.indices where !children[slot].isRunning { children[slot].state = .stopped }
        if graceful {
            // Gateways stop accepting, then workers drain: every event already accepted from a
            // client is handled, and what it sends back reaches the client before the 1001.
            for gateway in children where gateway.role == .gateway && gateway.isRunning {
                actions.append(.send(ControlMessage(kind: .quiesce), to: gateway.id))
            }
            for slot in children.indices where children[slot].role == .worker && children[slot].isRunning {
                children[slot].state = .stopping
                actions.append(.send(ControlMessage(kind: .drain), to: children[slot].id))
            }
        }
        return actions + advanceStop()
    }

    /// Stops roles in order — the HTTP API (a client of the gateways), workers (which run
    /// on_worker_stop), then gateways, then the register — so no process sees its peers vanish
    /// while it is still serving.
    mutating func advanceStop() -> [SupervisorAction] {
        for role in [Role.httpAPI, .worker, .gateway, .register] {
            let running = children.indices.filter { children[$0].role == role && children[$0].isRunning }
            if running.isEmpty { continue }
            var actions: [SupervisorAction] = []
            for slot in running where children[slot].state != .stopping {
                children[slot].state = .stopping
                actions.append(.send(ControlMessage(kind: .stop), to: children[slot].id))
            }
            return actions
        }
        return []
    }

    /// The stop timeout passed: whatever still runs is killed, and killed again if it is still
    /// there a few seconds later.
    mutating func killWhatDidNotStop(requesters: [RequesterID], now: MasterInstant) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        for child in children where child.isRunning {
            actions += [.log(.warning, "\(child.name) did not stop in time; killing it"), .kill(child.id, signal: SIGKILL)]
        }
        phase = .stopping(deadline: now.addingTimeInterval(Self.killedStopTimeout), requesters: requesters)
        return actions
    }

    /// Every child is gone: the sockets close before the requesters hear "ok", so a `stop` that
    /// returned leaves the ports free.
    func finishStop(requesters: [RequesterID]) -> [SupervisorAction] {
        [.closeSockets] + requesters.map { .respond($0, ControlResponse(ok: true)) } + [.log(.info, "stopped"), .exit(0)]
    }
}

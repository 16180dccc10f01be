import Foundation
import GatewayCore
import Logging

/// The master's decisions without I/O: which child to start, restart, stop or kill and when,
/// and what to answer.
///
/// ``Supervisor`` feeds it what happened — a child forked, exited, or said something on its
/// control channel; a request or a signal; the time — and carries out the ``SupervisorAction``s
/// it returns. It never forks, polls, touches a descriptor or reads the clock: every event
/// brings its `now`, so restarts, back-off, stop order, reloads and drain timeouts can be
/// played in tests without processes or sleeping.
struct SupervisorStateMachine {
    enum Phase: Hashable {
        case starting(deadline: MasterInstant)
        case running
        case stopping(deadline: MasterInstant, requesters: [RequesterID])
    }

    static let startTimeout: TimeInterval = 60
    /// After the stop timeout's SIGKILLs: how long until they are sent again.
    static let killedStopTimeout: TimeInterval = 5

    /// Read for counts, roles, the plugin path and timeouts — what binding sockets leaves alone.
    let configuration: GatewayConfiguration
    let restartPolicy: RestartPolicy
    /// In start order; canaries and new generations are appended, those that leave removed.
    var children: [SupervisedChild] = []
    var phase: Phase = .running
    /// The reload in progress, if any (at most one; at most two generations alive).
    var reload: ReloadInProgress?
    /// The newest worker generation.
    var generation = 0
    /// Crashes per role since start (clean exits are not counted), for `status`.
    var exits: [Role: Int] = [.register: 0, .gateway: 0, .worker: 0]
    /// Processes started again after they exited, per role, for `/metrics`.
    var restartCounts: [Role: Int] = [:]
    var pendingQueries: [PendingQuery] = []
    var nextQueryID: UInt64 = 1
    private var nextChildID = 0

    /// One slot per process this host's roles run: the register, the gateways, the workers,
    /// then the HTTP API.
    init(configuration: GatewayConfiguration, restartPolicy: RestartPolicy = RestartPolicy()) {
        self.configuration = configuration
        self.restartPolicy = restartPolicy
        if configuration.runs(.register) { addChild(role: .register, index: 0) }
        for index in 0..<(configuration.runs(.gateway) ? configuration.gatewayCount : 0) {
            addChild(role: .gateway, index: index)
        }
        for index in 0..<(configuration.runs(.worker) ? configuration.workerCount : 0) {
            addChild(role: .worker, index: index)
        }
        if configuration.httpAPI != nil { addChild(role: .httpAPI, index: 0) }
    }

    @discardableResult
    mutating func addChild(role: Role, index: Int, generation: Int = 0, purpose: SupervisedChild.Purpose = .serving) -> ChildID {
        let id = ChildID(rawValue: nextChildID)
        nextChildID += 1
        children.append(SupervisedChild(id: id, role: role, index: index, generation: generation, purpose: purpose))
        return id
    }

    func child(_ id: ChildID) -> SupervisedChild? { children.first { $0.id == id } }

    func child(pid: pid_t) -> SupervisedChild? { pid > 0 ? children.first { $0.pid == pid } : nil }

    func position(of id: ChildID) -> Int? { children.firstIndex { $0.id == id } }

    // MARK: - Start

    /// Every child starts at once; the master is ready when all of them are.
    mutating func start(now: MasterInstant) -> [SupervisorAction] {
        phase = .starting(deadline: now.addingTimeInterval(Self.startTimeout))
        return children.map { .spawn($0.id) }
    }

    mutating func childSpawned(_ id: ChildID, pid: pid_t, now: MasterInstant) {
        guard let slot = position(of: id) else { return }
        children[slot].pid = pid
        children[slot].hasControlChannel = true
        children[slot].state = .starting
        children[slot].startedAt = now
        children[slot].counters = nil
        children[slot].fatalReason = nil
    }

    /// socketpair or fork failed: try again as after a crash.
    mutating func spawnFailed(_ id: ChildID, now: MasterInstant) -> [SupervisorAction] {
        scheduleRestart(id, ranFor: 0, now: now)
    }

    /// A start-up that cannot succeed takes everything it started down with it.
    func abortStart(_ reason: String) -> [SupervisorAction] {
        let running = children.filter(\.isRunning).map(\.id)
        return [.log(.error, "start-up failed: \(reason)")] + running.map { .kill($0, signal: SIGKILL) }
            + running.map { .awaitExit($0) } + [.closeSockets, .reportStartFailure(reason), .exit(1)]
    }

    // MARK: - Children

    /// The child closed its end of the control channel: it is exiting, its exit will follow.
    mutating func controlChannelClosed(_ id: ChildID) {
        guard let slot = position(of: id) else { return }
        children[slot].hasControlChannel = false
    }

    mutating func childExited(_ id: ChildID, _ exit: ChildExit, now: MasterInstant) -> [SupervisorAction] {
        guard let slot = position(of: id) else { return [] }
        let pid = children[slot].pid
        let ranFor = now.timeIntervalSince(children[slot].startedAt)
        let how = exit.description
        children[slot].pid = 0
        children[slot].hasControlChannel = false
        forgetAwaitedReplies(from: id)
        let child = children[slot]
        switch phase {
        case .stopping:
            children[slot].state = .stopped
            return [.log(.debug, "\(child.name) exited (\(how))")]
        case .starting:
            children[slot].state = .stopped
            return abortStart(child.fatalReason ?? "\(child.name) \(how) during start-up")
        case .running:
            if child.purpose != .serving { return childLeftDuringReload(child, clean: exit.isClean, how: how, now: now) }
            if !exit.isClean { exits[child.role, default: 0] += 1 }
            var actions: [SupervisorAction] = [
                .log(exit.isClean ? .info : .error, "\(child.name) (pid \(pid)) \(how) after \(formatSeconds(ranFor))")
            ]
            if let reason = child.fatalReason { actions.append(.log(.error, "\(child.name): \(reason)")) }
            children[slot].restarts += 1
            restartCounts[child.role, default: 0] += 1
            actions += scheduleRestart(id, ranFor: ranFor, now: now)
            if child.generation > 0 || reload != nil { actions += newWorkerFailedDuringReload(child, how: how, now: now) }
            return actions
        }
    }

    /// A quick failure waits longer each time (``RestartPolicy``); the third in a row is called
    /// a crash loop in the log and in `status`.
    private mutating func scheduleRestart(_ id: ChildID, ranFor seconds: Double, now: MasterInstant) -> [SupervisorAction] {
        guard let slot = position(of: id) else { return [] }
        let next = restartPolicy.nextRestart(ranForSeconds: seconds, quickFailures: children[slot].quickFailures)
        children[slot].quickFailures = next.quickFailures
        children[slot].state = .waitingToRestart(at: now.addingTimeInterval(next.delay))
        let name = children[slot].name
        if restartPolicy.isCrashLooping(quickFailures: next.quickFailures) {
            return [
                .log(
                    .error,
                    "\(name) is crash-looping (\(next.quickFailures) quick failures in a row); next start in \(formatSeconds(next.delay))"
                )
            ]
        }
        return [.log(.info, "restarting \(name) in \(formatSeconds(next.delay))")]
    }

    mutating func received(_ message: ControlMessage, from id: ChildID, now: MasterInstant) -> [SupervisorAction] {
        guard let slot = position(of: id) else { return [] }
        switch message.kind {
        case .ready:
            children[slot].state = .ready
            children[slot].info = message.info ?? [:]
            var actions: [SupervisorAction] = [.log(.info, "\(children[slot].name) ready", pid: children[slot].pid)]
            if reload != nil { actions += reloadChildReady(id, now: now) }
            if case .starting = phase, children.allSatisfy({ $0.state == .ready }) {
                phase = .running
                actions += [.log(.info, "all processes ready"), .reportReady]
            }
            return actions
        case .fatal:
            let reason = message.reason ?? "unknown reason"
            children[slot].fatalReason = reason
            return [.log(.error, "\(children[slot].name) cannot run: \(reason)")]
        case .stats, .connections:
            recordReply(message, from: id)
            return []
        case .statsRequest, .connectionsRequest, .stop, .drain, .quiesce, .reopenLog, .reloadTLS:
            return []
        }
    }

    // MARK: - Time

    /// What is due at `now`: restarts, query answers, reload deadlines, the start and stop
    /// deadlines, and the next step of a stop. The shell calls it on every turn of its loop.
    mutating func timerFired(now: MasterInstant) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        if case .running = phase {
            for child in children {
                if case .waitingToRestart(let at) = child.state, at <= now { actions.append(.spawn(child.id)) }
            }
        }
        actions += answerDueQueries(now: now)
        actions += reloadTimers(now: now)
        switch phase {
        case .starting(let deadline) where deadline <= now:
            let waiting = children.filter { $0.state != .ready }.map(\.name).joined(separator: ", ")
            actions += abortStart("timed out waiting for \(waiting) to become ready")
        case .stopping(let deadline, let requesters):
            if !children.contains(where: \.isRunning) { return actions + finishStop(requesters: requesters) }
            actions += advanceStop()
            if deadline <= now { actions += killWhatDidNotStop(requesters: requesters, now: now) }
        default:
            break
        }
        return actions
    }

    /// When `timerFired` next has something to do: a restart, a query's answer, the start or
    /// stop deadline, a reload stage's deadline; at most a second away (a stop advances role by
    /// role on those turns). Deadlines already passed were handled and are not waited for.
    func nextWakeUp(now: MasterInstant) -> MasterInstant {
        var next = now.addingTimeInterval(1)
        for child in children {
            if case .waitingToRestart(let at) = child.state { next = min(next, at) }
        }
        for query in pendingQueries { next = min(next, query.deadline) }
        var deadlines: [MasterInstant] = []
        switch phase {
        case .starting(let deadline), .stopping(let deadline, _): deadlines.append(deadline)
        case .running: break
        }
        switch reload?.stage {
        case .canary(_, let deadline), .starting(let deadline), .draining(let deadline): deadlines.append(deadline)
        case nil: break
        }
        for deadline in deadlines where deadline > now { next = min(next, deadline) }
        return next
    }
}

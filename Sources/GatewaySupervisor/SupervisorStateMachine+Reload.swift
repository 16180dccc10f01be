import Foundation
import GatewayCore
import GatewayMetrics

/// A reload in progress: canary, then a new generation of workers, then the old one drains.
struct ReloadInProgress: Hashable {
    enum Stage: Hashable {
        /// A throwaway worker loads the new plugin and runs on_worker_start.
        case canary(ChildID, deadline: MasterInstant)
        /// The new generation is starting; the old one still serves everything.
        case starting(deadline: MasterInstant)
        /// The old generation finishes what it was sent, then exits.
        case draining(deadline: MasterInstant)
    }

    var requester: RequesterID?
    var startedAt: MasterInstant
    var stage: Stage
    var oldPlugin: [String: String]
    var newPlugin: [String: String] = [:]
    var replaced = 0
    var killed = 0
    /// Gateways told to read their TLS certificate again (nil: none serves wss://).
    var certificatesReloaded: Int?

    var isStartingGeneration: Bool {
        if case .starting = stage { return true }
        return false
    }
}

/// `gatewayd reload` (or SIGUSR1): replace every worker with one running the plugin file as it
/// is on disk now, losing no event and disconnecting no client.
///
/// 1. A canary loads the file (copied to the content-addressed store) and runs
///    on_worker_start; if it fails, nothing else changes and the requester gets its reason.
/// 2. A new generation of workers starts beside the old one (at most two are ever alive).
/// 3. Each old worker drains: gateways stop sending it events and hold its clients' next
///    events until it has handled everything it was sent; then they go to the new workers.
///    Old workers still running at the drain timeout are killed and counted.
extension SupervisorStateMachine {
    static let canaryTimeout: TimeInterval = 30
    static let generationStartTimeout: TimeInterval = 30

    /// `pluginIsReadable`: whether the configured plugin file can be read now (the shell looks).
    /// `certificates`: whether this host's gateways serve wss://, and whether the certificate
    /// and key on disk can serve now (the shell loads them). They are read again at every
    /// reload; a host without workers reloads its certificates only.
    mutating func reload(
        requester: RequesterID?, pluginIsReadable: Bool, certificates: CertificateCheck = .notServed, now: MasterInstant
    ) -> [SupervisorAction] {
        func refuse(_ reason: String) -> [SupervisorAction] {
            [.log(.warning, "reload refused: \(reason)"), .reloadFinished(.refused, seconds: nil, killedWorkers: 0)]
                + (requester.map { [.respond($0, ControlResponse(ok: false, error: reason))] } ?? [])
        }
        if let current = reload {
            return refuse(
                "a reload is already in progress (started \(formatSeconds(now.timeIntervalSince(current.startedAt))) ago); try again when it has finished"
            )
        }
        guard case .running = phase else { return refuse("gatewayd is starting or stopping; try again when it runs") }
        if case .unusable(let reason) = certificates {
            return refuse("\(reason); the gateways keep the certificate they serve")
        }
        var certificateActions: [SupervisorAction] = []
        var certificatesReloaded: Int?
        if case .readable = certificates {
            let gateways = children.filter { $0.role == .gateway && $0.state == .ready }
            certificateActions = gateways.map { .send(ControlMessage(kind: .reloadTLS), to: $0.id) }
            certificateActions.append(.log(.info, "reload: \(gateways.count) gateways read their TLS certificate again"))
            certificatesReloaded = gateways.count
        }
        if let certificatesReloaded, !configuration.runs(.worker) {
            let report = ReloadReport(oldPlugin: [:], newPlugin: [:], replaced: 0, killed: 0, seconds: 0, certificatesReloaded: certificatesReloaded)
            return certificateActions + [.reloadFinished(.done, seconds: 0, killedWorkers: 0)]
                + (requester.map { [.respond($0, ControlResponse(ok: true, reload: report))] } ?? [])
        }
        guard configuration.runs(.worker) else {
            return refuse("this host runs no workers (role \(configuration.roles.map(\.rawValue).joined(separator: ",")))")
        }
        guard let plugin = configuration.plugin else {
            return refuse("nothing to reload: gatewayd runs the built-in demo plugin (start it with --plugin)")
        }
        guard pluginIsReadable else {
            return refuse("plugin not found or not readable: \(plugin); the running workers keep serving")
        }
        let canary = addChild(role: .worker, index: 0, generation: generation + 1, purpose: .canary)
        let current = children.first { $0.role == .worker && $0.purpose == .serving && $0.state == .ready }
        reload = ReloadInProgress(
            requester: requester, startedAt: now,
            stage: .canary(canary, deadline: now.addingTimeInterval(Self.canaryTimeout)),
            oldPlugin: Self.pluginFacts(current?.info ?? [:]), certificatesReloaded: certificatesReloaded)
        return certificateActions + [.log(.info, "reload: starting a canary for \(plugin)"), .tellServiceManager(.reloading), .spawn(canary)]
    }

    /// A child reported ready while a reload runs: the canary's plugin facts are kept; the last
    /// of the new generation sends the old one draining.
    mutating func reloadChildReady(_ id: ChildID, now: MasterInstant) -> [SupervisorAction] {
        guard var current = reload, let child = child(id) else { return [] }
        switch current.stage {
        case .canary(let canary, _) where canary == id:
            current.newPlugin = Self.pluginFacts(child.info)
            reload = current
            return []
        case .starting:
            let newWorkers = children.filter { $0.role == .worker && $0.purpose == .serving && $0.generation == generation }
            guard newWorkers.allSatisfy({ $0.state == .ready }) else { return [] }
            let old = children.indices.filter {
                children[$0].role == .worker && children[$0].purpose == .serving && children[$0].generation < generation
            }
            var actions: [SupervisorAction] = [
                .log(.info, "reload: generation \(generation) serving; draining \(old.count) old workers")
            ]
            for slot in old {
                children[slot].purpose = .retiring
                actions.append(.send(ControlMessage(kind: .drain), to: children[slot].id))
            }
            current.stage = .draining(
                deadline: now.addingTimeInterval(Double(configuration.drainTimeoutMilliseconds) / 1000))
            reload = current
            return actions + finishReloadIfDrained(now: now)
        default:
            return []
        }
    }

    /// A canary or a retiring worker exited (they are never restarted).
    mutating func childLeftDuringReload(_ child: SupervisedChild, clean: Bool, how: String, now: MasterInstant) -> [SupervisorAction] {
        children.removeAll { $0.id == child.id }
        guard var current = reload else { return [] }
        switch child.purpose {
        case .canary:
            // A throwaway of an abandoned reload (killed, reaped late) is not this reload's canary.
            guard case .canary(let canary, _) = current.stage, canary == child.id else { return [] }
            guard clean, !current.newPlugin.isEmpty else {
                return failReload("the new plugin was refused: \(child.fatalReason ?? "the canary \(how)")", now: now)
            }
            generation += 1
            var actions: [SupervisorAction] = [
                .log(.info, "reload: canary accepted \(ReloadReport.describe(current.newPlugin)); starting generation \(generation)")
            ]
            for index in 0..<configuration.workerCount {
                actions.append(.spawn(addChild(role: .worker, index: index, generation: generation)))
            }
            current.stage = .starting(deadline: now.addingTimeInterval(Self.generationStartTimeout))
            reload = current
            return actions
        case .retiring:
            if child.killedAtDrainTimeout {
                current.killed += 1
            } else {
                current.replaced += 1
            }
            reload = current
            var actions: [SupervisorAction] = []
            if !clean && !child.killedAtDrainTimeout { actions.append(.log(.error, "\(child.name) \(how) while draining")) }
            return actions + finishReloadIfDrained(now: now)
        case .serving:
            return []
        }
    }

    /// A worker of the new generation died before the reload finished: give up on it.
    mutating func newWorkerFailedDuringReload(_ child: SupervisedChild, how: String, now: MasterInstant) -> [SupervisorAction] {
        guard let current = reload, current.isStartingGeneration, child.generation == generation else { return [] }
        return failReload("\(child.name) \(how) while starting: \(child.fatalReason ?? "see the log")", now: now)
    }

    /// The canary and the new generation have 30 s each to become ready; old workers have the
    /// drain timeout to finish, then they are killed (and counted as killed, not replaced).
    mutating func reloadTimers(now: MasterInstant) -> [SupervisorAction] {
        guard let current = reload else { return [] }
        switch current.stage {
        case .canary(let canary, let deadline) where deadline <= now:
            let kill: [SupervisorAction] = child(canary)?.isRunning == true ? [.kill(canary, signal: SIGKILL)] : []
            return kill + failReload("the canary did not load the new plugin within \(Int(Self.canaryTimeout)) s", now: now)
        case .starting(let deadline) where deadline <= now:
            return failReload("the new workers did not become ready within \(Int(Self.generationStartTimeout)) s", now: now)
        case .draining(let deadline) where deadline <= now:
            var actions: [SupervisorAction] = []
            for slot in children.indices {
                let worker = children[slot]
                guard worker.purpose == .retiring, worker.isRunning, !worker.killedAtDrainTimeout else { continue }
                children[slot].killedAtDrainTimeout = true
                actions += [
                    .log(.warning, "\(worker.name) did not finish draining in time; killing it"), .kill(worker.id, signal: SIGKILL),
                ]
            }
            return actions
        default:
            return []
        }
    }

    private mutating func finishReloadIfDrained(now: MasterInstant) -> [SupervisorAction] {
        guard let current = reload, case .draining = current.stage, !children.contains(where: { $0.purpose == .retiring })
        else { return [] }
        reload = nil
        let report = ReloadReport(
            oldPlugin: current.oldPlugin, newPlugin: current.newPlugin, replaced: current.replaced, killed: current.killed,
            seconds: now.timeIntervalSince(current.startedAt), certificatesReloaded: current.certificatesReloaded)
        var actions: [SupervisorAction] = [
            .log(
                .info,
                "reload done: \(ReloadReport.describe(current.oldPlugin)) -> \(ReloadReport.describe(current.newPlugin)); \(report.replaced) workers replaced, \(report.killed) killed, \(formatSeconds(report.seconds))"
            )
        ]
        actions.append(.reloadFinished(.done, seconds: report.seconds, killedWorkers: report.killed))
        if let sha256 = current.newPlugin["sha256"] { actions.append(.removePluginCopies(keeping: sha256)) }
        // Ready again before `gatewayd reload` (systemd's ExecReload) returns.
        actions.append(.tellServiceManager(.reloaded))
        if let requester = current.requester { actions.append(.respond(requester, ControlResponse(ok: true, reload: report))) }
        return actions
    }

    /// Abandons the reload: the new generation (if any) goes, the old one keeps serving.
    private mutating func failReload(_ reason: String, now: MasterInstant) -> [SupervisorAction] {
        guard let current = reload else { return [] }
        reload = nil
        let abandoned = children.filter {
            $0.purpose == .canary || (current.isStartingGeneration && $0.purpose == .serving && $0.generation == generation)
        }
        var actions: [SupervisorAction] = []
        for child in abandoned {
            if child.isRunning, let slot = position(of: child.id) {
                actions.append(.kill(child.id, signal: SIGKILL))
                children[slot].purpose = .canary  // reaped as a throwaway, never restarted
            } else {
                children.removeAll { $0.id == child.id }  // e.g. waiting out a restart back-off
            }
        }
        if current.isStartingGeneration { generation -= 1 }
        actions.append(.log(.error, "reload failed: \(reason); the running workers keep serving"))
        actions.append(.reloadFinished(.failed, seconds: now.timeIntervalSince(current.startedAt), killedWorkers: current.killed))
        actions.append(.tellServiceManager(.reloaded))
        if let requester = current.requester { actions.append(.respond(requester, ControlResponse(ok: false, error: reason))) }
        return actions
    }

    /// name, version and sha256 from a worker's ready info.
    static func pluginFacts(_ info: [String: String]) -> [String: String] {
        var facts: [String: String] = [:]
        facts["name"] = info["plugin"]
        facts["version"] = info["plugin_version"]
        facts["sha256"] = info["plugin_sha256"]
        return facts
    }
}

/// What the shell found of the TLS certificate before a reload.
enum CertificateCheck: Hashable {
    /// No wss:// listener on this host.
    case notServed
    /// The certificate and key load: gateways are told to read them again.
    case readable
    /// They do not (one line: which file and why): the reload is refused.
    case unusable(String)
}

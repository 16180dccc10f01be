import Foundation
import GatewayCore
import Logging

/// A reload in progress: canary, then a new generation of workers, then the old one drains.
struct ReloadInProgress {
    enum Stage {
        /// A throwaway worker loads the new plugin and runs on_worker_start.
        case canary(ChildRecord, deadline: Date)
        /// The new generation is starting; the old one still serves everything.
        case starting(deadline: Date)
        /// The old generation finishes what it was sent, then exits.
        case draining(deadline: Date)
    }

    var requester: Int32?
    var startedAt: Date
    var stage: Stage
    var oldPlugin: [String: String]
    var newPlugin: [String: String] = [:]
    var replaced = 0
    var killed = 0
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
extension Supervisor {
    static let canaryTimeout: TimeInterval = 30
    static let generationStartTimeout: TimeInterval = 30

    func beginReload(requester: Int32?) {
        func refuse(_ reason: String) {
            logger.warning("reload refused: \(reason)")
            if let requester { respond(to: requester, ControlResponse(ok: false, error: reason)) }
        }
        if let current = reload {
            return refuse(
                "a reload is already in progress (started \(formatSeconds(Date().timeIntervalSince(current.startedAt))) ago); try again when it has finished"
            )
        }
        guard case .running = phase else { return refuse("gatewayd is starting or stopping; try again when it runs") }
        guard configuration.runs(.worker) else { return refuse("this host runs no workers (role \(configuration.roles.map(\.rawValue).joined(separator: ",")))") }
        guard let plugin = configuration.plugin else {
            return refuse("nothing to reload: gatewayd runs the built-in demo plugin (start it with --plugin)")
        }
        guard FileManager.default.isReadableFile(atPath: plugin) else {
            return refuse("plugin not found or not readable: \(plugin); the running workers keep serving")
        }
        let canary = ChildRecord(role: .worker, index: 0, generation: generation + 1, purpose: .canary)
        children.append(canary)
        let current = children.first { $0.role == .worker && $0.purpose == .serving && $0.state == .ready }
        reload = ReloadInProgress(
            requester: requester, startedAt: Date(),
            stage: .canary(canary, deadline: Date().addingTimeInterval(Self.canaryTimeout)),
            oldPlugin: Self.pluginFacts(current?.info ?? [:]))
        logger.info("reload: starting a canary for \(plugin)")
        spawn(canary)
    }

    /// A child reported ready while a reload runs.
    func reloadChildReady(_ child: ChildRecord) {
        guard var current = reload else { return }
        switch current.stage {
        case .canary(let canary, _) where canary === child:
            current.newPlugin = Self.pluginFacts(child.info)
            reload = current
        case .starting:
            let newWorkers = children.filter { $0.role == .worker && $0.purpose == .serving && $0.generation == generation }
            guard newWorkers.allSatisfy({ $0.state == .ready }) else { return }
            let old = children.filter { $0.role == .worker && $0.purpose == .serving && $0.generation < generation }
            logger.info("reload: generation \(generation) serving; draining \(old.count) old workers")
            for worker in old {
                worker.purpose = .retiring
                send(ControlMessage(kind: .drain), to: worker)
            }
            current.stage = .draining(
                deadline: Date().addingTimeInterval(Double(configuration.drainTimeoutMilliseconds) / 1000))
            reload = current
            finishReloadIfDrained()
        default:
            break
        }
    }

    /// A canary or a retiring worker exited (they are never restarted).
    func childLeftDuringReload(_ child: ChildRecord, clean: Bool, how: String) {
        children.removeAll { $0 === child }
        guard var current = reload else { return }
        switch child.purpose {
        case .canary:
            guard clean, !current.newPlugin.isEmpty else {
                return failReload("the new plugin was refused: \(child.fatalReason ?? "the canary \(how)")")
            }
            generation += 1
            logger.info("reload: canary accepted \(ReloadReport.describe(current.newPlugin)); starting generation \(generation)")
            for index in 0..<configuration.workerCount {
                let worker = ChildRecord(role: .worker, index: index, generation: generation)
                children.append(worker)
                spawn(worker)
            }
            current.stage = .starting(deadline: Date().addingTimeInterval(Self.generationStartTimeout))
            reload = current
        case .retiring:
            if child.killedAtDrainTimeout {
                current.killed += 1
            } else {
                current.replaced += 1
            }
            if !clean && !child.killedAtDrainTimeout { logger.error("\(child.name) \(how) while draining") }
            reload = current
            finishReloadIfDrained()
        case .serving:
            break
        }
    }

    /// A worker of the new generation died before the reload finished: give up on it.
    func newWorkerFailedDuringReload(_ child: ChildRecord, how: String) {
        guard let current = reload, case .starting = current.stage, child.generation == generation else { return }
        failReload("\(child.name) \(how) while starting: \(child.fatalReason ?? "see the log")")
    }

    func reloadTimers(now: Date) {
        guard let current = reload else { return }
        switch current.stage {
        case .canary(let canary, let deadline) where deadline <= now:
            if canary.pid > 0 { kill(canary.pid, SIGKILL) }
            failReload("the canary did not load the new plugin within \(Int(Self.canaryTimeout)) s")
        case .starting(let deadline) where deadline <= now:
            failReload("the new workers did not become ready within \(Int(Self.generationStartTimeout)) s")
        case .draining(let deadline) where deadline <= now:
            for worker in children where worker.purpose == .retiring && worker.pid > 0 && !worker.killedAtDrainTimeout {
                logger.warning("\(worker.name) did not finish draining in time; killing it")
                worker.killedAtDrainTimeout = true
                kill(worker.pid, SIGKILL)
            }
        default:
            break
        }
    }

    private func finishReloadIfDrained() {
        guard let current = reload, case .draining = current.stage,
            !children.contains(where: { $0.purpose == .retiring })
        else { return }
        reload = nil
        let report = ReloadReport(
            oldPlugin: current.oldPlugin, newPlugin: current.newPlugin, replaced: current.replaced, killed: current.killed,
            seconds: Date().timeIntervalSince(current.startedAt))
        logger.info(
            "reload done: \(ReloadReport.describe(current.oldPlugin)) -> \(ReloadReport.describe(current.newPlugin)); \(report.replaced) workers replaced, \(report.killed) killed, \(formatSeconds(report.seconds))"
        )
        removeUnusedPluginCopies(keeping: current.newPlugin["sha256"])
        if let requester = current.requester { respond(to: requester, ControlResponse(ok: true, reload: report)) }
    }

    /// Abandons the reload: the new generation (if any) goes, the old one keeps serving.
    private func failReload(_ reason: String) {
        guard let current = reload else { return }
        reload = nil
        let abandoned = children.filter {
            $0.purpose == .canary || (isStartingGeneration(current) && $0.purpose == .serving && $0.generation == generation)
        }
        for child in abandoned {
            if child.pid > 0 {
                kill(child.pid, SIGKILL)
                child.purpose = .canary  // reaped as a throwaway, never restarted
            } else {
                children.removeAll { $0 === child }  // e.g. waiting out a restart back-off
            }
        }
        if isStartingGeneration(current) { generation -= 1 }
        logger.error("reload failed: \(reason); the running workers keep serving")
        if let requester = current.requester { respond(to: requester, ControlResponse(ok: false, error: reason)) }
    }

    private func isStartingGeneration(_ reload: ReloadInProgress) -> Bool {
        if case .starting = reload.stage { return true }
        return false
    }

    /// Store copies (`<sha256>.so`) no live generation maps any more are deleted.
    private func removeUnusedPluginCopies(keeping sha256: String?) {
        guard let sha256 else { return }
        let store = RunDirectory(path: configuration.runDirectory).pluginStore
        for file in (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
        where file.hasSuffix(".so") && file != "\(sha256).so" {
            try? FileManager.default.removeItem(atPath: "\(store)/\(file)")
        }
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

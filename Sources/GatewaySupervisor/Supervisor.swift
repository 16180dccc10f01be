import CGatewaySystem
import Foundation
import GatewayCore
import GatewayMetrics
import Logging

/// The master: a strictly single-threaded supervisor.
///
/// It binds every listening socket, forks the register, the gateways and the workers, restarts
/// any child that dies, and answers control commands on `<run-dir>/gatewayd.sock`. It never
/// starts a thread (no NIO, no Dispatch, no Swift concurrency): fork() copies only the calling
/// thread, so a master with threads would hand its children locks nobody can release. All
/// waiting happens in one poll() loop, with signals arriving through a self-pipe.
///
/// This type is the shell: it turns what the OS reports into events for
/// ``SupervisorStateMachine``, which makes every decision, and carries out the actions it
/// returns (fork, write, kill, answer).
public final class Supervisor {
    /// Runs a role in a freshly forked child; never returns.
    public typealias RoleRunner = (ChildContext) -> Never

    /// Where the master reports "ready" or a start-up failure: stdout in the foreground, a pipe
    /// to the waiting `start -d` command when daemonized.
    public typealias ReadinessReporter = (Result<String, SupervisorError>) -> Void

    var configuration: GatewayConfiguration
    let runDirectory: RunDirectory
    let runRole: RoleRunner
    let logger: Logger
    let version: String
    let startedAt = MasterInstant.now()
    var machine: SupervisorStateMachine

    var registerSocket: ListeningSocket.Bound?
    var clientSockets: [[Int32]] = []  // [gateway][listener]
    var innerSockets: [ListeningSocket.Bound] = []
    var httpAPISocket: ListeningSocket.Bound?
    var metricsSocket: ListeningSocket.Bound?
    var metricsClients: [MetricsConnection] = []
    /// `/metrics`: the children's reports and the master's own events.
    let metrics: MetricsExporter
    var controlServer: Int32 = -1
    var signalRead: Int32 = -1
    var signalWrite: Int32 = -1
    var controlClients: [ControlConnection] = []
    /// The master's end of each running child's control socketpair.
    var channels: [ChildID: ControlChannel] = [:]
    private var readinessReporter: ReadinessReporter?
    /// Descriptors of the caller's (e.g. the daemon's readiness pipe) that children must not keep.
    let callerDescriptors: [Int32]
    /// The file stdout and stderr point at (a daemon's log), reopened on SIGHUP; nil in the
    /// foreground, where the log goes to stderr.
    let logFile: String?
    /// systemd's readiness protocol, when started with `$NOTIFY_SOCKET`.
    private let notifier = ServiceManagerNotifier.fromEnvironment()
    /// Set by the machine's `.exit`: `run` returns it, and nothing else is done.
    private var exitCode: Int32?

    public init(
        configuration: GatewayConfiguration, version: String, logger: Logger, logFile: String? = nil,
        closeInChildren: [Int32] = [], runRole: @escaping RoleRunner
    ) {
        self.configuration = configuration
        self.logFile = logFile
        self.callerDescriptors = closeInChildren
        self.runDirectory = RunDirectory(path: configuration.runDirectory)
        self.version = version
        self.logger = logger
        self.runRole = runRole
        self.machine = SupervisorStateMachine(configuration: configuration)
        self.metrics = MetricsExporter(version: version)
    }

    /// Binds, forks and supervises until stopped. Returns the process exit code.
    /// `reportReadiness` is called exactly once: when every child is serving, or with the reason
    /// start-up failed (after everything it started has been stopped again).
    public func run(reportReadiness: @escaping ReadinessReporter) -> Int32 {
        readinessReporter = reportReadiness
        do {
            try prepare()
        } catch {
            cleanUp()
            report(.failure(error))
            return 1
        }
        perform(machine.start(now: MasterInstant.now()))
        return loop()
    }

    // MARK: - Actions

    /// Carries out the machine's actions in order; those after an `.exit` are dropped.
    func perform(_ actions: [SupervisorAction]) {
        for action in actions {
            guard exitCode == nil else { return }
            switch action {
            case .spawn(let id):
                spawn(id)
            case .send(let message, let id):
                send(message, to: id)
            case .kill(let id, let signal):
                if let pid = machine.child(id)?.pid, pid > 0 { kill(pid, signal) }
            case .log(let level, let message, let pid):
                logger.log(level: level, "\(message)", metadata: pid.map { ["gw.pid": "\($0)"] })
            case .respond(let requester, let response):
                respond(to: requester.rawValue, response)
            case .answerStatus(let requester):
                respond(to: requester.rawValue, ControlResponse(ok: true, status: statusReport()))
            case .answerMetrics(let requester):
                answerMetrics(to: requester.rawValue)
            case .reloadFinished(let outcome, let seconds, let killed):
                metrics.reloadFinished(outcome, seconds: seconds, killedWorkers: killed)
            case .reportReady:
                let line = readyLine()
                report(.success(line))
                if let failure = notifier.ready(status: line) { logger.warning("\(failure)") }
            case .tellServiceManager(let state):
                let failure: String?
                switch state {
                case .reloading: failure = notifier.reloading()
                case .reloaded: failure = notifier.ready(status: readyLine())
                case .stopping: failure = notifier.stopping()
                }
                if let failure { logger.warning("\(failure)") }
            case .reportStartFailure(let reason):
                report(.failure(.startup(reason)))
            case .removePluginCopies(let sha256):
                removeUnusedPluginCopies(keeping: sha256)
            case .awaitExit(let id):
                guard let pid = machine.child(id)?.pid, pid > 0 else { continue }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            case .closeSockets:
                cleanUp()
            case .exit(let code):
                exitCode = code
            }
        }
    }

    private func report(_ result: Result<String, SupervisorError>) {
        readinessReporter?(result)
        readinessReporter = nil
    }

    private func readyLine() -> String {
        let localListen = configuration.runs(.gateway) ? configuration.listen : []
        let roles = configuration.roles == Role.deployable ? "" : " roles=\(configuration.roles.map(\.rawValue).joined(separator: ","))"
        let httpAPI = configuration.httpAPI.map { " http-api=\($0.listen)" } ?? ""
        let metrics = configuration.metricsListen.map { " metrics=\($0)" } ?? ""
        return
            "gatewayd ready: pid=\(getpid()) listen=\(localListen.isEmpty ? "none" : localListen.joined(separator: ",")) register=\(configuration.register)\(roles)\(httpAPI)\(metrics) run-dir=\(runDirectory.path)"
    }

    /// Store copies (`<sha256>.so`) no live generation maps any more are deleted.
    private func removeUnusedPluginCopies(keeping sha256: String) {
        let store = runDirectory.pluginStore
        for file in (try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []
        where file.hasSuffix(".so") && file != "\(sha256).so" {
            try? FileManager.default.removeItem(atPath: "\(store)/\(file)")
        }
    }

    // MARK: - Loop

    private func loop() -> Int32 {
        while true {
            let now = MasterInstant.now()
            perform(machine.timerFired(now: now))
            if let exitCode { return exitCode }

            var descriptors: [pollfd] = [
                pollfd(fd: signalRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: controlServer, events: Int16(POLLIN), revents: 0),
            ]
            let live = machine.children.compactMap { child in channels[child.id].map { (child.id, $0) } }
            descriptors += live.map { pollfd(fd: $0.1.descriptor, events: Int16(POLLIN), revents: 0) }
            // Snapshot before poll: accepting below grows controlClients.
            let clients = controlClients
            descriptors += clients.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            expireMetricsClients(now: now)
            let scrapes = metricsClients
            // One waiting for its answer is left out (-1): a peer that hung up meanwhile would
            // otherwise report POLLHUP on every turn until then.
            descriptors += scrapes.map { pollfd(fd: $0.stage == .awaitingAnswer ? -1 : $0.descriptor, events: $0.pollEvents, revents: 0) }
            descriptors.append(pollfd(fd: metricsSocket?.descriptor ?? -1, events: Int16(POLLIN), revents: 0))
            let timeout = Int32(max(0, min(machine.nextWakeUp(now: now).timeIntervalSince(now), 1)) * 1000) + 1
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 && errno != EINTR { logger.error("poll: \(String(cString: strerror(errno)))") }
            if ready <= 0 { continue }

            if descriptors[0].revents != 0 { handleSignals() }
            if let exitCode { return exitCode }
            if descriptors[1].revents != 0 { acceptControlClients() }
            for (offset, (id, _)) in live.enumerated() where descriptors[2 + offset].revents != 0 {
                readControl(of: id)
            }
            let clientBase = 2 + live.count
            for (offset, client) in clients.enumerated() where descriptors[clientBase + offset].revents != 0 {
                readRequest(from: client)
            }
            let scrapeBase = clientBase + clients.count
            for (offset, client) in scrapes.enumerated() where descriptors[scrapeBase + offset].revents != 0 {
                serviceMetricsClient(client)
            }
            if descriptors[scrapeBase + scrapes.count].revents != 0 { acceptMetricsClients() }
        }
    }

    private func handleSignals() {
        var buffer = [UInt8](repeating: 0, count: 64)
        var received: Set<Int32> = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(signalRead, $0.baseAddress!, $0.count) }
            if count <= 0 { break }
            for byte in buffer[0..<count] { received.insert(Int32(byte)) }
        }
        // Stop first: when a signal hit the whole process group, the children that died of it
        // are then reaped as stopping, not counted as crashes and restarted.
        if received.contains(SIGTERM) || received.contains(SIGINT) { perform(machine.terminationSignal(now: MasterInstant.now())) }
        if received.contains(SIGCHLD), exitCode == nil { reapChildren() }
        if received.contains(SIGUSR1), exitCode == nil { requestReload(requester: nil) }
        if received.contains(SIGHUP), exitCode == nil { reopenLog() }
    }

    /// SIGHUP (logrotate's postrotate): the master, then every child, opens the log file anew.
    /// In the foreground there is no file of ours to reopen, and SIGHUP stays harmless.
    private func reopenLog() {
        guard let logFile else {
            logger.debug("SIGHUP: logging to stderr, no log file to reopen")
            return
        }
        if case .failure(let error) = LogFile.reopen(logFile) {
            logger.error("\(error); still writing to the old file")
            return
        }
        logger.info("log file reopened", metadata: ["gw.path": "\(logFile)"])
        // A child forked from now on inherits the new file; those running are told to reopen.
        for id in channels.keys { send(ControlMessage(kind: .reopenLog, path: logFile), to: id) }
    }

    private func reapChildren() {
        while exitCode == nil {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            guard let child = machine.child(pid: pid) else { continue }
            // Its last words first (a drained worker's final counters), then its counters are
            // carried in /metrics for whoever takes its place.
            readControl(of: child.id)
            if let last = machine.child(child.id)?.counters?.metrics { metrics.ledger.retire(last, role: child.role, index: child.index) }
            closeChannel(of: child.id)
            perform(machine.childExited(child.id, ChildExit(waitStatus: status), now: MasterInstant.now()))
        }
    }

    func requestReload(requester: Int32?) {
        let readable = configuration.plugin.map { FileManager.default.isReadableFile(atPath: $0) } ?? false
        let certificates = configuration.runs(.gateway) ? Self.certificateCheck(configuration) : .notServed
        perform(
            machine.reload(
                requester: requester.map(RequesterID.init), pluginIsReadable: readable, certificates: certificates, now: MasterInstant.now()))
    }
}

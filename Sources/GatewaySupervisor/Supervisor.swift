import CGatewaySystem
import Foundation
import GatewayCore
import Logging

/// The master: a strictly single-threaded supervisor.
///
/// It binds every listening socket, forks the register, the gateways and the workers, restarts
/// any child that dies, and answers control commands on `<run-dir>/gatewayd.sock`. It never
/// starts a thread (no NIO, no Dispatch, no Swift concurrency): fork() copies only the calling
/// thread, so a master with threads would hand its children locks nobody can release. All
/// waiting happens in one poll() loop, with signals arriving through a self-pipe.
public final class Supervisor {
    /// Runs a role in a freshly forked child; never returns.
    public typealias RoleRunner = (ChildContext) -> Never

    /// Where the master reports "ready" or a start-up failure: stdout in the foreground, a pipe
    /// to the waiting `start -d` command when daemonized.
    public typealias ReadinessReporter = (Result<String, SupervisorError>) -> Void

    var configuration: GatewayConfiguration
    private let runDirectory: RunDirectory
    private let runRole: RoleRunner
    let logger: Logger
    private let restartPolicy = RestartPolicy()
    private let version: String
    private let startedAt = Date()

    var children: [ChildRecord] = []
    /// The reload in progress, if any (at most one; at most two generations alive).
    var reload: ReloadInProgress?
    /// The newest worker generation.
    var generation = 0
    private var registerSocket: ListeningSocket.Bound?
    private var clientSockets: [[Int32]] = []  // [gateway][listener]
    private var innerSockets: [ListeningSocket.Bound] = []
    private var httpAPISocket: ListeningSocket.Bound?
    private var controlServer: Int32 = -1
    private var signalRead: Int32 = -1
    private var signalWrite: Int32 = -1
    private var controlClients: [ControlConnection] = []
    private var pendingQueries: [PendingQuery] = []
    private var nextRequestID: UInt64 = 1
    private var exits: [Role: Int] = [.register: 0, .gateway: 0, .worker: 0]

    enum Phase {
        case starting(deadline: Date)
        case running
        case stopping(deadline: Date, requesters: [Int32])
    }
    var phase: Phase = .running
    private var readinessReporter: ReadinessReporter?
    /// Descriptors of the caller's (e.g. the daemon's readiness pipe) that children must not keep.
    private let callerDescriptors: [Int32]

    public init(
        configuration: GatewayConfiguration, version: String, logger: Logger, closeInChildren: [Int32] = [],
        runRole: @escaping RoleRunner
    ) {
        self.configuration = configuration
        self.callerDescriptors = closeInChildren
        self.runDirectory = RunDirectory(path: configuration.runDirectory)
        self.version = version
        self.logger = logger
        self.runRole = runRole
    }

    // MARK: - Start

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
        phase = .starting(deadline: Date().addingTimeInterval(60))
        for child in children { spawn(child) }
        return loop()
    }

    private func prepare() throws(SupervisorError) {
        if let pid = runDirectory.runningMasterPID(), pid != getpid() {
            throw .startup("gatewayd is already running in \(runDirectory.path) (master pid \(pid)); stop it first")
        }
        do {
            try FileManager.default.createDirectory(atPath: runDirectory.path, withIntermediateDirectories: true)
        } catch {
            throw .startup("cannot create run directory \(runDirectory.path): \(error.localizedDescription)")
        }
        if let plugin = configuration.plugin, configuration.runs(.worker) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: plugin, isDirectory: &isDirectory) else {
                throw .startup("plugin not found: \(plugin)")
            }
            guard !isDirectory.boolValue, access(plugin, R_OK) == 0 else {
                throw .startup("plugin is not a readable file: \(plugin)")
            }
        }

        // Bind everything before forking anything: a port in use fails here, with nothing running.
        // Only what this host's roles need: a gateway-only host binds no register port.
        if configuration.runs(.register) { try bindRegister() }

        var listeners: [ListenAddress] = []
        for url in configuration.listen {
            do { listeners.append(try ListenAddress(parsing: url)) } catch {
                throw .startup("invalid listen address '\(url)': expected \(error.expected)")
            }
        }
        let localGateways = configuration.runs(.gateway) ? configuration.gatewayCount : 0
        clientSockets = Array(repeating: [], count: localGateways)
        for (listenerIndex, listener) in listeners.enumerated() where localGateways > 0 {
            let host = listener.endpoint.host
            let what = listener.scheme.rawValue
            // Port 0 resolves once; the other gateways join that port with their own sockets.
            let first = try ListeningSocket.bind(host: host, port: listener.endpoint.port, reusePort: true, what: what)
            clientSockets[0].append(first.descriptor)
            for gateway in 1..<max(1, configuration.gatewayCount) {
                clientSockets[gateway].append(try ListeningSocket.join(host: host, port: first.port, what: what).descriptor)
            }
            listeners[listenerIndex].endpoint.port = first.port
        }
        configuration.listen = listeners.map { $0.description }

        for gateway in 0..<localGateways {
            let port = configuration.startPort == 0 ? 0 : configuration.startPort + gateway
            innerSockets.append(
                try ListeningSocket.bind(
                    host: configuration.lanIP, port: port, reusePort: false, what: "gateway \(gateway) inner port"))
        }

        if let httpAPI = configuration.httpAPI {
            let endpoint = try HostPort(parsingOrThrow: httpAPI.listen, key: "http_api_listen")
            let bound = try ListeningSocket.bind(host: endpoint.host, port: endpoint.port, reusePort: false, what: "http api")
            httpAPISocket = bound
            configuration.httpAPI?.listen = "\(endpoint.host):\(bound.port)"
        }

        controlServer = try ListeningSocket.bindUnix(path: runDirectory.controlSocket)
        var pipeDescriptors: [Int32] = [0, 0]
        guard pipe(&pipeDescriptors) == 0 else { throw .startup("pipe(): \(String(cString: strerror(errno)))") }
        signalRead = pipeDescriptors[0]
        signalWrite = pipeDescriptors[1]
        for fd in pipeDescriptors { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let signals: [Int32] = [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1]
        _ = gwd_sys_route_signals_to_pipe(signalWrite, signals, Int32(signals.count))
        signal(SIGPIPE, SIG_IGN)

        if let resolved = try? JSONEncoder().encode(configuration) {
            try? resolved.write(to: URL(fileURLWithPath: runDirectory.configurationFile), options: .atomic)
        }
        do {
            try "\(getpid())\n".write(toFile: runDirectory.pidFile, atomically: true, encoding: .utf8)
        } catch {
            throw .startup("cannot write pid file \(runDirectory.pidFile): \(error.localizedDescription)")
        }

        if configuration.runs(.register) { children.append(ChildRecord(role: .register, index: 0)) }
        for index in 0..<localGateways { children.append(ChildRecord(role: .gateway, index: index)) }
        for index in 0..<(configuration.runs(.worker) ? configuration.workerCount : 0) {
            children.append(ChildRecord(role: .worker, index: index))
        }
        if httpAPISocket != nil { children.append(ChildRecord(role: .httpAPI, index: 0)) }
        logger.info(
            "master starting",
            metadata: [
                "gw.roles": "\(configuration.roles.map(\.rawValue).joined(separator: ","))",
                "gw.listen": "\(configuration.listen.joined(separator: ","))", "gw.register": "\(configuration.register)",
                "gw.gateways": "\(configuration.gatewayCount)", "gw.workers": "\(configuration.workerCount)",
                "gw.plugin": "\(configuration.plugin ?? "built-in demo")",
            ])
    }

    /// Binds this host's register (see ``RegisterBinding``); a port 0 is replaced by the one bound.
    private func bindRegister() throws(SupervisorError) {
        let choice = try RegisterBinding.choose(for: configuration)
        let bound = try ListeningSocket.bind(
            host: choice.address.host, port: choice.address.port, reusePort: false, what: "register")
        registerSocket = bound
        let resolved = "\(choice.address.host):\(bound.port)"
        if let index = choice.listIndex {
            var addresses = configuration.registerAddresses
            addresses[index] = resolved
            configuration.register = addresses.joined(separator: ",")
        }
        configuration.registerListen = resolved  // what the register reports, and a restart binds
    }

    // MARK: - Children

    private func context(for child: ChildRecord, controlDescriptor: Int32) -> ChildContext {
        var context = ChildContext(
            role: child.role, index: child.index, configuration: configuration, controlDescriptor: controlDescriptor)
        switch child.role {
        case .register:
            context.registerDescriptor = registerSocket?.descriptor
        case .gateway:
            context.clientDescriptors = clientSockets[child.index]
            context.innerDescriptor = innerSockets[child.index].descriptor
            context.innerPort = innerSockets[child.index].port
            // Only local workers are waited for: a gateway-only host must not wait for remote ones.
            context.expectedWorkers = configuration.runs(.worker) ? configuration.workerCount : 0
        case .worker:
            context.generation = child.generation
            context.canary = child.purpose == .canary
        case .httpAPI:
            context.httpAPIDescriptor = httpAPISocket?.descriptor
        case .master:
            break
        }
        return context
    }

    /// Every descriptor the master owns; a child closes all but its own.
    private func masterDescriptors() -> [Int32] {
        var all = [controlServer, signalRead, signalWrite] + callerDescriptors
        if let registerSocket { all.append(registerSocket.descriptor) }
        all += clientSockets.flatMap { $0 }
        all += innerSockets.map(\.descriptor)
        if let httpAPISocket { all.append(httpAPISocket.descriptor) }
        all += children.map(\.controlDescriptor).filter { $0 >= 0 }
        all += controlClients.map(\.descriptor)
        return all
    }

    func spawn(_ child: ChildRecord) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            logger.error("socketpair failed: \(String(cString: strerror(errno)))")
            scheduleRestart(child, ranFor: 0)
            return
        }
        let masterPID = getpid()
        let pid = fork()
        if pid == 0 {
            // Child: keep only our own descriptors, restore signals, die with the master.
            let context = self.context(for: child, controlDescriptor: pair[1])
            var keep: Set<Int32> = [pair[1]]
            if let fd = context.registerDescriptor { keep.insert(fd) }
            if let fd = context.innerDescriptor { keep.insert(fd) }
            if let fd = context.httpAPIDescriptor { keep.insert(fd) }
            keep.formUnion(context.clientDescriptors)
            for fd in masterDescriptors() + [pair[0]] where !keep.contains(fd) { close(fd) }
            gwd_sys_reset_signals()
            _ = gwd_sys_set_parent_death_signal(SIGKILL)
            if getppid() != masterPID { _exit(1) }
            _ = gwd_sys_set_process_name("gwd-\(child.role.rawValue)-\(child.index)")
            runRole(context)
        }
        close(pair[1])
        guard pid > 0 else {
            close(pair[0])
            logger.error("fork failed: \(String(cString: strerror(errno)))")
            scheduleRestart(child, ranFor: 0)
            return
        }
        _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
        child.pid = pid
        child.controlDescriptor = pair[0]
        child.inbox = []
        child.state = .starting
        child.startedAt = Date()
        child.counters = nil
        child.fatalReason = nil
        logger.debug("forked \(child.name)", metadata: ["gw.pid": "\(pid)"])
    }

    private func scheduleRestart(_ child: ChildRecord, ranFor seconds: Double) {
        let next = restartPolicy.nextRestart(ranForSeconds: seconds, quickFailures: child.quickFailures)
        child.quickFailures = next.quickFailures
        child.state = .waitingToRestart(at: Date().addingTimeInterval(next.delay))
        if restartPolicy.isCrashLooping(quickFailures: next.quickFailures) {
            logger.error(
                "\(child.name) is crash-looping (\(next.quickFailures) quick failures in a row); next start in \(formatSeconds(next.delay))"
            )
        } else {
            logger.info("restarting \(child.name) in \(formatSeconds(next.delay))")
        }
    }

    private func reapChildren() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            guard let child = children.first(where: { $0.pid == pid }) else { continue }
            let ranFor = Date().timeIntervalSince(child.startedAt)
            let how = describeExit(status)
            let clean = gwd_sys_exited(status) != 0 && gwd_sys_exit_status(status) == 0
            closeControl(of: child)
            child.pid = 0
            switch phase {
            case .stopping:
                child.state = .stopped
                logger.debug("\(child.name) exited (\(how))")
            case .starting:
                child.state = .stopped
                let reason = child.fatalReason ?? "\(child.name) \(how) during start-up"
                abortStart(reason)
                return
            case .running:
                if child.purpose != .serving {
                    childLeftDuringReload(child, clean: clean, how: how)
                    continue
                }
                if !clean { exits[child.role, default: 0] += 1 }
                let level: Logger.Level = clean ? .info : .error
                logger.log(level: level, "\(child.name) (pid \(pid)) \(how) after \(formatSeconds(ranFor))")
                if let reason = child.fatalReason { logger.error("\(child.name): \(reason)") }
                child.restarts += 1
                scheduleRestart(child, ranFor: ranFor)
                if child.generation > 0 || reload != nil { newWorkerFailedDuringReload(child, how: how) }
            }
        }
    }

    private func closeControl(of child: ChildRecord) {
        if child.controlDescriptor >= 0 { close(child.controlDescriptor) }
        child.controlDescriptor = -1
        for index in pendingQueries.indices { pendingQueries[index].awaiting.remove(ObjectIdentifier(child)) }
    }

    func send(_ message: ControlMessage, to child: ChildRecord) {
        guard child.controlDescriptor >= 0 else { return }
        if !FileDescriptorIO.writeAll(child.controlDescriptor, message.encodedLine()) {
            logger.debug("control write to \(child.name) failed")
        }
    }

    private func readControl(of child: ChildRecord) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while child.controlDescriptor >= 0 {
            let count = chunk.withUnsafeMutableBytes { read(child.controlDescriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return  // EAGAIN: drained
            }
            if count == 0 {
                // The child closed its end: it is exiting; SIGCHLD will follow.
                if child.controlDescriptor >= 0 { close(child.controlDescriptor) }
                child.controlDescriptor = -1
                return
            }
            child.inbox += chunk[0..<count]
            while let newline = child.inbox.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(child.inbox[..<newline])
                child.inbox.removeSubrange(...newline)
                if let message = ControlMessage.decode(line: line) { handle(message, from: child) }
            }
            if child.inbox.count > 16 << 20 { child.inbox.removeAll() }  // a broken child must not grow us
        }
    }

    private func handle(_ message: ControlMessage, from child: ChildRecord) {
        switch message.kind {
        case .ready:
            child.state = .ready
            child.info = message.info ?? [:]
            logger.info("\(child.name) ready", metadata: ["gw.pid": "\(child.pid)"])
            if reload != nil { reloadChildReady(child) }
            if case .starting = phase, children.allSatisfy({ $0.state == .ready }) {
                phase = .running
                let localListen = configuration.runs(.gateway) ? configuration.listen : []
                let roles = configuration.roles == Role.deployable ? "" : " roles=\(configuration.roles.map(\.rawValue).joined(separator: ","))"
                let httpAPI = configuration.httpAPI.map { " http-api=\($0.listen)" } ?? ""
                let line =
                    "gatewayd ready: pid=\(getpid()) listen=\(localListen.isEmpty ? "none" : localListen.joined(separator: ",")) register=\(configuration.register)\(roles)\(httpAPI) run-dir=\(runDirectory.path)"
                logger.info("all processes ready")
                report(.success(line))
            }
        case .fatal:
            child.fatalReason = message.reason ?? "unknown reason"
            logger.error("\(child.name) cannot run: \(child.fatalReason!)")
        case .stats, .connections:
            guard let id = message.id, let index = pendingQueries.firstIndex(where: { $0.id == id }) else { return }
            if let counters = message.stats { child.counters = counters }
            if let connections = message.connections { pendingQueries[index].connections += connections }
            pendingQueries[index].awaiting.remove(ObjectIdentifier(child))
        case .statsRequest, .connectionsRequest, .stop, .drain, .quiesce:
            break
        }
    }

    // MARK: - Stop

    private func abortStart(_ reason: String) {
        logger.error("start-up failed: \(reason)")
        for child in children where child.pid > 0 { kill(child.pid, SIGKILL) }
        for child in children where child.pid > 0 {
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            child.pid = 0
        }
        cleanUp()
        report(.failure(.startup(reason)))
        exit(1)
    }

    private func beginStop(requester: Int32?, graceful: Bool = false) {
        if case .stopping(let deadline, let requesters) = phase {
            if let requester { phase = .stopping(deadline: deadline, requesters: requesters + [requester]) }
            return
        }
        if let current = reload {
            reload = nil
            if let requester = current.requester {
                respond(to: requester, ControlResponse(ok: false, error: "gatewayd is stopping; the reload was abandoned"))
            }
        }
        logger.info(graceful ? "stopping gracefully: workers finish what they were sent" : "stopping all processes")
        var seconds = Double(configuration.stopTimeoutMilliseconds) / 1000
        if graceful { seconds += Double(configuration.drainTimeoutMilliseconds) / 1000 }
        phase = .stopping(deadline: Date().addingTimeInterval(seconds), requesters: requester.map { [$0] } ?? [])
        for child in children where child.pid == 0 { child.state = .stopped }
        if graceful {
            // Gateways stop accepting, then workers drain: every event already accepted from a
            // client is handled, and what it sends back reaches the client before the 1001.
            for gateway in children where gateway.role == .gateway && gateway.pid > 0 {
                send(ControlMessage(kind: .quiesce), to: gateway)
            }
            for worker in children where worker.role == .worker && worker.pid > 0 {
                worker.state = .stopping
                send(ControlMessage(kind: .drain), to: worker)
            }
        }
        advanceStop()
    }

    /// Stops roles in order — the HTTP API (a client of the gateways), workers (which run
    /// on_worker_stop), then gateways, then the register — so no process sees its peers vanish
    /// while it is still serving.
    private func advanceStop() {
        for role in [Role.httpAPI, .worker, .gateway, .register] {
            let running = children.filter { $0.role == role && $0.pid > 0 }
            if running.isEmpty { continue }
            for child in running where child.state != .stopping {
                child.state = .stopping
                send(ControlMessage(kind: .stop), to: child)
            }
            return
        }
    }

    private func finishStop(requesters: [Int32]) -> Int32 {
        cleanUp()
        let reply = encodeResponse(ControlResponse(ok: true))
        for fd in requesters {
            _ = FileDescriptorIO.writeAll(fd, reply)
            close(fd)
        }
        logger.info("stopped")
        return 0
    }

    private func cleanUp() {
        if controlServer >= 0 {
            close(controlServer)
            unlink(runDirectory.controlSocket)
            controlServer = -1
        }
        if let pid = runDirectory.runningMasterPID(), pid == getpid() { unlink(runDirectory.pidFile) }
        if let registerSocket { close(registerSocket.descriptor) }
        registerSocket = nil
        for fd in clientSockets.flatMap({ $0 }) { close(fd) }
        clientSockets = []
        for socket in innerSockets { close(socket.descriptor) }
        innerSockets = []
        if let httpAPISocket { close(httpAPISocket.descriptor) }
        httpAPISocket = nil
    }

    private func report(_ result: Result<String, SupervisorError>) {
        readinessReporter?(result)
        readinessReporter = nil
    }

    // MARK: - Loop

    private func loop() -> Int32 {
        while true {
            let now = Date()
            // Timers: restarts due, queries timed out, stop deadline.
            for child in children {
                if case .waitingToRestart(let at) = child.state, at <= now, case .running = phase { spawn(child) }
            }
            finishDueQueries(now: now)
            reloadTimers(now: now)
            switch phase {
            case .starting(let deadline) where deadline <= now:
                let waiting = children.filter { $0.state != .ready }.map(\.name).joined(separator: ", ")
                abortStart("timed out waiting for \(waiting) to become ready")
            case .stopping(let deadline, let requesters):
                if children.allSatisfy({ $0.pid == 0 }) { return finishStop(requesters: requesters) }
                advanceStop()
                if deadline <= now {
                    for child in children where child.pid > 0 {
                        logger.warning("\(child.name) did not stop in time; killing it")
                        kill(child.pid, SIGKILL)
                    }
                    phase = .stopping(deadline: now.addingTimeInterval(5), requesters: requesters)
                }
            default:
                break
            }

            var descriptors: [pollfd] = [
                pollfd(fd: signalRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: controlServer, events: Int16(POLLIN), revents: 0),
            ]
            let live = children.filter { $0.controlDescriptor >= 0 }
            descriptors += live.map { pollfd(fd: $0.controlDescriptor, events: Int16(POLLIN), revents: 0) }
            // Snapshot before poll: accepting below grows controlClients.
            let clients = controlClients
            descriptors += clients.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let timeout = Int32(max(0, min(nextTimer(now: now).timeIntervalSince(now), 1)) * 1000) + 1
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 && errno != EINTR { logger.error("poll: \(String(cString: strerror(errno)))") }
            if ready <= 0 { continue }

            if descriptors[0].revents != 0 { handleSignals() }
            if descriptors[1].revents != 0 { acceptControlClients() }
            for (offset, child) in live.enumerated() where descriptors[2 + offset].revents != 0 {
                readControl(of: child)
            }
            let clientBase = 2 + live.count
            for (offset, client) in clients.enumerated() where descriptors[clientBase + offset].revents != 0 {
                readRequest(from: client)
            }
        }
    }

    private func nextTimer(now: Date) -> Date {
        var next = now.addingTimeInterval(1)
        for child in children {
            if case .waitingToRestart(let at) = child.state { next = min(next, at) }
        }
        for query in pendingQueries { next = min(next, query.deadline) }
        return next
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
        if received.contains(SIGTERM) || received.contains(SIGINT) {
            if case .starting = phase {
                abortStart("interrupted by a signal during start-up")
            }
            beginStop(requester: nil)
        }
        if received.contains(SIGCHLD) { reapChildren() }
        if received.contains(SIGUSR1) { beginReload(requester: nil) }
    }

    // MARK: - Control socket

    private final class ControlConnection {
        let descriptor: Int32
        var inbox: [UInt8] = []
        init(descriptor: Int32) { self.descriptor = descriptor }
    }

    private struct PendingQuery {
        var id: UInt64
        var command: ControlRequest.Command
        var requester: Int32
        var deadline: Date
        var awaiting: Set<ObjectIdentifier>
        var connections: [ConnectionInfo] = []
    }

    private func acceptControlClients() {
        while true {
            let fd = accept(controlServer, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            controlClients.append(ControlConnection(descriptor: fd))
        }
    }

    private func dropClient(_ client: ControlConnection, close shouldClose: Bool) {
        controlClients.removeAll { $0 === client }
        if shouldClose { close(client.descriptor) }
    }

    private func readRequest(from client: ControlConnection) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(client.descriptor, $0.baseAddress!, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        if count <= 0 {
            dropClient(client, close: true)
            return
        }
        client.inbox += chunk[0..<count]
        guard let newline = client.inbox.firstIndex(of: UInt8(ascii: "\n")) else {
            if client.inbox.count > 65536 { dropClient(client, close: true) }
            return
        }
        let line = Data(client.inbox[..<newline])
        // One request per connection: from now on the master answers it and closes it.
        dropClient(client, close: false)
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: line) else {
            respond(to: client.descriptor, ControlResponse(ok: false, error: "malformed control request"))
            return
        }
        switch request.command {
        case .stop:
            beginStop(requester: client.descriptor, graceful: request.graceful ?? false)
        case .reload:
            beginReload(requester: client.descriptor)
        case .status, .connections:
            let id = nextRequestID
            nextRequestID += 1
            let targets = children.filter { $0.controlDescriptor >= 0 && $0.state == .ready }
            let requestKind: ControlMessage.Kind = request.command == .status ? .statsRequest : .connectionsRequest
            let recipients = request.command == .status ? targets : targets.filter { $0.role == .gateway }
            for child in recipients { send(ControlMessage(kind: requestKind, id: id), to: child) }
            pendingQueries.append(
                PendingQuery(
                    id: id, command: request.command, requester: client.descriptor,
                    deadline: Date().addingTimeInterval(2), awaiting: Set(recipients.map { ObjectIdentifier($0) })))
        }
    }

    private func finishDueQueries(now: Date) {
        var remaining: [PendingQuery] = []
        for query in pendingQueries {
            guard query.awaiting.isEmpty || query.deadline <= now else {
                remaining.append(query)
                continue
            }
            switch query.command {
            case .status:
                respond(to: query.requester, ControlResponse(ok: true, status: statusReport()))
            case .connections:
                let sorted = query.connections.sorted { $0.clientID < $1.clientID }
                respond(to: query.requester, ControlResponse(ok: true, connections: sorted))
            case .stop, .reload:
                break
            }
        }
        pendingQueries = remaining
    }

    func respond(to fd: Int32, _ response: ControlResponse) {
        _ = FileDescriptorIO.writeAll(fd, encodeResponse(response))
        close(fd)
    }

    private func encodeResponse(_ response: ControlResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((try? encoder.encode(response)) ?? Data("{\"ok\":false}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private func statusReport() -> StatusReport {
        let now = Date()
        var processes: [StatusReport.Process] = [
            StatusReport.Process(
                role: .master, index: 0, pid: getpid(), state: "running", rssBytes: residentBytes(of: getpid()),
                connections: controlClients.count, messagesIn: 0, messagesOut: 0,
                uptimeSeconds: now.timeIntervalSince(startedAt), restarts: 0, details: [:])
        ]
        for child in children {
            let counters = child.counters ?? ProcessCounters()
            var details = child.info
            details.merge(counters.details) { $1 }
            details["generation"] = "\(child.generation)"
            if child.quickFailures > 0 && restartPolicy.isCrashLooping(quickFailures: child.quickFailures) {
                details["crash_loop"] = "\(child.quickFailures) quick failures in a row"
            }
            processes.append(
                StatusReport.Process(
                    role: child.role, index: child.index, pid: child.pid,
                    state: child.purpose == .retiring ? "draining" : child.purpose == .canary ? "canary" : child.state.name,
                    rssBytes: child.pid > 0 ? residentBytes(of: child.pid) : 0, connections: counters.connections,
                    messagesIn: counters.messagesIn, messagesOut: counters.messagesOut,
                    uptimeSeconds: child.pid > 0 ? now.timeIntervalSince(child.startedAt) : 0,
                    restarts: child.restarts, details: details))
        }
        return StatusReport(
            master: .init(
                pid: getpid(), uptimeSeconds: now.timeIntervalSince(startedAt), runDir: runDirectory.path,
                version: version, plugin: configuration.plugin ?? "built-in demo"),
            listen: configuration.runs(.gateway) ? configuration.listen : [], register: configuration.register,
            processes: processes,
            exits: Dictionary(uniqueKeysWithValues: exits.map { ($0.key.rawValue, $0.value) }))
    }
}

/// The master's view of one child slot (role + index); the pid changes across restarts.
final class ChildRecord {
    enum State: Equatable {
        case starting
        case ready
        case waitingToRestart(at: Date)
        case stopping
        case stopped

        var name: String {
            switch self {
            case .starting: return "starting"
            case .ready: return "running"
            case .waitingToRestart: return "restarting"
            case .stopping: return "stopping"
            case .stopped: return "stopped"
            }
        }
    }

    /// Why the child exists: serving, a reload's canary, or an old worker draining away.
    enum Purpose: Equatable {
        case serving
        case canary
        case retiring
    }

    let role: Role
    let index: Int
    let generation: Int
    var purpose: Purpose
    var pid: pid_t = 0
    var controlDescriptor: Int32 = -1
    var state: State = .starting
    var startedAt = Date()
    var restarts = 0
    var quickFailures = 0
    var inbox: [UInt8] = []
    var info: [String: String] = [:]
    var counters: ProcessCounters?
    var fatalReason: String?
    /// A retiring worker the master killed at the drain timeout.
    var killedAtDrainTimeout = false

    init(role: Role, index: Int, generation: Int = 0, purpose: Purpose = .serving) {
        self.role = role
        self.index = index
        self.generation = generation
        self.purpose = purpose
    }

    var name: String {
        switch (role, purpose) {
        case (.register, _): return "register"
        case (_, .canary): return "canary (generation \(generation))"
        case (.worker, _) where generation > 0: return "worker \(index) (generation \(generation))"
        default: return "\(role.rawValue) \(index)"
        }
    }
}

extension HostPort {
    init(parsingOrThrow text: String, key: String) throws(SupervisorError) {
        do { try self.init(parsing: text) } catch { throw .startup("invalid \(key) address '\(text)': expected \(error.expected)") }
    }
}

func describeExit(_ status: Int32) -> String {
    if gwd_sys_signaled(status) != 0 {
        let signal = gwd_sys_term_signal(status)
        return "was killed by signal \(signal) (\(signalName(signal)))"
    }
    return "exited with status \(gwd_sys_exit_status(status))"
}

func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGSEGV: return "SIGSEGV"
    case SIGABRT: return "SIGABRT"
    case SIGKILL: return "SIGKILL"
    case SIGTERM: return "SIGTERM"
    case SIGBUS: return "SIGBUS"
    case SIGILL: return "SIGILL"
    case SIGFPE: return "SIGFPE"
    case SIGTRAP: return "SIGTRAP"
    case SIGINT: return "SIGINT"
    default: return String(cString: strsignal(signal))
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000)) ms" : String(format: "%.1f s", seconds)
}

/// Resident set size from /proc/<pid>/statm (pages × page size).
func residentBytes(of pid: pid_t) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

import CGatewaySystem
import Foundation
import GatewayCore
import GatewayTLS

/// Before the first fork: checks, then every socket bound, the control socket, the signal
/// pipe and the pid file; and their release when the master is done.
extension Supervisor {
    /// The child slots themselves come from the state machine (one per process the roles run).
    func prepare() throws(SupervisorError) {
        if let pid = runDirectory.runningMasterPID(), pid != getpid() {
            throw .startup("gatewayd is already running in \(runDirectory.path) (master pid \(pid)); stop it first")
        }
        let registerBinding = try Self.preflight(configuration)
        do { try runDirectory.createPrivate() } catch { throw .startup(error.description) }

        // Bind everything before forking anything: a port in use fails here, with nothing running.
        // Only what this host's roles need: a gateway-only host binds no register port.
        if let registerBinding { try bindRegister(registerBinding) }

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

        if let listen = configuration.metricsListen {
            let endpoint = try HostPort(parsingOrThrow: listen, key: "metrics_listen")
            let bound = try ListeningSocket.bind(host: endpoint.host, port: endpoint.port, reusePort: false, what: "metrics")
            metricsSocket = bound
            configuration.metricsListen = "\(endpoint.host):\(bound.port)"
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

        // It holds the secrets: readable by this user only.
        if let resolved = try? JSONEncoder().encode(configuration) {
            _ = RunDirectory.writePrivate(resolved, to: runDirectory.configurationFile)
        }
        do {
            try "\(getpid())\n".write(toFile: runDirectory.pidFile, atomically: true, encoding: .utf8)
        } catch {
            throw .startup("cannot write pid file \(runDirectory.pidFile): \(error.localizedDescription)")
        }

        logger.info(
            "master starting",
            metadata: [
                "gw.roles": "\(configuration.roles.map(\.rawValue).joined(separator: ","))",
                "gw.listen": "\(configuration.listen.joined(separator: ","))", "gw.register": "\(configuration.register)",
                "gw.gateways": "\(configuration.gatewayCount)", "gw.workers": "\(configuration.workerCount)",
                "gw.plugin": "\(configuration.plugin ?? "built-in demo")",
            ])
    }

    /// What a start checks before it touches anything, also run by `gatewayd config check`:
    /// the register's address, the secret rule, the plugin file. Returns the register's address
    /// when this host runs one.
    @discardableResult
    public static func preflight(_ configuration: GatewayConfiguration) throws(SupervisorError) -> RegisterBinding.Choice? {
        let registerBinding = configuration.runs(.register) ? try RegisterBinding.choose(for: configuration) : nil
        try refuseInnerPortsWithoutSecret(configuration, registerBinding: registerBinding)
        if configuration.runs(.gateway), case .unusable(let reason) = certificateCheck(configuration) { throw .startup(reason) }
        if let plugin = configuration.plugin, configuration.runs(.worker) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: plugin, isDirectory: &isDirectory) else {
                throw .startup("plugin not found: \(plugin)")
            }
            guard !isDirectory.boolValue, access(plugin, R_OK) == 0 else {
                throw .startup("plugin is not a readable file: \(plugin)")
            }
        }
        return registerBinding
    }

    /// Whether the certificate and key of this host's wss:// listeners load now (in the
    /// master, before it forks or on `reload`; OpenSSL starts no thread for this).
    static func certificateCheck(_ configuration: GatewayConfiguration) -> CertificateCheck {
        guard configuration.servesTLS, let files = configuration.tlsFiles else { return .notServed }
        do {
            _ = try files.load()
            return .readable
        } catch {
            return .unusable(error.description)
        }
    }

    /// Secure by default (``InnerPortPolicy``): the gateways' inner ports bind `lan_ip`, the
    /// register the address ``RegisterBinding`` chooses; neither goes on the network without a secret.
    private static func refuseInnerPortsWithoutSecret(
        _ configuration: GatewayConfiguration, registerBinding: RegisterBinding.Choice?
    ) throws(SupervisorError) {
        var listeners: [InnerPortPolicy.Listener] = []
        if configuration.runs(.gateway) { listeners.append(.init(key: "lan_ip", host: configuration.lanIP)) }
        if let registerBinding {
            let key = registerBinding.listIndex == nil ? "register_listen" : "register"
            listeners.append(.init(key: key, host: registerBinding.address.host))
        }
        if let refusal = InnerPortPolicy.refusal(
            for: listeners, secretKey: configuration.secretKey, allowNoSecret: configuration.allowNoSecret ?? false)
        {
            throw .startup(refusal)
        }
    }

    /// Binds this host's register (see ``RegisterBinding``); a port 0 is replaced by the one bound.
    private func bindRegister(_ choice: RegisterBinding.Choice) throws(SupervisorError) {
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

    func cleanUp() {
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
        if let metricsSocket { close(metricsSocket.descriptor) }
        metricsSocket = nil
        for client in metricsClients { close(client.descriptor) }
        metricsClients = []
    }
}

extension HostPort {
    init(parsingOrThrow text: String, key: String) throws(SupervisorError) {
        do { try self.init(parsing: text) } catch { throw .startup("invalid \(key) address '\(text)': expected \(error.expected)") }
    }
}

import ArgumentParser
import CGatewaySystem
import Foundation
import GatewayCore
import GatewaySupervisor
import Logging

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the register, the gateways and the workers (in the foreground unless -d).",
        discussion: """
            With no options at all this runs the built-in demo on websocket://0.0.0.0:7272. Options override the \
            config file, which overrides the defaults. Port 0 picks a free port.
            """)

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Run in the background; return once every process is serving.")
    var daemon = false

    @Option(name: .long, help: "YAML config file (keys: see docs/configuration.md).")
    var config: String?

    @Option(name: .long, help: "Plugin .so to load in every worker (default: the built-in demo).")
    var plugin: String?

    @Option(name: .long, help: "Client listener: websocket://, text:// (lines) or frame:// (u32 length + body) host:port (repeatable).")
    var listen: [String] = []

    @Option(name: .long, help: "Register address host:port, or several separated by commas (default 127.0.0.1:1236).")
    var register: String?

    @Option(name: .long, help: "Roles this host runs: register, gateway, worker, comma-separated (default all).")
    var role: String?

    @Option(name: .customLong("register-listen"), help: "host:port this host's register binds (default: the first --register address local to this host).")
    var registerListen: String?

    @Option(name: .customLong("gateway-count"), help: "Gateway processes (default 1).")
    var gatewayCount: Int?

    @Option(name: .customLong("worker-count"), help: "BusinessWorker processes (default 2).")
    var workerCount: Int?

    @Option(name: .customLong("lan-ip"), help: "Address gateways announce and bind their inner ports to (default 127.0.0.1).")
    var lanIP: String?

    @Option(name: .customLong("start-port"), help: "First gateway inner port; gateway i uses start-port+i (default 2900, 0 = any).")
    var startPort: Int?

    @Option(name: .customLong("secret-key"), help: "Shared secret for the register and the gateways' inner ports (visible in ps: prefer --secret-key-file or GATEWAYD_SECRET_KEY).")
    var secretKey: String?

    @Option(name: .customLong("secret-key-file"), help: "A file holding the shared secret (one trailing newline ignored).")
    var secretKeyFile: String?

    @Flag(name: .customLong("allow-no-secret"), help: "Start without a secret even where an inner port is on the network (anyone reaching it can push to every client).")
    var allowNoSecret = false

    @Option(name: .customLong("run-dir"), help: "Directory for the pid file, control socket, log and plugin store.")
    var runDirectory: String?

    @Option(name: .customLong("log-level"), help: "debug, info, warning or error (default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "Log lines as text or json (default text).")
    var logFormat: String?

    @Option(name: .customLong("client-io"), help: "What serves the gateway's sockets: engine or nio (default engine; also GATEWAYD_CLIENT_IO).")
    var clientIO: String?

    @Option(name: .customLong("http-api"), help: "Serve the HTTP push API on host:port (off by default; needs a token).")
    var httpAPI: String?

    @Option(name: .customLong("http-api-token"), help: "Bearer token of the HTTP API (visible in ps: prefer http_api_token in --config).")
    var httpAPIToken: String?

    @Flag(name: .customLong("http-api-allow-no-token"), help: "Serve the HTTP API without a token (loopback addresses only).")
    var httpAPIAllowNoToken = false

    @Option(name: .customLong("metrics"), help: "Serve /metrics (Prometheus, every process of this host) on host:port (off by default; no token: bind loopback or a private address).")
    var metrics: String?

    func run() throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try resolvedConfiguration()
        } catch {
            throw failCommand(error.description)
        }
        if daemon {
            throw ExitCode(try Daemon.start(configuration: configuration))
        }
        // In the foreground the log goes to stderr: a terminal, or journald under systemd.
        bootstrapLogging(configuration)
        let supervisor = Supervisor(
            configuration: configuration, version: Gatewayd.version, logger: Logger(label: "gatewayd.master"),
            runRole: RoleLauncher.run)
        let code = supervisor.run { result in
            switch result {
            case .success(let line):
                print(line)
                gwd_sys_flush_stdio()
            case .failure(let error):
                _ = failCommand(error.description)
            }
        }
        throw ExitCode(code)
    }

    /// Defaults, then the config file, then the environment, then flags.
    func resolvedConfiguration() throws(ConfigurationError) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        if let config { try ConfigurationFile.apply(path: config, to: &configuration) }
        // Secrets from the environment keep them out of `ps` and out of config files.
        if let value = ProcessInfo.processInfo.environment["GATEWAYD_SECRET_KEY"], !value.isEmpty {
            configuration.secretKey = value
        }
        if let value = ProcessInfo.processInfo.environment["GATEWAYD_HTTP_API_TOKEN"], !value.isEmpty {
            guard configuration.httpAPI != nil || httpAPI != nil else {
                throw .invalid(key: "GATEWAYD_HTTP_API_TOKEN", value: "(set)", expected: "http_api_listen or --http-api, which the token is for")
            }
            configuration.httpAPI = configuration.httpAPI ?? HTTPAPISettings(listen: httpAPI ?? "")
            configuration.httpAPI?.token = value
        }
        if let value = ProcessInfo.processInfo.environment["GATEWAYD_CLIENT_IO"], !value.isEmpty {
            guard let io = ClientIO(rawValue: value) else { throw .invalid(key: "GATEWAYD_CLIENT_IO", value: value, expected: "engine or nio") }
            configuration.clientIO = io
        }
        if let clientIO {
            guard let io = ClientIO(rawValue: clientIO) else { throw .invalid(key: "client_io", value: clientIO, expected: "engine or nio") }
            configuration.clientIO = io
        }
        if let plugin { configuration.plugin = plugin }
        if !listen.isEmpty { configuration.listen = listen }
        if let register { configuration.register = register }
        if let role {
            guard let roles = Role.parseList(role) else {
                throw .invalid(key: "role", value: role, expected: "one or more of register, gateway, worker")
            }
            configuration.roles = roles
        }
        if let registerListen { configuration.registerListen = registerListen }
        if let gatewayCount { configuration.gatewayCount = gatewayCount }
        if let workerCount { configuration.workerCount = workerCount }
        if let lanIP { configuration.lanIP = lanIP }
        if let startPort { configuration.startPort = startPort }
        if secretKey != nil, secretKeyFile != nil {
            throw .invalid(key: "secret_key_file", value: secretKeyFile!, expected: "either --secret-key or --secret-key-file, not both")
        }
        if let secretKey { configuration.secretKey = secretKey }
        if let secretKeyFile { configuration.secretKey = try ConfigurationFile.secret(fromFile: secretKeyFile, key: "secret_key_file") }
        if allowNoSecret { configuration.allowNoSecret = true }
        if let runDirectory { configuration.runDirectory = runDirectory }
        if let logLevel { configuration.logLevel = logLevel }
        if let metrics { configuration.metricsListen = metrics }
        if let logFormat {
            guard let format = LogFormat(rawValue: logFormat) else { throw .invalid(key: "log_format", value: logFormat, expected: "text or json") }
            configuration.logFormat = format
        }
        if httpAPI != nil || httpAPIToken != nil || httpAPIAllowNoToken {
            var settings = configuration.httpAPI ?? HTTPAPISettings(listen: "")
            if let httpAPI { settings.listen = httpAPI }
            if let httpAPIToken { settings.token = httpAPIToken }
            if httpAPIAllowNoToken { settings.allowNoToken = true }
            guard !settings.listen.isEmpty else {
                throw .invalid(key: "http_api_listen", value: "", expected: "host:port (--http-api), which the other --http-api-* options need")
            }
            configuration.httpAPI = settings
        }
        // Children and a daemon must not depend on the caller's working directory.
        let cwd = FileManager.default.currentDirectoryPath
        if let plugin = configuration.plugin, !plugin.hasPrefix("/") { configuration.plugin = cwd + "/" + plugin }
        if !configuration.runDirectory.hasPrefix("/") { configuration.runDirectory = cwd + "/" + configuration.runDirectory }
        try configuration.validate()
        return configuration
    }
}

import Foundation
import Yams

/// Reads a YAML config file onto a configuration. Every key is optional and overrides the
/// default; command-line flags are applied afterwards by the caller.
///
/// Keys (all snake_case):
/// - `plugin` (string): path of the plugin .so
/// - `listen` (string or list of strings): `websocket://host:port` listeners
/// - `register` (string or list): `host:port` of the register, or several (comma-separated or a list)
/// - `role` (string or list: register, gateway, worker), `register_listen` (string),
///   `inner_heartbeat_interval_ms`, `inner_heartbeat_timeout_ms` (int): a distributed deployment
/// - `gateway_count`, `worker_count` (int): process counts
/// - `lan_ip` (string), `start_port` (int): the gateways' inner address and first port
/// - `secret_key` (string): shared secret for the register and inner ports; `secret_key_file`
///   (string): a file holding it instead (one trailing newline ignored); `allow_no_secret` (bool):
///   start without one even where an inner port is on the network
/// - `run_dir` (string): pid file, control socket, log and plugin store
/// - `worker_name` (string), `log_level` (debug|info|warning|error), `log_format` (text|json)
/// - `query_timeout_ms`, `handshake_timeout_ms`, `stop_timeout_ms`, `drain_timeout_ms`,
///   `process_timeout_ms` (int, milliseconds)
/// - `ping_interval` (seconds, may be fractional; 0 = off), `ping_not_response_limit` (intervals),
///   `ping_data` (string; empty sends WebSocket pings): GatewayWorker's heartbeat
/// - `max_message_bytes` (int): largest client message
/// - `max_connections`, `connect_timeout_ms`, `send_buffer_bytes` (int), `slow_client_policy`
///   (close|drop): the gateway's limits on clients; `worker_buffer_bytes`, `worker_queue_bytes`
///   (int): back-pressure between gateways, workers and the plugin
/// - `client_io` (engine|nio): what serves the gateway's sockets
/// - `compression` (bool), `compression_level` (1...9), `compression_min_bytes` (int):
///   permessage-deflate for WebSocket clients that offer it
/// - `http_api_listen` (string), `http_api_token` (string) or `http_api_token_file` (string),
///   `http_api_max_body_bytes` (int), `http_api_allow_no_token` (bool): the HTTP push API role
///   (off without `http_api_listen`)
/// - `metrics_listen` (string): `host:port` of the master's `/metrics` (off without it)
public enum ConfigurationFile {
    public static let keys: [String] = [
        "plugin", "listen", "register", "gateway_count", "worker_count", "lan_ip", "start_port", "secret_key",
        "secret_key_file", "allow_no_secret",
        "run_dir", "worker_name", "log_level", "log_format", "query_timeout_ms", "handshake_timeout_ms", "max_message_bytes",
        "stop_timeout_ms", "drain_timeout_ms",
        "process_timeout_ms", "ping_interval", "ping_not_response_limit", "ping_data",
        "max_connections", "connect_timeout_ms", "send_buffer_bytes", "slow_client_policy", "worker_buffer_bytes",
        "worker_queue_bytes", "client_io", "compression", "compression_level", "compression_min_bytes",
        "role", "register_listen", "inner_heartbeat_interval_ms", "inner_heartbeat_timeout_ms",
        "http_api_listen", "http_api_token", "http_api_token_file", "http_api_max_body_bytes", "http_api_allow_no_token",
        "metrics_listen",
    ]

    /// Applies the file at `path` onto `configuration`. Relative paths inside the file (plugin,
    /// run_dir) are resolved against the file's directory, so a config works from any cwd.
    public static func apply(path: String, to configuration: inout GatewayConfiguration) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: Self.reason(for: path))
        }
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw .malformed(path: path, reason: "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)")
        }
        guard let root else { return }  // an empty file changes nothing
        guard let map = root as? [String: Any] else {
            throw .malformed(path: path, reason: "the top level must be a mapping of keys to values")
        }
        let baseDirectory = (path as NSString).deletingLastPathComponent
        for key in map.keys.sorted() where !keys.contains(key) {
            throw .unknownKey(path: path, key: key)
        }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = map[key] else { return nil }
            if let string = value as? String { return string }
            if let number = value as? Int { return String(number) }
            throw .invalid(key: key, value: "\(value)", expected: "a string")
        }
        func int(_ key: String) throws(ConfigurationError) -> Int? {
            guard let value = map[key] else { return nil }
            if let number = value as? Int { return number }
            throw .invalid(key: key, value: "\(value)", expected: "an integer")
        }
        func resolved(_ path: String) -> String {
            path.hasPrefix("/") || baseDirectory.isEmpty ? path : baseDirectory + "/" + path
        }
        if let value = try string("plugin") { configuration.plugin = resolved(value) }
        if let value = map["listen"] {
            guard let urls = stringOrList(value) else {
                throw .invalid(key: "listen", value: "\(value)", expected: "a URL or a list of URLs")
            }
            configuration.listen = urls
        }
        if let value = map["register"] {
            guard let addresses = stringOrList(value) else {
                throw .invalid(key: "register", value: "\(value)", expected: "host:port or a list of them")
            }
            configuration.register = addresses.joined(separator: ",")
        }
        if let value = map["role"] {
            guard let names = stringOrList(value), let roles = Role.parseList(names.joined(separator: ",")) else {
                throw .invalid(key: "role", value: "\(value)", expected: "one or more of register, gateway, worker")
            }
            configuration.roles = roles
        }
        if let value = try string("register_listen") { configuration.registerListen = value }
        if let value = try int("inner_heartbeat_interval_ms") { configuration.innerHeartbeatIntervalMilliseconds = value }
        if let value = try int("inner_heartbeat_timeout_ms") { configuration.innerHeartbeatTimeoutMilliseconds = value }
        if let value = try int("gateway_count") { configuration.gatewayCount = value }
        if let value = try int("worker_count") { configuration.workerCount = value }
        if let value = try string("lan_ip") { configuration.lanIP = value }
        if let value = try int("start_port") { configuration.startPort = value }
        if map["secret_key"] != nil, map["secret_key_file"] != nil {
            throw .invalid(key: "secret_key_file", value: "\(map["secret_key_file"]!)", expected: "either secret_key or secret_key_file, not both")
        }
        if let value = try string("secret_key") { configuration.secretKey = value }
        if let value = try string("secret_key_file") {
            configuration.secretKey = try secret(fromFile: resolved(value), key: "secret_key_file")
        }
        if let value = map["allow_no_secret"] {
            guard let flag = value as? Bool else { throw .invalid(key: "allow_no_secret", value: "\(value)", expected: "true or false") }
            configuration.allowNoSecret = flag
        }
        if let value = try string("run_dir") { configuration.runDirectory = resolved(value) }
        if let value = try string("worker_name") { configuration.workerName = value }
        if let value = try string("log_level") { configuration.logLevel = value }
        if let value = try string("log_format") {
            guard let format = LogFormat(rawValue: value) else { throw .invalid(key: "log_format", value: value, expected: "text or json") }
            configuration.logFormat = format
        }
        if let value = try int("query_timeout_ms") { configuration.queryTimeoutMilliseconds = value }
        if let value = try int("handshake_timeout_ms") { configuration.handshakeTimeoutMilliseconds = value }
        if let value = try int("max_message_bytes") { configuration.maxMessageBytes = value }
        if let value = try int("stop_timeout_ms") { configuration.stopTimeoutMilliseconds = value }
        if let value = try int("drain_timeout_ms") { configuration.drainTimeoutMilliseconds = value }
        if let value = try int("process_timeout_ms") { configuration.processTimeoutMilliseconds = value }
        if let value = map["ping_interval"] {
            if let seconds = value as? Double {
                configuration.pingInterval = seconds
            } else if let seconds = value as? Int {
                configuration.pingInterval = Double(seconds)
            } else {
                throw .invalid(key: "ping_interval", value: "\(value)", expected: "a number of seconds")
            }
        }
        if let value = try int("ping_not_response_limit") { configuration.pingNotResponseLimit = value }
        if let value = try string("ping_data") { configuration.pingData = value }
        if let value = try int("max_connections") { configuration.maxConnections = value }
        if let value = try int("connect_timeout_ms") { configuration.connectTimeoutMilliseconds = value }
        if let value = try int("send_buffer_bytes") { configuration.sendBufferBytes = value }
        if let value = try int("worker_buffer_bytes") { configuration.workerBufferBytes = value }
        if let value = try int("worker_queue_bytes") { configuration.workerQueueBytes = value }
        if let value = try string("slow_client_policy") {
            guard let policy = SlowClientPolicy(rawValue: value) else {
                throw .invalid(key: "slow_client_policy", value: value, expected: "close or drop")
            }
            configuration.slowClientPolicy = policy
        }
        if let value = try string("client_io") {
            guard let io = ClientIO(rawValue: value) else { throw .invalid(key: "client_io", value: value, expected: "engine or nio") }
            configuration.clientIO = io
        }
        if let value = map["compression"] {
            guard let flag = value as? Bool else { throw .invalid(key: "compression", value: "\(value)", expected: "true or false") }
            configuration.compression = flag
        }
        if let value = try int("compression_level") { configuration.compressionLevel = value }
        if let value = try int("compression_min_bytes") { configuration.compressionMinBytes = value }
        if let value = try string("metrics_listen") { configuration.metricsListen = value }
        try applyHTTPAPI(map, to: &configuration, resolving: resolved)
    }

    /// A secret kept in a file of its own (mode 0600, outside the config): its contents without
    /// one trailing newline, as `echo secret > file` writes it. Empty is refused.
    public static func secret(fromFile path: String, key: String) throws(ConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid(key: key, value: path, expected: "a readable file (\(reason(for: path)))")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.last?.isNewline == true { text.removeLast() }  // "\n", or "\r\n" (one Character)
        guard !text.isEmpty else { throw .invalid(key: key, value: path, expected: "a file holding the secret (it is empty)") }
        return text
    }

    /// A string, or a list of strings (YAML may read a lone scalar either way).
    private static func stringOrList(_ value: Any) -> [String]? {
        if let one = value as? String { return [one] }
        if let many = value as? [Any] { return many as? [String] }
        return nil
    }

    /// The `http_api_*` keys; any of them without `http_api_listen` (here or already set) is refused.
    private static func applyHTTPAPI(
        _ map: [String: Any], to configuration: inout GatewayConfiguration, resolving resolved: (String) -> String
    ) throws(ConfigurationError) {
        let keys = ["http_api_listen", "http_api_token", "http_api_token_file", "http_api_max_body_bytes", "http_api_allow_no_token"]
        guard keys.contains(where: { map[$0] != nil }) else { return }
        var settings = configuration.httpAPI ?? HTTPAPISettings(listen: "")
        if let value = map["http_api_listen"] {
            guard let text = value as? String else { throw .invalid(key: "http_api_listen", value: "\(value)", expected: "host:port") }
            settings.listen = text
        }
        if let value = map["http_api_token"] {
            guard let text = value as? String else { throw .invalid(key: "http_api_token", value: "\(value)", expected: "a string") }
            settings.token = text
        }
        if let value = map["http_api_token_file"] {
            guard map["http_api_token"] == nil else {
                throw .invalid(key: "http_api_token_file", value: "\(value)", expected: "either http_api_token or http_api_token_file, not both")
            }
            guard let path = value as? String else { throw .invalid(key: "http_api_token_file", value: "\(value)", expected: "a path") }
            settings.token = try secret(fromFile: resolved(path), key: "http_api_token_file")
        }
        if let value = map["http_api_max_body_bytes"] {
            guard let number = value as? Int else {
                throw .invalid(key: "http_api_max_body_bytes", value: "\(value)", expected: "an integer")
            }
            settings.maxBodyBytes = number
        }
        if let value = map["http_api_allow_no_token"] {
            guard let flag = value as? Bool else {
                throw .invalid(key: "http_api_allow_no_token", value: "\(value)", expected: "true or false")
            }
            settings.allowNoToken = flag
        }
        guard !settings.listen.isEmpty else {
            throw .invalid(key: "http_api_listen", value: "", expected: "host:port (the other http_api_* keys need it)")
        }
        configuration.httpAPI = settings
    }

    private static func reason(for path: String) -> String {
        if access(path, F_OK) != 0 { return "no such file" }
        if access(path, R_OK) != 0 { return "permission denied" }
        return "not a UTF-8 text file"
    }
}

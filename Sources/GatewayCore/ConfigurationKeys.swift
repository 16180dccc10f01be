import Foundation

// The one table of settings. Written by hand rather than on apple/swift-configuration: that
// library would read the file and the environment, but gatewayd would still need this table
// for what it does not do (refusing unknown keys, errors naming the file, key and value, paths
// relative to the file, `config init`, the doc test), its file provider is async (the master
// forks and must not start Swift concurrency's threads first), and it brings three packages
// more. See docs/configuration.md, "Why not swift-configuration".
extension ConfigurationKey {
    public static let all: [ConfigurationKey] = [
        ConfigurationKey(
            "plugin", .path, doc: "plugin `.so` every worker loads", defaultText: "built-in demo",
            example: "/usr/local/lib/gatewayd/plugins/chat.so",
            read: { $0.plugin.map(ConfigurationValue.text) }, write: { $0.plugin = $1.string }),
        ConfigurationKey(
            "listen", .list, doc: "client listeners: `websocket://`, `wss://`, `text://` or `frame://` with `host:port`",
            check: { address($0, ipv6: true) },
            read: { .list($0.listen) },
            write: { $0.listen = $1.strings.map { (try? ListenAddress(parsing: $0))?.description ?? $0 } }),
        ConfigurationKey(
            "register", .list, doc: "register address `host:port`, or several",
            check: { address($0) },
            read: { .list($0.registerAddresses) },
            write: { $0.register = $1.strings.map(canonicalHostPort).joined(separator: ",") }),
        ConfigurationKey(
            "role", .list, doc: "the roles this host runs: `register`, `gateway`, `worker`",
            check: { Role.parseList($0.string) == nil ? "one of register, gateway, worker" : nil },
            read: { .list($0.roles.map(\.rawValue)) },
            write: { $0.roles = Role.parseList($1.strings.joined(separator: ",")) ?? $0.roles }),
        ConfigurationKey(
            "register_listen", .text, doc: "`host:port` this host's register binds",
            defaultText: "the first `register` address of this host", example: "0.0.0.0:1236",
            check: { address($0) },
            read: { $0.registerListen.map(ConfigurationValue.text) }, write: { $0.registerListen = canonicalHostPort($1.string) }),
        integer("gateway_count", 1...256, doc: "gateway processes", \.gatewayCount),
        integer("worker_count", 1...1024, doc: "BusinessWorker processes", \.workerCount),
        ConfigurationKey(
            "lan_ip", .text, doc: "address gateways announce, encode in client ids and bind inner ports to",
            check: { IPv4Address($0.string) != nil || $0.string == "localhost" ? nil : "an IPv4 address (or localhost)" },
            read: { .text($0.lanIP) }, write: { $0.lanIP = $1.string == "localhost" ? "127.0.0.1" : $1.string }),
        integer("start_port", 0...65535, doc: "gateway *i* listens for workers on `start_port + i`; 0 picks free ports", \.startPort),
        ConfigurationKey(
            "secret_key", .text, doc: "shared secret for the register and the inner ports", secret: true,
            defaultText: "none", example: "change-me",
            read: { $0.secretKey.isEmpty ? nil : .text($0.secretKey) }, write: { $0.secretKey = $1.string }),
        ConfigurationKey(
            "secret_key_file", .path, doc: "a file holding `secret_key` (one trailing newline ignored)",
            defaultText: "none", example: "/etc/gatewayd/secret_key", excludes: "secret_key",
            read: { _ in nil },
            write: { configuration, value throws(ConfigurationError) in
                configuration.secretKey = try ConfigurationFile.secret(fromFile: value.string, key: "secret_key_file")
            }),
        bool("allow_no_secret", doc: "start without a secret even with an inner port on the network", { $0.allowNoSecret ?? false }) {
            $0.allowNoSecret = $1
        },
        ConfigurationKey(
            "run_dir", .path, doc: "pid file, control socket, log, plugin store",
            defaultText: "`/tmp/gatewayd-<uid>`", example: "/run/gatewayd",
            read: { .text($0.runDirectory) }, write: { $0.runDirectory = $1.string }),
        ConfigurationKey(
            "worker_name", .text, doc: "worker key prefix on the inner protocol (`<name>:<index>`)",
            check: { $0.string.isEmpty || $0.string.contains(":") ? "a non-empty name without ':'" : nil },
            read: { .text($0.workerName) }, write: { $0.workerName = $1.string }),
        choice("log_level", LogLevelName.self, doc: "least severe log level written", { $0.logLevel }) {
            $0.logLevel = $1.rawValue
        },
        choice("log_format", LogFormat.self, doc: "how log lines are written", { ($0.logFormat ?? .text).rawValue }) { $0.logFormat = $1 },
        milliseconds("query_timeout_ms", doc: "how long a plugin query waits for the gateways", \.queryTimeoutMilliseconds),
        milliseconds(
            "handshake_timeout_ms", doc: "how long a gateway waits for the plugin's handshake verdict (then 503)",
            \.handshakeTimeoutMilliseconds),
        integer(
            "max_message_bytes", 125...(1 << 30), doc: "largest client message after reassembly; larger closes with 1009",
            \.maxMessageBytes),
        milliseconds("stop_timeout_ms", doc: "how long `stop` waits for a process before killing it", \.stopTimeoutMilliseconds),
        milliseconds(
            "drain_timeout_ms", doc: "how long `reload` (and `stop -g`) lets an old worker finish what it was sent",
            \.drainTimeoutMilliseconds),
        milliseconds(
            "process_timeout_ms", doc: "a plugin callback running longer is logged with its event and client id",
            \.processTimeoutMilliseconds),
        ConfigurationKey(
            "ping_interval", .number, doc: "client heartbeat every this many seconds (fractions allowed; 0 = off)",
            limits: "0 or 0.05...86400 seconds",
            check: { $0.number == 0 || (0.05...86400).contains($0.number) ? nil : "0 (off) or in 0.05...86400 (seconds)" },
            read: { .number($0.pingInterval) }, write: { $0.pingInterval = $1.number }),
        integer(
            "ping_not_response_limit", 0...1000, doc: "a client silent for this many intervals is closed; 0 never closes",
            \.pingNotResponseLimit),
        ConfigurationKey(
            "ping_data", .text, doc: "the heartbeat message; empty sends WebSocket ping frames",
            read: { .text($0.pingData) }, write: { $0.pingData = $1.string }),
        integer(
            "max_connections", 1...10_000_000, doc: "clients one gateway process holds; more are closed right after accept",
            \.maxConnections),
        integer(
            "connect_timeout_ms", 100...3_600_000, unit: "milliseconds",
            doc: "a client that has not completed its handshake this long after connecting is closed", \.connectTimeoutMilliseconds),
        bytes("send_buffer_bytes", doc: "bytes that may wait to be written to one client", \.sendBufferBytes),
        choice("slow_client_policy", SlowClientPolicy.self, doc: "a slow consumer is `close`d, or with `drop` loses what does not fit", {
            $0.slowClientPolicy.rawValue
        }) { $0.slowClientPolicy = $1 },
        bytes("worker_buffer_bytes", doc: "bytes a gateway lets wait for one worker", \.workerBufferBytes),
        choice("client_io", ClientIO.self, doc: "what serves a gateway's client sockets and worker links", { $0.clientIO.rawValue }) {
            $0.clientIO = $1
        },
        bool("compression", doc: "permessage-deflate (RFC 7692) for WebSocket clients that offer it", { $0.compression }) {
            $0.compression = $1
        },
        integer(
            "compression_level", 1...9, doc: "zlib level for messages to clients, 1 (fastest) … 9 (smallest)", \.compressionLevel),
        integer(
            "compression_min_bytes", 0...(1 << 30), doc: "messages shorter than this go out uncompressed",
            \.compressionMinBytes),
        ConfigurationKey(
            "tls_certificate", .path, doc: "PEM certificate chain (the server's first) for `wss://` listeners; read again at `reload`",
            defaultText: "none", example: "/etc/gatewayd/tls/fullchain.pem",
            read: { $0.tlsCertificate.map(ConfigurationValue.text) }, write: { $0.tlsCertificate = $1.string }),
        ConfigurationKey(
            "tls_private_key", .path, doc: "PEM private key of `tls_certificate`", defaultText: "none",
            example: "/etc/gatewayd/tls/privkey.pem",
            read: { $0.tlsPrivateKey.map(ConfigurationValue.text) }, write: { $0.tlsPrivateKey = $1.string }),
        choice("tls_min_version", TLSMinimumVersion.self, doc: "oldest TLS version `wss://` listeners accept", { $0.tlsMinVersion.rawValue }) {
            $0.tlsMinVersion = $1
        },
        bytes("worker_queue_bytes", doc: "bytes of events a worker lets wait while its plugin blocks on a query", \.workerQueueBytes),
        integer(
            "inner_heartbeat_interval_ms", 50...3_600_000, unit: "milliseconds",
            doc: "gateways and workers ping each other, and both their registers, this often",
            \.innerHeartbeatIntervalMilliseconds),
        milliseconds(
            "inner_heartbeat_timeout_ms", doc: "a gatewayd peer silent this long is taken for gone (at least twice the interval)",
            \.innerHeartbeatTimeoutMilliseconds),
        ConfigurationKey(
            "http_api_listen", .text, doc: "`host:port` of the HTTP push API", flag: "http-api", defaultText: "off",
            example: "127.0.0.1:7273",
            check: { address($0) },
            read: { $0.httpAPI.map { .text($0.listen) } },
            write: { $0.httpAPIOrDefault.listen = canonicalHostPort($1.string) }),
        ConfigurationKey(
            "http_api_token", .text, doc: "bearer token the HTTP API requires", secret: true, defaultText: "none",
            example: "change-me-too", requires: "http_api_listen",
            read: { $0.httpAPI.flatMap { $0.token.isEmpty ? nil : .text($0.token) } },
            write: { $0.httpAPIOrDefault.token = $1.string }),
        ConfigurationKey(
            "http_api_token_file", .path, doc: "a file holding `http_api_token` (one trailing newline ignored)",
            defaultText: "none", example: "/etc/gatewayd/http_api_token", requires: "http_api_listen", excludes: "http_api_token",
            read: { _ in nil },
            write: { configuration, value throws(ConfigurationError) in
                configuration.httpAPIOrDefault.token = try ConfigurationFile.secret(fromFile: value.string, key: "http_api_token_file")
            }),
        ConfigurationKey(
            "http_api_allow_no_token", .bool, doc: "serve the HTTP API without a token (loopback listeners only)",
            requires: "http_api_listen",
            read: { .bool($0.httpAPI?.allowNoToken ?? false) }, write: { $0.httpAPIOrDefault.allowNoToken = $1.bool }),
        ConfigurationKey(
            "http_api_max_body_bytes", .integer, doc: "largest request body the HTTP API reads; larger gets 413",
            limits: "1024...1073741824", requires: "http_api_listen",
            check: { range($0, 1024...(1 << 30)) },
            read: { .integer($0.httpAPI?.maxBodyBytes ?? HTTPAPISettings.defaultMaxBodyBytes) },
            write: { $0.httpAPIOrDefault.maxBodyBytes = $1.integer }),
        ConfigurationKey(
            "metrics_listen", .text, doc: "`host:port` where the master serves `/metrics` for every process of this host",
            flag: "metrics", defaultText: "off", example: "127.0.0.1:9273",
            check: { address($0) },
            read: { $0.metricsListen.map(ConfigurationValue.text) }, write: { $0.metricsListen = canonicalHostPort($1.string) }),
    ]

    // MARK: - Kinds of key

    private static func integer(
        _ name: String, _ limits: ClosedRange<Int>, unit: String? = nil, doc: String,
        _ field: WritableKeyPath<GatewayConfiguration, Int> & Sendable
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .integer, doc: doc, limits: "\(limits.lowerBound)...\(limits.upperBound)" + (unit.map { " \($0)" } ?? ""),
            check: { range($0, limits, unit: unit) },
            read: { .integer($0[keyPath: field]) }, write: { $0[keyPath: field] = $1.integer })
    }

    private static func milliseconds(
        _ name: String, doc: String, _ field: WritableKeyPath<GatewayConfiguration, Int> & Sendable
    ) -> ConfigurationKey {
        integer(name, 1...3_600_000, unit: "milliseconds", doc: doc, field)
    }

    private static func bytes(_ name: String, doc: String, _ field: WritableKeyPath<GatewayConfiguration, Int> & Sendable) -> ConfigurationKey {
        integer(name, 1024...(1 << 30), doc: doc, field)
    }

    private static func bool(
        _ name: String, doc: String, _ get: @escaping @Sendable (GatewayConfiguration) -> Bool,
        _ set: @escaping @Sendable (inout GatewayConfiguration, Bool) -> Void
    ) -> ConfigurationKey {
        ConfigurationKey(name, .bool, doc: doc, read: { .bool(get($0)) }, write: { set(&$0, $1.bool) })
    }

    /// A text key whose values are the raw values of `Choice`; the doc line lists them.
    private static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _: Choice.Type, doc: String, _ get: @escaping @Sendable (GatewayConfiguration) -> String,
        _ set: @escaping @Sendable (inout GatewayConfiguration, Choice) -> Void
    ) -> ConfigurationKey where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        return ConfigurationKey(
            name, .text, doc: "\(doc): " + names.map { "`\($0)`" }.joined(separator: ", "),
            check: { Choice(rawValue: $0.string) == nil ? "one of " + names.joined(separator: ", ") : nil },
            read: { .text(get($0)) },
            write: { configuration, value in
                if let choice = Choice(rawValue: value.string) { set(&configuration, choice) }
            })
    }

    // MARK: - Checks

    private static func range(_ value: ConfigurationValue, _ limits: ClosedRange<Int>, unit: String? = nil) -> String? {
        limits.contains(value.integer) ? nil : "in \(limits.lowerBound)...\(limits.upperBound)" + (unit.map { " (\($0))" } ?? "")
    }

    /// One `host:port`, or one listener URL with `ipv6`.
    private static func address(_ value: ConfigurationValue, ipv6: Bool = false) -> String? {
        do {
            if ipv6 { _ = try ListenAddress(parsing: value.string) } else { _ = try HostPort(parsing: value.string) }
            return nil
        } catch {
            return error.expected
        }
    }

    /// `localhost:1236` as `127.0.0.1:1236`; text that does not parse is kept for the check to name.
    private static func canonicalHostPort(_ text: String) -> String {
        (try? HostPort(parsing: text))?.description ?? text
    }
}

extension GatewayConfiguration {
    /// The HTTP API's settings, created (with their defaults) by the first `http_api_*` key set.
    fileprivate var httpAPIOrDefault: HTTPAPISettings {
        get { httpAPI ?? HTTPAPISettings(listen: "") }
        set { httpAPI = newValue }
    }
}

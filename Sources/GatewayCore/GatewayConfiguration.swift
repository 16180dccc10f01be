/// Every setting of a gatewayd deployment, resolved from defaults, the config file, the
/// environment and flags (``ConfigurationResolver``, through the table ``ConfigurationKey/all``).
///
/// Defaults follow GatewayWorker's where it has one (register on 127.0.0.1:1236, lanIp
/// 127.0.0.1, a 5 s query timeout). The master resolves this once and hands the value to every
/// child it forks, so children never re-read files or flags.
public struct GatewayConfiguration: Sendable, Hashable, Codable {
    /// Path of the plugin .so. `nil` runs the demo plugin compiled into gatewayd.
    public var plugin: String?
    /// Client-facing listeners, e.g. `websocket://0.0.0.0:7272`. Port 0 picks a free port.
    public var listen: [String]
    /// The register address `host:port` gateways, workers and clients use, or several separated
    /// by commas (see `registerAddresses`). Port 0 picks one.
    public var register: String
    /// Gateway processes. Each holds its own SO_REUSEPORT socket of every listener.
    public var gatewayCount: Int
    /// BusinessWorker processes, each loading the plugin once.
    public var workerCount: Int
    /// The address gateways announce to workers and encode in client ids; inner listeners bind to it.
    public var lanIP: String
    /// Gateway i listens for workers on `startPort + i`. 0 lets each gateway pick a free port.
    public var startPort: Int
    /// Shared secret required on the register and the gateway inner ports ("" = none).
    public var secretKey: String
    /// Start without a secret even where an inner port is on the network (InnerPortPolicy).
    /// Optional so that a resolved configuration saved by an older gatewayd still decodes.
    public var allowNoSecret: Bool?
    /// Where the pid file, the control socket, the log and the plugin store live.
    public var runDirectory: String
    /// Worker name, part of each worker's key "<name>:<index>" on the inner protocol.
    public var workerName: String
    /// Minimum level written to the log: debug, info, warning, error.
    public var logLevel: String
    /// `text` or `json` log lines; nil writes text. Optional so that a resolved configuration
    /// saved by an older gatewayd (read by `restart` and `client`) still decodes.
    public var logFormat: LogFormat?
    /// How long a worker waits for gateways to answer a query before reporting a timeout.
    public var queryTimeoutMilliseconds: Int
    /// How long a gateway waits for a worker's verdict on a WebSocket handshake.
    public var handshakeTimeoutMilliseconds: Int
    /// Largest WebSocket message (after reassembling fragments) a client may send.
    public var maxMessageBytes: Int
    /// How long `stop` waits for a process before it is killed.
    public var stopTimeoutMilliseconds: Int
    /// How long a reload lets an old worker finish what it was sent before killing it.
    public var drainTimeoutMilliseconds: Int
    /// A plugin callback running longer than this is logged with its event and client id, as
    /// GatewayWorker's processTimeout did, so a stuck plugin can be found.
    public var processTimeoutMilliseconds: Int
    /// Heartbeat, as GatewayWorker's pingInterval / pingNotResponseLimit / pingData: every
    /// `pingInterval` seconds quiet clients get `pingData` (or a WebSocket ping when it is
    /// empty); a client silent for `pingNotResponseLimit` intervals is closed (0: never).
    /// On by default (25 s, 2), so dead connections do not linger; `ping_interval: 0` turns it off.
    public var pingInterval: Double
    public var pingNotResponseLimit: Int
    public var pingData: String
    /// The HTTP push API role; nil (the default) does not run it. Optional so that a resolved
    /// configuration saved by an older gatewayd still decodes.
    public var httpAPI: HTTPAPISettings?

    // Limits a gateway enforces on its clients; each one hit is counted in `status`.
    /// Clients one gateway process holds at most; more are closed right after accept.
    public var maxConnections = 100_000
    /// How long a client may take from TCP accept to a completed WebSocket handshake (slowloris).
    public var connectTimeoutMilliseconds = 10_000
    /// Bytes waiting to be written to one client before it counts as a slow consumer
    /// (GatewayWorker's sendToClientBufferSize).
    public var sendBufferBytes = 1 << 20
    /// What happens to a slow consumer: `close` it (the default) or `drop` what does not fit, as
    /// GatewayWorker does. Either way its buffer never grows past `sendBufferBytes` plus one message.
    public var slowClientPolicy = SlowClientPolicy.close
    /// Bytes a gateway lets wait for one worker before it stops reading that worker's clients.
    public var workerBufferBytes = 16 << 20
    /// What serves the gateway's client sockets and worker links (docs/design/io-engine.md).
    public var clientIO = ClientIO.engine
    /// Bytes of events a worker lets wait for its plugin before it stops reading its gateways.
    public var workerQueueBytes = 16 << 20
    /// permessage-deflate (RFC 7692) for WebSocket clients that offer it; off by default, as
    /// every compressed message costs the gateway a deflate call (the engine only).
    public var compression = false
    /// zlib's level for messages to clients, 1 (fastest) ... 9 (smallest). 1: a real-time
    /// server compresses every message it sends, and on chat-sized JSON level 1 keeps most of
    /// the higher levels' saving (BENCHMARKS.md, "Compression").
    public var compressionLevel = 1
    /// Messages shorter than this go out uncompressed: deflating a few bytes saves nothing
    /// and costs a deflate call.
    public var compressionMinBytes = 64
    /// TLS for `wss://` listeners: a PEM certificate chain (the server's certificate first),
    /// its PEM private key, and the oldest protocol version accepted ("1.2" or "1.3").
    /// Read by the master before it starts anything, and again at every `gatewayd reload`.
    public var tlsCertificate: String?
    public var tlsPrivateKey: String?
    public var tlsMinVersion = TLSMinimumVersion.tls12

    // Distributed deployment (GatewayConfiguration+Deployment.swift).
    /// The roles this host runs; the master binds and forks only these.
    public var roles: [Role] = Role.deployable
    /// Where this host's register listens, when the register list alone cannot say it.
    public var registerListen: String?
    /// Inner links (gateway↔worker, peers↔register) carry a ping every interval; a gatewayd
    /// peer silent for the timeout is closed (PHP peers are never timed out).
    public var innerHeartbeatIntervalMilliseconds = 5000
    public var innerHeartbeatTimeoutMilliseconds = 15000

    /// `host:port` where the master serves `/metrics` for every process of this host (Prometheus
    /// text format, no token); nil (the default) serves none. Port 0 picks a free port.
    public var metricsListen: String?

    public init(
        plugin: String? = nil,
        listen: [String] = ["websocket://0.0.0.0:7272"],
        register: String = "127.0.0.1:1236",
        gatewayCount: Int = 1,
        workerCount: Int = 2,
        lanIP: String = "127.0.0.1",
        startPort: Int = 2900,
        secretKey: String = "",
        runDirectory: String = GatewayConfiguration.defaultRunDirectory,
        workerName: String = "BusinessWorker",
        logLevel: String = "info",
        queryTimeoutMilliseconds: Int = 5000,
        handshakeTimeoutMilliseconds: Int = 5000,
        maxMessageBytes: Int = 1 << 20,
        stopTimeoutMilliseconds: Int = 5000,
        drainTimeoutMilliseconds: Int = 30000,
        processTimeoutMilliseconds: Int = 30000,
        pingInterval: Double = 25,
        pingNotResponseLimit: Int = 2,
        pingData: String = "",
        httpAPI: HTTPAPISettings? = nil
    ) {
        self.plugin = plugin
        self.listen = listen
        self.register = register
        self.gatewayCount = gatewayCount
        self.workerCount = workerCount
        self.lanIP = lanIP
        self.startPort = startPort
        self.secretKey = secretKey
        self.runDirectory = runDirectory
        self.workerName = workerName
        self.logLevel = logLevel
        self.queryTimeoutMilliseconds = queryTimeoutMilliseconds
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.maxMessageBytes = maxMessageBytes
        self.stopTimeoutMilliseconds = stopTimeoutMilliseconds
        self.drainTimeoutMilliseconds = drainTimeoutMilliseconds
        self.processTimeoutMilliseconds = processTimeoutMilliseconds
        self.pingInterval = pingInterval
        self.pingNotResponseLimit = pingNotResponseLimit
        self.pingData = pingData
        self.httpAPI = httpAPI
    }

    /// `$GATEWAYD_RUN_DIR`, else `/tmp/gatewayd-<uid>`: stable across shells, so `stop` and
    /// `status` find a `start` made from another directory.
    public static var defaultRunDirectory: String {
        if let fromEnvironment = getenv("GATEWAYD_RUN_DIR").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "/tmp/gatewayd-\(getuid())"
    }

    /// Checks every key against its entry in ``ConfigurationKey/all``, then what no single key
    /// can say; the error names the key and the bad value.
    public func validate() throws(ConfigurationError) {
        for key in ConfigurationKey.all {
            if let value = key.value(in: self) { try key.validate(value) }
        }
        guard startPort == 0 || startPort + gatewayCount - 1 <= 65535 else {
            throw .invalid(key: "start_port", value: "\(startPort)", expected: "low enough for gateway_count ports below 65536")
        }
        // At least two pings fit in the timeout, so one late ping never closes a healthy link.
        guard innerHeartbeatTimeoutMilliseconds >= 2 * innerHeartbeatIntervalMilliseconds else {
            throw .invalid(
                key: "inner_heartbeat_timeout_ms", value: "\(innerHeartbeatTimeoutMilliseconds)",
                expected: "at least twice inner_heartbeat_interval_ms (\(innerHeartbeatIntervalMilliseconds))")
        }
        guard compressionMinBytes <= maxMessageBytes else {
            throw .invalid(
                key: "compression_min_bytes", value: "\(compressionMinBytes)", expected: "at most max_message_bytes (\(maxMessageBytes))")
        }
        if compression && clientIO != .engine {
            throw .refused(key: "compression", reason: "needs client_io: engine (permessage-deflate is not built on the nio path)")
        }
        try validateTLS()
        try httpAPI?.validate()
    }
}

extension GatewayConfiguration {
    /// Whether a listener is `wss://`.
    public var servesTLS: Bool { listen.contains { (try? ListenAddress(parsing: $0))?.secure == true } }

    /// A wss:// listener needs a certificate and a key and the engine; a certificate needs a
    /// listener to serve.
    func validateTLS() throws(ConfigurationError) {
        guard servesTLS else {
            if tlsCertificate != nil || tlsPrivateKey != nil {
                throw .refused(
                    key: tlsCertificate != nil ? "tls_certificate" : "tls_private_key", reason: "no wss:// listener in listen would use it")
            }
            return
        }
        if tlsCertificate == nil { throw .refused(key: "tls_certificate", reason: "a wss:// listener needs a certificate (PEM chain)") }
        if tlsPrivateKey == nil { throw .refused(key: "tls_private_key", reason: "a wss:// listener needs the certificate's private key") }
        if clientIO != .engine { throw .refused(key: "listen", reason: "wss:// needs client_io: engine (TLS is not built on the nio path)") }
    }
}

/// The oldest TLS version a wss:// listener accepts (`tls_min_version`).
public enum TLSMinimumVersion: String, Sendable, Hashable, Codable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}

/// What a gateway does with a client whose send buffer is full (it stopped reading).
/// What serves a gateway's client sockets and its links to workers.
public enum ClientIO: String, Sendable, Hashable, Codable, CaseIterable {
    /// gatewayd's own engine: a fixed record per connection on one epoll loop (issue 14).
    case engine
    /// SwiftNIO channels, as before the engine: the way back should the engine misbehave.
    case nio
}

public enum SlowClientPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Close the connection; the client reconnects and can catch up. Counted as `slow_client_closes`.
    case close
    /// Drop the messages that do not fit and keep the connection (GatewayWorker's behaviour).
    /// Counted as `slow_client_drops`.
    case drop
}

/// Log level names as they appear in the config and on the command line.
public enum LogLevelName: String, Sendable, CaseIterable {
    case debug, info, warning, error
}

#if canImport(Glibc)
import Glibc
#endif

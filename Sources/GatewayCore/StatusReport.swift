/// What `gatewayd status` shows: every process with its counters, and exits per role.
/// Encoded as JSON with snake_case keys (`--json`).
public struct StatusReport: Codable, Sendable, Hashable {
    public struct Master: Codable, Sendable, Hashable {
        public var pid: Int32
        public var uptimeSeconds: Double
        public var runDir: String
        public var version: String
        public var plugin: String

        public init(pid: Int32, uptimeSeconds: Double, runDir: String, version: String, plugin: String) {
            self.pid = pid
            self.uptimeSeconds = uptimeSeconds
            self.runDir = runDir
            self.version = version
            self.plugin = plugin
        }
    }

    public struct Process: Codable, Sendable, Hashable {
        public var role: Role
        public var index: Int
        public var pid: Int32
        /// running, starting, restarting (waiting out a back-off), stopping.
        public var state: String
        public var rssBytes: Int
        public var connections: Int
        public var messagesIn: UInt64
        public var messagesOut: UInt64
        public var uptimeSeconds: Double
        public var restarts: Int
        /// Role-specific facts (inner address, plugin, ...). Absent when the child did not answer.
        public var details: [String: String]

        public init(
            role: Role, index: Int, pid: Int32, state: String, rssBytes: Int, connections: Int, messagesIn: UInt64,
            messagesOut: UInt64, uptimeSeconds: Double, restarts: Int, details: [String: String]
        ) {
            self.role = role
            self.index = index
            self.pid = pid
            self.state = state
            self.rssBytes = rssBytes
            self.connections = connections
            self.messagesIn = messagesIn
            self.messagesOut = messagesOut
            self.uptimeSeconds = uptimeSeconds
            self.restarts = restarts
            self.details = details
        }
    }

    public var master: Master
    public var listen: [String]
    public var register: String
    public var processes: [Process]
    /// Unexpected exits (crashes and non-zero exits) per role since start.
    public var exits: [String: Int]

    public init(master: Master, listen: [String], register: String, processes: [Process], exits: [String: Int]) {
        self.master = master
        self.listen = listen
        self.register = register
        self.processes = processes
        self.exits = exits
    }
}

/// A request on the master's control socket (`<run-dir>/gatewayd.sock`), one JSON line.
public struct ControlRequest: Codable, Sendable, Hashable {
    public enum Command: String, Codable, Sendable {
        case status, connections, stop, reload
        /// The host's metrics in the Prometheus text format (`ControlResponse.metrics`).
        case metrics
    }

    public var command: Command
    /// `stop -g`: stop accepting, let workers finish what they were sent, then close clients.
    public var graceful: Bool?

    public init(command: Command, graceful: Bool? = nil) {
        self.command = command
        self.graceful = graceful
    }
}

/// The master's one-line JSON answer.
public struct ControlResponse: Codable, Sendable, Hashable {
    public var ok: Bool
    public var error: String?
    public var status: StatusReport?
    public var connections: [ConnectionInfo]?
    public var reload: ReloadReport?
    /// `/metrics`' text (the Prometheus exposition format).
    public var metrics: String?

    public init(
        ok: Bool, error: String? = nil, status: StatusReport? = nil, connections: [ConnectionInfo]? = nil,
        reload: ReloadReport? = nil, metrics: String? = nil
    ) {
        self.ok = ok
        self.error = error
        self.status = status
        self.connections = connections
        self.reload = reload
        self.metrics = metrics
    }
}

/// What `gatewayd reload` reports when the new plugin serves.
public struct ReloadReport: Codable, Sendable, Hashable {
    /// name, version and sha256 of the plugin before and after.
    public var oldPlugin: [String: String]
    public var newPlugin: [String: String]
    /// Old workers that drained and exited, and those killed at the drain timeout.
    public var replaced: Int
    public var killed: Int
    public var seconds: Double
    /// Gateways told to read their TLS certificate again (nil: no wss:// listener here).
    public var certificatesReloaded: Int?

    /// "name version (sha256 abcdef012345)" for one of the plugin fact maps.
    public static func describe(_ plugin: [String: String]) -> String {
        "\(plugin["name"] ?? "?") \(plugin["version"] ?? "?") (sha256 \(plugin["sha256"]?.prefix(12) ?? "?"))"
    }

    public init(
        oldPlugin: [String: String], newPlugin: [String: String], replaced: Int, killed: Int, seconds: Double, certificatesReloaded: Int? = nil
    ) {
        self.certificatesReloaded = certificatesReloaded
        self.oldPlugin = oldPlugin
        self.newPlugin = newPlugin
        self.replaced = replaced
        self.killed = killed
        self.seconds = seconds
    }
}

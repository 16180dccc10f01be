import Foundation

/// One line on the control channel between the master and a child (a socketpair created
/// before fork). JSON, one object per line, both directions.
///
/// Child → master: `ready` once serving, `fatal` when it cannot start, replies to requests,
/// and its last `stats` (without an id) right before it exits after a drain.
/// Master → child: `stats?`, `connections?`, `stop`, `drain`, `quiesce`, `reopen-log`,
/// `reload-tls`.
public struct ControlMessage: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case ready
        case fatal
        case statsRequest = "stats?"
        case stats
        case connectionsRequest = "connections?"
        case connections
        case stop
        /// Worker: finish every event already sent to you, then exit (reload).
        case drain
        /// Gateway: accept no new clients (graceful stop).
        case quiesce
        /// Open the log file at `path` again onto stdout and stderr (it was rotated).
        case reopenLog = "reopen-log"
        /// Gateway: read the TLS certificate and key again; new handshakes use them.
        case reloadTLS = "reload-tls"
    }

    public var kind: Kind
    /// Correlates a reply with its request.
    public var id: UInt64?
    /// Why a child cannot start (`fatal`).
    public var reason: String?
    /// Extra facts a child reports with `ready`, e.g. the inner address or the plugin name.
    public var info: [String: String]?
    public var stats: ProcessCounters?
    public var connections: [ConnectionInfo]?
    /// The log file to reopen (`reopen-log`).
    public var path: String?

    public init(
        kind: Kind, id: UInt64? = nil, reason: String? = nil, info: [String: String]? = nil,
        stats: ProcessCounters? = nil, connections: [ConnectionInfo]? = nil, path: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.reason = reason
        self.info = info
        self.stats = stats
        self.connections = connections
        self.path = path
    }

    /// The JSON line, newline included.
    public func encodedLine() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((try? encoder.encode(self)) ?? Data("{\"kind\":\"fatal\"}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func decode(line: some Collection<UInt8>) -> ControlMessage? {
        try? JSONDecoder().decode(ControlMessage.self, from: Data(line))
    }
}

/// Counters a child reports for `status`.
public struct ProcessCounters: Codable, Sendable, Hashable {
    /// Client connections (gateway), gateway links (worker), peers (register).
    public var connections: Int
    /// Client messages received (gateway) / events handled (worker).
    public var messagesIn: UInt64
    /// Messages written to clients (gateway) / commands sent to gateways (worker).
    public var messagesOut: UInt64
    /// Role-specific extras, e.g. `workers` on a gateway or `plugin` on a worker.
    public var details: [String: String]
    /// What `/metrics` shows of the process (absent from an older child).
    public var metrics: ProcessMetrics?

    public init(
        connections: Int = 0, messagesIn: UInt64 = 0, messagesOut: UInt64 = 0, details: [String: String] = [:],
        metrics: ProcessMetrics? = nil
    ) {
        self.connections = connections
        self.messagesIn = messagesIn
        self.messagesOut = messagesOut
        self.details = details
        self.metrics = metrics
    }
}

/// One client connection as listed by `gatewayd connections`.
public struct ConnectionInfo: Codable, Sendable, Hashable {
    public var clientID: String
    public var remoteAddress: String
    public var transport: String
    public var uid: String?
    public var groups: [String]
    public var messagesIn: UInt64
    public var messagesOut: UInt64
    public var connectedSeconds: Double

    // "clientId", so the snake_case round trip (client_id) of `status --json` comes back.
    private enum CodingKeys: String, CodingKey {
        case clientID = "clientId"
        case remoteAddress, transport, uid, groups, messagesIn, messagesOut, connectedSeconds
    }

    public init(
        clientID: String, remoteAddress: String, transport: String, uid: String?, groups: [String],
        messagesIn: UInt64, messagesOut: UInt64, connectedSeconds: Double
    ) {
        self.clientID = clientID
        self.remoteAddress = remoteAddress
        self.transport = transport
        self.uid = uid
        self.groups = groups
        self.messagesIn = messagesIn
        self.messagesOut = messagesOut
        self.connectedSeconds = connectedSeconds
    }
}

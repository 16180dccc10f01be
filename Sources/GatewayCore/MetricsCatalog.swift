/// Every metric `/metrics` exports: name, type, labels and meaning. The one list the children
/// report against, the master renders from (with these help texts), and `docs/metrics.md` is
/// checked against (MetricsDocumentationTests).
public enum MetricsCatalog {
    public static let all: [MetricDefinition] = host + processes + gateway + worker + register + httpAPI

    public static func definition(named name: String) -> MetricDefinition? { byName[name] }

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Upper bounds of `gatewayd_worker_event_duration_seconds` (seconds; +Inf follows).
    public static let eventDurationBounds: [Double] = [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        2.5, 5, 10,
    ]
    /// Upper bounds of `gatewayd_reload_duration_seconds`.
    public static let reloadDurationBounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    static let host: [MetricDefinition] = [
        .init("gatewayd_build_info", .gauge, .host, labels: ["version"], "Always 1; `version` is the gatewayd that runs."),
        .init(
            "gatewayd_reloads_total", .counter, .host, labels: ["outcome"],
            "Reloads (`gatewayd reload`, SIGUSR1) by outcome: `done`, `failed` (the canary refused the plugin, a new worker died, a stage timed out; the old workers kept serving) or `refused` (one already running, nothing to reload, the plugin file unreadable)."
        ),
        .init(
            "gatewayd_reload_duration_seconds", .histogram, .host, labels: ["outcome"],
            "From the reload request to the last old worker gone (`done`) or to giving up (`failed`).",
            buckets: reloadDurationBounds),
        .init(
            "gatewayd_reload_workers_killed_total", .counter, .host,
            "Old workers killed at `drain_timeout_ms` during a reload instead of finishing what they were sent."),
    ]

    static let processes: [MetricDefinition] = [
        .init(
            "gatewayd_process_up", .gauge, .process,
            "1 while the process runs and has said it serves; 0 while it starts or waits out a restart back-off. The master is `role=\"master\"`."
        ),
        .init("gatewayd_process_resident_memory_bytes", .gauge, .process, "Resident memory (RSS) of the process."),
        .init(
            "gatewayd_process_crashes_total", .counter, .role,
            "Unexpected exits (a signal or a non-zero status) of the role's processes; `exits` in `gatewayd status`."),
        .init(
            "gatewayd_process_restarts_total", .counter, .role,
            "Processes of the role the master started again after they exited (crashed or not)."),
        .init(
            "gatewayd_messages_in_total", .counter, .process,
            "Gateway: client messages received. Worker: events handled. Register: lines received. HTTP API: requests. As `messages in` in `gatewayd status`."
        ),
        .init(
            "gatewayd_messages_out_total", .counter, .process,
            "Gateway: messages written to clients (each delivery of a broadcast counts). Worker: commands sent to gateways. Register: lines sent. HTTP API: responses."
        ),
        .init(
            "gatewayd_backpressure_pauses_total", .counter, .process,
            "Gateway: times a worker fell behind by `worker_buffer_bytes` and its clients stopped being read. Worker: times its plugin fell behind by `worker_queue_bytes` and it stopped reading its gateways."
        ),
        .init(
            "gatewayd_inner_heartbeat_timeouts_total", .counter, .process,
            "Gateway: worker links closed for silence. Register: peers dropped for silence (`inner_heartbeat_timeout_ms`)."),
    ]

    static let gateway: [MetricDefinition] = [
        .init("gatewayd_client_connections", .gauge, .process, "Client connections the gateway holds now."),
        .init(
            "gatewayd_client_connections_opened_total", .counter, .process,
            "Client connections accepted (those refused over `max_connections` included)."),
        .init(
            "gatewayd_client_connections_closed_total", .counter, .process, labels: ["reason"],
            "Client connections closed, by reason: `client` (the client closed or the connection failed), `heartbeat` (silent past `ping_not_response_limit`), `slow_consumer` (send buffer full, `slow_client_policy: close`), `size_limit` (a message over `max_message_bytes`), `handshake_timeout` (no handshake within `connect_timeout_ms`), `refused` (over `max_connections`), `handshake_refused` (the plugin refused the handshake, or gave no verdict in time), `protocol_error` (a malformed request or frame), `kicked` (a worker closed it), `shutdown` (`gatewayd stop`)."
        ),
        .init(
            "gatewayd_client_bytes_in_total", .counter, .process,
            "Bytes read from client sockets (WebSocket framing and handshakes included)."),
        .init("gatewayd_client_bytes_out_total", .counter, .process, "Bytes written to client sockets."),
        .init(
            "gatewayd_broadcast_deliveries_total", .counter, .process,
            "Messages written to clients by send-to-all, send-to-group and send-to-uid, one per receiving client (also in `gatewayd_messages_out_total`)."
        ),
        .init("gatewayd_gateway_workers", .gauge, .process, "Workers attached to the gateway now."),
        .init("gatewayd_gateway_registers", .gauge, .process, "Registers the gateway is registered with now."),
        .init(
            "gatewayd_held_events", .gauge, .process,
            "Client events waiting for a worker (one draining during a reload, or none attached)."),
        .init(
            "gatewayd_held_events_dropped_total", .counter, .process,
            "Client events dropped because too many were held (4096 per client, 64 MiB in all)."),
        .init(
            "gatewayd_events_without_worker_total", .counter, .process,
            "Client events that found no worker attached (held until one is)."),
        .init(
            "gatewayd_events_lost_total", .counter, .process,
            "Events lost with a worker that died: the one it crashed in, one whose commands had partly gone out (logged with the client id)."
        ),
        .init(
            "gatewayd_events_resent_total", .counter, .process,
            "Events a dead worker had not finished, sent to another worker."),
        .init(
            "gatewayd_slow_client_drops_total", .counter, .process,
            "Messages to a client dropped because its send buffer was full (`slow_client_policy: drop`) or its handshake had not completed and 64 waited already."
        ),
        .init(
            "gatewayd_queries_answered_total", .counter, .process,
            "Queries the gateway answered (from workers, GatewayClients, the HTTP API, PHP)."),
        .init(
            "gatewayd_inner_auth_failures_total", .counter, .process,
            "Inner connections closed for a wrong or missing `secret_key` or a bad first frame."),
        .init(
            "gatewayd_worker_key_conflicts_total", .counter, .process,
            "Workers refused because a worker of the other kind (PHP or gatewayd) had their key (`worker_name`)."),
    ]

    static let worker: [MetricDefinition] = [
        .init("gatewayd_worker_gateways", .gauge, .process, "Gateways the worker is attached to now."),
        .init(
            "gatewayd_worker_event_duration_seconds", .histogram, .role, labels: ["callback"],
            "How long plugin callbacks take (client events: `on_connect`, `on_websocket_handshake`, `on_message`, `on_close`; and `timer`, `post`), queries they waited for included, summed over the host's workers. Counts are exact; a worker times at most one callback of a kind per millisecond, each standing for the untimed ones before it (every one below 1000 a second).",
            buckets: eventDurationBounds),
        .init(
            "gatewayd_plugin_errors_total", .counter, .process,
            "Plugin callbacks that reported failure: a typed-event handler returning a status other than GWD_OK, `on_websocket_handshake` returning something other than 0 or 400–599."
        ),
        .init(
            "gatewayd_event_errors_total", .counter, .process,
            "Client messages taken for typed events and answered with an error frame (unknown event, bad arguments; docs/events.md)."),
        .init(
            "gatewayd_slow_callbacks_total", .counter, .process,
            "Plugin callbacks seen running longer than `process_timeout_ms` (each also logged)."),
        .init(
            "gatewayd_worker_dropped_commands_total", .counter, .process,
            "Commands the plugin sent to a gateway the worker was not attached to."),
        .init(
            "gatewayd_queries_total", .counter, .role, labels: ["gateway"],
            "Queries the host's workers and its HTTP API sent to each gateway (`gateway` is its inner address)."),
        .init(
            "gatewayd_query_timeouts_total", .counter, .role, labels: ["gateway"],
            "Of those, the ones the gateway did not answer within `query_timeout_ms`."),
    ]

    static let register: [MetricDefinition] = [
        .init("gatewayd_register_gateways", .gauge, .process, "Gateways registered with the register now."),
        .init("gatewayd_register_workers", .gauge, .process, "Workers connected to the register now."),
    ]

    static let httpAPI: [MetricDefinition] = [
        .init(
            "gatewayd_http_api_requests_total", .counter, .process, labels: ["status"],
            "HTTP API responses by status code (docs/http-api.md); `/metrics` itself included."),
        .init("gatewayd_http_api_connections", .gauge, .process, "Connections open to the HTTP API now."),
    ]
}

/// One metric of ``MetricsCatalog``.
public struct MetricDefinition: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case counter, gauge, histogram
    }

    /// Which labels the master adds, and over what it adds up.
    public enum Scope: Sendable, Hashable {
        /// The master's own: no `role` or `index`.
        case host
        /// One series per process: `role` and `index` (the master's counters for processes
        /// that exited carry over to the process that takes their place).
        case process
        /// One series per role: `role`, summed over the role's processes.
        case role
    }

    public var name: String
    public var kind: Kind
    public var scope: Scope
    /// Labels besides `role` and `index`.
    public var labels: [String]
    public var help: String
    /// Histograms' upper bounds in seconds, +Inf not included.
    public var buckets: [Double]

    init(_ name: String, _ kind: Kind, _ scope: Scope, labels: [String] = [], _ help: String, buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.scope = scope
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }

    /// Every label a series carries, in the order they are written.
    public var allLabels: [String] {
        switch scope {
        case .host: return labels
        case .process: return ["role", "index"] + labels
        case .role: return ["role"] + labels
        }
    }
}

/// Why a gateway's client connection ended (`gatewayd_client_connections_closed_total`).
public enum ClientCloseReason: UInt8, Sendable, Hashable, CaseIterable {
    case client, heartbeat, slowConsumer, sizeLimit, handshakeTimeout, refused, handshakeRefused, protocolError, kicked, shutdown

    public var label: String {
        switch self {
        case .client: return "client"
        case .heartbeat: return "heartbeat"
        case .slowConsumer: return "slow_consumer"
        case .sizeLimit: return "size_limit"
        case .handshakeTimeout: return "handshake_timeout"
        case .refused: return "refused"
        case .handshakeRefused: return "handshake_refused"
        case .protocolError: return "protocol_error"
        case .kicked: return "kicked"
        case .shutdown: return "shutdown"
        }
    }
}

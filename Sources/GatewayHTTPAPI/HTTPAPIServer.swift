import GatewayClient
import GatewayCore
import GatewayRuntime
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP API role: JSON over HTTP/1.1 for every GatewayWorker send and query, so any web
/// backend can push with curl. Requests run on a `GatewayClient` (the backend), which finds
/// the gateways through the register like a worker does.
///
/// Endpoints: `POST /v1/<function>` (see `GatewayFunction`), `GET /v1/health`, `GET /metrics` (the master's, through its control socket). Described in
/// docs/openapi.yaml and docs/http-api.md. Confined to one event loop.
public final class HTTPAPIServer: RoleService, @unchecked Sendable {
    private let settings: HTTPAPISettings
    private let backend: HTTPAPIBackend
    private let eventLoop: EventLoop
    private let logger: Logger
    private let statistics = HTTPAPIStatistics()
    private var serverChannel: Channel?
    private var connections: [ObjectIdentifier: Channel] = [:]

    private let metrics: MasterMetrics?

    /// - Parameter metrics: where `GET /metrics` gets the host's metrics (404 without).
    public init(settings: HTTPAPISettings, backend: HTTPAPIBackend, eventLoop: EventLoop, logger: Logger, metrics: MasterMetrics? = nil) {
        self.metrics = metrics
        self.settings = settings
        self.backend = backend
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Starts serving on the socket the master bound.
    public func start(listeningDescriptor: Int32) -> EventLoopFuture<Void> {
        ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.configure(channel)
                }
            }
            .withBoundSocket(listeningDescriptor)
            .map { channel in
                self.serverChannel = channel
                self.logger.info(
                    "http api serving",
                    metadata: ["gw.listen": "\(self.settings.listen)", "gw.auth": "\(self.settings.token.isEmpty ? "none" : "bearer")"])
            }
    }

    private func configure(_ channel: Channel) throws {
        let id = ObjectIdentifier(channel)
        connections[id] = channel
        channel.closeFuture.whenComplete { _ in self.eventLoop.execute { self.connections[id] = nil } }
        // A connection with no traffic for a minute is closed, so idle keep-alives cannot pile up.
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: HTTPAPIHandler.idleTimeout))
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(
            HTTPAPIHandler(
                backend: backend, token: settings.token, maxBodyBytes: settings.maxBodyBytes, statistics: statistics, metrics: metrics))
    }

    public func counters() -> ProcessCounters {
        var details = ["listen": settings.listen]
        for (statusClass, count) in statistics.byClass { details["responses_\(statusClass)"] = "\(count)" }
        var metrics = ProcessMetrics()
        metrics.add("gatewayd_messages_in_total", statistics.requests)
        metrics.add("gatewayd_messages_out_total", statistics.responses)
        metrics.add("gatewayd_http_api_connections", statistics.openConnections)
        for (code, count) in statistics.byCode {
            metrics.add("gatewayd_http_api_requests_total", count, labels: ["status": "\(code)"])
        }
        for (gateway, counts) in backend.queryCounts {
            metrics.add("gatewayd_queries_total", counts.sent, labels: ["gateway": gateway])
            metrics.add("gatewayd_query_timeouts_total", counts.timedOut, labels: ["gateway": gateway])
        }
        return ProcessCounters(
            connections: statistics.openConnections, messagesIn: statistics.requests, messagesOut: statistics.responses, details: details,
            metrics: metrics)
    }

    /// Stops accepting, closes every connection and the gateway links.
    public func shutdown() -> EventLoopFuture<Void> {
        let closing = [serverChannel].compactMap { $0 } + Array(connections.values)
        for channel in closing { channel.close(promise: nil) }
        let backend = self.backend
        return eventLoop.makeFutureWithTask { await backend.close() }
    }
}

import GatewayCore
import GatewayWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One connection per gateway, made on first use and kept: authenticated once (the gateway
/// remembers GATEWAY_CLIENT_CONNECT for the connection's life), reused by every later call,
/// and forgotten when it closes or fails so that the next call connects again.
final class GatewayConnectionPool: Sendable {
    private struct State {
        var links: [String: EventLoopFuture<Channel>] = [:]
        var closed = false
    }

    private let configuration: GatewayClientConfiguration
    private let eventLoopGroup: EventLoopGroup
    private let state = NIOLockedValueBox(State())

    init(configuration: GatewayClientConfiguration, eventLoopGroup: EventLoopGroup) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The (authenticated) connection to the gateway at `address`, connecting if there is none.
    func channel(to address: String) -> EventLoopFuture<Channel> {
        let (link, isNew) = state.withLockedValue { state -> (EventLoopFuture<Channel>, Bool) in
            if state.closed { return (eventLoopGroup.next().makeFailedFuture(GatewayLinkError.closed), false) }
            if let existing = state.links[address] { return (existing, false) }
            let made = connect(to: address)
            state.links[address] = made
            return (made, true)
        }
        // Outside the lock: a callback may run at once and take it again.
        if isNew {
            link.whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.closeFuture.whenComplete { _ in self.forget(address, link) }
                case .failure:
                    self.forget(address, link)
                }
            }
        }
        return link
    }

    /// Closes the connections to gateways the register no longer lists.
    func keep(only addresses: [String]) {
        let listed = Set(addresses)
        let gone = state.withLockedValue { state -> [EventLoopFuture<Channel>] in
            let leaving = state.links.filter { !listed.contains($0.key) }
            for address in leaving.keys { state.links[address] = nil }
            return Array(leaving.values)
        }
        for link in gone { link.whenSuccess { $0.close(promise: nil) } }
    }

    /// Closes every connection; later calls fail.
    func close() async {
        let links = state.withLockedValue { state -> [EventLoopFuture<Channel>] in
            state.closed = true
            defer { state.links = [:] }
            return Array(state.links.values)
        }
        for link in links {
            guard let channel = try? await link.get() else { continue }
            try? await channel.close()
        }
    }

    private func forget(_ address: String, _ link: EventLoopFuture<Channel>) {
        state.withLockedValue { state in
            if state.links[address] === link { state.links[address] = nil }
        }
    }

    private func connect(to address: String) -> EventLoopFuture<Channel> {
        let eventLoop = eventLoopGroup.next()
        guard let endpoint = try? HostPort(parsing: address) else {
            return eventLoop.makeFailedFuture(GatewayClientError.invalidAddress(address))
        }
        let authentication: ByteBuffer? =
            configuration.secretKey.isEmpty
            ? nil
            : .command(.gatewayClientConnect, body: GatewayClientConnectBody(secretKey: configuration.secretKey).encoded())
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(GatewayReplyDecoder()),
                        GatewayLinkHandler(),
                    ])
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMap { channel in
                // Before anyone else can write: the gateway executes nothing unauthenticated.
                guard let authentication else { return channel.eventLoop.makeSucceededFuture(channel) }
                return channel.writeAndFlush(GatewayRequest(frame: authentication)).map { channel }
            }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// This future, or a failure with `error` if it has not completed by `deadline`.
    func failing(at deadline: NIODeadline, with error: Error) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(deadline: deadline) { promise.fail(error) }
        whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return promise.futureResult
    }
}

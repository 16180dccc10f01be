import GatewayAPI
import GatewayCore
import GatewayWire
import NIOCore
import NIOPosix

/// Pushes to clients and queries a gatewayd (or PHP GatewayWorker) cluster from outside it,
/// as PHP's GatewayClient does, with async/await.
///
/// The gateways come from the registers (with failover, cached for about a second). Each
/// gateway gets one long-lived, authenticated connection that every call shares; requests
/// are pipelined on it in call order. A call reaches all its gateways in parallel and is
/// bounded by the configured timeout, so a gateway that is down or stuck never hangs it:
/// a send that missed a gateway throws `.notDelivered`, a query says which gateways did not
/// answer (`GatewayQueryResult.unanswered`).
///
/// ```swift
/// let client = GatewayClient(configuration: try .init(registers: ["127.0.0.1:1236"]))
/// try await client.sendToUID("alice", "hi")
/// let ids = try await client.clientIDs(uid: "alice").value
/// ```
///
/// Thread-safe. Client ids only ever reach gateways the register lists: an id naming any
/// other address is reported as not registered, never connected to.
public final class GatewayClient: Sendable {
    public let configuration: GatewayClientConfiguration
    private let addressBook: GatewayAddressBook
    private let pool: GatewayConnectionPool
    private let queries = GatewayQueryTally()

    /// - Parameter eventLoopGroup: where connections live; NIO's shared group by default.
    public init(configuration: GatewayClientConfiguration, eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        let pool = GatewayConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup)
        self.pool = pool
        self.addressBook = GatewayAddressBook(configuration: configuration, eventLoopGroup: eventLoopGroup) { pool.keep(only: $0) }
    }

    /// Queries sent so far to each gateway (by inner address) and the ones it did not answer
    /// within the timeout.
    public var queryCounts: [String: GatewayQueryCounts] { queries.snapshot }

    /// Closes every gateway connection; later calls throw `.closed`.
    public func close() async {
        await pool.close()
    }

    /// The gateways' inner addresses (`ip:port`), from the registers or the recent cache.
    public func gatewayAddresses() async throws(GatewayClientError) -> [String] {
        guard !pool.isClosed else { throw .closed }
        return try await addressBook.addresses()
    }

    // MARK: - Sending

    /// Sends fire-and-forget frames (see `GatewayCommands`); each gateway receives its frames
    /// in order. Returns once every frame is written to its gateway's connection.
    public func send(_ dispatches: [GatewayDispatch]) async throws(GatewayClientError) {
        guard !dispatches.isEmpty else { return }
        let addresses = try await gatewayAddresses()
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        var framesByGateway: [String: [ByteBuffer]] = [:]
        for dispatch in dispatches {
            for target in dispatch.targets(among: addresses) {
                if let frame = dispatch.frame(for: target) { framesByGateway[target, default: []].append(frame) }
            }
        }
        let registered = Set(addresses)
        let failures = await withTaskGroup(of: GatewayFailure?.self) { group in
            for (address, frames) in framesByGateway {
                group.addTask { await self.write(frames, to: address, registered: registered.contains(address), deadline: deadline) }
            }
            var failures: [GatewayFailure] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if !failures.isEmpty { throw .notDelivered(failures.sorted { $0.address < $1.address }) }
    }

    private func write(_ frames: [ByteBuffer], to address: String, registered: Bool, deadline: NIODeadline) async -> GatewayFailure? {
        do {
            let channel = try await connection(to: address, registered: registered, deadline: deadline)
            let written = frames.map { channel.write(GatewayRequest(frame: $0)) }
            channel.flush()
            try await EventLoopFuture.andAllSucceed(written, on: channel.eventLoop)
                .failing(at: deadline, with: GatewayLinkError.timedOut).get()
            return nil
        } catch {
            return Self.failure(error, at: address)
        }
    }

    /// The kept connection to a gateway the register lists (never any other), within the deadline.
    private func connection(to address: String, registered: Bool, deadline: NIODeadline) async throws -> Channel {
        guard registered else { throw GatewayFailure(address: address, reason: .notRegistered) }
        return try await pool.channel(to: address).failing(at: deadline, with: GatewayLinkError.timedOut).get()
    }

    // MARK: - Querying

    /// Runs a query (see `GatewayQueries`) on every gateway it concerns, in parallel.
    public func query<Value>(_ query: GatewayQuery<Value>) async throws(GatewayClientError) -> GatewayQueryResult<Value> {
        try await queryReportingFailures(query).result
    }

    /// `query(_:)`, with why each unanswered gateway did not answer.
    public func queryReportingFailures<Value>(
        _ query: GatewayQuery<Value>
    ) async throws(GatewayClientError) -> (result: GatewayQueryResult<Value>, failures: [GatewayFailure]) {
        let run = try await collect(query)
        return (run.result, run.failures)
    }

    /// A query's merged result, its failures, and how many gateways answered.
    struct QueryRun<Value: Sendable> {
        var result: GatewayQueryResult<Value>
        var failures: [GatewayFailure]
        var answers: Int
    }

    func collect<Value>(_ query: GatewayQuery<Value>) async throws(GatewayClientError) -> QueryRun<Value> {
        let addresses = try await gatewayAddresses()
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        let registered = Set(addresses)
        let targets = query.dispatch.targets(among: addresses)
        let outcomes = await withTaskGroup(of: Result<GatewayAnswer, GatewayFailure>.self) { group in
            for target in targets {
                guard let frame = query.dispatch.frame(for: target) else { continue }
                group.addTask { await self.ask(frame, at: target, registered: registered.contains(target), deadline: deadline) }
            }
            var outcomes: [Result<GatewayAnswer, GatewayFailure>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let answers = outcomes.compactMap { try? $0.get() }
        let failures = outcomes.compactMap { outcome -> GatewayFailure? in
            if case .failure(let failure) = outcome { return failure }
            return nil
        }.sorted { $0.address < $1.address }
        queries.record(sentTo: targets, timedOut: failures.filter { $0.reason == .timedOut }.map(\.address))
        return QueryRun(result: query.result(from: answers, unanswered: failures.map(\.address)), failures: failures, answers: answers.count)
    }

    private func ask(_ frame: ByteBuffer, at address: String, registered: Bool, deadline: NIODeadline) async -> Result<GatewayAnswer, GatewayFailure> {
        do {
            let channel = try await connection(to: address, registered: registered, deadline: deadline)
            let reply = channel.eventLoop.makePromise(of: ByteBuffer.self)
            // A channel that closed meanwhile fails the write without reaching the link handler.
            channel.writeAndFlush(GatewayRequest(frame: frame, reply: reply)).whenFailure { _ in reply.fail(GatewayLinkError.closed) }
            let payload = try await reply.futureResult.failing(at: deadline, with: GatewayLinkError.timedOut).get()
            return .success(GatewayAnswer(gateway: address, payload: payload))
        } catch {
            return .failure(Self.failure(error, at: address))
        }
    }

    private static func failure(_ error: Error, at address: String) -> GatewayFailure {
        switch error {
        case let failure as GatewayFailure: return failure
        case GatewayLinkError.timedOut: return GatewayFailure(address: address, reason: .timedOut)
        case GatewayLinkError.closed, ChannelError.ioOnClosedChannel, ChannelError.eof:
            return GatewayFailure(address: address, reason: .closedByPeer)
        default: return GatewayFailure(address: address, reason: .unreachable(describe(error)))
        }
    }
}

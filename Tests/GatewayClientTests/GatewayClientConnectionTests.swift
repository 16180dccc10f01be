import GatewayClient
import GatewayWire
import NIOCore
import NIOPosix
import XCTest

/// GatewayClient against in-process fakes of the register and the gateways: one kept,
/// authenticated connection per gateway, pipelined replies matched in order, register
/// failover and caching, and gateways that are down or silent reported instead of waited for.
final class GatewayClientConnectionTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var stoppable: [@Sendable () async throws -> Void] = []

    override func setUp() {
        super.setUp()
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        for stop in stoppable { try? await stop() }
        stoppable = []
        try await group.shutdownGracefully()
        try await super.tearDown()
    }

    private func gateway(
        secretKey: String = "", answer: @escaping @Sendable (GatewayFrame, Int) -> FakeGateway.Answer = { _, _ in .value(.int(1)) }
    ) async throws -> FakeGateway {
        let gateway = try await FakeGateway(group: group, secretKey: secretKey, answer: answer)
        stoppable.append { try await gateway.stop() }
        return gateway
    }

    private func register(secretKey: String = "", listing addresses: [String]) async throws -> FakeRegister {
        let register = try await FakeRegister(group: group, secretKey: secretKey, addresses: addresses)
        stoppable.append { try await register.stop() }
        return register
    }

    private func client(registers: [String], secretKey: String = "", timeout: Duration = .seconds(5), lifetime: Duration = .seconds(1)) throws
        -> GatewayClient
    {
        var configuration = try GatewayClientConfiguration(registers: registers, secretKey: secretKey, timeout: timeout)
        configuration.addressListLifetime = lifetime
        let client = GatewayClient(configuration: configuration, eventLoopGroup: group)
        stoppable.append { await client.close() }
        return client
    }

    /// A port nothing listens on (bound, then closed).
    private func deadAddress() async throws -> String {
        let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return "127.0.0.1:\(port)"
    }

    // MARK: - Connection reuse

    func testCallsShareOneAuthenticatedConnectionPerGateway() async throws {
        let first = try await gateway(secretKey: "s3cret") { _, _ in .value(.int(2)) }
        let second = try await gateway(secretKey: "s3cret") { _, _ in .value(.int(3)) }
        let register = try await register(secretKey: "s3cret", listing: [first.address, second.address])
        let client = try client(registers: [register.address], secretKey: "s3cret")

        for _ in 0..<3 {
            let count = try await client.allClientIDCount()
            expect(count, 5, unanswered: [])
        }
        try await client.sendToAll("hello")

        for gateway in [first, second] {
            // A send returns once written to the socket; the fake reads it a moment later.
            try await eventually { gateway.received.count == 5 }
            XCTAssertEqual(gateway.connectionsAccepted, 1, "one connection per gateway, kept")
            XCTAssertEqual(
                gateway.received.map(\.command),
                [.gatewayClientConnect, .getClientCountByGroup, .getClientCountByGroup, .getClientCountByGroup, .sendToAll],
                "authenticated once, then every request on the same connection in call order")
        }
    }

    func testWithoutASecretNothingButRequestsIsSent() async throws {
        let gateway = try await gateway()
        let register = try await register(listing: [gateway.address])
        let client = try client(registers: [register.address])
        _ = try await client.isOnline(ClientID(ipv4: 0x7f00_0001, port: UInt16(gateway.address.split(separator: ":")[1])!, connectionID: 7).description)
        XCTAssertEqual(gateway.received.map(\.command), [.isOnline])
        XCTAssertEqual(gateway.received.first?.connectionID, 7)
    }

    func testPipelinedQueriesEachGetTheirOwnReply() async throws {
        // The gateway answers isOnline(n) with n, so a reply given to the wrong query shows.
        let gateway = try await gateway { frame, _ in .value(.int(Int(frame.connectionID))) }
        let register = try await register(listing: [gateway.address])
        let client = try client(registers: [register.address])
        let port = UInt16(gateway.address.split(separator: ":")[1])!
        let ids = (1...40).map { ClientID(ipv4: 0x7f00_0001, port: port, connectionID: UInt32($0)) }
        let answers = try await withThrowingTaskGroup(of: (UInt32, PHPValue?).self) { tasks in
            for id in ids {
                tasks.addTask {
                    let (result, _) = try await client.queryReportingFailures(GatewayQueries.session(of: id))
                    return (id.connectionID, result.value)
                }
            }
            var answers: [UInt32: PHPValue?] = [:]
            for try await (connection, value) in tasks { answers[connection] = value }
            return answers
        }
        for id in ids { XCTAssertEqual(answers[id.connectionID], .some(.int(Int(id.connectionID)))) }
        XCTAssertEqual(gateway.connectionsAccepted, 1)
    }

    func testALateReplyIsDroppedAndTheNextQueryGetsItsOwn() async throws {
        let gateway = try await gateway { _, index in index == 0 ? .late(.int(100), after: .milliseconds(600)) : .value(.int(7)) }
        let register = try await register(listing: [gateway.address])
        let client = try client(registers: [register.address], timeout: .milliseconds(300))

        let started = ContinuousClock.now
        let (late, failures) = try await client.queryReportingFailures(GatewayQueries.clientIDCount())
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "the timeout bounds the call")
        expect(late, 0, unanswered: [gateway.address])
        XCTAssertEqual(failures, [GatewayFailure(address: gateway.address, reason: .timedOut)])

        // Asked after the timeout, but answered after the late reply to the first question.
        let next = try await withTimeout(client) { try await $0.allClientIDCount() }
        expect(next, 7, unanswered: [])
        XCTAssertEqual(gateway.connectionsAccepted, 1, "a timeout does not cost the connection")
    }

    /// Repeats a query (its own timeout is short) until it is answered, for up to 5 s.
    private func withTimeout<T: Equatable>(_ client: GatewayClient, _ query: (GatewayClient) async throws -> GatewayQueryResult<T>) async throws
        -> GatewayQueryResult<T>
    {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let result = try await query(client)
            if result.isComplete || ContinuousClock.now > deadline { return result }
        }
    }

    func testAConnectionTheGatewayClosedIsReplacedOnTheNextCall() async throws {
        let gateway = try await gateway { _, index in index == 0 ? .close : .value(.int(4)) }
        let register = try await register(listing: [gateway.address])
        let client = try client(registers: [register.address])

        let (first, failures) = try await client.queryReportingFailures(GatewayQueries.clientIDCount())
        XCTAssertEqual(first.unanswered, [gateway.address])
        XCTAssertEqual(failures.map(\.reason), [.closedByPeer])
        let second = try await withTimeout(client) { try await $0.allClientIDCount() }
        expect(second, 4, unanswered: [])
        XCTAssertEqual(gateway.connectionsAccepted, 2)
    }

    // MARK: - Gateways that are down

    func testAGatewayThatIsDownIsReportedAndTheOthersStillServe() async throws {
        let live = try await gateway { _, _ in .value(.int(5)) }
        let dead = try await deadAddress()
        let register = try await register(listing: [live.address, dead])
        let client = try client(registers: [register.address])

        let (result, failures) = try await client.queryReportingFailures(GatewayQueries.clientIDCount())
        expect(result, 5, unanswered: [dead])
        XCTAssertEqual(failures.map(\.address), [dead])
        guard case .unreachable = failures.first?.reason else { return XCTFail("expected unreachable, got \(failures)") }

        do {
            try await client.sendToUID("alice", "hi")
            XCTFail("a send that missed a gateway must throw")
        } catch {
            guard case .notDelivered(let missed) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(missed.map(\.address), [dead])
        }
        try await eventually { live.received.last?.command == .sendToUID }  // the live gateway got the send anyway
    }

    func testAClientIDOfAnUnlistedGatewayIsNeverConnectedTo() async throws {
        let listed = try await gateway()
        let unlisted = try await gateway()
        let register = try await register(listing: [listed.address])
        let client = try client(registers: [register.address])
        let port = UInt16(unlisted.address.split(separator: ":")[1])!
        let stranger = ClientID(ipv4: 0x7f00_0001, port: port, connectionID: 1).description

        let (result, failures) = try await client.queryReportingFailures(GatewayQueries.isOnline(ClientID(stranger)!))
        expect(result, false, unanswered: [unlisted.address])
        XCTAssertEqual(failures, [GatewayFailure(address: unlisted.address, reason: .notRegistered)])
        do {
            try await client.sendToClient(stranger, "hi")
            XCTFail("expected notDelivered")
        } catch {
            guard case .notDelivered(let missed) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(missed, [GatewayFailure(address: unlisted.address, reason: .notRegistered)])
        }
        XCTAssertEqual(unlisted.connectionsAccepted, 0)
    }

    // MARK: - Registers

    func testTheFirstRegisterThatAnswersIsUsedAndPreferredAfterwards() async throws {
        let gateway = try await gateway()
        let refusing = try await register(secretKey: "other", listing: [gateway.address])
        let working = try await register(listing: [gateway.address])
        let dead = try await deadAddress()
        let client = try client(registers: [dead, refusing.address, working.address], lifetime: .zero)

        let first = try await client.gatewayAddresses()
        XCTAssertEqual(first, [gateway.address])
        XCTAssertEqual(refusing.connectionsAccepted, 1)
        let second = try await client.gatewayAddresses()
        XCTAssertEqual(second, [gateway.address])
        XCTAssertEqual(refusing.connectionsAccepted, 1, "the register that answered is asked first next time")
        XCTAssertEqual(working.connectionsAccepted, 2)
    }

    func testNoRegisterAnsweringNamesEachOne() async throws {
        let refusing = try await register(secretKey: "right", listing: [])
        let dead = try await deadAddress()
        let client = try client(registers: [refusing.address, dead], secretKey: "wrong")
        do {
            _ = try await client.allClientIDCount()
            XCTFail("expected noRegister")
        } catch {
            guard case .noRegister(let failures) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(failures.map(\.address), [refusing.address, dead])
            XCTAssertEqual(failures.first?.reason, .closedByPeer)
        }
    }

    func testTheGatewayListIsCachedForItsLifetime() async throws {
        let gateway = try await gateway()
        let register = try await register(listing: [gateway.address])
        let client = try client(registers: [register.address], lifetime: .seconds(60))
        for _ in 0..<5 { _ = try await client.allClientIDCount() }
        XCTAssertEqual(register.connectionsAccepted, 1)

        let refreshing = try self.client(registers: [register.address], lifetime: .zero)
        register.list([])
        let addresses = try await refreshing.gatewayAddresses()
        XCTAssertEqual(addresses, [])
        let count = try await refreshing.allClientIDCount()
        expect(count, 0, unanswered: [])
        XCTAssertEqual(register.connectionsAccepted, 3)
    }

    func testAClosedClientRefusesCalls() async throws {
        let register = try await register(listing: [])
        let client = try client(registers: [register.address])
        await client.close()
        do {
            _ = try await client.gatewayAddresses()
            XCTFail("expected closed")
        } catch {
            XCTAssertEqual(error, .closed)
        }
    }

    private func expect<T: Equatable>(
        _ result: GatewayQueryResult<T>, _ value: T, unanswered: [String], _ message: String = "", file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(result.value, value, message, file: file, line: line)
        XCTAssertEqual(result.unanswered, unanswered, message, file: file, line: line)
    }

    /// Waits (polling, up to 5 s) for something the fakes do after the client's call returned.
    private func eventually(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("condition not met within 5 s", file: file, line: line) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

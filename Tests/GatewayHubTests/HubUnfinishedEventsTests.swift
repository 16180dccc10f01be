import GatewayCore
import GatewayWire
import NIOCore
import XCTest

@testable import GatewayHub

/// A worker that acknowledges events dies: what it had not finished goes to another worker,
/// in order per client and ahead of the client's later events; the event it crashed in is
/// lost and counted.
extension HubTests {
    private func eventsDone(_ finished: UInt64, started: UInt64? = nil, from link: HubWorker<RecordingTransport>) -> Bool {
        var body = ByteBuffer()
        body.writeInteger(finished)
        body.writeInteger(started ?? finished)
        return hub.innerFrame(GatewayFrame(command: .eventsDone, body: body), from: .worker(link), socket: link.socket, remoteIP: { "127.0.0.1" }) != nil
    }

    private func crashed(in event: UInt64, from link: HubWorker<RecordingTransport>) {
        var body = ByteBuffer()
        body.writeInteger(event)
        body.writeInteger(Int32(11))
        XCTAssertNotNil(hub.innerFrame(GatewayFrame(command: .workerCrashed, body: body), from: .worker(link), socket: link.socket, remoteIP: { "127.0.0.1" }))
    }

    private func send(_ texts: [String], from client: HubClient<RecordingTransport>) {
        for text in texts { hub.clientMessage(client, ByteBuffer(string: text), binary: false, now: now) }
    }

    private func events(to worker: String) throws -> [String] {
        try transport.frames(to: worker).map { frame in
            switch frame.command {
            case .onMessage: "\(frame.connectionID):\(String(buffer: frame.body))"
            case .gatewaydHello: "hello"
            default: "\(frame.connectionID):\(frame.command.phpName ?? "\(frame.command.rawValue)")"
            }
        }
    }

    func testADeadWorkersUnfinishedEventsGoToAnotherWorkerInOrderAheadOfLaterOnes() throws {
        let first = try attachWorker("w1", capability: 4)
        let client = try accept(.text)
        send(["m1", "m2", "m3"], from: client)
        XCTAssertTrue(eventsDone(2, from: first), "ON_CONNECT and m1 finished")
        try attachWorker("w2", capability: 4)
        let other = try accept(.text)  // the least busy worker: w2
        _ = try transport.frames(to: "w2")
        hub.workerLeft(first)
        send(["m4"], from: client)
        send(["n1"], from: other)
        let id = client.id
        XCTAssertEqual(try events(to: "w2"), ["\(id):m2", "\(id):m3", "\(id):m4", "\(other.id):n1"])
        XCTAssertEqual(hub.incidents[.resentEvent], 2)
        XCTAssertNil(hub.incidents[.lostEvent])
    }

    func testTheEventAWorkerCrashedInIsLostAndCountedTheOthersResent() throws {
        let first = try attachWorker("w1", capability: 4)
        let client = try accept(.text)
        send(["m1", "m2", "m3"], from: client)
        XCTAssertTrue(eventsDone(1, from: first))
        crashed(in: 2, from: first)
        try attachWorker("w2", capability: 4)
        _ = try transport.frames(to: "w2")
        hub.workerLeft(first)
        XCTAssertEqual(try events(to: "w2"), ["\(client.id):m1", "\(client.id):m3"])
        XCTAssertEqual(hub.incidents[.lostEvent], 1)
        XCTAssertEqual(hub.incidents[.resentEvent], 2)
    }

    func testWithoutAWorkerLeftTheResentEventsWaitAheadOfLaterOnes() throws {
        let first = try attachWorker("w1", capability: 4)
        let client = try accept(.text)
        send(["m1"], from: client)
        hub.workerLeft(first)
        send(["m2"], from: client)
        XCTAssertEqual(hub.heldEventCount, 3)
        try attachWorker("w2", capability: 4)
        XCTAssertEqual(try events(to: "w2"), ["hello", "\(client.id):CMD_ON_CONNECT", "\(client.id):m1", "\(client.id):m2"])
        XCTAssertEqual(hub.heldBytes, 0, "what the resent events held is given back")
    }

    func testAClosedClientsUnfinishedCloseStillReachesAWorker() throws {
        let first = try attachWorker("w1", capability: 4)
        let gone = try accept(.text)
        let stays = try accept(.text)
        XCTAssertTrue(eventsDone(2, from: first))
        hub.clientClosed(gone, now: now)
        XCTAssertEqual(first.closingClients.count, 1)
        let second = try attachWorker("w2", capability: 4)
        _ = try transport.frames(to: "w2")
        hub.workerLeft(first)
        XCTAssertEqual(try events(to: "w2"), ["\(gone.id):CMD_ON_CLOSE"])
        XCTAssertEqual(second.assignedClients, 0, "the closed client left the router after its ON_CLOSE; \(stays.id) is assigned on its next event")
        XCTAssertEqual(first.closingClients.count, 0)
    }

    func testAFinishedCloseForgetsTheClient() throws {
        let first = try attachWorker("w1", capability: 4)
        let client = try accept(.text)
        hub.clientClosed(client, now: now)
        XCTAssertEqual(first.closingClients.count, 1)
        XCTAssertTrue(eventsDone(2, from: first))
        XCTAssertEqual(first.closingClients.count, 0)
    }

    func testResentEventsGoToAWorkerOnAnotherHostWhereThereIsOne() throws {
        let dying = try attachWorker("a0", capability: 4, host: "10.0.0.1")
        let client = try accept(.text)
        send(["m1"], from: client)
        let elsewhere = try attachWorker("b0", capability: 4, host: "10.0.0.2")
        let busy = try accept(.text)
        XCTAssertTrue(busy.worker === elsewhere)
        let sibling = try attachWorker("a1", capability: 4, host: "10.0.0.1")
        for name in ["a1", "b0"] { _ = try transport.frames(to: name) }
        hub.workerLeft(dying)
        XCTAssertTrue(
            client.worker === elsewhere, "not to the dead worker's host, which may be going down with it, though its other worker is idle")
        XCTAssertEqual(sibling.assignedClients, 0)
        XCTAssertEqual(try events(to: "b0"), ["\(client.id):CMD_ON_CONNECT", "\(client.id):m1"])
        XCTAssertEqual(try events(to: "a1"), [])

        // (With every worker on one host, as in the tests above, the same host's take them.)
    }

    func testAWorkerWithoutAcknowledgementsLosesWhatItWasSentAsBefore() throws {
        let old = try attachWorker("w1", capability: 3)
        let client = try accept(.text)
        send(["m1"], from: client)
        try attachWorker("w2", capability: 4)
        _ = try transport.frames(to: "w2")
        hub.workerLeft(old)
        XCTAssertEqual(try events(to: "w2"), [])
        XCTAssertNil(hub.incidents[.resentEvent])
    }

    func testImpossibleAcknowledgementsCloseTheLink() throws {
        let worker = try attachWorker("w1", capability: 4)
        _ = try accept(.text)
        XCTAssertFalse(eventsDone(5, from: worker))
        XCTAssertEqual(hub.incidents[.authenticationFailure], 1)
    }
}

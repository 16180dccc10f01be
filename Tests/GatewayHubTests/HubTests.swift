import GatewayCompression
import GatewayCore
import GatewayEventLoop
import GatewayWire
import Logging
import NIOCore
import XCTest

@testable import GatewayHub

/// The transport as a recorder: clients are numbers, inner connections names, payloads bytes.
final class RecordingTransport: HubTransport {
    typealias ClientSocket = Int
    typealias InnerSocket = String
    typealias Payload = ByteBuffer

    var clientBytes: [Int: ByteBuffer] = [:]
    var innerBytes: [String: ByteBuffer] = [:]
    var closedClients: [(Int, flush: Bool)] = []
    var closedInner: [String] = []
    var reading: [Int: Bool] = [:]
    var verdicts: [Int: Int] = [:]
    var encodings = 0
    /// Clients whose send buffer is full: writes to them fail.
    var full: Set<Int> = []
    var congested: Set<String> = []

    func encode(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> ByteBuffer? {
        encodings += 1
        var buffer = ByteBuffer()
        return encode(&buffer) ? buffer : nil
    }

    func detached(_ payload: ByteBuffer) -> ByteBuffer { payload }
    func payload(_ bytes: ByteBuffer) -> ByteBuffer { bytes }

    func write(_ payload: ByteBuffer, to client: Int) -> Bool {
        guard !full.contains(client) else { return false }
        var payload = payload
        clientBytes[client, default: ByteBuffer()].writeBuffer(&payload)
        return true
    }

    func close(_ client: Int, flush: Bool) { closedClients.append((client, flush)) }
    func setReading(_ client: Int, _ reading: Bool) { self.reading[client] = reading }
    func handshakeDecided(_ client: Int, status: Int) { verdicts[client] = status }

    func write(_ payload: ByteBuffer, to inner: String) {
        var payload = payload
        innerBytes[inner, default: ByteBuffer()].writeBuffer(&payload)
    }

    func isCongested(_ inner: String) -> Bool { congested.contains(inner) }
    func close(_ inner: String) { closedInner.append(inner) }

    /// The frames written to `inner` since the last call.
    func frames(to inner: String) throws -> [GatewayFrame] {
        var parser = GatewayFrameParser()
        var frames: [GatewayFrame] = []
        guard var bytes = innerBytes.removeValue(forKey: inner) else { return [] }
        while let frame = try parser.parse(&bytes) { frames.append(frame) }
        return frames
    }

    /// The text a client got since the last call, WebSocket frames unwrapped (unmasked server frames).
    func texts(to client: Int) -> [String] {
        guard var bytes = clientBytes.removeValue(forKey: client) else { return [] }
        var texts: [String] = []
        while bytes.readableBytes >= 2, let first = bytes.readInteger(as: UInt8.self), let second = bytes.readInteger(as: UInt8.self) {
            var length = Int(second & 0x7F)
            if length == 126 { length = Int(bytes.readInteger(as: UInt16.self)!) }
            let payload = bytes.readString(length: length) ?? ""
            texts.append(first & 0x0F == 0x9 ? "<ping>" : payload)
        }
        return texts
    }
}

/// The hub without sockets: every decision checked against what it asks the transport to do,
/// with a clock the test moves.
final class HubTests: XCTestCase {
    var transport: RecordingTransport!
    var hub: Hub<RecordingTransport>!
    var now = Instant(nanoseconds: 1_000_000_000)
    private var nextSocket = 1
    private static let request = WebSocketConnectInfo(method: "GET", uri: "/chat", httpVersion: "1.1", headers: [("Host", "example")])

    func makeHub(_ configure: (inout HubConfiguration) -> Void = { _ in }) {
        var configuration = HubConfiguration(lanIP: 0x0A01_0203, innerPort: 2900, secretKey: "", verdictTimeout: 1_000_000_000,
                                             handshakeDeadline: 3_000_000_000)
        configure(&configuration)
        transport = RecordingTransport()
        hub = Hub(configuration: configuration, transport: transport, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), now: now)
    }

    override func setUp() {
        makeHub()
    }

    /// Attaches a worker on inner connection `name`; gatewayd workers announce the capability.
    @discardableResult
    func attachWorker(
        _ name: String, gatewayd: Bool = true, key: String? = nil, capability: Int = 2, host: String = "127.0.0.1"
    ) throws -> HubWorker<RecordingTransport> {
        let extra = gatewayd ? [JSONMember(GatewaydCapability.key, .int(capability))] : []
        let hello = WorkerConnectBody(workerKey: key ?? name, secretKey: "", extra: extra)
        let peer = hub.innerFrame(
            GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())), from: .unauthenticated, socket: name,
            remoteIP: { host })
        guard case .worker(let link) = peer else { throw XCTSkip("worker refused") }
        return link
    }

    func accept(_ scheme: ListenAddress.Scheme = .websocket) throws -> HubClient<RecordingTransport> {
        defer { nextSocket += 1 }
        return try XCTUnwrap(hub.clientAccepted(nextSocket, remoteIP: 0x7F00_0001, remotePort: 40000, listenPort: 8282, transport: scheme, now: now))
    }

    func command(_ command: GatewayCommand, to client: HubClient<RecordingTransport>? = nil, body: String = "", ext: [UInt8] = [],
                         flags: GatewayFrameFlags = .scalarBody, from worker: String = "w1") {
        var frame = GatewayFrame(command: command, body: ByteBuffer(string: body))
        frame.connectionID = client?.id ?? 0
        frame.flags = flags
        frame.extData = ByteBuffer(bytes: ext)
        let link = hub.router.workers.values.first { $0.socket == worker }
        _ = hub.innerFrame(frame, from: link.map { .worker($0) } ?? .client, socket: worker, remoteIP: { "127.0.0.1" })
    }

    // MARK: - Clients and events

    func testAClientsEventsReachItsWorkerWithItsAddress() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        hub.clientMessage(client, ByteBuffer(string: "hello"), binary: false, now: now)
        let frames = try transport.frames(to: "w1")
        XCTAssertEqual(frames.map(\.command), [.onConnect, .onMessage])
        XCTAssertEqual(frames[1].connectionID, client.id)
        XCTAssertEqual(frames[1].clientIP, 0x7F00_0001)
        XCTAssertEqual(frames[1].gatewayPort, 8282)
        XCTAssertEqual(frames[1].localIP, 0x0A01_0203)
        XCTAssertEqual(String(buffer: frames[1].body), "hello")
        XCTAssertEqual(hub.messagesIn, 1)
    }

    func testEventsWithoutAWorkerWaitAndGoInOrderWhenOneAttaches() throws {
        let client = try accept(.text)
        hub.clientMessage(client, ByteBuffer(string: "one"), binary: false, now: now)
        hub.clientMessage(client, ByteBuffer(string: "two"), binary: true, now: now)
        XCTAssertEqual(hub.heldEventCount, 3)
        XCTAssertEqual(hub.incidents[.noWorker], 1, "the later events wait behind the first, not for want of a worker")
        try attachWorker("w1")
        let frames = try transport.frames(to: "w1")
        XCTAssertEqual(frames.map(\.command), [.onConnect, .onMessage, .onMessage])
        XCTAssertEqual(frames.map { String(buffer: $0.body) }, ["", "one", "two"])
        XCTAssertTrue(frames[2].flags.contains(.binary))
        XCTAssertEqual(hub.heldEventCount, 0)
    }

    func testTheFastPathWritesTheBodyStraightIntoTheWorkerFrameOrRefusesIt() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        _ = try transport.frames(to: "w1")
        XCTAssertTrue(hub.clientMessage(client, length: 3, binary: false, now: now) { $0.writeString("abc"); return true })
        XCTAssertFalse(hub.clientMessage(client, length: 3, binary: false, now: now) { $0.writeString("bad"); return false })
        let frames = try transport.frames(to: "w1")
        XCTAssertEqual(frames.map { String(buffer: $0.body) }, ["abc"])
        XCTAssertEqual(hub.messagesIn, 1)
    }

    func testAClosedClientsLastEventGoesAndItLeavesTheDirectory() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        command(.joinGroup, to: client, ext: Array("room".utf8))
        hub.clientClosed(client, now: now)
        hub.clientClosed(client, now: now)
        XCTAssertEqual(try transport.frames(to: "w1").map(\.command), [.onConnect, .onClose])
        XCTAssertNil(hub.directory[client.id])
        XCTAssertEqual(hub.directory.members(of: "room"), [])
        XCTAssertEqual(hub.router.workers["127.0.0.1:w1"]?.assignedClients, 0)
    }

    func testConnectionsBeyondTheLimitAreRefused() throws {
        makeHub { $0.maxConnections = 1 }
        _ = try accept()
        XCTAssertNil(hub.clientAccepted(99, remoteIP: 0, remotePort: 0, listenPort: 8282, transport: .websocket, now: now))
        XCTAssertEqual(hub.incidents[.refusedConnection], 1)
    }

    // MARK: - Handshakes

    func testAGatewaydWorkersVerdictDecidesTheHandshake() throws {
        try attachWorker("w1")
        let accepted = try accept()
        let refused = try accept()
        for client in [accepted, refused] { hub.handshakeRequested(client, info: Self.request, now: now) }
        let frames = try transport.frames(to: "w1").filter { $0.command == .onWebSocketConnect }
        XCTAssertEqual(frames.count, 2)
        XCTAssertTrue(frames.allSatisfy { $0.flags.contains(.awaitsVerdict) })
        XCTAssertTrue(transport.verdicts.isEmpty)
        command(.handshakeVerdict, to: accepted, body: "0")
        command(.handshakeVerdict, to: refused, body: "403")
        XCTAssertEqual(transport.verdicts, [accepted.socket: 0, refused.socket: 403])
        XCTAssertEqual(hub.incidents[.refusedHandshake], 1)
    }

    func testAPHPWorkerAcceptsAtOnce() throws {
        try attachWorker("w1", gatewayd: false)
        let client = try accept()
        hub.handshakeRequested(client, info: Self.request, now: now)
        XCTAssertEqual(transport.verdicts, [client.socket: 0])
        XCTAssertFalse(try transport.frames(to: "w1").contains { $0.flags.contains(.awaitsVerdict) })
    }

    func testNoVerdictInTimeRefusesWith503AndASilentHandshakeIsClosed() throws {
        try attachWorker("w1")
        let waiting = try accept()
        let silent = try accept()
        hub.handshakeRequested(waiting, info: Self.request, now: now)
        XCTAssertEqual(hub.nextDeadline, now + 1_000_000_000)
        hub.tick(now: now + 999_000_000)
        XCTAssertTrue(transport.verdicts.isEmpty)
        hub.tick(now: now + 1_000_000_000)
        XCTAssertEqual(transport.verdicts, [waiting.socket: 503])
        XCTAssertEqual(hub.nextDeadline, now + 3_000_000_000)
        hub.tick(now: now + 3_000_000_000)
        XCTAssertEqual(transport.closedClients.map(\.0), [waiting.socket, silent.socket])
        XCTAssertEqual(hub.incidents[.handshakeTimeout], 2)
    }

    func testAClientThatLeavesWhileAwaitingItsVerdictIsAnswered503() throws {
        try attachWorker("w1")
        let client = try accept()
        hub.handshakeRequested(client, info: Self.request, now: now)
        hub.clientClosed(client, now: now)
        XCTAssertEqual(transport.verdicts, [client.socket: 503])
    }

    func testWhatIsSentBeforeTheHandshakeGoesOutRightAfterIt() throws {
        try attachWorker("w1")
        let client = try accept()
        command(.sendToOne, to: client, body: "early")
        XCTAssertEqual(transport.texts(to: client.socket), [])
        hub.clientUpgraded(client)
        XCTAssertEqual(transport.texts(to: client.socket), ["early"])
    }

    // MARK: - Sending

    func testABroadcastIsEncodedOncePerProtocol() throws {
        try attachWorker("w1")
        let web = try (0..<3).map { _ in try accept() }
        for client in web { hub.clientUpgraded(client) }
        let text = try accept(.text)
        transport.encodings = 0
        command(.sendToAll, body: "news")
        XCTAssertEqual(transport.encodings, 2)
        for client in web { XCTAssertEqual(transport.texts(to: client.socket), ["news"]) }
        XCTAssertEqual(String(buffer: transport.clientBytes[text.socket]!), "news\n")
        XCTAssertEqual(hub.messagesOut, 4)
    }

    func testABroadcastIsCompressedOncePerWindowAndOnlyForThoseWhoAgreed() throws {
        makeHub { $0.compression = PermessageDeflateSettings(level: 1, minimumMessageBytes: 16) }
        try attachWorker("w1")
        let agreed = try (0..<3).map { _ in try accept() }
        for client in agreed { hub.clientUpgraded(client, deflateWindowBits: 15) }
        let smallWindow = try accept()
        hub.clientUpgraded(smallWindow, deflateWindowBits: 10)
        let plain = try accept()
        hub.clientUpgraded(plain)
        let news = String(repeating: "breaking news, ", count: 20)
        transport.encodings = 0
        command(.sendToAll, body: news)
        XCTAssertEqual(transport.encodings, 3, "once for window 15, once for window 10, once uncompressed")
        let frames = agreed.map { transport.clientBytes.removeValue(forKey: $0.socket)! }
        XCTAssertEqual(Set(frames).count, 1)
        XCTAssertEqual(frames[0].getInteger(at: 0, as: UInt8.self), 0xC1, "FIN, RSV1, text")
        XCTAssertLessThan(frames[0].readableBytes, news.utf8.count / 4)
        XCTAssertEqual(transport.clientBytes[smallWindow.socket]?.getInteger(at: 0, as: UInt8.self), 0xC1)
        XCTAssertEqual(transport.texts(to: plain.socket), [news])
        // Below the minimum, everyone gets the same uncompressed frame.
        transport.encodings = 0
        transport.clientBytes.removeAll()
        command(.sendToAll, body: "short")
        XCTAssertEqual(transport.encodings, 1)
        for client in agreed + [smallWindow, plain] { XCTAssertEqual(transport.texts(to: client.socket), ["short"]) }
    }

    func testGroupsAndUIDsAddressTheirMembersOnce() throws {
        try attachWorker("w1")
        let clients = try (0..<3).map { _ in try accept(.text) }
        command(.joinGroup, to: clients[0], ext: Array("a".utf8))
        command(.joinGroup, to: clients[1], ext: Array("a".utf8))
        command(.joinGroup, to: clients[1], ext: Array("b".utf8))
        command(.bindUID, to: clients[2], ext: Array("u7".utf8))
        command(.sendToGroup, body: "g", ext: Array(#"{"group":["a","b"],"exclude":[]}"#.utf8))
        command(.sendToUID, body: "u", ext: Array(#"["u7"]"#.utf8))
        XCTAssertEqual(String(buffer: transport.clientBytes[clients[0].socket]!), "g\n")
        XCTAssertEqual(String(buffer: transport.clientBytes[clients[1].socket]!), "g\n")
        XCTAssertEqual(String(buffer: transport.clientBytes[clients[2].socket]!), "u\n")
    }

    func testASlowConsumerIsClosedOrLosesTheMessageByPolicy() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        transport.full = [client.socket]
        command(.sendToOne, to: client, body: "x")
        XCTAssertEqual(transport.closedClients.map(\.0), [client.socket])
        XCTAssertEqual(hub.incidents[.slowClientClosed], 1)

        makeHub { $0.slowClientPolicy = .drop }
        try attachWorker("w1")
        let kept = try accept(.text)
        transport.full = [kept.socket]
        command(.sendToOne, to: kept, body: "x")
        XCTAssertTrue(transport.closedClients.isEmpty)
        XCTAssertEqual(hub.incidents[.slowClientDrop], 1)
    }

    func testKickSendsItsMessageThenClosesAfterIt() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        command(.kick, to: client, body: "bye")
        XCTAssertEqual(String(buffer: transport.clientBytes[client.socket]!), "bye\n")
        XCTAssertEqual(transport.closedClients.map(\.0), [client.socket])
        XCTAssertEqual(transport.closedClients.first?.flush, true)
        command(.destroy, to: try accept(.text))
        XCTAssertEqual(transport.closedClients.last?.flush, false)
    }

    // MARK: - Workers

    func testADrainingWorkersClientsWaitThenMoveToTheNextWorkerInOrder() throws {
        let old = try attachWorker("w1")
        let client = try accept(.text)
        command(.drainRequest, from: "w1")
        XCTAssertTrue(old.draining)
        hub.clientMessage(client, ByteBuffer(string: "during"), binary: false, now: now)
        let toOld = try transport.frames(to: "w1")
        XCTAssertEqual(toOld.map(\.command), [.onConnect, .drainMark])
        try attachWorker("w2")
        XCTAssertTrue(try transport.frames(to: "w2").isEmpty, "held until the old worker is done")
        command(.drainDone, from: "w1")
        XCTAssertEqual(try transport.frames(to: "w2").map { String(buffer: $0.body) }, ["during"])
        XCTAssertEqual(hub.router.count, 1)
    }

    func testACongestedWorkerPausesItsClientsUntilItCatchesUp() throws {
        let worker = try attachWorker("w1")
        let client = try accept(.text)
        transport.congested = ["w1"]
        hub.clientMessage(client, ByteBuffer(string: "a"), binary: false, now: now)
        XCTAssertEqual(transport.reading[client.socket], false)
        XCTAssertEqual(hub.incidents[.workerBackPressure], 1)
        hub.resumeClients(of: worker)
        XCTAssertEqual(transport.reading[client.socket], false, "still congested")
        transport.congested = []
        hub.resumeClients(of: worker)
        XCTAssertEqual(transport.reading[client.socket], true)
    }

    func testAWorkerThatReconnectsReplacesItsOldLink() throws {
        try attachWorker("w1", key: "BusinessWorker:0")
        try attachWorker("w1b", key: "BusinessWorker:0")
        XCTAssertEqual(transport.closedInner, ["w1"])
        XCTAssertEqual(hub.router.count, 1)
    }

    /// A PHP BusinessWorker and a gatewayd worker on one host with one key would take turns for
    /// ever if each replaced the other: the newcomer of the other kind is refused, counted each
    /// time, and the one attached stays.
    func testAWorkerOfTheOtherKindWithAnAttachedWorkersKeyIsRefused() throws {
        let php = try attachWorker("php", gatewayd: false, key: "BusinessWorker:0")
        for attempt in 1...3 {
            let hello = WorkerConnectBody(workerKey: "BusinessWorker:0", secretKey: "", extra: [JSONMember(GatewaydCapability.key, .int(2))])
            let peer = hub.innerFrame(
                GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())), from: .unauthenticated,
                socket: "gatewayd\(attempt)", remoteIP: { "127.0.0.1" })
            XCTAssertNil(peer, "attempt \(attempt) was not refused")
        }
        XCTAssertEqual(hub.incidents[.workerKeyConflict], 3)
        XCTAssertEqual(transport.closedInner, [], "the attached worker stays")
        XCTAssertTrue(hub.router.contains(php))
        XCTAssertTrue(php.conflictReported)
        // The same kind with the same key is a reconnect: it replaces the old link.
        try attachWorker("php-again", gatewayd: false, key: "BusinessWorker:0")
        XCTAssertEqual(transport.closedInner, ["php"])
    }

    /// Making the peer's address text allocates: a command frame must not ask for it.
    func testACommandDoesNotAskForThePeersAddress() throws {
        let link = try attachWorker("w1")
        let client = try accept(.text)
        var asked = 0
        var frame = GatewayFrame(command: .sendToOne, body: ByteBuffer(string: "x"))
        frame.connectionID = client.id
        frame.flags = .scalarBody
        _ = hub.innerFrame(frame, from: .worker(link), socket: "w1") {
            asked += 1
            return "127.0.0.1"
        }
        XCTAssertEqual(asked, 0)
        XCTAssertEqual(String(buffer: transport.clientBytes[client.socket]!), "x\n")
    }

    func testAWrongSecretIsRefused() throws {
        makeHub { $0.secretKey = "s3cret" }
        let hello = WorkerConnectBody(workerKey: "w", secretKey: "wrong", extra: [])
        XCTAssertNil(hub.innerFrame(GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())),
                                    from: .unauthenticated, socket: "w", remoteIP: { "127.0.0.1" }))
        XCTAssertNil(hub.innerFrame(GatewayFrame(command: .sendToAll, body: ByteBuffer(string: "x")), from: .unauthenticated,
                                    socket: "w", remoteIP: { "127.0.0.1" }))
        XCTAssertEqual(hub.incidents[.authenticationFailure], 2)
    }

    // MARK: - Queries

    func testQueriesAreAnsweredBareOrFramedByWhoAsks() throws {
        try attachWorker("w1")
        let client = try accept(.text)
        _ = try transport.frames(to: "w1")
        command(.isOnline, to: client, from: "query")
        var bare = try XCTUnwrap(transport.innerBytes.removeValue(forKey: "query"))
        XCTAssertEqual(bare.readInteger(as: UInt32.self), UInt32(bare.readableBytes))
        XCTAssertEqual(String(buffer: bare), "i:1;")

        let extra = [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))]
        let hello = WorkerConnectBody(workerKey: "framed", secretKey: "", extra: extra)
        guard case .worker = hub.innerFrame(GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded())),
                                            from: .unauthenticated, socket: "w3", remoteIP: { "127.0.0.1" }) else { return XCTFail() }
        XCTAssertEqual(try transport.frames(to: "w3").map(\.command), [.gatewaydHello])
        command(.isOnline, to: client, from: "w3")
        let replies = try transport.frames(to: "w3")
        XCTAssertEqual(replies.map(\.command), [.queryReply])
        XCTAssertEqual(String(buffer: replies[0].body), "i:1;")
    }

    // MARK: - Heartbeats

    func testASilentClientGetsPingsAndIsClosedAtTheLimit() throws {
        makeHub { $0.heartbeat = HeartbeatPolicy(interval: 1, notResponseLimit: 2, pingData: []) }
        try attachWorker("w1")
        let quiet = try accept()
        let chatty = try accept()
        for client in [quiet, chatty] { hub.clientUpgraded(client) }
        var closedAt: Int?
        for half in 1...10 {
            let time = now + Int64(half) * 500_000_000
            XCTAssertEqual(hub.nextDeadline, time)
            hub.clientHeardFrom(chatty)
            hub.tick(now: time)
            if closedAt == nil, transport.closedClients.contains(where: { $0.0 == quiet.socket }) { closedAt = half }
        }
        // Ticks every half interval. A new client counts as just heard from, so its silence is
        // counted from the first tick on: 2 intervals (4 ticks) after that, the 6th closes it.
        XCTAssertEqual(closedAt, 6)
        XCTAssertEqual(transport.texts(to: quiet.socket), ["<ping>", "<ping>"])
        XCTAssertEqual(transport.texts(to: chatty.socket), [])
        XCTAssertFalse(transport.closedClients.contains { $0.0 == chatty.socket })
    }
}

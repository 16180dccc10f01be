import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The conformance protocol (conformance-protocol.md) driven over real WebSocket connections
/// against a real cluster of 2 gateways and 2 workers.
///
/// Abstract: the checks here are not tests themselves. A subclass names the plugin in
/// ``pluginKind`` and declares one `testX()` per `checkX()` (Linux's test discovery only sees
/// methods declared in the class itself), so nothing runs, or skips, without a plugin. Each subclass starts ONE cluster in `class setUp()` and stops it after its last
/// test (clusters are expensive on two cores), so tests stay independent by using fresh
/// clients and unique group / uid / session names, and by closing their clients in
/// `tearDown`.
///
/// Where a test must show that a client did NOT get a message, it sends that client an
/// `echo:` probe after the intended receivers got theirs and requires the echo to be the very
/// next frame, instead of waiting on silence.
class ConformanceSuite: XCTestCase {
    /// The plugin this class runs against; nil for the abstract suite.
    class var pluginKind: ConformancePlugin? { nil }

    /// Added to the cluster's `gatewayd start` arguments (e.g. a secret key, the HTTP API).
    class var extraArguments: [String] { [] }

    static let gatewayCount = 2
    static let workerCount = 2

    /// The cluster of one test class and the bookkeeping that finds its last test.
    private struct ClusterSlot {
        var cluster: GatewaydProcess?
        var startupError: String?
        /// Test instances XCTest created for this class (after filtering), and finished ones.
        var planned = 0
        var finished = 0
    }

    private static let slots = LockedValue<[ObjectIdentifier: ClusterSlot]>([:])

    /// The running cluster (set in `setUpWithError`).
    private(set) var cluster: GatewaydProcess!
    private var clients: [WebSocketTestClient] = []

    #if !canImport(ObjectiveC)
    /// Counts the tests XCTest will run in this class, so the last one's `tearDown` can stop the
    /// cluster and assert that nothing is left: swift-corelibs-xctest drops assertions made in
    /// `class func tearDown()`, outside any test.
    required init(name: String, testClosure: @escaping XCTestCaseClosure) {
        super.init(name: name, testClosure: testClosure)
        let key = ObjectIdentifier(type(of: self))
        Self.slots.withLock { $0[key, default: ClusterSlot()].planned += 1 }
    }
    #endif

    override class func setUp() {
        super.setUp()
        guard let kind = pluginKind else { return }
        let key = ObjectIdentifier(self)
        do {
            let plugin = try kind.path()
            let cluster = try GatewaydProcess.start(
                plugin: plugin, gatewayCount: gatewayCount, workerCount: workerCount, extraArguments: extraArguments)
            slots.withLock { $0[key, default: ClusterSlot()].cluster = cluster }
        } catch {
            slots.withLock { $0[key, default: ClusterSlot()].startupError = "\(error)" }
        }
    }

    override class func tearDown() {
        // Normally the last test already stopped the cluster; this is the safety net (and the
        // path on Apple's XCTest, which has no instance count above).
        do {
            try stopCluster(of: ObjectIdentifier(self))
        } catch {
            let message = "error: \(self).tearDown(): \(error)\n"
            FileHandle.standardError.write(Data(message.utf8))
            XCTFail(message)
        }
        slots.withLock { $0[ObjectIdentifier(self)] = nil }
        super.tearDown()
    }

    /// Stops the class's cluster (if still running) and fails if any of its processes is
    /// left; leftovers are SIGKILLed either way.
    private static func stopCluster(of key: ObjectIdentifier) throws {
        let cluster = slots.withLock { slots -> GatewaydProcess? in
            let cluster = slots[key]?.cluster
            slots[key]?.cluster = nil
            return cluster
        }
        guard let cluster else { return }
        defer { cluster.killLeftovers() }
        try cluster.stop()
        let left = cluster.leftoverPIDs()
        if !left.isEmpty {
            throw GatewaydFixtureError("processes left after stop: \(left.map(ProcessTable.describe))")
        }
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard let kind = Self.pluginKind else {
            throw GatewaydFixtureError("ConformanceSuite is abstract: run ConformanceCTests or ConformanceSwiftTests")
        }
        let key = ObjectIdentifier(type(of: self))
        let slot = Self.slots.withLock { $0[key] }
        if let startupError = slot?.startupError {
            throw GatewaydFixtureError("the \(kind.rawValue) conformance cluster did not start: \(startupError)")
        }
        guard let running = slot?.cluster else {
            throw GatewaydFixtureError("the \(kind.rawValue) conformance cluster is not running")
        }
        cluster = running
    }

    override func tearDownWithError() throws {
        for client in clients { client.close() }
        clients.removeAll()
        cluster = nil
        let key = ObjectIdentifier(type(of: self))
        let isLast = Self.slots.withLock { slots -> Bool in
            guard var slot = slots[key] else { return false }
            slot.finished += 1
            slots[key] = slot
            return slot.finished == slot.planned
        }
        if isLast, Self.pluginKind != nil {
            // The last test of the class: stopping must leave no process behind.
            try Self.stopCluster(of: key)
        }
        try super.tearDownWithError()
    }

    // MARK: - Helpers

    /// A fresh client of this test; closed in `tearDown`.
    func connectClient(path: String = "/", query: String? = nil) throws -> WebSocketTestClient {
        let client = try cluster.connect(path: path, query: query)
        clients.append(client)
        return client
    }

    /// Sends `text` and returns the next text message.
    func request(
        _ client: WebSocketTestClient, _ text: String, timeout: Duration = .seconds(10),
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        try client.sendText(text)
        return try client.receiveText(timeout: timeout, file: file, line: line)
    }

    /// The client's id, from `id:`.
    func clientID(
        of client: WebSocketTestClient, file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let reply = try request(client, "id:", file: file, line: line)
        guard reply.hasPrefix("id:") else {
            throw GatewaydFixtureError("expected id:<client_id>, received \"\(reply)\"")
        }
        return String(reply.dropFirst(3))
    }

    /// The gateway part of a client id: lanIp (8 hex) + inner port (4 hex).
    func gatewayKey(of clientID: String) -> String {
        String(clientID.prefix(12))
    }

    /// `prefix-` and eight random hex digits: group, uid and message names no other test uses.
    func unique(_ prefix: String) -> String {
        "\(prefix)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Proves that nothing is queued for `client`: an `echo:` probe must come back as the very
    /// next frame. Used after the intended receivers of a message have received it.
    func expectNothingElse(
        _ client: WebSocketTestClient, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let probe = unique("probe")
        try client.sendText("echo:\(probe)")
        try client.expectText("echo:\(probe)", file: file, line: line)
    }

    /// The number `count:` reports.
    func count(via client: WebSocketTestClient, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let reply = try request(client, "count:", file: file, line: line)
        guard reply.hasPrefix("count:"), let value = Int(reply.dropFirst(6)) else {
            throw GatewaydFixtureError("expected count:<n>, received \"\(reply)\"")
        }
        return value
    }

    /// At least `minimum` fresh clients that together sit on both gateways (the kernel spreads
    /// SO_REUSEPORT connections by hash, so more are opened until two gateways show up).
    func clientsOnBothGateways(minimum: Int) throws -> [(client: WebSocketTestClient, id: String)] {
        var opened: [(client: WebSocketTestClient, id: String)] = []
        while opened.count < minimum || Set(opened.map { gatewayKey(of: $0.id) }).count < 2 {
            guard opened.count < 32 else {
                throw GatewaydFixtureError(
                    "32 clients all landed on gateway \(gatewayKey(of: opened[0].id)); are both gateways accepting?")
            }
            let client = try connectClient()
            opened.append((client, try clientID(of: client)))
        }
        return opened
    }

    /// Two of `clients` on different gateways, and the others.
    func splitAcrossGateways(
        _ clients: [(client: WebSocketTestClient, id: String)]
    ) -> (first: (client: WebSocketTestClient, id: String), second: (client: WebSocketTestClient, id: String),
          rest: [(client: WebSocketTestClient, id: String)]) {
        let first = clients[0]
        let secondIndex = clients.firstIndex { gatewayKey(of: $0.id) != gatewayKey(of: first.id) }!
        var rest = clients
        rest.remove(at: secondIndex)
        rest.removeFirst()
        return (first, clients[secondIndex], rest)
    }

    // MARK: - echo

    func checkEchoText() throws {
        let client = try connectClient()
        try client.sendText("echo:hello")
        try client.expectText("echo:hello")
    }

    func checkEchoUTF8() throws {
        let client = try connectClient()
        let text = "echo:héllo wörld — 你好 🚀"
        try client.sendText(text)
        try client.expectText(text)
    }

    func checkEchoLargeMessage() throws {
        let client = try connectClient()
        let text = "echo:" + String(repeating: "0123456789abcdef", count: 100 * 1024 / 16)
        try client.sendText(text)
        try client.expectText(text, timeout: .seconds(30))
    }

    func checkEchoFragmentedMessage() throws {
        let client = try connectClient()
        try client.sendFrame(opcode: .text, payload: Array("ec".utf8), fin: false)
        try client.sendFrame(opcode: .continuation, payload: Array("ho:".utf8), fin: false)
        try client.sendFrame(opcode: .continuation, payload: Array("fragmented".utf8), fin: true)
        try client.expectText("echo:fragmented")
    }

    // MARK: - all

    func checkSendToAllReachesEveryClientOnBothGateways() throws {
        let clients = try clientsOnBothGateways(minimum: 4)
        let message = unique("to-all")
        try clients[0].client.sendText("all:\(message)")
        for entry in clients {
            try entry.client.expectText(message)
        }
    }

    // MARK: - join / leave / group

    func checkGroupReachesMembersOnlyAndLeaveRemoves() throws {
        let clients = try clientsOnBothGateways(minimum: 4)
        let (a, b, others) = splitAcrossGateways(clients)
        let nonMember = others[0].client
        let group = unique("group")

        XCTAssertEqual(try request(a.client, "join:\(group)"), "joined:\(group)")
        XCTAssertEqual(try request(b.client, "join:\(group)"), "joined:\(group)")

        // A non-member may send to the group; members on both gateways receive it.
        let first = unique("to-group")
        try nonMember.sendText("group:\(group):\(first)")
        try a.client.expectText(first)
        try b.client.expectText(first)
        for other in others { try expectNothingElse(other.client) }

        XCTAssertEqual(try request(b.client, "leave:\(group)"), "left:\(group)")
        let second = unique("to-group")
        try a.client.sendText("group:\(group):\(second)")
        try a.client.expectText(second)
        try expectNothingElse(b.client)
        for other in others { try expectNothingElse(other.client) }
    }

    // MARK: - id / count / ver

    func checkClientIDIsTwentyLowercaseHex() throws {
        let first = try clientID(of: try connectClient())
        let second = try clientID(of: try connectClient())
        for id in [first, second] {
            XCTAssertEqual(id.utf8.count, 20, "client id \"\(id)\"")
            XCTAssertTrue(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "client id \"\(id)\"")
        }
        XCTAssertNotEqual(first, second)
    }

    func checkCountEqualsOpenClients() throws {
        let asking = try connectClient()
        let others = try (0..<3).map { _ in try connectClient() }
        // Clients of earlier tests were closed in their tearDown; a gateway may take a moment
        // to see those closes, hence the poll. Then the count is exactly what this test holds.
        var last = -1
        XCTAssertTrue(
            try GatewaydProcess.poll(until: { last = try count(via: asking); return last == 4 }, timeout: .seconds(10)),
            "count: is \(last) while this test holds 4 clients")
        others[0].close()
        others[1].close()
        XCTAssertTrue(
            try GatewaydProcess.poll(until: { last = try count(via: asking); return last == 2 }, timeout: .seconds(10)),
            "count: is \(last) after closing 2 of 4 clients")
    }

    func checkVersionNamesPluginVersionAndWorkerPID() throws {
        let kind = try XCTUnwrap(Self.pluginKind)
        let reply = try request(try connectClient(), "ver:")
        let parts = reply.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(parts.count, 3, "ver: answered \"\(reply)\"")
        guard parts.count == 3 else { return }
        XCTAssertEqual(parts[0], "ver")
        XCTAssertEqual(parts[1], kind.version)
        let pid = try XCTUnwrap(Int32(parts[2]), "ver: answered \"\(reply)\"")
        let workers = try cluster.status().processes(role: "worker").map(\.pid)
        XCTAssertTrue(workers.contains(pid), "ver: names pid \(pid); the workers are \(workers)")
    }

    // MARK: - uid / touid

    func checkSendToUidReachesEveryBoundClient() throws {
        let clients = try clientsOnBothGateways(minimum: 3)
        let (a, b, others) = splitAcrossGateways(clients)
        let sender = others[0].client
        let uid = unique("uid")

        XCTAssertEqual(try request(a.client, "uid:\(uid)"), "uid:\(uid)")
        XCTAssertEqual(try request(b.client, "uid:\(uid)"), "uid:\(uid)")

        let message = unique("to-uid")
        try sender.sendText("touid:\(uid):\(message)")
        try a.client.expectText(message)
        try b.client.expectText(message)
        for other in others { try expectNothingElse(other.client) }
    }

    // MARK: - to

    func checkSendToClientAcrossGateways() throws {
        let clients = try clientsOnBothGateways(minimum: 2)
        let (a, b, others) = splitAcrossGateways(clients)

        let across = unique("direct")
        try a.client.sendText("to:\(b.id):\(across)")
        try b.client.expectText(across)
        try expectNothingElse(a.client)

        let back = unique("direct")
        try b.client.sendText("to:\(a.id):\(back)")
        try a.client.expectText(back)
        try expectNothingElse(b.client)
        for other in others { try expectNothingElse(other.client) }
    }

    // MARK: - online

    func checkOnlineIsOneForLiveClientAndZeroAfterClose() throws {
        let asking = try connectClient()
        let leaving = try connectClient()
        let leavingID = try clientID(of: leaving)
        XCTAssertEqual(try request(asking, "online:\(leavingID)"), "online:1")

        try leaving.sendClose(code: 1000)
        XCTAssertTrue(try leaving.receive().isConnectionEnd)
        leaving.close()

        var last = ""
        XCTAssertTrue(
            try GatewaydProcess.poll(
                until: { last = try request(asking, "online:\(leavingID)"); return last == "online:0" },
                timeout: .seconds(10), interval: .milliseconds(50)),
            "online: still answers \"\(last)\" for a closed client")
    }

    // MARK: - session

    func checkSessionUpdateIsDeliveredWithLaterEvents() throws {
        let client = try connectClient()
        let key = "k\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"

        XCTAssertEqual(try request(client, "getsess:unset"), "sess:unset=")
        XCTAssertEqual(try request(client, "sess:\(key)=blue"), "sess:ok")
        XCTAssertEqual(try request(client, "getsess:\(key)"), "sess:\(key)=blue")
        // updateSession merges: a second key keeps the first.
        XCTAssertEqual(try request(client, "sess:\(key)x=green"), "sess:ok")
        XCTAssertEqual(try request(client, "getsess:\(key)"), "sess:\(key)=blue")
        XCTAssertEqual(try request(client, "getsess:\(key)x"), "sess:\(key)x=green")
        XCTAssertEqual(try request(client, "getsess:unset"), "sess:unset=")

        // Sessions belong to one client.
        XCTAssertEqual(try request(try connectClient(), "getsess:\(key)"), "sess:\(key)=")
    }

    // MARK: - kick

    func checkKickClosesTheConnection() throws {
        let client = try connectClient()
        try expectNothingElse(client)
        try client.sendText("kick:")
        let frame = try client.receive()
        XCTAssertTrue(frame.isConnectionEnd, "after kick: received \(frame)")
        if case .closed = frame {
            XCTAssertEqual(try client.receive(), .endOfStream, "the server must close TCP after its close frame")
        }
    }

    // MARK: - handshake

    func checkHandshakeWithRejectIsRefusedWith403() throws {
        XCTAssertThrowsError(try cluster.connect(query: "reject=1")) { error in
            guard case WebSocketTestClientError.handshakeRefused(let response) = error else {
                return XCTFail("expected a refused handshake, got \(error)")
            }
            XCTAssertEqual(response.statusCode, 403, "\(response)")
            XCTAssertNil(response.header("Sec-WebSocket-Accept"), "a refused handshake must not upgrade")
        }
        // The same request without reject=1 is accepted.
        try expectNothingElse(try connectClient(query: "reject=0"))
    }

    // MARK: - typed events (ABI 1.2, docs/events.md)

    /// The next text message parsed as JSON.
    private func receiveJSON(_ client: WebSocketTestClient, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        let text = try client.receiveText(file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// add, shout and types in the array and object forms, with and without acknowledgements:
    /// the handlers get the decoded values and emit them back.
    func checkTypedEventsReachTheirHandlers() throws {
        let client = try connectClient()
        try client.sendText(#"["add", 2, 3]"#)
        XCTAssertEqual(try receiveJSON(client) as? [AnyHashable], ["sum", 5])
        try client.sendText(#"{"event": "add", "ack": 7, "b": 40, "a": 2}"#)
        XCTAssertEqual(try receiveJSON(client) as? [AnyHashable], ["sum", 42])
        let ack = try XCTUnwrap(try receiveJSON(client) as? [String: AnyHashable])
        XCTAssertEqual(ack["ack"], 7)
        XCTAssertEqual(ack["status"], 0)
        try client.sendText(#"{"event": "shout", "args": ["hello, world"], "ack": -1}"#)
        XCTAssertEqual(try receiveJSON(client) as? [AnyHashable], ["shouted", "HELLO, WORLD"])
        XCTAssertEqual((try receiveJSON(client) as? [String: AnyHashable])?["ack"], -1)
        let types = #"["types", "tab\t é \ud83d\ude00", -9223372036854775808, 1.5, true, {"k": [1, {"n": null}]}]"#
        try client.sendText(types)
        let echoed = try XCTUnwrap(try receiveJSON(client) as? [Any])
        XCTAssertEqual(echoed.count, 6)
        XCTAssertEqual(echoed[0] as? String, "types")
        XCTAssertEqual(echoed[1] as? String, "tab\t é 😀")
        XCTAssertEqual((echoed[2] as? NSNumber)?.int64Value, Int64.min)
        XCTAssertEqual(echoed[3] as? Double, 1.5)
        XCTAssertEqual(echoed[4] as? Bool, true)
        XCTAssertEqual(String(decoding: try JSONSerialization.data(withJSONObject: echoed[5], options: [.sortedKeys]), as: UTF8.self),
                       #"{"k":[1,{"n":null}]}"#)
        try client.sendText(#"{"event": "types", "s": "x", "i": 0, "d": -2e3, "b": false, "j": "raw"}"#)
        let named = try XCTUnwrap(try receiveJSON(client) as? [Any])
        XCTAssertEqual(named.count, 6)
        XCTAssertEqual(named[3] as? Double, -2000)
        XCTAssertEqual(named[5] as? String, "raw")
        try expectNothingElse(client)
    }

    /// Every bad input gets an error frame naming the event and the argument, the connection
    /// stays open, and the worker counts it; what is no event still reaches on_message.
    func checkBadEventArgumentsGetErrorFrames() throws {
        let client = try connectClient()
        let big = String(repeating: "x", count: 70_000)
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let cases: [(message: String, error: String, argument: Int?, expected: String?)] = [
            (#"["add", 1, "two"]"#, "bad_argument", 2, "integer"),
            (#"["add", 1, 2.5]"#, "bad_argument", 2, "integer"),
            (#"["add", 1, 9223372036854775808]"#, "bad_argument", 2, "integer"),
            (#"["add", 1]"#, "missing_argument", 2, "integer"),
            (#"{"event": "add", "a": 1}"#, "missing_argument", 2, "integer"),
            (#"["add", 1, 2, 3]"#, "too_many_arguments", 3, nil),
            (#"["shout", "nul \u0000 inside"]"#, "bad_argument", 1, "string"),
            (#"["shout", 5]"#, "bad_argument", 1, "string"),
            ("[\"shout\", \"\(big)\"]", "bad_argument", 1, "string"),
            ("[\"types\", \"s\", 1, 1, true, \(deep)]", "bad_argument", 5, "json"),
            (#"["types", "s", 1, 1, "yes", null]"#, "bad_argument", 4, "boolean"),
            (#"{"event": "add", "ack": "seven", "a": 1, "b": 2}"#, "bad_ack", nil, nil),
            (#"["add", 1, 2"#, "bad_json", nil, nil),
        ]
        for (message, error, argument, expected) in cases {
            try client.sendText(message)
            let frame = try XCTUnwrap(try receiveJSON(client) as? [String: AnyHashable], message)
            XCTAssertEqual(frame["error"], AnyHashable(error), "\(message) → \(frame)")
            XCTAssertEqual(frame["argument"], argument.map { AnyHashable($0) }, "\(message) → \(frame)")
            XCTAssertEqual(frame["expected"], expected.map { AnyHashable($0) }, "\(message) → \(frame)")
            if error != "bad_json" { XCTAssertNotNil(frame["event"], "\(message) → \(frame)") }
        }
        // Not events: an undeclared name, a number first, plain text — all on_message's.
        for message in [#"["nosuch", 1]"#, "[1, 2]", #"{"event": 5}"#] { try client.sendText(message) }
        try expectNothingElse(client)
        // The host counts the error frames it sends. The Swift SDK decodes events in the plugin
        // and sends its error frames itself, so a Swift plugin's are not counted (docs/events.md).
        guard Self.pluginKind != .swift else { return }
        let workers = try cluster.status().processes(role: "worker")
        let errors = workers.compactMap { Int($0.details?["event_errors"] ?? "") }.reduce(0, +)
        XCTAssertGreaterThanOrEqual(errors, cases.count, "event_errors in status")
    }

    // MARK: - sleep

    func checkSleepBlocksThenAnswers() throws {
        let client = try connectClient()
        let started = ContinuousClock.now
        try client.sendText("sleep:200")
        try client.expectText("slept:200")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(200))
    }

    // MARK: - crash

    // MARK: - timers and posts (ABI 1.2)

    /// `tick:<ms>:<n>`: a repeating timer pushes tick:1 … tick:n, no earlier than n intervals
    /// after the request, then is deleted (the echo probe comes next, not a tick n+1).
    func checkTickPushesEveryTickThenStops() throws {
        for client in try clientsOnBothGateways(minimum: 2).prefix(2).map(\.client) {
            let started = ContinuousClock.now
            try client.sendText("tick:40:4")
            for tick in 1...4 { try client.expectText("tick:\(tick)") }
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(160), "ticks came early")
            try expectNothingElse(client)
        }
    }

    /// `post:<x>`: a thread of the plugin's own posts work back to the plugin thread.
    func checkPostRunsOnThePluginThread() throws {
        let client = try connectClient()
        for index in 0..<5 {
            let text = unique("post\(index)")
            XCTAssertEqual(try request(client, "post:\(text)"), "posted:\(text)")
        }
        try expectNothingElse(client)
    }

    func checkCrashReplacesTheWorkerAndKeepsTheClient() throws {
        let before = try cluster.status()
        let exitsBefore = before.exits?["worker"] ?? 0
        let client = try connectClient()
        let version = try request(client, "ver:")
        let crashed = try XCTUnwrap(Int32(version.split(separator: ":").last ?? ""), "ver: answered \"\(version)\"")

        try client.sendText("crash:")
        var after = before
        let replaced = try GatewaydProcess.poll(
            until: {
                after = try cluster.status()
                let workers = after.processes(role: "worker").map(\.pid)
                return workers.count == Self.workerCount && !workers.contains(crashed)
            },
            timeout: .seconds(30), interval: .milliseconds(200))
        XCTAssertTrue(replaced, "worker \(crashed) was not replaced: \(after.processes(role: "worker").map(\.pid))")
        XCTAssertTrue(ProcessTable.isGone(crashed), "worker \(crashed) still runs after crash:")
        XCTAssertGreaterThan(after.exits?["worker"] ?? 0, exitsBefore, "the worker exit was not counted")

        // The client stayed connected and is served by a live worker.
        try expectNothingElse(client)
        let now = try request(client, "ver:")
        XCTAssertNotEqual(now, version)
    }

    // MARK: - /raw-echo

    func checkRawEchoReturnsTextAsTextAndBinaryAsBinary() throws {
        let client = try connectClient(path: "/raw-echo")
        try client.sendText("raw wörld")
        XCTAssertEqual(try client.receive(), .text("raw wörld"))
        // Not the conformance protocol: id: comes back unchanged.
        try client.sendText("id:")
        XCTAssertEqual(try client.receive(), .text("id:"))
        let bytes: [UInt8] = [0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF]
        try client.sendBinary(bytes)
        XCTAssertEqual(try client.receive(), .binary(bytes))
        let large = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try client.sendBinary(large)
        XCTAssertEqual(try client.receive(timeout: .seconds(30)), .binary(large))
    }

    func checkRawEchoReassemblesFragments() throws {
        let client = try connectClient(path: "/raw-echo")
        // "Hello, wörld" in three fragments, the ö (C3 B6) split between two of them, and a
        // ping between fragments, which the server must answer at once.
        try client.sendFrame(opcode: .text, payload: Array("Hello, w".utf8) + [0xC3], fin: false)
        try client.sendPing([7, 7])
        try client.sendFrame(opcode: .continuation, payload: [0xB6] + Array("rl".utf8), fin: false)
        try client.sendFrame(opcode: .continuation, payload: Array("d".utf8), fin: true)
        XCTAssertEqual(try client.receive(), .pong([7, 7]))
        XCTAssertEqual(try client.receive(), .text("Hello, wörld"))

        try client.sendFrame(opcode: .binary, payload: [1, 2], fin: false)
        try client.sendFrame(opcode: .continuation, payload: [], fin: false)
        try client.sendFrame(opcode: .continuation, payload: [3], fin: true)
        XCTAssertEqual(try client.receive(), .binary([1, 2, 3]))
    }

    // MARK: - WebSocket control frames

    func checkPingIsAnsweredWithPong() throws {
        let client = try connectClient()
        try client.sendPing([1, 2, 3])
        XCTAssertEqual(try client.receive(), .pong([1, 2, 3]))
        try client.sendPing([])
        XCTAssertEqual(try client.receive(), .pong([]))
        try expectNothingElse(client)
    }

    func checkClientCloseIsAnsweredWithCloseFrame() throws {
        let client = try connectClient()
        try expectNothingElse(client)
        try client.sendClose(code: 1000, reason: "bye")
        let frame = try client.receive()
        guard case .closed(let code, _) = frame else {
            return XCTFail("expected the server's close frame, received \(frame)")
        }
        XCTAssertTrue(code == nil || code == 1000, "the server answered close code \(code.map(String.init) ?? "none")")
        XCTAssertEqual(try client.receive(), .endOfStream, "the server must close TCP after the close handshake")
    }

    // MARK: - status / connections

    func checkStatusListsEveryProcess() throws {
        let status = try cluster.status()
        XCTAssertEqual(status.master.pid, cluster.masterPID)
        XCTAssertEqual(status.processes(role: "master").map(\.pid), [cluster.masterPID])
        XCTAssertEqual(status.processes(role: "register").count, 1)
        XCTAssertEqual(status.processes(role: "gateway").map(\.index), [0, 1])
        XCTAssertEqual(status.processes(role: "worker").map(\.index), [0, 1])
        let pids = status.processes.map(\.pid)
        XCTAssertEqual(Set(pids).count, pids.count, "pids are not distinct: \(pids)")
        for pid in pids {
            XCTAssertGreaterThan(pid, 0)
            XCTAssertFalse(ProcessTable.isGone(pid), "status lists pid \(pid), which does not run")
        }
        XCTAssertEqual(status.listen ?? [], cluster.listenURLs)
        XCTAssertEqual(status.register, cluster.registerAddress)
        let exits = try XCTUnwrap(status.exits, "status --json has no exits")
        XCTAssertEqual(exits["register"], 0)
        XCTAssertEqual(exits["gateway"], 0)
        XCTAssertNotNil(exits["worker"])

        // The human table names the same processes.
        let table = try GatewaydProcess.run(["status", "--run-dir", cluster.runDirectory], timeout: .seconds(30))
        XCTAssertEqual(table.exitCode, 0, "\(table)")
        for pid in pids { XCTAssertTrue(table.stdout.contains(String(pid)), "status table lacks pid \(pid):\n\(table.stdout)") }
    }

    func checkConnectionsListsAConnectedClient() throws {
        let id = try clientID(of: try connectClient())
        let result = try GatewaydProcess.run(["connections", "--run-dir", cluster.runDirectory], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        XCTAssertTrue(result.stdout.contains(id), "connections does not list client \(id):\n\(result.stdout)")
    }
}

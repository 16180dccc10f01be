import Foundation
import XCTest

/// A worker that dies loses at most the event it crashed in (issue 15): the gateway keeps the
/// events it sent until the worker says it finished them, and hands those it had not to the
/// other worker, in order per client. Checked under load: 50 clients, each with 4 messages in
/// flight all the time, every reply compared with the next one expected.
final class WorkerCrashAccountingTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testACrashLosesOnlyTheEventItCrashedInWhile50ClientsKeep4InFlight() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 2)
        self.cluster = cluster
        let load = try PipelinedLoad(cluster: cluster, clients: 50, messagesPerClient: 30)
        // Client 7's worker sleeps, so that the messages of its clients pile up behind the
        // crash: those it read and those still in its socket were sent and never started.
        let crasher = 7
        load.scripts[crasher].insert(contentsOf: [.expect("sleep:300", reply: "slept:300"), .unanswered("crash:")], at: 4)
        try load.run()

        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertEqual(gateway.details?["events_lost"], "1", "\(String(describing: gateway.details))")
        let resent = Int(gateway.details?["events_resent"] ?? "") ?? 0
        XCTAssertGreaterThan(resent, 0, "the crashed worker's unstarted events went to the other worker")
        let log = cluster.stderrTail(60000)
        let lost = log.split(separator: "\n").filter { $0.contains("an event is lost") }
        XCTAssertEqual(lost.count, 1, "\(lost)")
        XCTAssertTrue(lost.first?.contains("gw.client_id=\(load.clientIDs[crasher])") ?? false, "\(lost)")
        XCTAssertTrue(lost.first?.contains("the worker crashed (Segmentation fault) handling it") ?? false, "\(lost)")
        try cluster.stop()
    }

    func testAWorkerKilledWithoutAWordLosesNothing() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 2)
        self.cluster = cluster
        let load = try PipelinedLoad(cluster: cluster, clients: 50, messagesPerClient: 30)
        let victim = load.workerPIDs[0]
        var killed = false
        try load.run { answered in
            // Mid-run, with every client's 4 messages in flight.
            if !killed && answered >= 500 {
                killed = true
                kill(victim, SIGKILL)
            }
        }
        XCTAssertTrue(killed)
        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertNil(gateway.details?["events_lost"], "\(String(describing: gateway.details))")
        try cluster.stop()
    }
}

/// Clients that each keep `window` messages in flight: a reply is read from each client in
/// turn and must be the next one that client expects, and then the client sends more. Ends
/// with one more echo per client, so that a late duplicate is caught too.
final class PipelinedLoad {
    enum Step {
        /// Sent; `reply` must come back, in order.
        case expect(String, reply: String)
        /// Sent; nothing comes back for it.
        case unanswered(String)
    }

    private let clients: [WebSocketTestClient]
    /// Each client's id, as the plugin sees it.
    let clientIDs: [String]
    /// The pid of the worker each client's events go to.
    let clientWorkers: [Int32]
    var scripts: [[Step]]
    let window: Int

    /// The workers serving the clients, in order of first appearance.
    var workerPIDs: [Int32] {
        var seen: [Int32] = []
        for pid in clientWorkers where !seen.contains(pid) { seen.append(pid) }
        return seen
    }

    init(cluster: GatewaydProcess, clients count: Int, messagesPerClient: Int, window: Int = 4) throws {
        var clients: [WebSocketTestClient] = []
        var ids: [String] = []
        var workers: [Int32] = []
        for _ in 0..<count {
            let client = try cluster.connect()
            try client.sendText("id:")
            ids.append(String(try client.receiveText().dropFirst(3)))
            try client.sendText("ver:")
            let version = try client.receiveText()
            workers.append(Int32(version.split(separator: ":").last ?? "") ?? 0)
            clients.append(client)
        }
        self.clients = clients
        clientIDs = ids
        clientWorkers = workers
        self.window = window
        scripts = (0..<count).map { client in
            (0..<messagesPerClient).map { .expect("echo:\(client)-\($0)", reply: "echo:\(client)-\($0)") }
        }
    }

    deinit {
        for client in clients { client.close() }
    }

    /// Runs every script to its end; `progress` gets the number of replies read so far after
    /// each one. Throws at the first reply that is missing (10 s), out of order or repeated.
    func run(progress: (Int) -> Void = { _ in }) throws {
        var next = Array(repeating: 0, count: clients.count)
        var expected = Array(repeating: [String](), count: clients.count)
        var answered = 0
        func fill(_ client: Int) throws {
            while expected[client].count < window && next[client] < scripts[client].count {
                switch scripts[client][next[client]] {
                case .expect(let text, let reply):
                    try clients[client].sendText(text)
                    expected[client].append(reply)
                case .unanswered(let text):
                    try clients[client].sendText(text)
                }
                next[client] += 1
            }
        }
        for client in clients.indices { try fill(client) }
        while expected.contains(where: { !$0.isEmpty }) {
            for client in clients.indices where !expected[client].isEmpty {
                let reply = try clients[client].receiveText(timeout: .seconds(10))
                guard reply == expected[client][0] else {
                    throw GatewaydFixtureError("client \(client) got \"\(reply)\", expected \"\(expected[client][0])\"")
                }
                expected[client].removeFirst()
                answered += 1
                progress(answered)
                try fill(client)
            }
        }
        for client in clients.indices { try clients[client].sendText("echo:end-\(client)") }
        for client in clients.indices {
            let reply = try clients[client].receiveText(timeout: .seconds(10))
            guard reply == "echo:end-\(client)" else {
                throw GatewaydFixtureError("client \(client) got \"\(reply)\" after its last reply, expected \"echo:end-\(client)\"")
            }
        }
    }
}

import Foundation
import XCTest

/// examples/chat/chat.c through plain WebSocket clients, for what a browser would make slow:
/// lists longer than an event's 16 arguments, the history's bound, and two clients claiming one
/// nickname at once on two workers. (ChatExampleBrowserTests drives the page.)
final class ChatPluginTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var scratch: String!

    override func setUpWithError() throws {
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-chat-plugin-")
    }

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    private var history: String { "\(scratch!)/history" }

    /// A cluster of 1 gateway and 2 workers running the example, its history in the scratch folder.
    private func start() throws -> GatewaydProcess {
        let plugin = "\(scratch!)/chat.so"
        let source = GatewaydProcess.repositoryRoot.appendingPathComponent("examples/chat/chat.c").path
        let build = try GatewaydProcess.run(["plugin", "build", source, "-o", plugin], timeout: .seconds(120))
        guard build.exitCode == 0 else { throw GatewaydFixtureError("building the chat plugin failed: \(build)") }
        let cluster = try GatewaydProcess.start(launcher: ["/usr/bin/env", "CHAT_HISTORY_DIR=\(history)"]) { runDirectory in
            GatewaydProcess.startArguments(runDirectory: runDirectory, plugin: plugin, gatewayCount: 1, workerCount: 2)
        }
        self.cluster = cluster
        return cluster
    }

    func testEveryMemberIsListedAndNamesAreEscaped() throws {
        let cluster = try start()
        let nicks = (1...18).map { "user \($0)" } + [#"o"neil"#, #"back\slash"#, "zoë ✓", "日本", "</script>"]
        var clients: [WebSocketTestClient] = []
        for nick in nicks {
            let client = try cluster.connect()
            try client.emit("join", "big", nick)
            _ = try client.next("joined")
            clients.append(client)
        }
        let online = try clients.last!.next("online") { ($0[1] as? [String])?.count == nicks.count }
        XCTAssertEqual(Set(online[1] as? [String] ?? []), Set(nicks))
        try clients[0].emit("rooms")
        XCTAssertEqual(try clients[0].next("rooms") { ($0[0] as? [String: Int])?["big"] == nicks.count }[0] as? [String: Int], ["big": nicks.count])
        for client in clients { client.close() }
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// 140 messages of about 2 KB: a newcomer gets the last 50, in order, and the file was cut
    /// back on the way (256 KiB).
    func testTheHistoryKeepsTheLast50AndItsFileIsCutBack() throws {
        let cluster = try start()
        let writer = try cluster.connect()
        try writer.emit("join", "long", "writer")
        _ = try writer.next("joined")
        let filler = String(repeating: "h", count: 1990)
        for number in 0..<140 {
            try writer.emit("say", "\(number)\t\(filler)")  // a tab: escaped in the file
            _ = try writer.next("said")
        }
        let reader = try cluster.connect()
        try reader.emit("join", "long", "reader")
        let shown = try XCTUnwrap(try reader.next("history")[1] as? [[Any]])
        XCTAssertEqual(shown.map { $0[2] as? String }, (90..<140).map { "\($0)\t\(filler)" })
        XCTAssertEqual(Set(shown.map { $0[1] as? String }), ["writer"])
        let file = "\(history)/long.log"
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        XCTAssertLessThanOrEqual(size, 256 * 1024)
        XCTAssertLessThan(GatewaydProcess.readText(file).split(separator: "\n").count, 140, "cut back past 256 KiB")
        writer.close()
        reader.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// Two clients on two workers claim one nickname at the same moment, 20 times: never do both
    /// get it.
    func testTwoClaimsOfOneNicknameNeverBothWin() throws {
        let cluster = try start()
        var winners = 0
        for round in 0..<20 {
            let pair = [try cluster.connect(), try cluster.connect()]
            for client in pair { try client.emit("join", "race", "name \(round)") }
            let answers = try pair.map { try $0.next(["joined", "refused"]) }
            let won = answers.filter { $0[0] as? String == "joined" }.count
            XCTAssertLessThanOrEqual(won, 1, "round \(round): \(answers)")
            winners += won
            for client in pair { client.close() }
        }
        print("ChatPluginTests: 20 races, \(winners) won by one client, \(20 - winners) refused to both")
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }
}

private extension WebSocketTestClient {
    /// Sends the event `[name, arguments…]`.
    func emit(_ name: String, _ arguments: Any...) throws {
        try sendText(String(decoding: try JSONSerialization.data(withJSONObject: [name as Any] + arguments), as: UTF8.self))
    }

    /// The arguments of the next server event named `name` that `matches`, skipping others.
    func next(_ name: String, timeout: Duration = .seconds(15), matches: ([Any]) -> Bool = { _ in true }) throws -> [Any] {
        let event = try next([name], timeout: timeout, matches: matches)
        return Array(event.dropFirst())
    }

    /// The next server event (name first) whose name is one of `names` and that `matches`.
    func next(_ names: Set<String>, timeout: Duration = .seconds(15), matches: ([Any]) -> Bool = { _ in true }) throws -> [Any] {
        let deadline = Deadline(timeout)
        while true {
            guard !deadline.hasPassed else { throw GatewaydFixtureError("no \(names) event within \(timeout)") }
            let text = try receiveText(timeout: deadline.instant - ContinuousClock.now)
            guard let event = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any],
                let name = event.first as? String, names.contains(name), matches(Array(event.dropFirst()))
            else { continue }
            return event
        }
    }
}

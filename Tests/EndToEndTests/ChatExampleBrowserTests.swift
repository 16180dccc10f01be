import Foundation
import XCTest

/// examples/chat as its users meet it: the page served by `python3 -m http.server`, opened in
/// headless Chromium, talking to gatewayd started with the example's `gatewayd.yaml` (2
/// workers; 2 gateways here) and its C plugin. Pages are driven through their forms and read
/// through what they show. Screenshots go to the folder printed at the start.
final class ChatExampleBrowserTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var browser: HeadlessChromium?
    private var web: StaticFileServer?
    private var output: String!

    private static let examples = GatewaydProcess.repositoryRoot.appendingPathComponent("examples").path

    override func setUpWithError() throws {
        if let missing = HeadlessChromium.missing ?? StaticFileServer.missing { throw XCTSkip(missing) }
        output = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-chat-")
        print("ChatExampleBrowserTests: screenshots and logs in \(output!)")
    }

    override func tearDownWithError() throws {
        defer {
            web?.stop()
            cluster?.killLeftovers()
            (browser, web, cluster) = (nil, nil, nil)
        }
        try browser?.close()  // fails the test when a chromium process survives
    }

    /// examples/chat/chat.c built with `gatewayd plugin build`, with another CHAT_VERSION when
    /// given (through a file that defines it and includes the example unchanged).
    private func buildChat(version: String? = nil) throws -> String {
        var source = "\(Self.examples)/chat/chat.c"
        if let version {
            let wrapper = "\(output!)/chat-\(version).c"
            try "#define CHAT_VERSION \"\(version)\"\n#include \"\(source)\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
            source = wrapper
        }
        let built = "\(output!)/chat-\(version ?? "1.0").so"
        let result = try GatewaydProcess.run(["plugin", "build", source, "-o", built], timeout: .seconds(120))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("building the chat plugin failed: \(result)") }
        return built
    }

    func testRoomsMessagesPrivateMessagesTypingAndAReloadInHeadlessChromium() throws {
        let live = "\(output!)/live.so"
        try FileManager.default.copyItem(atPath: try buildChat(), toPath: live)
        let upgrade = try buildChat(version: "2.0-reloaded")
        let history = "\(output!)/history"
        let cluster = try GatewaydProcess.start(launcher: ["/usr/bin/env", "CHAT_HISTORY_DIR=\(history)"]) { runDirectory in
            [
                "start", "--config", "\(Self.examples)/chat/gatewayd.yaml", "--run-dir", runDirectory, "--plugin", live,
                "--listen", "websocket://127.0.0.1:0", "--register", "127.0.0.1:0", "--start-port", "0", "--gateway-count", "2",
            ]
        }
        self.cluster = cluster
        XCTAssertEqual(try cluster.status().processes(role: "worker").count, 2, "examples/chat/gatewayd.yaml runs 2 workers")
        let web = try StaticFileServer(directory: Self.examples, log: "\(output!)/http.log")
        self.web = web
        let browser = try HeadlessChromium.launch()
        self.browser = browser
        let url = "http://127.0.0.1:\(web.port)/chat/?ws=ws://127.0.0.1:\(cluster.listenPort)/"

        let alice = try browser.open(url, name: "alice")
        let bob = try browser.open(url, name: "bob")
        for page in [alice, bob] {
            try page.waitUntil("document.getElementById('state').textContent === 'connected'", "connected")
            try page.waitUntil("document.getElementById('greeting').textContent === 'Welcome to gatewayd chat 1.0'", "greeted")
        }

        // Bad input is refused with a reason the page shows, and changes nothing.
        try alice.join(nick: "", room: "lobby")
        try alice.waitForNotice("Choose a nickname.")
        try alice.join(nick: "alice", room: "no room!")
        try alice.waitForNotice("Room names are 1 to 32 letters, digits, '-' or '_'.")
        try alice.join(nick: "alice", room: "Lobby")
        try alice.waitUntil("chat.room === 'lobby' && chat.nick === 'alice'", "in #lobby as alice")
        try alice.waitForOnline(["alice"])
        try alice.waitForRoomCount(1)  // sent last for her join: bob's lists cannot cross hers
        try bob.join(nick: "alice", room: "lobby")
        try bob.waitForNotice("The nickname \"alice\" is taken; choose another.")
        try bob.join(nick: "bob", room: "lobby")
        try bob.waitUntil("chat.room === 'lobby' && chat.nick === 'bob'", "in #lobby as bob")
        for page in [alice, bob] {
            try page.waitForOnline(["alice", "bob"])
            try page.waitForRoomCount(2)
        }

        // Messages, each seen by both; user text stays text.
        let markup = #"hi alice, <b>this</b> stays text & so do "quotes""#
        try alice.say("hello bob")
        for page in [alice, bob] { try page.waitForMessage(from: "alice", "hello bob") }
        try bob.say(markup)  // after alice's has arrived: two workers' messages may cross
        for page in [alice, bob] {
            try page.waitForMessage(from: "bob", markup)
            XCTAssertEqual(try page.value("document.querySelectorAll('#messages b').length", as: Int.self), 0)
        }
        try alice.say(String(repeating: "x", count: 2001))
        try alice.waitForNotice("Messages are at most 2000 bytes; this one has 2001.")
        try alice.say(String(repeating: "y", count: 70_000))  // past the host's 64 KiB: an error frame
        try alice.waitForNotice("The server refused say: too large.")
        try alice.say("carol, are you there?")
        try bob.waitForMessage(from: "alice", "carol, are you there?")

        // A third page gets the room's history on joining and sees everyone.
        let carol = try browser.open(url, name: "carol")
        try carol.join(nick: "carol", room: "lobby")
        try carol.waitUntil("document.querySelectorAll('#messages li.history').length === 3", "showing 3 earlier messages")
        XCTAssertEqual(
            try carol.value("[...document.querySelectorAll('#messages li.history')].map((li) => li.lastChild.textContent)", as: [String].self),
            ["hello bob", markup, "carol, are you there?"])
        for page in [alice, bob, carol] { try page.waitForOnline(["alice", "bob", "carol"]) }

        // A private message reaches bob (and alice's own page), not carol.
        try alice.evaluate("""
            document.getElementById('pm-to').value = 'bob';
            document.getElementById('pm-text').value = 'psst, bob';
            document.getElementById('pm-send').click();
            """)
        try bob.waitUntil(#"[...document.querySelectorAll('#messages li.private')].some((li) => li.textContent.endsWith('from alicepsst, bob'))"#, "showing alice's private message")
        try alice.waitUntil(#"[...document.querySelectorAll('#messages li.private')].some((li) => li.textContent.endsWith('to bobpsst, bob'))"#, "showing the private message sent")
        try alice.say("welcome, carol!")  // sent after the private message, by the same worker
        try carol.waitForMessage(from: "alice", "welcome, carol!")
        XCTAssertEqual(try carol.value("document.getElementById('messages').textContent.includes('psst')", as: Bool.self), false)

        // "typing…" shows on the others' pages, and a timer of the plugin ends it.
        let typingStarted = ContinuousClock.now
        try bob.evaluate("const box = document.getElementById('text'); box.value = 'on my way'; box.dispatchEvent(new Event('input')); true")
        for page in [alice, carol] { try page.waitUntil("document.getElementById('typing').textContent === 'bob is typing…'", "showing bob typing") }
        try writeScreenshot("chat.png", of: [alice, bob], browser: browser)
        try alice.waitUntil("document.getElementById('typing').textContent === ''", "done showing bob typing", timeout: .seconds(15))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - typingStarted, .milliseconds(2900), "typing ends by the plugin's 3 s timer")

        // Text that a page would run if it took it for HTML.
        let trap = #"<img src=x onerror="document.title='owned'"><script>document.title='owned'</script>"#
        try carol.say(trap)
        for page in [alice, carol] {
            try page.waitForMessage(from: "carol", trap)
            XCTAssertEqual(try page.value("document.querySelectorAll('#messages img, #messages script').length", as: Int.self), 0)
            XCTAssertEqual(try page.value("document.title", as: String.self), "gatewayd chat")
        }

        // bob closes his tab: he leaves everyone's list.
        try bob.close()
        for page in [alice, carol] {
            try page.waitForOnline(["alice", "carol"])
            try page.waitUntil(#"document.getElementById('messages').textContent.includes('bob left #lobby')"#, "saying bob left")
        }

        // The example turns compression on; Chromium offers permessage-deflate, so every
        // message above went compressed both ways.
        XCTAssertEqual(
            try alice.value("chat.socket.ws.extensions", as: String.self),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover")

        // A new plugin while alice and carol stay connected: the same sockets carry on.
        for page in [alice, carol] {
            try page.evaluate("window.socketBeforeReload = chat.socket.ws; window.closes = 0; chat.socket.ws.addEventListener('close', () => window.closes++); true")
        }
        try ReloadTests.overwrite(live, with: upgrade)
        let reload = try ReloadTests.reload(runDirectory: cluster.runDirectory)
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        XCTAssertTrue(reload.stdout.contains("2.0-reloaded"), "\(reload)")
        try alice.say("after the reload")
        for page in [alice, carol] {
            try page.waitForMessage(from: "alice", "after the reload")
            XCTAssertEqual(
                try page.value("window.closes === 0 && chat.socket.ws === window.socketBeforeReload && chat.socket.ws.readyState === WebSocket.OPEN", as: Bool.self),
                true, "\(page.name)'s socket stayed open through the reload")
        }

        // A newcomer meets the new version, and the history the old one wrote.
        let dave = try browser.open(url, name: "dave")
        try dave.waitUntil("document.getElementById('greeting').textContent === 'Welcome to gatewayd chat 2.0-reloaded'", "greeted by the new version")
        try dave.join(nick: "dave", room: "lobby")
        try dave.waitUntil("document.querySelectorAll('#messages li.history').length === 6", "showing 6 earlier messages")
        for page in [alice, carol, dave] { try page.waitForOnline(["alice", "carol", "dave"]) }
        try writeScreenshot("chat-after-reload.png", of: [alice, dave], browser: browser)

        // The file holds what was said, once, and none of what was refused.
        let lines = GatewaydProcess.readText("\(history)/lobby.log").split(separator: "\n").map { $0.split(separator: "\t").dropFirst().joined(separator: "\t") }
        XCTAssertEqual(lines, [
            "alice\thello bob", "bob\t\(markup)", "alice\tcarol, are you there?", "alice\twelcome, carol!", "carol\t\(trap)",
            "alice\tafter the reload",
        ])

        try browser.close()
        web.stop()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// The pages side by side in one PNG (and each alone), under the output folder.
    private func writeScreenshot(_ name: String, of pages: [BrowserPage], browser: HeadlessChromium) throws {
        let shots = try pages.map { try $0.screenshot() }
        for (page, shot) in zip(pages, shots) {
            try shot.write(to: URL(fileURLWithPath: "\(output!)/\(page.name)-\(name)"))
        }
        let path = "\(output!)/\(name)"
        try browser.sideBySide(shots, width: 720, height: 520).write(to: URL(fileURLWithPath: path))
        print("ChatExampleBrowserTests: wrote \(path)")
    }
}

/// The chat page's controls, as a user works them.
private extension BrowserPage {
    /// A JavaScript string literal of `text`.
    static func literal(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    func join(nick: String, room: String) throws {
        try evaluate("""
            document.getElementById('nick').value = \(Self.literal(nick));
            document.getElementById('room').value = \(Self.literal(room));
            document.getElementById('join').click();
            """)
    }

    func say(_ text: String) throws {
        try evaluate("document.getElementById('text').value = \(Self.literal(text)); document.getElementById('send').click();")
    }

    func waitForNotice(_ text: String) throws {
        try waitUntil("document.getElementById('notice').textContent === \(Self.literal(text))", "showing \"\(text)\"")
    }

    /// The room's online list. Lists that two workers sent at once may arrive in either order
    /// until worker 0's sweep sends them again (every 15 s), hence the longer wait.
    func waitForOnline(_ nicks: [String]) throws {
        let expected = Self.literal(nicks.joined(separator: "\n"))
        try waitUntil(
            "[...document.querySelectorAll('#online li')].map((li) => li.textContent).join('\\n') === \(expected)",
            "listing \(nicks) online", timeout: .seconds(20))
    }

    /// The member count of #lobby in the room list.
    func waitForRoomCount(_ count: Int) throws {
        try waitUntil(
            "document.querySelector('#rooms li.current')?.textContent === '#lobby\(count)'", "showing #lobby with \(count)",
            timeout: .seconds(20))
    }

    /// A message line: time, nick, text.
    func waitForMessage(from nick: String, _ text: String) throws {
        try waitUntil(
            """
            [...document.querySelectorAll('#messages li')].some((li) =>
              li.querySelector('.nick')?.textContent === \(Self.literal(nick)) && li.lastChild.textContent === \(Self.literal(text)))
            """,
            "showing \(nick)'s \"\(text.prefix(40))\"")
    }
}

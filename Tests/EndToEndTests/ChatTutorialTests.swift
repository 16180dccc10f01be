import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// README.md's "Build a chat in 10 minutes", run as written: every ```sh block between the
/// `chat-tutorial:begin` and `chat-tutorial:end` comments, in order, in one bash (so the page
/// server started with `&` is the `%1` the last block kills), in an empty temporary folder.
///
/// What differs from a reader's shell, as the README's comment says: this build's gatewayd is
/// first on PATH, GATEWAYD_RUN_DIR is a fresh directory, the ports 7272 and 8000 become free
/// ones, and `gatewayd start` gets `--register 127.0.0.1:0 --start-port 0`. After the block that
/// starts gatewayd the script waits for the test, which fetches the page and chats over
/// WebSocket; likewise after the block that reloads.
final class ChatTutorialTests: XCTestCase {
    private var folder: String?
    private var script: ChildProcess?
    private var clusterPIDs: [pid_t] = []

    override func tearDown() {
        script?.signal(SIGKILL)
        _ = script?.waitForExit(timeout: .seconds(10))
        if let folder {
            for pid in clusterPIDs + ProcessTable.pids(commandLineContaining: folder) + Self.pids(workingIn: folder) {
                kill(pid, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
        super.tearDown()
    }

    func testTheREADMEChatTutorialWorksAsWritten() throws {
        if let missing = StaticFileServer.missing { throw XCTSkip(missing) }
        let blocks = try Self.tutorialBlocks()
        let startBlock = try XCTUnwrap(blocks.firstIndex { $0.contains("gatewayd start") }, "a block starts gatewayd: \(blocks)")
        let reloadBlock = try XCTUnwrap(blocks.firstIndex { $0.contains("gatewayd reload") }, "a block reloads: \(blocks)")
        XCTAssertLessThan(startBlock, reloadBlock)
        XCTAssertTrue(blocks.last?.contains("gatewayd stop") ?? false, "the last block stops gatewayd: \(blocks)")

        let folder = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-tutorial-")
        self.folder = folder
        let work = "\(folder)/work"
        let bin = "\(folder)/bin"
        let runDirectory = "\(folder)/run"
        for directory in [work, bin] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(atPath: "\(bin)/gatewayd", withDestinationPath: try GatewaydProcess.binaryURL().path)
        let webSocketPort = try Self.freePort()
        let httpPort = try Self.freePort()

        // The script: the blocks with the substitutions, a checkpoint after start and reload.
        var script = "set -euo pipefail\ncd \(work)\n"
        for (index, block) in blocks.enumerated() {
            script += block
                .replacingOccurrences(of: "7272", with: String(webSocketPort))
                .replacingOccurrences(of: "8000", with: String(httpPort))
                .replacingOccurrences(of: "gatewayd start", with: "gatewayd start --register 127.0.0.1:0 --start-port 0")
            if index == startBlock || index == reloadBlock { script += Self.checkpoint(index, folder: folder) }
        }
        try script.write(toFile: "\(folder)/tutorial.sh", atomically: true, encoding: .utf8)
        let output = try GatewaydProcess.openForWriting("\(folder)/output.log")
        defer { _ = Glibc.close(output) }
        let path = "\(bin):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let running = try ChildProcess(
            executable: "/usr/bin/env", arguments: ["bash", "\(folder)/tutorial.sh"], stdout: output, stderr: output,
            environment: ["PATH": path, "GATEWAYD_RUN_DIR": runDirectory])
        self.script = running
        let log = { GatewaydProcess.readText("\(folder)/output.log") }

        // Started: the page is served, two clients chat.
        try waitForCheckpoint(startBlock, folder: folder, script: running, log: log)
        clusterPIDs = try Self.clusterPIDs(runDirectory: runDirectory)
        // The page server was started in the background just now: it may take a moment to listen.
        var served: HTTPResponseHead?
        GatewaydProcess.poll(until: {
            served = try? HTTPTestClient.request(port: httpPort, method: "GET", path: "/", timeout: .seconds(2))
            return served != nil
        }, timeout: .seconds(20), interval: .milliseconds(50))
        let page = try XCTUnwrap(served, "nothing serves the page on port \(httpPort): \(log())")
        XCTAssertTrue(page.statusLine.contains(" 200 "), page.statusLine)
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<title>chat</title>"))
        let ann = try WebSocketTestClient.connect(port: webSocketPort)
        try ann.expectText(#"["hello","chat 0.1.0"]"#)
        let bob = try WebSocketTestClient.connect(port: webSocketPort)
        try bob.expectText(#"["hello","chat 0.1.0"]"#)
        try ann.sendText(#"["say", "ann", "hi"]"#)
        try ann.expectText(#"["said","ann","hi"]"#)
        try bob.expectText(#"["said","ann","hi"]"#)
        _ = FileManager.default.createFile(atPath: "\(folder)/go-\(startBlock)", contents: nil)

        // Reloaded: the same sockets still chat, a newcomer meets the new version.
        try waitForCheckpoint(reloadBlock, folder: folder, script: running, log: log)
        XCTAssertTrue(log().contains("0.2.0"), "reload names the new version: \(log())")
        try bob.sendText(#"["say", "bob", "still here"]"#)
        try ann.expectText(#"["said","bob","still here"]"#)
        try bob.expectText(#"["said","bob","still here"]"#)
        let cat = try WebSocketTestClient.connect(port: webSocketPort)
        try cat.expectText(#"["hello","chat 0.2.0"]"#)
        clusterPIDs += try Self.clusterPIDs(runDirectory: runDirectory)
        _ = FileManager.default.createFile(atPath: "\(folder)/go-\(reloadBlock)", contents: nil)

        // Stopped: the script ends well and leaves nothing running.
        XCTAssertTrue(running.waitForExit(timeout: .seconds(60)), "the tutorial did not finish: \(log())")
        XCTAssertEqual(running.exitCode, 0, log())
        for client in [ann, bob, cat] { client.close() }
        let leftovers = { self.clusterPIDs.filter { !ProcessTable.isGone($0) } + Self.pids(workingIn: folder) }
        XCTAssertTrue(GatewaydProcess.poll(until: { leftovers().isEmpty }, timeout: .seconds(10)),
                      "left running: \(leftovers().map(ProcessTable.describe))")
    }

    // MARK: - Helpers

    /// The sh blocks between the README's tutorial markers, in order.
    static func tutorialBlocks() throws -> [String] {
        let readme = GatewaydProcess.readText(GatewaydProcess.repositoryRoot.appendingPathComponent("README.md").path)
        guard let begin = readme.range(of: "<!-- chat-tutorial:begin"),
              let end = readme.range(of: "<!-- chat-tutorial:end -->", range: begin.upperBound..<readme.endIndex)
        else { throw GatewaydFixtureError("README.md has no chat-tutorial:begin / chat-tutorial:end markers") }
        let blocks = Markdown.codeBlocks("sh", in: String(readme[begin.upperBound..<end.lowerBound]))
        guard !blocks.isEmpty else { throw GatewaydFixtureError("no sh blocks in README.md's chat tutorial") }
        return blocks
    }

    /// Shell lines that tell the test block `index` is done and wait (at most 2 min) for its go.
    private static func checkpoint(_ index: Int, folder: String) -> String {
        """
        touch \(folder)/done-\(index)
        for _ in $(seq 1200); do [ -e \(folder)/go-\(index) ] && break; sleep 0.1; done
        [ -e \(folder)/go-\(index) ]

        """
    }

    private func waitForCheckpoint(_ index: Int, folder: String, script: ChildProcess, log: () -> String) throws {
        let reached = GatewaydProcess.poll(
            until: { FileManager.default.fileExists(atPath: "\(folder)/done-\(index)") || !script.isRunning },
            timeout: .seconds(180), interval: .milliseconds(50))
        guard reached, script.isRunning else {
            throw GatewaydFixtureError("the tutorial stopped before the end of block \(index + 1):\n\(log())")
        }
    }

    /// Every pid `gatewayd status` lists for the tutorial's cluster.
    private static func clusterPIDs(runDirectory: String) throws -> [pid_t] {
        let result = try GatewaydProcess.run(["status", "--json", "--run-dir", runDirectory], timeout: .seconds(30))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("status: \(result)") }
        let status = try JSONDecoder().decode(GatewaydStatus.self, from: Data(result.stdout.utf8))
        return [status.master.pid] + status.processes.map(\.pid)
    }

    /// Live processes whose working directory is inside `folder` (the page server).
    private static func pids(workingIn folder: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard pid != getpid(), let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
            else { return false }
            return cwd.hasPrefix(folder) && ProcessTable.stat(pid)?.state != "Z"
        }
    }

    /// A port nothing listens on now (bound to 0 and released; the cluster binds it next).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GatewaydFixtureError("socket: \(String(cString: strerror(errno)))") }
        defer { _ = Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw GatewaydFixtureError("bind: \(String(cString: strerror(errno)))") }
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else { throw GatewaydFixtureError("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `gatewayd config init` and `config check` as an operator runs them, one table behind the
/// file, the environment and the flags (issue 16, part 2); `localhost` and IPv6 client
/// listeners on a real cluster.
final class ConfigCommandTests: XCTestCase {
    private var scratch: String!
    private var cluster: GatewaydProcess?

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-config-")
    }

    override func tearDownWithError() throws {
        cluster?.killLeftovers()
        cluster = nil
        if let scratch {
            for pid in ProcessTable.pids(commandLineContaining: scratch) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try super.tearDownWithError()
    }

    /// init writes every key (0600); check passes on it and names each value's source; a
    /// cluster starts from it (flags overriding its ports) and serves.
    func testInitWritesAFileThatChecksAndStarts() throws {
        let file = "\(scratch!)/gatewayd.yaml"
        let written = try GatewaydProcess.run(["config", "init", "--output", file], timeout: .seconds(30))
        XCTAssertEqual(written.exitCode, 0, "\(written)")
        var info = stat()
        XCTAssertEqual(stat(file, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "a config may come to hold secrets")
        let text = GatewaydProcess.readText(file)
        for key in ["listen:", "worker_count: 2", "# secret_key: ", "# metrics_listen: 127.0.0.1:9273", "# http_api_listen:"] {
            XCTAssertTrue(text.contains(key), "config init lacks \(key):\n\(text)")
        }
        let again = try GatewaydProcess.run(["config", "init", "-o", file], timeout: .seconds(30))
        XCTAssertEqual(again.exitCode, 1, "\(again)")
        XCTAssertEqual(again.errorLines, ["gatewayd: error: \(file) exists; pass --force to replace it"])

        let checked = try GatewaydProcess.run(
            ["config", "check", "--config", file, "--worker-count", "3"], environment: ["GATEWAYD_GATEWAY_COUNT": "2"],
            timeout: .seconds(30))
        XCTAssertEqual(checked.exitCode, 0, "\(checked)")
        let rows = Dictionary(
            checked.stdout.split(separator: "\n").dropFirst(2).map { line -> (String, [String]) in
                let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                return (cells[0], Array(cells.dropFirst()))
            }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(rows["worker_count"], ["3", "--worker-count"], checked.stdout)
        XCTAssertEqual(rows["gateway_count"], ["2", "$GATEWAYD_GATEWAY_COUNT"], checked.stdout)
        XCTAssertEqual(rows["max_connections"], ["100000", file], checked.stdout)
        XCTAssertEqual(rows["metrics_listen"], ["off", "default"], checked.stdout)

        cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), extraArguments: ["--config", file])
        let client = try cluster!.connect()
        try client.sendText("echo:from config init")
        try client.expectText("echo:from config init")
        client.close()
        try cluster!.stop()
    }

    /// Bad values name where they came from, the key and the value; syntax errors are one line
    /// with the position; nothing is started.
    func testCheckRefusesWithOneLineNamingTheSourceTheKeyAndTheValue() throws {
        let file = "\(scratch!)/bad.yaml"
        func check(_ yaml: String?, _ flags: [String] = [], environment: [String: String] = [:]) throws -> CommandResult {
            if let yaml { try yaml.write(toFile: file, atomically: true, encoding: .utf8) }
            return try GatewaydProcess.run(
                ["config", "check"] + (yaml == nil ? [] : ["--config", file]) + flags, environment: environment, timeout: .seconds(30))
        }
        let cases: [(CommandResult, String)] = [
            (try check("max_connections: abc\n"), "\(file): max_connections: \"abc\" is not an integer"),
            (try check("worker_count: 3\nlisten: [unclosed\n"),
             "\(file): not valid YAML: line 3, column 1: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 9)"),
            (try check("worker_cont: 3\n"), "\(file): worker_cont: unknown key (did you mean worker_count?)"),
            (try check(nil, environment: ["GATEWAYD_PING_INTERVAL": "often"]),
             "environment variable GATEWAYD_PING_INTERVAL: \"often\" is not a number"),
            (try check(nil, ["--slow-client-policy", "wait"]), "--slow-client-policy: \"wait\" is not one of close, drop"),
            (try check(nil, ["--register", "0.0.0.0:0"]), "refusing to start: register 0.0.0.0"),
        ]
        for (result, expected) in cases {
            XCTAssertEqual(result.exitCode, 1, "\(result)")
            XCTAssertEqual(result.errorLines.count, 1, "\(result)")
            XCTAssertTrue(result.errorLines.first?.hasPrefix("gatewayd: error: \(expected)") ?? false, "\(result)\nexpected: \(expected)")
            XCTAssertEqual(result.stdout, "", "nothing printed but the error")
        }
        XCTAssertEqual(ProcessTable.pids(commandLineContaining: scratch), [])
    }

    /// Secrets from the environment, a file or a flag are shown as `(secret)` only.
    func testCheckNeverPrintsASecret() throws {
        let tokenFile = "\(scratch!)/token"
        try "t0ken-in-a-file\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let result = try GatewaydProcess.run(
            ["config", "check", "--http-api", "127.0.0.1:0", "--http-api-token-file", tokenFile, "--lan-ip", "0.0.0.0"],
            environment: ["GATEWAYD_SECRET_KEY": "s3cret-in-the-environment"], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        XCTAssertFalse(result.stdout.contains("s3cret-in-the-environment"), result.stdout)
        XCTAssertFalse(result.stdout.contains("t0ken-in-a-file"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(secret)"), result.stdout)
    }

    /// `localhost` for every address, and client listeners on IPv6 loopback beside IPv4 ones,
    /// served by both client I/O engines.
    func testLocalhostAndIPv6ListenersServeClients() throws {
        try XCTSkipUnless(Self.ipv6LoopbackWorks(), "IPv6 loopback (::1) is not available on this machine")
        for io in ["engine", "nio"] {
            let started = try GatewaydProcess.start { runDirectory in
                ["start", "--run-dir", runDirectory, "--plugin", try! ConformancePlugin.c.path(),
                 "--listen", "websocket://[::1]:0", "--listen", "websocket://localhost:0",
                 "--register", "localhost:0", "--lan-ip", "localhost", "--start-port", "0",
                 "--worker-count", "1", "--client-io", io]
            }
            cluster = started
            XCTAssertEqual(started.listenURLs.count, 2, started.readyLine)
            XCTAssertTrue(started.listenURLs[0].hasPrefix("websocket://[::1]:"), started.readyLine)
            XCTAssertTrue(started.listenURLs[1].hasPrefix("websocket://127.0.0.1:"), started.readyLine)
            XCTAssertTrue(started.registerAddress.hasPrefix("127.0.0.1:"), started.readyLine)
            for (host, url) in zip(["::1", "127.0.0.1"], started.listenURLs) {
                let port = try XCTUnwrap(GatewaydProcess.port(of: url))
                let client = try WebSocketTestClient.connect(host: host, port: port)
                try client.sendText("echo:\(io) over \(host)")
                try client.expectText("echo:\(io) over \(host)")
                client.close()
            }
            try started.stop()
            cluster = nil
        }
    }

    /// Whether this machine can listen on and connect to ::1 (a container may have no IPv6).
    private static func ipv6LoopbackWorks() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }
}

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Secure by default (issue 16): no inner port on the network without a secret unless asked for,
/// and the run directory and the files that can hold a secret readable by their owner only.
final class SecureDefaultsTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var scratch: String?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
        super.tearDown()
    }

    /// A register on every interface (`0.0.0.0`) and no secret: refused with one line naming the
    /// setting, nothing left running; `--allow-no-secret` says it is on purpose and it serves.
    func testAnInnerPortOnTheNetworkWithoutASecretIsRefusedUnlessAllowed() throws {
        let plugin = try ConformancePlugin.c.path()
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-secure-")
        scratch = directory
        func arguments(_ runDirectory: String) -> [String] {
            ["start", "--run-dir", runDirectory, "--plugin", plugin, "--listen", "websocket://127.0.0.1:0",
             "--register", "0.0.0.0:0", "--start-port", "0", "--gateway-count", "1", "--worker-count", "1"]
        }

        let refused = try GatewaydProcess.run(arguments("\(directory)/refused"), timeout: .seconds(60))
        XCTAssertEqual(refused.exitCode, 1, "\(refused)")
        XCTAssertEqual(refused.errorLines.count, 1, "\(refused)")
        let line = refused.errorLines.first ?? ""
        XCTAssertTrue(line.contains("refusing to start: register 0.0.0.0"), line)
        XCTAssertTrue(line.contains("secret_key") && line.contains("allow_no_secret"), line)
        // Refused before anything was bound or forked: no pid file, no control socket.
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/refused/gatewayd.pid"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/refused/gatewayd.sock"))

        let allowed = try GatewaydProcess.start { runDirectory in arguments(runDirectory) + ["--allow-no-secret"] }
        cluster = allowed
        let client = try allowed.connect()
        try client.sendText("echo:open on purpose")
        try client.expectText("echo:open on purpose")
        client.close()
        try allowed.stop()
        XCTAssertEqual(allowed.leftoverPIDs(), [])
    }

    /// The run directory becomes 0700 (even one that existed 0755), the resolved configuration,
    /// which holds the secret, and the log are 0600; the secret from a file reaches every role
    /// (the cluster serves) and is printed by neither `status` nor the log.
    func testTheRunDirectoryAndTheFilesHoldingSecretsArePrivate() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-secure-")
        scratch = directory
        let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        let secretFile = "\(directory)/secret"
        try "\(secret)\n".write(toFile: secretFile, atomically: true, encoding: .utf8)

        let (daemon, result) = try GatewaydProcess.startDaemon(
            plugin: try ConformancePlugin.c.path(), extraArguments: ["--secret-key-file", secretFile])
        cluster = daemon
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        let client = try daemon.connect()
        try client.sendText("echo:private")
        try client.expectText("echo:private")
        client.close()

        func mode(_ path: String) throws -> mode_t {
            var info = stat()
            guard stat(path, &info) == 0 else { throw GatewaydFixtureError("stat \(path): \(String(cString: strerror(errno)))") }
            return info.st_mode & 0o777
        }
        let run = daemon.runDirectory
        XCTAssertEqual(try mode(run), 0o700, "the run directory (the fixture created it 0755)")
        XCTAssertEqual(try mode("\(run)/gatewayd.config.json"), 0o600)
        XCTAssertEqual(try mode("\(run)/gatewayd.log"), 0o600)
        let saved = GatewaydProcess.readText("\(run)/gatewayd.config.json")
        XCTAssertTrue(saved.contains(secret), "the resolved configuration keeps the secret for `restart`")

        let status = try GatewaydProcess.run(["status", "--json", "--run-dir", run], timeout: .seconds(30))
        XCTAssertEqual(status.exitCode, 0, "\(status)")
        XCTAssertFalse(status.stdout.contains(secret), "status printed the secret")
        let table = try GatewaydProcess.run(["status", "--run-dir", run], timeout: .seconds(30))
        XCTAssertFalse(table.stdout.contains(secret), "status printed the secret")
        try daemon.stop()
        XCTAssertFalse(GatewaydProcess.readText("\(run)/gatewayd.log").contains(secret), "the log holds the secret")
        XCTAssertEqual(daemon.leftoverPIDs(), [])
    }
}

import Foundation
import GatewayCore
import XCTest

final class ConfigurationFileTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "gatewayd-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ text: String) throws -> String {
        let path = directory + "/gatewayd.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The configuration `yaml` gives, written as the test's config file.
    private func applied(_ yaml: String) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: try write(yaml), to: &configuration)
        return configuration
    }

    func testSecretFilesAreReadRelativeToTheConfigWithoutTheirTrailingNewline() throws {
        try "from-a-file\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        try "token\r\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let configuration = try applied(
            """
            secret_key_file: secret
            http_api_listen: 127.0.0.1:0
            http_api_token_file: token
            allow_no_secret: true
            """)
        XCTAssertEqual(configuration.secretKey, "from-a-file")
        XCTAssertEqual(configuration.httpAPI?.token, "token")
        XCTAssertEqual(configuration.allowNoSecret, true)
    }

    func testBadSecretFilesAreRefusedByKeyAndPath() throws {
        try "".write(toFile: directory + "/empty", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try applied("secret_key_file: missing")) { error in
            XCTAssertEqual("\(error)", "invalid secret_key_file '\(directory!)/missing': expected a readable file (no such file)")
        }
        XCTAssertThrowsError(try applied("secret_key_file: empty")) { error in
            XCTAssertEqual("\(error)", "invalid secret_key_file '\(directory!)/empty': expected a file holding the secret (it is empty)")
        }
        XCTAssertThrowsError(try applied("secret_key: a\nsecret_key_file: empty")) { error in
            XCTAssertTrue("\(error)".contains("either secret_key or secret_key_file, not both"), "\(error)")
        }
        XCTAssertThrowsError(try applied("allow_no_secret: maybe")) { error in
            XCTAssertEqual("\(error)", "invalid allow_no_secret 'maybe': expected true or false")
        }
    }

    func testEveryKeyIsApplied() throws {
        let path = try write(
            """
            plugin: build/chat.so
            listen:
              - websocket://0.0.0.0:8282
              - websocket://127.0.0.1:0
              - text://0.0.0.0:8283
              - frame://0.0.0.0:8284
            register: 127.0.0.1:1238
            gateway_count: 2
            worker_count: 4
            lan_ip: 10.0.0.5
            start_port: 3000
            secret_key: s3cret
            run_dir: run
            worker_name: Chat
            log_level: debug
            query_timeout_ms: 2000
            handshake_timeout_ms: 1000
            max_message_bytes: 65536
            stop_timeout_ms: 3000
            max_connections: 5000
            connect_timeout_ms: 2500
            send_buffer_bytes: 65536
            slow_client_policy: drop
            """)
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: path, to: &configuration)
        XCTAssertEqual(configuration.plugin, directory + "/build/chat.so", "relative to the file, not the cwd")
        XCTAssertEqual(
            configuration.listen,
            ["websocket://0.0.0.0:8282", "websocket://127.0.0.1:0", "text://0.0.0.0:8283", "frame://0.0.0.0:8284"])
        XCTAssertEqual(configuration.register, "127.0.0.1:1238")
        XCTAssertEqual(configuration.gatewayCount, 2)
        XCTAssertEqual(configuration.workerCount, 4)
        XCTAssertEqual(configuration.lanIP, "10.0.0.5")
        XCTAssertEqual(configuration.startPort, 3000)
        XCTAssertEqual(configuration.secretKey, "s3cret")
        XCTAssertEqual(configuration.runDirectory, directory + "/run")
        XCTAssertEqual(configuration.workerName, "Chat")
        XCTAssertEqual(configuration.logLevel, "debug")
        XCTAssertEqual(configuration.queryTimeoutMilliseconds, 2000)
        XCTAssertEqual(configuration.handshakeTimeoutMilliseconds, 1000)
        XCTAssertEqual(configuration.maxMessageBytes, 65536)
        XCTAssertEqual(configuration.stopTimeoutMilliseconds, 3000)
        XCTAssertEqual(configuration.maxConnections, 5000)
        XCTAssertEqual(configuration.connectTimeoutMilliseconds, 2500)
        XCTAssertEqual(configuration.sendBufferBytes, 65536)
        XCTAssertEqual(configuration.slowClientPolicy, .drop)
        XCTAssertNoThrow(try configuration.validate())
    }

    func testASingleListenStringIsAccepted() throws {
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: try write("listen: websocket://0.0.0.0:9000\n"), to: &configuration)
        XCTAssertEqual(configuration.listen, ["websocket://0.0.0.0:9000"])
    }

    func testClientIOPicksWhatServesTheGatewaysSockets() throws {
        var configuration = GatewayConfiguration()
        XCTAssertEqual(configuration.clientIO, .engine, "the engine by default")
        try ConfigurationFile.apply(path: try write("client_io: nio\n"), to: &configuration)
        XCTAssertEqual(configuration.clientIO, .nio)
        let path = try write("client_io: uring\n")
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual(error as? ConfigurationError, .invalid(key: "client_io", value: "uring", expected: "engine or nio"))
        }
    }

    func testMetricsListenIsOffByDefaultAndValidated() throws {
        var configuration = GatewayConfiguration()
        XCTAssertNil(configuration.metricsListen, "no /metrics unless asked")
        try ConfigurationFile.apply(path: try write("metrics_listen: 127.0.0.1:9273\n"), to: &configuration)
        XCTAssertEqual(configuration.metricsListen, "127.0.0.1:9273")
        XCTAssertNoThrow(try configuration.validate())
        configuration.metricsListen = "nowhere"
        XCTAssertThrowsError(try configuration.validate()) { error in
            XCTAssertEqual(error as? ConfigurationError, .invalid(key: "metrics_listen", value: "nowhere", expected: "host:port"))
        }
    }

    func testLogFormatIsTextOrJSON() throws {
        var configuration = GatewayConfiguration()
        XCTAssertNil(configuration.logFormat, "text unless set")
        try ConfigurationFile.apply(path: try write("log_format: json\n"), to: &configuration)
        XCTAssertEqual(configuration.logFormat, .json)
        let path = try write("log_format: yaml\n")
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual("\(error)", "invalid log_format 'yaml': expected text or json")
        }
    }

    func testAnEmptyFileChangesNothing() throws {
        var configuration = GatewayConfiguration()
        try ConfigurationFile.apply(path: try write(""), to: &configuration)
        XCTAssertEqual(configuration, GatewayConfiguration())
    }

    func testUnknownKeyIsRefusedByName() throws {
        let path = try write("worker_cont: 3\n")
        var configuration = GatewayConfiguration()
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual(error as? ConfigurationError, .unknownKey(path: path, key: "worker_cont"))
            XCTAssertEqual("\(error)", "config file \(path): unknown key 'worker_cont'")
        }
    }

    func testMissingFileNamesThePath() {
        var configuration = GatewayConfiguration()
        let path = directory + "/nope.yaml"
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual(error as? ConfigurationError, .unreadable(path: path, reason: "no such file"))
        }
    }

    func testMalformedYAMLIsRefused() throws {
        let path = try write("listen: [unclosed\n")
        var configuration = GatewayConfiguration()
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            guard case .malformed(let where_, _)? = error as? ConfigurationError else {
                return XCTFail("expected .malformed, got \(error)")
            }
            XCTAssertEqual(where_, path)
        }
    }

    func testTopLevelMustBeAMapping() throws {
        let path = try write("- a\n- b\n")
        var configuration = GatewayConfiguration()
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual(
                error as? ConfigurationError,
                .malformed(path: path, reason: "the top level must be a mapping of keys to values"))
        }
    }

    func testWrongTypeNamesKeyAndValue() throws {
        let path = try write("worker_count: many\n")
        var configuration = GatewayConfiguration()
        XCTAssertThrowsError(try ConfigurationFile.apply(path: path, to: &configuration)) { error in
            XCTAssertEqual(error as? ConfigurationError, .invalid(key: "worker_count", value: "many", expected: "an integer"))
        }
    }
}

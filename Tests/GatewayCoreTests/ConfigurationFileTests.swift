import Foundation
import GatewayCore
import XCTest

/// The YAML file: every key, lists or strings, paths relative to the file, secret files, and
/// errors naming the file, the key and the value.
final class ConfigurationFileTests: XCTestCase {
    private var scratch: ConfigurationScratch!
    private var directory: String { scratch.directory }

    override func setUpWithError() throws {
        scratch = try ConfigurationScratch()
    }

    override func tearDown() {
        scratch = nil
    }

    private var file: String { directory + "/gatewayd.yaml" }

    func testSecretFilesAreReadRelativeToTheConfigWithoutTheirTrailingNewline() throws {
        try scratch.write("from-a-file\n", to: "secret")
        try scratch.write("token\r\n", to: "token")
        let configuration = try scratch.configuration(
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
        try scratch.write("", to: "empty")
        XCTAssertEqual(
            scratch.error("secret_key_file: missing"),
            "\(file): secret_key_file: \"\(directory)/missing\" is not a readable file (no such file)")
        XCTAssertEqual(
            scratch.error("secret_key_file: empty"),
            "\(file): secret_key_file: \"\(directory)/empty\" is not a file holding the secret (it is empty)")
        XCTAssertEqual(
            scratch.error("secret_key: a\nsecret_key_file: empty"),
            "\(file): secret_key_file: set either secret_key or secret_key_file, not both")
        XCTAssertEqual(scratch.error("allow_no_secret: maybe"), "\(file): allow_no_secret: \"maybe\" is not true or false")
    }

    func testEveryKeyIsApplied() throws {
        let configuration = try scratch.configuration(
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
            ping_interval: 0.5
            ping_data: '{"type":"ping"}'
            """)
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
        XCTAssertEqual(configuration.pingInterval, 0.5)
        XCTAssertEqual(configuration.pingData, "{\"type\":\"ping\"}")
    }

    func testASingleListenStringIsAccepted() throws {
        XCTAssertEqual(try scratch.configuration("listen: websocket://0.0.0.0:9000\n").listen, ["websocket://0.0.0.0:9000"])
    }

    func testChoicesNameTheirValues() throws {
        XCTAssertEqual(GatewayConfiguration().clientIO, .engine, "the engine by default")
        XCTAssertEqual(try scratch.configuration("client_io: nio\n").clientIO, .nio)
        XCTAssertEqual(scratch.error("client_io: uring\n"), "\(file): client_io: \"uring\" is not one of engine, nio")
        XCTAssertNil(GatewayConfiguration().logFormat, "text unless set")
        XCTAssertEqual(try scratch.configuration("log_format: json\n").logFormat, .json)
        XCTAssertEqual(scratch.error("log_format: yaml\n"), "\(file): log_format: \"yaml\" is not one of text, json")
    }

    func testMetricsListenIsOffByDefaultAndValidated() throws {
        XCTAssertNil(GatewayConfiguration().metricsListen, "no /metrics unless asked")
        XCTAssertEqual(try scratch.configuration("metrics_listen: 127.0.0.1:9273\n").metricsListen, "127.0.0.1:9273")
        XCTAssertEqual(scratch.error("metrics_listen: nowhere\n"), "\(file): metrics_listen: \"nowhere\" is not host:port")
    }

    func testAnEmptyFileOrAnEmptyValueChangesNothing() throws {
        var expected = GatewayConfiguration()
        expected.runDirectory = GatewayConfiguration.defaultRunDirectory
        XCTAssertEqual(try scratch.configuration(""), expected)
        XCTAssertEqual(try scratch.configuration("worker_count:\nmetrics_listen: ~\n"), expected)
    }

    func testUnknownKeyIsRefusedByNameWithASuggestion() {
        XCTAssertEqual(scratch.error("worker_cont: 3\n"), "\(file): worker_cont: unknown key (did you mean worker_count?)")
        XCTAssertEqual(scratch.error("colour: blue\n"), "\(file): colour: unknown key")
    }

    func testMissingFileNamesThePath() {
        let missing = directory + "/nope.yaml"
        XCTAssertThrowsError(try ConfigurationResolver(file: missing, environment: [:], flags: []).resolve()) { error in
            XCTAssertEqual("\(error)", "\(missing): cannot read the config file: no such file")
        }
    }

    /// Yams' whole reason, with line and column, on one line.
    func testMalformedYAMLIsOneLineWithThePosition() {
        let error = scratch.error("gateway_count: 1\nlisten: [unclosed\n")
        XCTAssertEqual(
            error,
            "\(file): not valid YAML: line 3, column 1: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 9)")
        let tab = scratch.error("a: 1\n\t- b\n") ?? ""
        XCTAssertTrue(tab.hasPrefix("\(file): not valid YAML: line 2, column "), tab)
        XCTAssertFalse(tab.contains("\n"), tab)
        let duplicate = scratch.error("worker_count: 1\nworker_count: 2\n") ?? ""
        XCTAssertTrue(duplicate.contains("not valid YAML") && duplicate.contains("worker_count"), duplicate)
    }

    func testTopLevelMustBeAMappingAndValuesFlat() {
        XCTAssertEqual(scratch.error("- a\n- b\n"), "\(file): not valid YAML: the top level must be a mapping of keys to values")
        XCTAssertEqual(
            scratch.error("listen:\n  a: b\n"),
            "\(file): listen: \"{…}\" is not a single value or a list (line 2, column 3)")
    }

    /// The example of the issue: the file, the key and the value, quoted.
    func testWrongTypeNamesFileKeyAndValue() {
        XCTAssertEqual(scratch.error("max_connections: abc\n"), "\(file): max_connections: \"abc\" is not an integer")
        XCTAssertEqual(scratch.error("worker_count: [1, 2]\n"), "\(file): worker_count: \"[1, 2]\" is not an integer")
        XCTAssertEqual(scratch.error("max_connections: 0\n"), "\(file): max_connections: \"0\" is not in 1...10000000")
    }
}

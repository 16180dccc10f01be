import Foundation
import GatewayCore
import XCTest

/// The table of keys driving the environment, the flags, `config init`, `config check` and
/// docs/configuration.md; precedence; redaction; localhost and IPv6 addresses.
final class ConfigurationTableTests: XCTestCase {
    private var scratch: ConfigurationScratch!

    override func setUpWithError() throws {
        scratch = try ConfigurationScratch()
    }

    override func tearDown() {
        scratch = nil
    }

    func testEveryKeyHasOneEnvironmentNameAndOneFlag() {
        let keys = ConfigurationKey.all
        XCTAssertEqual(Set(keys.map(\.name)).count, keys.count)
        XCTAssertEqual(Set(keys.map(\.flag)).count, keys.count, "every key has a flag of its own")
        for key in keys {
            XCTAssertEqual(key.environmentName, "GATEWAYD_" + key.name.uppercased())
            XCTAssertFalse(key.doc.isEmpty, key.name)
            XCTAssertTrue(key.defaultValue != nil || key.defaultText != nil, "\(key.name) documents its default")
            if let required = key.requires { XCTAssertNotNil(ConfigurationKey.named(required), key.name) }
            if let excluded = key.excludes { XCTAssertNotNil(ConfigurationKey.named(excluded), key.name) }
        }
        XCTAssertEqual(ConfigurationKey.named("http_api_listen")?.flag, "http-api", "the flag it always had")
        XCTAssertEqual(ConfigurationKey.named("metrics_listen")?.flag, "metrics")
    }

    func testDefaultsAreValidAndEveryDefaultPassesItsOwnCheck() throws {
        XCTAssertNoThrow(try GatewayConfiguration().validate())
        for key in ConfigurationKey.all {
            guard let value = key.defaultValue else { continue }
            if case .list(let items) = value {
                for item in items { XCTAssertNil(key.problem(with: .text(item)), key.name) }
            } else {
                XCTAssertNil(key.problem(with: value), key.name)
            }
        }
    }

    /// Defaults < file < environment < flags, and each value says where it came from.
    func testEachLayerOverridesTheOnesBefore() throws {
        let resolved = try scratch.resolve(
            "worker_count: 3\ngateway_count: 2\nlog_level: debug\n",
            environment: ["GATEWAYD_WORKER_COUNT": "5", "GATEWAYD_LOG_LEVEL": "warning", "GATEWAYD_SWIFT_PLUGIN": "ignored"],
            flags: ["--log-level", "error"])
        let configuration = resolved.configuration
        XCTAssertEqual(configuration.gatewayCount, 2)
        XCTAssertEqual(configuration.workerCount, 5)
        XCTAssertEqual(configuration.logLevel, "error")
        XCTAssertEqual(configuration.maxConnections, 100_000)
        XCTAssertEqual(resolved.source(of: "gateway_count"), .file(scratch.directory + "/gatewayd.yaml"))
        XCTAssertEqual(resolved.source(of: "worker_count"), .environment)
        XCTAssertEqual(resolved.source(of: "log_level"), .flag)
        XCTAssertEqual(resolved.source(of: "max_connections"), .defaults)
    }

    func testEnvironmentValuesAreTypedAndNamedInErrors() throws {
        let resolved = try scratch.resolve(environment: [
            "GATEWAYD_SECRET_KEY": "from-env", "GATEWAYD_LISTEN": "websocket://127.0.0.1:0, text://127.0.0.1:0",
            "GATEWAYD_PING_INTERVAL": "0.25", "GATEWAYD_ALLOW_NO_SECRET": "1", "GATEWAYD_METRICS_LISTEN": "",
        ])
        XCTAssertEqual(resolved.configuration.secretKey, "from-env")
        XCTAssertEqual(resolved.configuration.listen, ["websocket://127.0.0.1:0", "text://127.0.0.1:0"])
        XCTAssertEqual(resolved.configuration.pingInterval, 0.25)
        XCTAssertEqual(resolved.configuration.allowNoSecret, true)
        XCTAssertNil(resolved.configuration.metricsListen, "empty is unset")
        XCTAssertEqual(
            scratch.error(environment: ["GATEWAYD_MAX_CONNECTIONS": "lots"]),
            "environment variable GATEWAYD_MAX_CONNECTIONS: \"lots\" is not an integer")
        XCTAssertEqual(
            scratch.error(environment: ["GATEWAYD_HTTP_API_TOKEN": "t"]),
            "environment variable GATEWAYD_HTTP_API_TOKEN: needs http_api_listen, which is not set")
    }

    func testFlagsTakeValuesBothWaysAndListsRepeat() throws {
        let parsed = try ConfigurationFlags.parse([
            "--worker-count", "3", "--lan-ip=10.0.0.1", "--allow-no-secret", "--listen", "websocket://127.0.0.1:0",
            "--listen=text://127.0.0.1:0,frame://127.0.0.1:0", "--worker-count", "4", "--http-api-allow-no-token=false",
        ])
        XCTAssertEqual(parsed.map(\.key), ["worker_count", "lan_ip", "allow_no_secret", "listen", "http_api_allow_no_token"])
        XCTAssertEqual(parsed[0].value, .scalar("4"), "the last one wins")
        XCTAssertEqual(parsed[2].value, .scalar("true"))
        XCTAssertEqual(parsed[3].value, .list(["websocket://127.0.0.1:0", "text://127.0.0.1:0,frame://127.0.0.1:0"]))
        let configuration = try scratch.resolve(flags: ["--listen", "websocket://127.0.0.1:0", "--listen=text://127.0.0.1:0,frame://127.0.0.1:0"])
            .configuration
        XCTAssertEqual(configuration.listen, ["websocket://127.0.0.1:0", "text://127.0.0.1:0", "frame://127.0.0.1:0"])

        XCTAssertEqual(scratch.error(flags: ["--gateway-count"]), "--gateway-count: needs a value")
        XCTAssertEqual(scratch.error(flags: ["--gateway-count", "x"]), "--gateway-count: \"x\" is not an integer")
        XCTAssertEqual(scratch.error(flags: ["--gatway-count", "2"]), "--gatway-count: unknown option (did you mean --gateway-count?)")
        XCTAssertEqual(scratch.error(flags: ["stray"]), "stray: unexpected argument")
        XCTAssertEqual(
            scratch.error(flags: ["--secret-key", "a", "--secret-key-file", "b"]),
            "--secret-key-file: set either secret_key or secret_key_file, not both")
    }

    /// A secret file in one layer and the secret itself in a later one: the later wins.
    func testSecretsFromALaterLayerWinOverAFileOfAnEarlierOne() throws {
        try scratch.write("from-file\n", to: "secret")
        let resolved = try scratch.resolve("secret_key_file: secret\n", environment: ["GATEWAYD_SECRET_KEY": "from-env"])
        XCTAssertEqual(resolved.configuration.secretKey, "from-env")
        XCTAssertEqual(resolved.source(of: "secret_key"), .environment)
    }

    /// `config check` never prints a secret, whatever set it.
    func testTheReportRedactsSecrets() throws {
        try scratch.write("t0ken-from-file\n", to: "token")
        let resolved = try scratch.resolve(
            "http_api_listen: 127.0.0.1:0\nhttp_api_token_file: token\n", environment: ["GATEWAYD_SECRET_KEY": "s3cret-env"])
        let rows = ConfigurationReport.rows(resolved)
        XCTAssertEqual(rows.map(\.key), ConfigurationKey.all.filter { $0.excludes == nil }.map(\.name))
        let printed = rows.map { "\($0.key) \($0.value) \($0.source)" }.joined(separator: "\n")
        XCTAssertFalse(printed.contains("s3cret-env"), printed)
        XCTAssertFalse(printed.contains("t0ken-from-file"), printed)
        XCTAssertEqual(rows.first { $0.key == "secret_key" }, .init(key: "secret_key", value: "(secret)", source: "$GATEWAYD_SECRET_KEY"))
        XCTAssertEqual(rows.first { $0.key == "http_api_token" }?.value, "(secret)")
        XCTAssertEqual(rows.first { $0.key == "metrics_listen" }?.value, "off")
        // Nor does an error about a secret's value.
        XCTAssertEqual(
            scratch.error(environment: ["GATEWAYD_SECRET_KEY": "s3cret", "GATEWAYD_WORKER_COUNT": "0"]),
            "environment variable GATEWAYD_WORKER_COUNT: \"0\" is not in 1...1024")
    }

    /// `config init` writes every key; what it writes resolves to the defaults.
    func testTheTemplateNamesEveryKeyAndResolvesToTheDefaults() throws {
        let template = ConfigurationReport.template(version: "9.9.9")
        for key in ConfigurationKey.all {
            XCTAssertTrue(
                template.contains("\n\(key.name):") || template.contains("\n# \(key.name):"), "\(key.name) missing:\n\(template)")
            XCTAssertTrue(template.contains("# \(key.plainDoc)"), key.name)
        }
        let resolved = try scratch.resolve(template)
        let defaults = GatewayConfiguration()
        for key in ConfigurationKey.all {
            XCTAssertEqual(key.value(in: resolved.configuration), key.value(in: defaults), key.name)
        }
        XCTAssertEqual(resolved.source(of: "worker_count"), .file(scratch.directory + "/gatewayd.yaml"))
        // Uncommented, the examples are valid too (but the files they name do not exist here).
        let examples = ConfigurationKey.all.filter { $0.type != .path }.map { "# \($0.name): " }
        let uncommented = template.split(separator: "\n").map { line in
            examples.contains { line.hasPrefix($0) } ? String(line.dropFirst(2)) : String(line)
        }.joined(separator: "\n")
        XCTAssertNotEqual(uncommented, template)
        XCTAssertNoThrow(try scratch.resolve(uncommented), uncommented)
    }

    /// `localhost` means 127.0.0.1 wherever an address goes; client listeners may be IPv6.
    func testLocalhostAndIPv6Addresses() throws {
        let configuration = try scratch.resolve(flags: [
            "--listen", "websocket://localhost:0", "--listen", "websocket://[::1]:0", "--listen", "text://[0:0::0]:7000",
            "--register", "localhost:1236", "--lan-ip", "localhost", "--register-listen", "localhost:1236",
            "--metrics", "localhost:0", "--http-api", "localhost:0", "--http-api-allow-no-token",
        ]).configuration
        XCTAssertEqual(configuration.listen, ["websocket://127.0.0.1:0", "websocket://[::1]:0", "text://[::]:7000"])
        XCTAssertEqual(configuration.register, "127.0.0.1:1236")
        XCTAssertEqual(configuration.lanIP, "127.0.0.1")
        XCTAssertEqual(configuration.registerListen, "127.0.0.1:1236")
        XCTAssertEqual(configuration.metricsListen, "127.0.0.1:0")
        XCTAssertEqual(configuration.httpAPI?.listen, "127.0.0.1:0")

        XCTAssertEqual(
            scratch.error(flags: ["--register", "[::1]:1236"]),
            "--register: \"[::1]:1236\" is not an IPv4 host:port or localhost:port (IPv6 is for client listeners only)")
        XCTAssertEqual(scratch.error(flags: ["--lan-ip", "::1"]), "--lan-ip: \"::1\" is not an IPv4 address (or localhost)")
        XCTAssertEqual(
            scratch.error(flags: ["--listen", "websocket://[::g]:1"]), "--listen: \"websocket://[::g]:1\" is not [IPv6 address]:port")
        XCTAssertEqual(
            scratch.error(flags: ["--listen", "websocket://::1:80"]),
            "--listen: \"websocket://::1:80\" is not host:port with an IPv4 address, localhost or an IPv6 address in brackets")
        XCTAssertEqual(ListenAddress(scheme: .websocket, endpoint: try HostPort(parsing: "[::1]:80", allowingIPv6: true)).description, "websocket://[::1]:80")
    }

    func testCrossKeyRulesNameTheKeyAndItsSource() {
        XCTAssertEqual(
            scratch.error(flags: ["--inner-heartbeat-interval-ms", "1000", "--inner-heartbeat-timeout-ms", "1500"]),
            "--inner-heartbeat-timeout-ms: \"1500\" is not at least twice inner_heartbeat_interval_ms (1000)")
        XCTAssertEqual(
            scratch.error("start_port: 65535\ngateway_count: 2\n"),
            "\(scratch.directory)/gatewayd.yaml: start_port: \"65535\" is not low enough for gateway_count ports below 65536")
        XCTAssertEqual(
            scratch.error(flags: ["--http-api", "0.0.0.0:0"]),
            "http_api_token: is required (or http_api_allow_no_token on a loopback http_api_listen)")
    }
}

import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `gatewayd` command line: help, and every kind of bad input failing the way the
/// contract says — a non-zero exit, exactly one `gatewayd: error:` line naming what is wrong
/// and where, and no process left running.
final class CommandLineTests: XCTestCase {
    /// This test's scratch directory; every run directory lives inside it, so processes a
    /// test started are found by it in `/proc/<pid>/cmdline`.
    private var scratch: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-cli-")
    }

    override func tearDownWithError() throws {
        if let scratch {
            for pid in ProcessTable.pids(commandLineContaining: scratch) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try super.tearDownWithError()
    }

    // MARK: - Help

    func testHelpListsTheCommands() throws {
        let result = try GatewaydProcess.run(["--help"], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        for command in ["start", "stop", "status", "connections", "plugin"] {
            XCTAssertTrue(result.stdout.contains(command), "gatewayd --help does not mention \(command):\n\(result.stdout)")
        }
    }

    func testStartHelpListsTheOptions() throws {
        let result = try GatewaydProcess.run(["start", "--help"], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        let options = [
            " -d", "--config", "--plugin", "--listen", "--register", "--gateway-count", "--worker-count",
            "--lan-ip", "--start-port", "--secret-key", "--run-dir",
        ]
        for option in options {
            XCTAssertTrue(result.stdout.contains(option), "gatewayd start --help does not mention \(option):\n\(result.stdout)")
        }
    }

    /// The product version (the one CHANGELOG.md's newest entry names), the plugin ABI of
    /// include/gatewayd.h and the Swift compiler that built it.
    func testVersionNamesTheReleaseTheABIAndTheCompiler() throws {
        let result = try GatewaydProcess.run(["--version"], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, "\(result)")

        let root = GatewaydProcess.repositoryRoot
        let changelog = GatewaydProcess.readText(root.appendingPathComponent("CHANGELOG.md").path)
        let newest = try XCTUnwrap(changelog.split(separator: "\n").first { $0.hasPrefix("## ") }, "CHANGELOG.md has no entry")
        let version = try XCTUnwrap(newest.dropFirst(3).split(separator: " ").first.map(String.init))
        XCTAssertEqual(lines.first, "gatewayd \(version)", "the version CHANGELOG.md's newest entry names")

        let header = GatewaydProcess.readText(root.appendingPathComponent("include/gatewayd.h").path)
        func define(_ name: String) -> String? {
            header.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }.map { String($0.split(separator: " ")[2]) }
        }
        let abi = "\(try XCTUnwrap(define("GWD_ABI_VERSION_MAJOR"))).\(try XCTUnwrap(define("GWD_ABI_VERSION_MINOR")))"
        XCTAssertEqual(lines.dropFirst().first, "plugin ABI \(abi) (include/gatewayd.h)")

        // The toolchain running the tests built the binary: its major.minor.
        let swift = try GatewaydProcess.runExecutable(URL(fileURLWithPath: "/usr/bin/env"), ["swift", "--version"], timeout: .seconds(60))
        let compiler = try XCTUnwrap(
            swift.stdout.components(separatedBy: "Swift version ").dropFirst().first?.split(separator: " ").first, "\(swift)")
        let majorMinor = compiler.split(separator: ".").prefix(2).joined(separator: ".")
        XCTAssertTrue(lines.last?.hasPrefix("built with Swift \(majorMinor) (") ?? false, "\(lines) vs \(swift.stdout)")
        XCTAssertTrue(lines.last?.hasSuffix(" build)") ?? false, "\(lines)")
    }

    // MARK: - start with bad input

    func testStartWithMissingPluginFails() throws {
        let missing = "\(scratch!)/no-such-plugin.so"
        try assertStartFails(plugin: missing, naming: missing)
    }

    func testStartWithPluginWithoutEntrySymbolFails() throws {
        let plugin = try compilePlugin(named: "no-entry", source: "int gwd_plugin_entry_v0(void) { return 0; }\n")
        try assertStartFails(plugin: plugin, naming: plugin)
    }

    func testStartWithPluginOfABIMajor2Fails() throws {
        let plugin = try compilePlugin(named: "abi-two", source: Self.abiTwoSource)
        try assertStartFails(plugin: plugin, naming: plugin)
    }

    func testStartOnPortInUseFails() throws {
        let (listener, port) = try listenOnFreePort()
        defer { _ = Glibc.close(listener) }
        try assertStartFails(
            plugin: try ConformancePlugin.c.path(), listen: "websocket://127.0.0.1:\(port)", naming: String(port))
    }

    /// Gateways listen with SO_REUSEPORT, which Linux would let a second gatewayd of the same
    /// user join silently (sharing the first one's clients). It must fail like any port in use.
    func testStartOnThePortOfARunningGatewaydFails() throws {
        let running = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 2, workerCount: 1)
        defer { running.killLeftovers() }
        let port = running.listenPort
        try assertStartFails(
            plugin: try ConformancePlugin.c.path(), listen: "websocket://127.0.0.1:\(port)", naming: String(port))
        // The first one is untouched and still serves.
        let client = try running.connect()
        try client.sendText("echo:still here")
        try client.expectText("echo:still here")
        client.close()
        try running.stop()
    }

    func testStartWithMalformedConfigFails() throws {
        let config = "\(scratch!)/malformed.yaml"
        try Data("gateway_count: [1, 2\n\t- {{{ : : ]]]\n".utf8).write(to: URL(fileURLWithPath: config))
        try assertStartFails(plugin: try ConformancePlugin.c.path(), extra: ["--config", config], naming: config)
    }

    func testStartWithAnUnknownClientIOFails() throws {
        try assertStartFails(plugin: try ConformancePlugin.c.path(), extra: ["--client-io", "uring"], naming: "uring")
        // The environment names itself, so an operator finds where the value came from.
        let previous = getenv("GATEWAYD_CLIENT_IO").map { String(cString: $0) }
        setenv("GATEWAYD_CLIENT_IO", "epoll", 1)
        defer {
            if let previous { setenv("GATEWAYD_CLIENT_IO", previous, 1) } else { unsetenv("GATEWAYD_CLIENT_IO") }
        }
        try assertStartFails(plugin: try ConformancePlugin.c.path(), naming: "GATEWAYD_CLIENT_IO")
    }

    func testStartWithMissingConfigFails() throws {
        let config = "\(scratch!)/no-such-config.yaml"
        try assertStartFails(plugin: try ConformancePlugin.c.path(), extra: ["--config", config], naming: config)
    }

    // MARK: - plugin check

    func testPluginCheckReportsNameVersionAndABI() throws {
        let plugin = try ConformancePlugin.c.path()
        let result = try GatewaydProcess.run(["plugin", "check", plugin], timeout: .seconds(60))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        XCTAssertEqual(field("name", in: result.stdout), "conformance-c", "\(result)")
        XCTAssertEqual(field("version", in: result.stdout), "1", "\(result)")
        XCTAssertEqual(field("abi", in: result.stdout), "1.2", "\(result)")
    }

    func testPluginCheckRejectsAFileThatIsNotASharedObject() throws {
        let path = "\(scratch!)/not-a-plugin.txt"
        try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: path))
        try assertFailsWithOneErrorLine(["plugin", "check", path], naming: path)
    }

    func testPluginCheckRejectsABIMajor2() throws {
        let plugin = try compilePlugin(named: "abi-two", source: Self.abiTwoSource)
        try assertFailsWithOneErrorLine(["plugin", "check", plugin], naming: plugin)
    }

    func testPluginCheckRejectsAPluginWithoutEntrySymbol() throws {
        let plugin = try compilePlugin(named: "no-entry", source: "int gwd_plugin_entry_v0(void) { return 0; }\n")
        try assertFailsWithOneErrorLine(["plugin", "check", plugin], naming: plugin)
    }

    // MARK: - stop

    func testStopWithNothingRunningFails() throws {
        let runDirectory = "\(scratch!)/empty-run"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let result = try GatewaydProcess.run(["stop", "--run-dir", runDirectory], timeout: .seconds(30))
        XCTAssertEqual(result.exitCode, 1, "\(result)")
        XCTAssertEqual(result.errorLines.count, 1, "\(result)")
        XCTAssertTrue(result.errorLines.first?.contains(runDirectory) ?? false, "the error does not name \(runDirectory): \(result)")
    }

    // MARK: - Helpers

    /// A plugin whose descriptor claims ABI major 2 (the entry itself is the v1 symbol).
    private static let abiTwoSource = """
        #include "gatewayd.h"

        static const gwd_plugin plugin = {
            .struct_size = (uint32_t)sizeof(gwd_plugin),
            .abi_major = 2,
            .abi_minor = 0,
            .name = "abi-two",
            .version = "1",
        };

        GWD_EXPORT int32_t gwd_plugin_entry_v1(const gwd_host_api *api, const gwd_plugin **out,
                                               char *error, size_t error_len) {
            (void)api; (void)error; (void)error_len;
            *out = &plugin;
            return GWD_OK;
        }

        """

    /// Runs `gatewayd start` on fresh ports with `plugin` (and the overrides) in the
    /// foreground and asserts the contract's startup failure.
    private func assertStartFails(
        plugin: String, listen: String = "websocket://127.0.0.1:0", extra: [String] = [], naming offending: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let runDirectory = try GatewaydProcess.makeTemporaryDirectory(prefix: "run-", in: scratch)
        let arguments = [
            "start", "--run-dir", runDirectory, "--plugin", plugin, "--listen", listen,
            "--register", "127.0.0.1:0", "--start-port", "0", "--gateway-count", "1", "--worker-count", "1",
        ] + extra
        try assertFailsWithOneErrorLine(arguments, naming: offending, file: file, line: line)
        let leftovers = { ProcessTable.pids(commandLineContaining: runDirectory) }
        XCTAssertTrue(
            GatewaydProcess.poll(until: { leftovers().isEmpty }, timeout: .seconds(3)),
            "processes left after a failed start: \(leftovers().map(ProcessTable.describe))", file: file, line: line)
    }

    /// Compiles `source` into `<scratch>/<name>.so` with the repository's include directory.
    private func compilePlugin(named name: String, source: String) throws -> String {
        let sourcePath = "\(scratch!)/\(name).c"
        let output = "\(scratch!)/\(name).so"
        try Data(source.utf8).write(to: URL(fileURLWithPath: sourcePath))
        let include = GatewaydProcess.repositoryRoot.appendingPathComponent("include").path
        let result = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["cc", "-shared", "-fPIC", "-std=c99", "-I", include, "-o", output, sourcePath], timeout: .seconds(60))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("cc failed: \(result)") }
        return output
    }

    /// A listening TCP socket on 127.0.0.1 (without SO_REUSEPORT, so nobody can share it).
    private func listenOnFreePort() throws -> (socket: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw GatewaydFixtureError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            _ = Glibc.close(fd)
            throw GatewaydFixtureError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var actual = sockaddr_in()
        var actualLength = length
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// The value of a `name: value` (or `name value`, `name=value`) line.
    private func field(_ name: String, in output: String) -> String? {
        for line in output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix(name), let next = trimmed.dropFirst(name.count).first,
                  next == ":" || next == "=" || next == " " || next == "\t"
            else { continue }
            return trimmed.dropFirst(name.count).trimmingCharacters(in: CharacterSet(charactersIn: ":= \t"))
        }
        return nil
    }
}

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The plugin kit: `plugin new` projects that build outside the repository and serve a chat,
/// `plugin header` and its `--cflags`, `plugin build` refusing what `plugin check` refuses, the
/// Swift compiler stamp, and the header and gatewayd.pc that scripts/install.sh installs.
final class PluginKitTests: XCTestCase {
    private var scratch: String!
    private var cluster: GatewaydProcess?

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-kit-")
    }

    override func tearDownWithError() throws {
        cluster?.killLeftovers()
        if let scratch {
            for pid in ProcessTable.pids(commandLineContaining: scratch) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try super.tearDownWithError()
    }

    // MARK: - plugin new

    func testANewCPluginBuildsChecksAndServesAChat() throws {
        let project = "\(scratch!)/projects/room-1"
        let created = try GatewaydProcess.run(["plugin", "new", "c", "room-1", project], timeout: .seconds(30))
        XCTAssertEqual(created.exitCode, 0, "\(created)")
        for file in ["room-1.c", "index.html", "README.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(project)/\(file)"), "\(file) missing: \(created)")
        }
        let plugin = "\(scratch!)/room.so"
        let built = try GatewaydProcess.run(["plugin", "build", project, "-o", plugin], timeout: .seconds(120))
        XCTAssertEqual(built.exitCode, 0, "\(built)")
        XCTAssertTrue(built.stdout.contains("(room-1 0.1.0, plugin ABI 1.2)"), "\(built)")
        try assertServesTheChat(plugin: plugin, greeting: "room-1 0.1.0")
    }

    /// The Swift template against this package by path, as a plugin author outside the
    /// repository builds it: a release `swift build` of a fresh package (minutes).
    func testANewSwiftPluginBuildsAgainstThisPackageByPathAndServesAChat() throws {
        let project = "\(scratch!)/swift-room"
        let root = GatewaydProcess.repositoryRoot.standardizedFileURL.path
        let created = try GatewaydProcess.run(
            ["plugin", "new", "swift", "swift-room", project, "--gatewayd-package", root], timeout: .seconds(30))
        XCTAssertEqual(created.exitCode, 0, "\(created)")
        let manifest = GatewaydProcess.readText("\(project)/Package.swift")
        XCTAssertTrue(manifest.contains(".package(name: \"gatewayd\", path: \"\(root)\")"), manifest)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(project)/Sources/SwiftRoom/SwiftRoom.swift"))

        let plugin = "\(scratch!)/swift-room.so"
        let built = try GatewaydProcess.run(["plugin", "build", project, "-o", plugin], timeout: .seconds(1800))
        XCTAssertEqual(built.exitCode, 0, "\(built)")
        XCTAssertTrue(built.stdout.contains("(swift-room 0.1.0, plugin ABI 1.2)"), "\(built)")
        let exported = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"), ["nm", "-D", "--defined-only", plugin], timeout: .seconds(30))
        let symbols = exported.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        XCTAssertEqual(symbols.sorted(), ["gwd_plugin_entry_v1", "gwd_swift_compiler"], "\(exported)")
        try assertServesTheChat(plugin: plugin, greeting: "swift-room 0.1.0")
    }

    /// Without --gatewayd-package, a gatewayd run from its checkout points at that checkout.
    func testASwiftProjectDefaultsToTheCheckoutThatBuiltGatewayd() throws {
        let project = "\(scratch!)/defaulted"
        let created = try GatewaydProcess.run(["plugin", "new", "swift", "defaulted", project], timeout: .seconds(30))
        XCTAssertEqual(created.exitCode, 0, "\(created)")
        let manifest = GatewaydProcess.readText("\(project)/Package.swift")
        let binary = try GatewaydProcess.binaryURL().resolvingSymlinksInPath().path
        guard let checkout = binary.range(of: "/.build/").map({ String(binary[..<$0.lowerBound]) }) else {
            return XCTFail("the tests' gatewayd is not in a .build folder: \(binary)")
        }
        XCTAssertTrue(manifest.contains(".package(name: \"gatewayd\", path: \"\(checkout)\")"), manifest)
        XCTAssertTrue(manifest.contains("//   .package(url: "), "the URL form is there to switch to: \(manifest)")
    }

    func testPluginNewRefusesBadInputWithOneLine() throws {
        let occupied = "\(scratch!)/occupied"
        try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: true)
        try "x".write(toFile: "\(occupied)/keep.txt", atomically: true, encoding: .utf8)
        try assertFailsWithOneErrorLine(["plugin", "new", "c", "chat", occupied], naming: occupied)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: occupied), ["keep.txt"])
        for name in ["9lives", "a/b", "", "chat room", String(repeating: "x", count: 65)] {
            try assertFailsWithOneErrorLine(["plugin", "new", "c", name, "\(scratch!)/n"], naming: "'\(name)'")
        }
        try assertFailsWithOneErrorLine(["plugin", "new", "rust", "chat", "\(scratch!)/r"], naming: "'rust'")
        try assertFailsWithOneErrorLine(
            ["plugin", "new", "c", "chat", "\(scratch!)/c", "--gatewayd-package", scratch!], naming: "--gatewayd-package")
        try assertFailsWithOneErrorLine(
            ["plugin", "new", "swift", "chat", "\(scratch!)/s", "--gatewayd-package", scratch!], naming: scratch!)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(scratch!)/n"), "nothing written for a refused name")
    }

    // MARK: - plugin header

    func testPluginHeaderPrintsTheABIAndTheFlagsPluginBuildUses() throws {
        let header = try GatewaydProcess.run(["plugin", "header"], timeout: .seconds(30))
        XCTAssertEqual(header.exitCode, 0, "\(header)")
        let checkedIn = GatewaydProcess.readText(GatewaydProcess.repositoryRoot.appendingPathComponent("include/gatewayd.h").path)
        XCTAssertEqual(header.stdout, checkedIn)

        let flags = try cflags(of: GatewaydProcess.binaryURL())
        XCTAssertTrue(flags.contains("-fvisibility=hidden") && flags.contains("-shared"), "\(flags)")
        let include = try XCTUnwrap(flags.first { $0.hasPrefix("-I") }?.dropFirst(2), "\(flags)")
        XCTAssertEqual(GatewaydProcess.readText("\(include)/gatewayd.h"), checkedIn, "the -I folder holds this header")

        // `cc $(gatewayd plugin header --cflags)` builds what plugin build would.
        let plugin = "\(scratch!)/hello.so"
        let hello = GatewaydProcess.repositoryRoot.appendingPathComponent("plugins/hello-c/hello.c").path
        let compiled = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"), ["cc"] + flags + [hello, "-o", plugin], timeout: .seconds(60))
        XCTAssertEqual(compiled.exitCode, 0, "\(compiled)")
        let checked = try GatewaydProcess.run(["plugin", "check", plugin], timeout: .seconds(60))
        XCTAssertTrue(checked.stdout.contains("name hello-c"), "\(checked)")
    }

    // MARK: - plugin build checks

    func testPluginBuildFailsWithCheckReasonAndKeepsTheOldFile() throws {
        let source = "\(scratch!)/no-entry.c"
        try "int not_a_plugin(void) { return 1; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        let output = "\(scratch!)/live.so"
        try "the plugin that runs".write(toFile: output, atomically: true, encoding: .utf8)

        let failed = try GatewaydProcess.run(["plugin", "build", source, "-o", output], timeout: .seconds(60))
        XCTAssertNotEqual(failed.exitCode, 0, "\(failed)")
        XCTAssertEqual(failed.errorLines.count, 1, "\(failed)")
        let line = failed.errorLines.first ?? ""
        XCTAssertTrue(line.contains(output) && line.contains("gwd_plugin_entry_v1"), "names OUT and check's reason: \(failed)")
        XCTAssertFalse(line.contains(".building-"), "the staging name stays internal: \(failed)")
        XCTAssertEqual(GatewaydProcess.readText(output), "the plugin that runs", "OUT untouched")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["live.so", "no-entry.c"])

        let unchecked = try GatewaydProcess.run(["plugin", "build", "--no-check", source, "-o", output], timeout: .seconds(60))
        XCTAssertEqual(unchecked.exitCode, 0, "\(unchecked)")
        XCTAssertNotEqual(GatewaydProcess.readText(output), "the plugin that runs")
    }

    // MARK: - The Swift compiler stamp

    /// A plugin naming another Swift compiler is refused by check, build and start, with both
    /// versions; one linked to the Swift runtime that names none is refused too. (C stands in
    /// for Swift: the host reads only the stamp and the libraries the plugin links.)
    func testSwiftPluginsOfAnotherCompilerAreRefusedNamingBothVersions() throws {
        let host = try hostSwiftCompiler()
        let stamped = try compile(
            "stamped", Self.validPlugin + "GWD_EXPORT const char gwd_swift_compiler[] = \"5.9\";\n")
        let check = try GatewaydProcess.run(["plugin", "check", stamped], timeout: .seconds(60))
        XCTAssertNotEqual(check.exitCode, 0, "\(check)")
        let reason = check.errorLines.first ?? ""
        XCTAssertTrue(
            reason.contains(stamped) && reason.contains("Swift 5.9") && reason.contains("Swift \(host)"),
            "names the plugin and both compilers: \(check)")
        try assertStartFails(plugin: stamped, naming: "Swift 5.9")

        let matching = try compile(
            "matching", Self.validPlugin + "GWD_EXPORT const char gwd_swift_compiler[] = \"\(host)\";\n")
        let accepted = try GatewaydProcess.run(["plugin", "check", matching], timeout: .seconds(60))
        XCTAssertEqual(accepted.exitCode, 0, "\(accepted)")

        let runtime = try swiftRuntimeDirectory()
        let unnamed = try compile("unnamed", Self.validPlugin, extra: ["-L", runtime, "-Wl,-rpath,\(runtime)", "-Wl,--no-as-needed", "-lswiftCore"])
        let refused = try GatewaydProcess.run(["plugin", "check", unnamed], timeout: .seconds(60))
        XCTAssertNotEqual(refused.exitCode, 0, "\(refused)")
        XCTAssertTrue(refused.errorLines.first?.contains("gwd_swift_compiler") ?? false, "\(refused)")
        XCTAssertTrue(refused.errorLines.first?.contains("Swift \(host)") ?? false, "\(refused)")
    }

    // MARK: - Installed header and pkg-config

    func testInstallPutsTheHeaderAndAPkgConfigFileUnderThePrefix() throws {
        let prefix = "\(scratch!)/prefix"
        let install = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["bash", GatewaydProcess.repositoryRoot.appendingPathComponent("scripts/install.sh").path,
             "--binary", try GatewaydProcess.binaryURL().path, "--prefix", prefix],
            timeout: .seconds(300))
        XCTAssertEqual(install.exitCode, 0, "\(install)")
        let pc = GatewaydProcess.readText("\(prefix)/lib/pkgconfig/gatewayd.pc")
        XCTAssertTrue(pc.contains("prefix=\(prefix)\n"), pc)

        func pkgConfig(_ arguments: String...) throws -> CommandResult {
            try GatewaydProcess.runExecutable(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["PKG_CONFIG_PATH=\(prefix)/lib/pkgconfig", "pkg-config"] + arguments + ["gatewayd"], timeout: .seconds(30))
        }
        let version = try pkgConfig("--modversion")
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), try productVersion(), "\(version)")
        let found = try pkgConfig("--cflags")
        XCTAssertEqual(found.exitCode, 0, "\(found)")
        let words = found.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        XCTAssertEqual(words, ["-I\(prefix)/include"], "\(found)")

        // A C plugin's own build: the header through pkg-config, the rest as plugin build does.
        let plugin = "\(scratch!)/hello.so"
        let hello = GatewaydProcess.repositoryRoot.appendingPathComponent("plugins/hello-c/hello.c").path
        let compiled = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["cc"] + words + ["-std=c11", "-shared", "-fPIC", "-fvisibility=hidden", hello, "-o", plugin], timeout: .seconds(60))
        XCTAssertEqual(compiled.exitCode, 0, "\(compiled)")
        let installed = URL(fileURLWithPath: "\(prefix)/bin/gatewayd")
        let checked = try GatewaydProcess.runExecutable(installed, ["plugin", "check", plugin], timeout: .seconds(60))
        XCTAssertTrue(checked.stdout.contains("name hello-c"), "\(checked)")
        // The installed gatewayd compiles against the installed header.
        XCTAssertTrue(try cflags(of: installed).contains("-I\(prefix)/include"))
    }

    // MARK: - Helpers

    /// Starts `plugin`, greets two clients with `greeting`, and sees a `say` reach both and a
    /// plain message come back.
    private func assertServesTheChat(plugin: String, greeting: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cluster = try GatewaydProcess.start(plugin: plugin, gatewayCount: 1, workerCount: 2)
        self.cluster = cluster
        let ann = try cluster.connect()
        try ann.expectText("[\"hello\",\"\(greeting)\"]")
        let bob = try cluster.connect()
        try bob.expectText("[\"hello\",\"\(greeting)\"]")
        try ann.sendText(#"["say", "ann", "hi \"bob\""]"#)
        try ann.expectText(#"["said","ann","hi \"bob\""]"#)
        try bob.expectText(#"["said","ann","hi \"bob\""]"#)
        try bob.sendText("plain")
        try bob.expectText("plain")
        ann.close()
        bob.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [], file: file, line: line)
        self.cluster = nil
    }

    /// "0.1.0" from `gatewayd --version`'s first line.
    private func productVersion() throws -> String {
        let version = try GatewaydProcess.run(["--version"], timeout: .seconds(30))
        return String(try XCTUnwrap(version.stdout.split(separator: "\n").first).dropFirst("gatewayd ".count))
    }

    /// `gatewayd plugin header --cflags` of `binary`, split into words.
    private func cflags(of binary: URL) throws -> [String] {
        let result = try GatewaydProcess.runExecutable(binary, ["plugin", "header", "--cflags"], timeout: .seconds(30))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("plugin header --cflags failed: \(result)") }
        return result.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// "6.3" from `gatewayd --version`'s "built with Swift 6.3 (debug build)".
    private func hostSwiftCompiler() throws -> String {
        let version = try GatewaydProcess.run(["--version"], timeout: .seconds(30))
        let line = try XCTUnwrap(version.stdout.split(separator: "\n").last { $0.hasPrefix("built with Swift ") })
        return String(line.dropFirst("built with Swift ".count).prefix { $0 != " " })
    }

    /// The toolchain's libswiftCore.so folder (`swift` on PATH: <toolchain>/usr/bin/swift).
    private func swiftRuntimeDirectory() throws -> String {
        let which = try GatewaydProcess.runExecutable(URL(fileURLWithPath: "/usr/bin/env"), ["which", "swift"], timeout: .seconds(10))
        let swift = URL(fileURLWithPath: which.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).resolvingSymlinksInPath()
        let directory = swift.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lib/swift/linux").path
        guard FileManager.default.fileExists(atPath: directory + "/libswiftCore.so") else {
            throw GatewaydFixtureError("no libswiftCore.so in \(directory)")
        }
        return directory
    }

    /// Compiles a C plugin with the flags of `plugin header --cflags` (and `extra`), unchecked.
    private func compile(_ name: String, _ source: String, extra: [String] = []) throws -> String {
        let sourcePath = "\(scratch!)/\(name).c"
        let output = "\(scratch!)/\(name).so"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let result = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["cc"] + (try cflags(of: GatewaydProcess.binaryURL())) + [sourcePath, "-o", output] + extra, timeout: .seconds(60))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("cc failed: \(result)") }
        return output
    }

    private static let validPlugin = """
        #include "gatewayd.h"
        GWD_PLUGIN_API;
        static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "stamp", .version = "1" };
        GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }

        """

    private func assertStartFails(plugin: String, naming offending: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let runDirectory = try GatewaydProcess.makeTemporaryDirectory(prefix: "run-", in: scratch)
        try assertFailsWithOneErrorLine(
            GatewaydProcess.startArguments(runDirectory: runDirectory, plugin: plugin, gatewayCount: 1, workerCount: 1),
            naming: offending, file: file, line: line)
        XCTAssertTrue(
            GatewaydProcess.poll(until: { ProcessTable.pids(commandLineContaining: runDirectory).isEmpty }, timeout: .seconds(5)),
            "processes left after a refused start", file: file, line: line)
    }
}

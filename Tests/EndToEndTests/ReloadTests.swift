import Foundation
import XCTest

/// `gatewayd reload` against a real cluster (2 gateways, 2 workers): new plugin versions are
/// copied over the configured path while clients keep sending, and nothing may be lost,
/// duplicated, reordered or disconnected; a broken plugin is refused and the old one serves on.
final class ReloadTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var scratch: String!

    override func setUpWithError() throws {
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-reload-")
    }

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    /// The C conformance plugin built with `CONFORMANCE_VERSION` set to `version`.
    private func conformancePlugin(version: String) throws -> String {
        let source = GatewaydProcess.repositoryRoot.appendingPathComponent("plugins/conformance-c/conformance.c").path
        let text = try String(contentsOfFile: source, encoding: .utf8)
        let line = "#define CONFORMANCE_VERSION \"1\""
        XCTAssertTrue(text.contains(line), "the conformance source keeps its version on one line")
        let changed = "\(scratch!)/conformance-v\(version).c"
        try text.replacingOccurrences(of: line, with: "#define CONFORMANCE_VERSION \"\(version)\"")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let output = "\(scratch!)/conformance-v\(version).so"
        let result = try GatewaydProcess.run(["plugin", "build", changed, "-o", output], timeout: .seconds(120))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        return output
    }

    /// Overwrites the configured plugin in place, as `cp new.so live.so` does (same inode).
    static func overwrite(_ live: String, with plugin: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: plugin))
        guard let handle = FileHandle(forWritingAtPath: live) else { throw GatewaydFixtureError("cannot open \(live)") }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    static func reload(runDirectory: String) throws -> CommandResult {
        try GatewaydProcess.run(["reload", "--run-dir", runDirectory], timeout: .seconds(120))
    }

    func testFiveReloadsUnderLoadLoseNothingAndDisconnectNoOne() throws {
        let versions = ["2", "3", "4", "5", "6"]
        let builds = try Dictionary(uniqueKeysWithValues: (["1"] + versions).map { ($0, try conformancePlugin(version: $0)) })
        let live = "\(scratch!)/live.so"
        try FileManager.default.copyItem(atPath: builds["1"]!, toPath: live)
        let cluster = try GatewaydProcess.start(plugin: live, gatewayCount: 2, workerCount: 2)
        self.cluster = cluster

        let clients = try (0..<50).map { _ in try cluster.connect() }
        // Reloads run beside the traffic, each after copying the next version over live.so.
        let reloads = LockedValue<[CommandResult]>([])
        let runDirectory = cluster.runDirectory
        let reloader = Thread {
            for version in versions {
                do {
                    try Self.overwrite(live, with: builds[version]!)
                    let result = try Self.reload(runDirectory: runDirectory)
                    reloads.withLock { $0.append(result) }
                } catch {
                    reloads.withLock {
                        $0.append(CommandResult(arguments: ["reload"], exitCode: -1, stdout: "", stderr: "\(error)"))
                    }
                }
            }
        }
        reloader.start()

        // Every client keeps one sequence-numbered echo in flight; each answer must be the very
        // next number for that client: nothing lost, duplicated or out of order.
        var sequence = 0
        let deadline = Date().addingTimeInterval(120)
        while reloads.withLock({ $0.count }) < versions.count || sequence < 20 {
            XCTAssertLessThan(Date(), deadline, "the reloads did not finish in time")
            if Date() > deadline { break }
            sequence += 1
            for (index, client) in clients.enumerated() { try client.sendText("echo:\(index):\(sequence)") }
            for (index, client) in clients.enumerated() {
                XCTAssertEqual(try client.receive(timeout: .seconds(30)), .text("echo:\(index):\(sequence)"))
            }
        }

        for result in reloads.withLock({ $0 }) {
            XCTAssertEqual(result.exitCode, 0, "\(result)")
            XCTAssertTrue(result.stdout.contains("2 workers replaced, 0 killed"), "\(result)")
        }
        // The newest version answers, on every worker.
        for client in clients.prefix(8) {
            try client.sendText("ver:")
            let answer = try client.receiveText()
            XCTAssertTrue(answer.hasPrefix("ver:6:"), answer)
        }
        let status = try cluster.status()
        XCTAssertEqual(status.processes(role: "worker").count, 2, "the old generations are gone")
        for client in clients { client.close() }
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// A C plugin from `body` (which must define `plugin` and the entry), built in the scratch dir
    /// without `plugin check` (these are meant to be refused).
    private func customPlugin(_ name: String, _ body: String) throws -> String {
        let source = "\(scratch!)/\(name).c"
        try ("#include \"gatewayd.h\"\n" + body).write(toFile: source, atomically: true, encoding: .utf8)
        let output = "\(scratch!)/\(name).so"
        let result = try GatewaydProcess.run(["plugin", "build", "--no-check", source, "-o", output], timeout: .seconds(120))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        return output
    }

    /// Each broken plugin is refused by the canary with its reason; the old version keeps
    /// answering and nobody is disconnected.
    func testPluginsThatCannotStartAreRefused() throws {
        let live = "\(scratch!)/live.so"
        try FileManager.default.copyItem(atPath: try conformancePlugin(version: "1"), toPath: live)
        let cluster = try GatewaydProcess.start(plugin: live, gatewayCount: 2, workerCount: 2)
        self.cluster = cluster
        let client = try cluster.connect()

        let abiTwo = try customPlugin(
            "abi2",
            """
            static const gwd_plugin plugin = { .struct_size = sizeof(gwd_plugin), .abi_major = 2, .abi_minor = 0,
                .name = "future", .version = "9" };
            GWD_EXPORT int32_t gwd_plugin_entry_v1(const gwd_host_api *api, const gwd_plugin **out, char *e, size_t n) {
                (void)api; (void)e; (void)n; *out = &plugin; return GWD_OK;
            }
            """)
        let failingStart = try customPlugin(
            "failing-start",
            """
            static int32_t start(gwd_ctx *ctx) { (void)ctx; return GWD_ERR_FAILED; }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "failing", .version = "1",
                .on_worker_start = start };
            GWD_EXPORT int32_t gwd_plugin_entry_v1(const gwd_host_api *api, const gwd_plugin **out, char *e, size_t n) {
                (void)api; (void)e; (void)n; *out = &plugin; return GWD_OK;
            }
            """)
        for (plugin, reason) in [(abiTwo, "ABI 2.0"), (failingStart, "on_worker_start failed")] {
            try Self.overwrite(live, with: plugin)
            let refused = try Self.reload(runDirectory: cluster.runDirectory)
            XCTAssertNotEqual(refused.exitCode, 0, "\(refused)")
            XCTAssertEqual(refused.errorLines.count, 1, "\(refused)")
            XCTAssertTrue(refused.errorLines.first?.contains(reason) ?? false, "\(refused)")
            try client.sendText("ver:")
            XCTAssertTrue(try client.receiveText().hasPrefix("ver:1:"))
        }
        XCTAssertEqual(try cluster.status().processes(role: "worker").count, 2)
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    func testABrokenPluginIsRefusedAndTheOldOneKeepsServing() throws {
        let live = "\(scratch!)/live.so"
        try FileManager.default.copyItem(atPath: try conformancePlugin(version: "1"), toPath: live)
        let cluster = try GatewaydProcess.start(plugin: live, gatewayCount: 2, workerCount: 2)
        self.cluster = cluster
        let client = try cluster.connect()

        // No entry symbol: a plain shared object.
        let broken = "\(scratch!)/broken.c"
        try "int not_a_plugin(void) { return 1; }\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let brokenSO = "\(scratch!)/broken.so"
        XCTAssertEqual(try GatewaydProcess.run(["plugin", "build", "--no-check", broken, "-o", brokenSO]).exitCode, 0)
        try Self.overwrite(live, with: brokenSO)

        let refused = try Self.reload(runDirectory: cluster.runDirectory)
        XCTAssertNotEqual(refused.exitCode, 0, "\(refused)")
        XCTAssertEqual(refused.errorLines.count, 1, "\(refused)")
        XCTAssertTrue(refused.errorLines.first?.contains("gwd_plugin_entry_v1") ?? false, "\(refused)")

        // Still connected, still the old version.
        try client.sendText("ver:")
        XCTAssertTrue(try client.receiveText().hasPrefix("ver:1:"))
        let status = try cluster.status()
        XCTAssertEqual(status.processes(role: "worker").count, 2)
        client.close()
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }
}

import Foundation
import XCTest

/// A worker whose plugin crashes dies at once, with one log line naming the signal, the
/// callback that was running and its client — not after the Swift runtime's backtrace, which
/// took 2.6 s while every event routed to the worker waited for nothing (issue 15).
final class CrashReportTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// The cluster's log once it holds a crash line, and that line (the first).
    private func waitForCrashLine(in cluster: GatewaydProcess, timeout: Duration = .seconds(10)) -> (log: String, line: String) {
        var log = ""
        XCTAssertTrue(
            GatewaydProcess.poll(until: { log = cluster.stderrTail(20000); return log.contains("fatal SIGSEGV") }, timeout: timeout),
            "no crash line:\n\(log)")
        return (log, String(log.split(separator: "\n").first { $0.contains("fatal SIGSEGV") } ?? ""))
    }

    func testACrashingWorkerDiesAtOnceWithOneLineNamingTheCallbackAndTheClient() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("id:")
        let clientID = String(try client.receiveText().dropFirst(3))
        try client.sendText("ver:")
        let version = try client.receiveText()
        let worker = try XCTUnwrap(Int32(version.split(separator: ":").last ?? ""), "ver: answered \"\(version)\"")

        let sent = ContinuousClock.now
        try client.sendText("crash:")
        XCTAssertTrue(
            GatewaydProcess.poll(until: { ProcessTable.isGone(worker) }, timeout: .seconds(10), interval: .milliseconds(2)),
            "worker \(worker) still runs after crash:")
        let died = ContinuousClock.now - sent
        // The handler itself takes microseconds; the bound leaves room for a loaded CI machine.
        XCTAssertLessThan(died, .milliseconds(500), "the worker took \(died) to die")

        let (log, line) = waitForCrashLine(in: cluster, timeout: .seconds(5))
        let lines = log.split(separator: "\n").filter { $0.contains("fatal SIGSEGV") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(line.contains(" ERROR   gatewayd.worker[\(worker)] "), line)
        XCTAssertTrue(line.contains("in the plugin's on_message"), line)
        XCTAssertTrue(line.contains("gw.callback=on_message gw.client_id=\(clientID) gw.index=0 gw.signal=SIGSEGV"), line)
        XCTAssertFalse(log.contains("Program crashed"), "the runtime's backtracer ran:\n\(log)")

        // Replaced, and the client still served.
        XCTAssertTrue(
            try GatewaydProcess.poll(
                until: {
                    let workers = try cluster.status().processes(role: "worker").map(\.pid)
                    return workers.count == 1 && !workers.contains(worker)
                }, timeout: .seconds(30), interval: .milliseconds(50)))
        try client.sendText("ver:")
        XCTAssertNotEqual(try client.receiveText(timeout: .seconds(10)), version)
        client.close()
        try cluster.stop()
    }

    /// With `log_format: json` the crash line (written by the C handler) is a JSON object too.
    func testTheCrashLineIsJSONWhenTheLogIs() throws {
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--log-format", "json"])
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("id:")
        let clientID = String(try client.receiveText().dropFirst(3))
        try client.sendText("crash:")
        let line = waitForCrashLine(in: cluster).line
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        XCTAssertEqual(object["level"] as? String, "error")
        XCTAssertEqual(object["role"] as? String, "worker")
        XCTAssertNotNil(object["pid"] as? Int)
        XCTAssertEqual(object["message"] as? String, "fatal SIGSEGV at address 0x0 in the plugin's on_message; the process exits now")
        XCTAssertEqual(
            object["metadata"] as? [String: String],
            ["gw.callback": "on_message", "gw.client_id": clientID, "gw.index": "0", "gw.signal": "SIGSEGV"])
        client.close()
        try cluster.stop()
    }

    /// A crash on a thread the plugin started is not blamed on the callback the plugin thread
    /// runs meanwhile (here on_message, sleeping while its thread dies).
    func testACrashOnAPluginsOwnThreadIsNotBlamedOnTheRunningCallback() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-crash-thread-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = """
            #define _POSIX_C_SOURCE 200809L
            #include <gatewayd.h>
            #include <pthread.h>
            #include <time.h>
            GWD_PLUGIN_API;
            static void *crash(void *unused) {
                (void)unused;
                volatile int *volatile target = 0;
                *target = 1;
                return 0;
            }
            static void on_message(gwd_ctx *ctx, const char *client_id, const char *data, size_t len, uint32_t flags) {
                (void)ctx; (void)client_id; (void)data; (void)len; (void)flags;
                pthread_t thread;
                pthread_create(&thread, 0, crash, 0);
                struct timespec wait = {2, 0};
                nanosleep(&wait, 0);
            }
            static const gwd_plugin plugin = {GWD_PLUGIN_HEADER, .name = "crash-thread", .version = "1", .on_message = on_message};
            GWD_PLUGIN_ENTRY(api, out, err, err_len) {
                GWD_PLUGIN_INIT(api, err, err_len);
                *out = &plugin;
                return GWD_OK;
            }
            """
        try Data(source.utf8).write(to: URL(fileURLWithPath: "\(directory)/crash-thread.c"))
        let include = GatewaydProcess.repositoryRoot.appendingPathComponent("include").path
        let compiled = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["cc", "-shared", "-fPIC", "-std=c99", "-pthread", "-I", include, "-o", "\(directory)/crash-thread.so", "\(directory)/crash-thread.c"],
            timeout: .seconds(60))
        XCTAssertEqual(compiled.exitCode, 0, "\(compiled)")
        let cluster = try GatewaydProcess.start(plugin: "\(directory)/crash-thread.so", gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("go")
        let line = waitForCrashLine(in: cluster).line
        XCTAssertTrue(line.contains("in a thread the plugin started"), line)
        XCTAssertFalse(line.contains("gw.callback="), line)
        XCTAssertFalse(line.contains("gw.client_id="), line)
        client.close()
        try cluster.stop()
    }
}

import Foundation
import XCTest

/// A plugin that dies at start puts its worker in a crash loop: the master backs off
/// exponentially, says so in the log and in status, and never spins; the gateway and its
/// clients are untouched.
final class CrashLoopTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    func testAWorkerDyingAtStartBacksOffAndIsReported() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-crashloop-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = "\(directory)/crash-now"
        // Starts normally; once `marker` exists, every on_worker_start segfaults, and
        // `crash-on-next-start` on a message makes the running worker exit to get there.
        let source = "\(directory)/flaky.c"
        try """
            #include "gatewayd.h"
            #include <stdlib.h>
            #include <string.h>
            #include <unistd.h>
            GWD_PLUGIN_API;
            static int32_t start(gwd_ctx *ctx) {
                (void)ctx;
                if (access("\(marker)", F_OK) == 0) { volatile int *volatile p = 0; *p = 1; }
                return GWD_OK;
            }
            static void message(gwd_ctx *ctx, const char *id, const void *data, size_t len, uint32_t kind) {
                (void)id; (void)kind;
                gwd_api->send_to_current_client(ctx, data, len, 0);
                if (len == 5 && memcmp(data, "crash", 5) == 0) _exit(3);  /* leave; die at every start from now on */
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "flaky", .version = "1",
                .on_worker_start = start, .on_message = message };
            GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let plugin = "\(directory)/flaky.so"
        XCTAssertEqual(try GatewaydProcess.run(["plugin", "build", source, "-o", plugin]).exitCode, 0)

        let cluster = try GatewaydProcess.start(plugin: plugin, gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let client = try cluster.connect()
        try client.sendText("hello")
        try client.expectText("hello")
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
        try client.sendText("crash")  // the worker exits mid-callback: this echo is the one event lost

        // The master announces each restart's delay ("restarting worker 0 in …", then, once it
        // names the crash loop, "… next start in …"): they must double (0.1, 0.2, 0.4, 0.8 s).
        func announcedDelays() -> [String] {
            cluster.stderrTail(200_000).split(separator: "\n").compactMap { line in
                guard line.contains("worker 0") else { return nil }
                guard let range = line.range(of: "restarting worker 0 in ") ?? line.range(of: "next start in ") else {
                    return nil
                }
                return String(line[range.upperBound...])
            }
        }
        XCTAssertTrue(
            GatewaydProcess.poll(until: { announcedDelays().count >= 4 }, timeout: .seconds(15)),
            "fewer than 4 restarts:\n\(cluster.stderrTail())")
        XCTAssertEqual(Array(announcedDelays().prefix(4)), ["100 ms", "200 ms", "400 ms", "800 ms"])
        XCTAssertTrue(cluster.stderrTail(200_000).contains("worker 0 is crash-looping"), cluster.stderrTail())
        let worker = try XCTUnwrap(try cluster.status().processes(role: "worker").first)
        XCTAssertNotNil(worker.details?["crash_loop"], "status says so: \(String(describing: worker.details))")
        XCTAssertGreaterThanOrEqual(try cluster.status().exits?["worker"] ?? 0, 4)

        // The gateway and its client are untouched.
        try client.sendPing([1])
        XCTAssertEqual(try cluster.status().processes(role: "gateway").count, 1)
        client.close()
        try FileManager.default.removeItem(atPath: marker)
        try cluster.stop()
    }
}

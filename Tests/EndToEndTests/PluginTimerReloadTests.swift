import Foundation
import XCTest

/// Plugins that act on their own (ABI 1.2), end to end on 2 gateways and 2 workers: a ticker
/// that worker 0 adds in on_worker_start keeps ticking across five reloads under load, and a
/// callback's query sees what the same callback sent before it.
final class PluginTimerReloadTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var scratch: String!

    override func setUpWithError() throws {
        scratch = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-timers-")
    }

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    /// Builds `source` with `gatewayd plugin build`, with `VERSION` defined as `version`.
    private func build(_ name: String, _ source: String, version: String = "1") throws -> String {
        let path = "\(scratch!)/\(name)-v\(version).c"
        try "#define _POSIX_C_SOURCE 200809L\n#define VERSION \"\(version)\"\n#include \"gatewayd.h\"\n\(source)".write(toFile: path, atomically: true, encoding: .utf8)
        let output = "\(scratch!)/\(name)-v\(version).so"
        let result = try GatewaydProcess.run(["plugin", "build", path, "-o", output], timeout: .seconds(120))
        XCTAssertEqual(result.exitCode, 0, "\(result)")
        return output
    }

    /// Worker 0 ticks every 100 ms to group "ticker" (`tick:<pid>:<n>:<CLOCK_MONOTONIC ns>`); `join` joins the
    /// group; anything else is echoed.
    private static let tickerSource = #"""
        #include <stdio.h>
        #include <time.h>
        GWD_PLUGIN_API;
        static unsigned long long ticks;
        static int32_t pid, index_;
        static void tick(gwd_ctx *ctx, uint64_t id, void *data) {
            char text[96];
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);  /* when it fired, free of delivery jitter */
            int n = snprintf(text, sizeof text, "tick:%d:%llu:%lld", (int)pid, ++ticks,
                             (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
            gwd_api->send_to_group(ctx, "ticker", 6, text, (size_t)n, 0, NULL, 0);
            (void)id; (void)data;
        }
        static int32_t on_start(gwd_ctx *ctx) {
            gwd_api->worker_info(ctx, &pid, &index_);
            return index_ == 0 ? gwd_api->timer_add(ctx, 100, GWD_TIMER_REPEAT, tick, NULL, NULL) : GWD_OK;
        }
        static void on_message(gwd_ctx *ctx, const char *client, const void *data, size_t len, uint32_t kind) {
            if (len == 4 && __builtin_memcmp(data, "join", 4) == 0) {
                gwd_api->join_group(ctx, client, "ticker", 6);
                gwd_api->send_to_current_client(ctx, "joined", 6, 0);
            } else {
                gwd_api->send_to_current_client(ctx, data, len, GWD_SEND_AS_RECEIVED);
            }
            (void)kind;
        }
        static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "ticker", .version = VERSION,
                                           .on_worker_start = on_start, .on_message = on_message };
        GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
        """#

    func testATickerKeepsTickingAcrossFiveReloadsUnderLoad() throws {
        let versions = ["2", "3", "4", "5", "6"]
        let builds = try Dictionary(uniqueKeysWithValues: (["1"] + versions).map { ($0, try build("ticker", Self.tickerSource, version: $0)) })
        let live = "\(scratch!)/live.so"
        try FileManager.default.copyItem(atPath: builds["1"]!, toPath: live)
        let cluster = try GatewaydProcess.start(plugin: live, gatewayCount: 2, workerCount: 2)
        self.cluster = cluster

        let observer = try cluster.connect()
        try observer.sendText("join")
        try observer.expectText("joined")
        // The observer's own thread records every tick as it arrives.
        let ticks = LockedValue<[(pid: Int, number: Int, at: Int64)]>([])
        let stopObserving = LockedValue(false)
        let observed = LockedValue(observer)  // the observer thread alone reads it until it ends
        let observing = Thread {
            while !stopObserving.withLock({ $0 }) {
                guard let text = try? observed.withLock({ try $0.receiveText(timeout: .milliseconds(500)) }) else { continue }
                let parts = text.split(separator: ":")
                guard parts.count == 4, parts[0] == "tick", let pid = Int(parts[1]), let number = Int(parts[2]),
                    let firedAt = Int64(parts[3])
                else { continue }
                ticks.withLock { $0.append((pid, number, firedAt)) }
            }
        }
        observing.start()

        let reloads = LockedValue<[CommandResult]>([])
        let runDirectory = cluster.runDirectory
        let reloader = Thread {
            for version in versions {
                usleep(600_000)  // every generation ticks a few times before the next reload
                do {
                    try ReloadTests.overwrite(live, with: builds[version]!)
                    reloads.withLock { $0.append((try? ReloadTests.reload(runDirectory: runDirectory)) ?? CommandResult(arguments: [], exitCode: -1, stdout: "", stderr: "reload failed to run")) }
                } catch {
                    reloads.withLock { $0.append(CommandResult(arguments: ["reload"], exitCode: -1, stdout: "", stderr: "\(error)")) }
                }
            }
        }
        reloader.start()

        // Load beside the reloads: sequence-numbered echoes, each the very next for its client.
        let clients = try (0..<20).map { _ in try cluster.connect() }
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
        // One more second of ticks from the last generation.
        let settled = ContinuousClock.now
        while ContinuousClock.now - settled < .seconds(1) { usleep(50_000) }
        stopObserving.withLock { $0 = true }
        while observing.isExecuting { usleep(10_000) }

        for result in reloads.withLock({ $0 }) {
            XCTAssertEqual(result.exitCode, 0, "\(result)")
        }
        let recorded = ticks.withLock { $0 }
        let pids = recorded.map(\.pid).reduce(into: [Int]()) { if $0.last != $1 && !$0.contains($1) { $0.append($1) } }
        XCTAssertEqual(pids.count, versions.count + 1, "one ticking worker 0 per generation: \(pids)")
        // Within a worker: every tick, in order.
        for pid in pids {
            let numbers = recorded.filter { $0.pid == pid }.map(\.number)
            XCTAssertTrue(zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 }, "worker \(pid) lost or reordered ticks: \(numbers)")
        }
        // No gap longer than two intervals, and at most one tick of the old generation after
        // the new one's first.
        // Gaps between firings (the plugin's clock), in the order they were fired.
        let fired = recorded.sorted { $0.at < $1.at }
        let longest = zip(fired, fired.dropFirst()).map { ($1.at - $0.at) / 1_000_000 }.max() ?? 0
        let timeline = fired.map { "\($0.pid):\($0.number)@\(($0.at - fired[0].at) / 1_000_000)ms" }
        XCTAssertLessThanOrEqual(longest, 200, "longest gap between ticks: \(longest) ms; \(timeline)")
        for (old, new) in zip(pids, pids.dropFirst()) {
            guard let firstNew = fired.firstIndex(where: { $0.pid == new }) else { continue }
            let late = fired[firstNew...].filter { $0.pid == old }.count
            XCTAssertLessThanOrEqual(late, 1, "worker \(old) ticked \(late) times after its successor \(new) began")
        }
        print("ticker across \(versions.count) reloads: \(recorded.count) ticks, longest gap \(longest) ms")

        observer.close()
        for client in clients { client.close() }
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }

    /// A callback that sends, binds a uid and then asks for that uid's clients finds its own
    /// client there: the query travels behind the bind, on the same connection to its gateway.
    /// (Before ABI 1.2 the query went on a second connection, which the gateway could read first —
    /// likely with a large send ahead of the bind.)
    func testAQueryAfterABindInTheSameCallbackSeesTheBind() throws {
        let plugin = try build(
            "bind-then-ask",
            #"""
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            GWD_PLUGIN_API;
            static char big[512 * 1024];
            static void on_message(gwd_ctx *ctx, const char *client, const void *data, size_t len, uint32_t kind) {
                char uid[64], reply[96];
                snprintf(uid, sizeof uid, "%.*s", (int)len, (const char *)data);
                memset(big, 'x', sizeof big);
                gwd_api->send_to_current_client(ctx, big, sizeof big, 0);
                gwd_api->bind_uid(ctx, client, uid, strlen(uid));
                gwd_list *ids = NULL;
                int status = gwd_api->get_client_id_by_uid(ctx, uid, strlen(uid), &ids);
                int seen = 0;
                for (size_t i = 0; ids && i < ids->count; i++) seen |= strcmp(ids->items[i].data, client) == 0;
                gwd_api->free(ids);
                int n = snprintf(reply, sizeof reply, "seen:%d:%d", status, seen);
                gwd_api->send_to_current_client(ctx, reply, (size_t)n, 0);
                (void)kind;
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "bind-then-ask", .version = VERSION,
                                               .on_message = on_message };
            GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
            """#)
        let cluster = try GatewaydProcess.start(plugin: plugin, gatewayCount: 2, workerCount: 2)
        self.cluster = cluster
        let clients = try (0..<8).map { _ in try cluster.connect() }
        for round in 0..<10 {
            for (index, client) in clients.enumerated() { try client.sendText("user-\(round)-\(index)") }
            for client in clients {
                XCTAssertEqual(try client.receive(timeout: .seconds(30)), .text(String(repeating: "x", count: 512 * 1024)))
                XCTAssertEqual(try client.receiveText(timeout: .seconds(30)), "seen:0:1")
            }
        }
        for client in clients { client.close() }
        try cluster.stop()
        XCTAssertEqual(cluster.leftoverPIDs(), [])
    }
}

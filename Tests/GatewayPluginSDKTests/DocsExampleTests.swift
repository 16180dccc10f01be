import CGatewayABI
import Foundation
import XCTest

/// docs/plugin-abi.md's C example of a timer and a consumer thread compiles warning-free and
/// does what the text says, against the fake host.
final class DocsExampleTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
    }

    /// The first C block after the "Timers and work from other threads" heading.
    static func timersExample() throws -> String {
        let doc = try String(contentsOf: PluginBuilds.repositoryRoot.appendingPathComponent("docs/plugin-abi.md"), encoding: .utf8)
        let section = try XCTUnwrap(doc.range(of: "## Timers and work from other threads"))
        let start = try XCTUnwrap(doc.range(of: "```c\n", range: section.upperBound..<doc.endIndex))
        let end = try XCTUnwrap(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        return String(doc[start.upperBound..<end.lowerBound])
    }

    /// What the text says surrounds the block: the includes, `gwd_api`, and a queue whose
    /// `next_job()` gives one job, then blocks until `stop_jobs()`.
    static let prelude = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include "gatewayd.h"

        GWD_PLUGIN_API;

        static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
        static pthread_cond_t jobs_wake = PTHREAD_COND_INITIALIZER;
        static int jobs_given, jobs_stopped;

        static char *next_job(void) {
            char *job = NULL;
            pthread_mutex_lock(&jobs_lock);
            if (!jobs_given) {
                jobs_given = 1;
                job = strdup("job:1");
            } else {
                while (!jobs_stopped) pthread_cond_wait(&jobs_wake, &jobs_lock);
            }
            pthread_mutex_unlock(&jobs_lock);
            return job;
        }

        static void stop_jobs(void) {
            pthread_mutex_lock(&jobs_lock);
            jobs_stopped = 1;
            pthread_cond_broadcast(&jobs_wake);
            pthread_mutex_unlock(&jobs_lock);
        }

        """#

    static let epilogue = #"""

        static const gwd_plugin example = {
            GWD_PLUGIN_HEADER, .name = "timers-example", .version = "1",
            .on_worker_start = on_worker_start, .on_worker_stop = on_worker_stop,
        };

        GWD_PLUGIN_ENTRY(api, out, err, err_len) {
            GWD_PLUGIN_INIT(api, err, err_len);
            *out = &example;
            return GWD_OK;
        }
        """#

    func testTheTimersExampleTicksAndPosts() throws {
        let source = Self.prelude + (try Self.timersExample()) + Self.epilogue
        let library = try PluginBuilds.compile(source, output: "timers-example.so", flags: PluginBuilds.pluginFlags)
        let driver = try ConformanceDriver.load(library)
        XCTAssertEqual(driver.plugin.pointee.on_worker_start?(FakeHost.context), 0)
        XCTAssertEqual(fakeHost.calls, [HostCall(function: "timer_add", flags: GWD_TIMER_REPEAT, number: 1000),
                                        HostCall(function: "get_poster")])

        let tick = driver.fire(fakeHost.lastTimerID)
        XCTAssertEqual(tick.map(\.function), ["send_to_all"])
        let now = Int(Date().timeIntervalSince1970)
        let sent = Int(tick.first?.data?.dropFirst("time:".count) ?? "") ?? 0
        XCTAssertTrue((now - 5...now + 5).contains(sent), "\(tick)")

        XCTAssertEqual(driver.runPosted(1).map(\.data), ["job:1"])
        driver.plugin.pointee.on_worker_stop?(FakeHost.context)  // joins the consumer
        XCTAssertEqual(fakePosts.count, 0)
    }

    /// An older host: the example refuses to start instead of calling what is not there.
    func testTheTimersExampleRefusesAVersion1_1Host() throws {
        let source = Self.prelude + (try Self.timersExample()) + Self.epilogue
        let library = try PluginBuilds.compile(source, output: "timers-example.so", flags: PluginBuilds.pluginFlags)
        let table = FakeHostTable.allocate {
            $0.struct_size = UInt32(MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!)
            $0.abi_minor = 1
        }
        let driver = try ConformanceDriver.load(library, table: table)
        XCTAssertEqual(driver.plugin.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_UNSUPPORTED.rawValue))
        XCTAssertEqual(fakeHost.calls, [])
    }
}

import CGatewayABI
import Foundation
import GatewayWire
import XCTest

@testable import GatewayWorker

/// Timers and posted work (ABI 1.2) on the real host table and event loop, with a C plugin
/// that reports every status it gets: the rules of gatewayd.h, each bad input's status, the
/// queue bound, and what stopping does.
final class PluginTimerTests: XCTestCase {
    private let client = PluginHostHarness.client(port: 2900, 1)

    nonisolated(unsafe) private static var built: String?

    /// The test plugin. Messages: `bad` (every bad input, statuses in order), `once:<ms>`,
    /// `repeat:<ms>:<n>`, `busy:<ms>` (blocks the thread), `flood:<n>` (a thread of its own posts
    /// n tasks while this callback waits for it), `stopped` (timer_add and post after stopping).
    private static func plugin() throws -> String {
        if let built { return built }
        let path = try CPluginCompiler.build("timer-test", #"""
            #define _POSIX_C_SOURCE 200809L
            #include <pthread.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <time.h>
            #include "gatewayd.h"
            GWD_PLUGIN_API;
            static char client[21];
            static gwd_poster *poster;
            static int ticks, wanted;
            static long long last_ms, start_ms;
            static int posted_ran;

            static long long now_ms(void) {
                struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
            }
            static void say(gwd_ctx *ctx, const char *text) {
                gwd_api->send_to_client(ctx, client, text, strlen(text), 0);
            }
            static void on_once(gwd_ctx *ctx, uint64_t id, void *data) {
                char reply[64];
                int late = (int)(now_ms() - *(long long *)data);
                free(data);
                int again = gwd_api->timer_del(ctx, id);  /* already fired: gone */
                snprintf(reply, sizeof reply, "once:%d:%s", again, late >= 0 ? "not-early" : "early");
                say(ctx, reply);
            }
            static void on_tick(gwd_ctx *ctx, uint64_t id, void *data) {
                char reply[64];
                long long now = now_ms();
                /* tick:N:since the last tick:since timer_add */
                snprintf(reply, sizeof reply, "tick:%d:%lld:%lld", ++ticks, last_ms ? now - last_ms : 0, now - start_ms);
                last_ms = now;
                say(ctx, reply);
                if (ticks == wanted) {
                    int first = gwd_api->timer_del(ctx, id), second = gwd_api->timer_del(ctx, id);
                    snprintf(reply, sizeof reply, "deleted:%d:%d", first, second);
                    say(ctx, reply);
                }
                (void)data;
            }
            static void on_posted(gwd_ctx *ctx, void *data) {
                posted_ran++;
                if (data) { say(ctx, (const char *)data); free(data); }
            }
            static void on_noop(gwd_ctx *ctx, uint64_t id, void *data) { (void)ctx; (void)id; (void)data; }
            static void *flood(void *arg) {
                int n = *(int *)arg, accepted = 0, full = 0, other = 0;
                for (int i = 0; i < n; i++) {
                    int status = gwd_api->post(poster, on_posted, NULL);
                    if (status == GWD_OK) accepted++; else if (status == GWD_ERR_QUEUE_FULL) full++; else other++;
                }
                ((int *)arg)[1] = accepted; ((int *)arg)[2] = full; ((int *)arg)[3] = other;
                return NULL;
            }
            static int32_t on_start(gwd_ctx *ctx) { return gwd_api->get_poster(ctx, &poster); }
            static void on_message(gwd_ctx *ctx, const char *id, const void *data, size_t len, uint32_t kind) {
                char text[128], reply[256];
                snprintf(text, sizeof text, "%.*s", (int)len, (const char *)data);
                memcpy(client, id, 21);
                int ms, n;
                uint64_t timer = 0;
                if (strcmp(text, "bad") == 0) {
                    snprintf(reply, sizeof reply, "bad:%d,%d,%d,%d,%d,%d,%d,%d,%d",
                             gwd_api->timer_add(ctx, 0, GWD_TIMER_ONCE, on_noop, NULL, &timer),
                             gwd_api->timer_add(ctx, -5, GWD_TIMER_REPEAT, on_noop, NULL, &timer),
                             gwd_api->timer_add(ctx, 10, GWD_TIMER_ONCE, NULL, NULL, &timer),
                             gwd_api->timer_add(ctx, 10, 0x8, on_noop, NULL, &timer),
                             gwd_api->timer_add(ctx, 1000000000000001LL, GWD_TIMER_ONCE, on_noop, NULL, &timer),
                             gwd_api->timer_del(ctx, 123456),
                             gwd_api->post(NULL, on_posted, NULL),
                             gwd_api->post(poster, NULL, NULL),
                             gwd_api->get_poster(ctx, NULL));
                    say(ctx, reply);
                } else if (sscanf(text, "once:%d", &ms) == 1) {
                    long long *due = malloc(sizeof *due);
                    *due = now_ms() + ms;
                    int status = gwd_api->timer_add(ctx, ms, GWD_TIMER_ONCE, on_once, due, &timer);
                    snprintf(reply, sizeof reply, "added:%d:%d", status, timer != 0);
                    say(ctx, reply);
                } else if (sscanf(text, "repeat:%d:%d", &ms, &n) == 2) {
                    ticks = 0; wanted = n; last_ms = 0; start_ms = now_ms();
                    gwd_api->timer_add(ctx, ms, GWD_TIMER_REPEAT, on_tick, NULL, &timer);
                } else if (sscanf(text, "busy:%d", &ms) == 1) {
                    struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
                    nanosleep(&pause, NULL);
                } else if (sscanf(text, "flood:%d", &n) == 1) {
                    int args[4] = { n, 0, 0, 0 };
                    pthread_t thread;
                    posted_ran = 0;
                    pthread_create(&thread, NULL, flood, args);
                    pthread_join(thread, NULL);  /* the plugin thread is busy: nothing runs meanwhile */
                    snprintf(reply, sizeof reply, "flood:%d:%d:%d", args[1], args[2], args[3]);
                    say(ctx, reply);
                    gwd_api->post(poster, on_posted, NULL);  /* the queue is full: refused */
                } else if (strcmp(text, "ran") == 0) {
                    snprintf(reply, sizeof reply, "ran:%d", posted_ran);
                    say(ctx, reply);
                } else if (strcmp(text, "post") == 0) {
                    char *copy = strdup("posted:hello");
                    int status = gwd_api->post(poster, on_posted, copy);
                    if (status != GWD_OK) free(copy);
                } else if (strcmp(text, "stopped") == 0) {
                    snprintf(reply, sizeof reply, "stopped:%d,%d",
                             gwd_api->timer_add(ctx, 10, GWD_TIMER_ONCE, on_noop, NULL, &timer),
                             gwd_api->post(poster, on_posted, NULL));
                    say(ctx, reply);
                }
                (void)kind;
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "timer-test", .version = "1",
                                               .on_worker_start = on_start, .on_message = on_message };
            GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
            """#)
        built = path
        return path
    }

    private func harness() throws -> PluginHostHarness {
        let harness = try PluginHostHarness(plugin: try Self.plugin()) { _, _ in .success(.null) }
        addTeardownBlock { try harness.stop() }
        return harness
    }


    func testEveryBadInputHasItsStatus() throws {
        let harness = try harness()
        let invalid = GWD_ERR_INVALID_ARGUMENT.rawValue
        let expected = [invalid, invalid, invalid, invalid, invalid, GWD_ERR_NOT_FOUND.rawValue, invalid, invalid, invalid]
        XCTAssertEqual(harness.call(from: client, "bad"), ["bad:" + expected.map(String.init).joined(separator: ",")])
    }

    func testAOneShotTimerFiresOnceNeverEarlyAndIsThenGone() throws {
        let harness = try harness()
        XCTAssertEqual(harness.call(from: client, "once:30", expecting: 2), ["added:0:1", "once:\(GWD_ERR_NOT_FOUND.rawValue):not-early"])
        harness.runLoop(for: 60_000_000)
        XCTAssertEqual(harness.replies(to: client, count: 3, timeout: 0).count, 2, "a one-shot timer fired twice")
    }

    func testARepeatingTimerTicksUntilDeletedInsideItsCallback() throws {
        let harness = try harness()
        let replies = harness.call(from: client, "repeat:20:4", expecting: 5)
        XCTAssertEqual(replies.map { $0.split(separator: ":").prefix(2).joined(separator: ":") },
                       ["tick:1", "tick:2", "tick:3", "tick:4", "deleted:\(GWD_OK.rawValue)"])
        XCTAssertEqual(replies.last, "deleted:0:\(GWD_ERR_NOT_FOUND.rawValue)")
        // Never early: tick k at least k intervals after timer_add (a tick may come less than an
        // interval after a late one: the schedule is anchored, PluginTimers.nextDeadline).
        for (index, reply) in replies.dropLast().enumerated() {
            XCTAssertGreaterThanOrEqual(Int(reply.split(separator: ":")[3])!, 20 * (index + 1) - 1, reply)
        }
        harness.runLoop(for: 60_000_000)
        XCTAssertEqual(harness.replies(to: client, count: 6, timeout: 0).count, 5, "the timer ticked after timer_del")
    }

    /// Workerman's semantics: a timer held up by a busy plugin fires once, late, and does not
    /// burst to catch up the intervals it missed.
    func testABusyPluginDelaysATimerWithoutABurst() throws {
        let harness = try harness()
        harness.send("repeat:20:6", from: client)
        XCTAssertEqual(harness.replies(to: client, count: 1).count, 1)
        harness.send("busy:110", from: client)  // about five intervals missed
        let replies = harness.replies(to: client, count: 7)
        XCTAssertEqual(replies.count, 7, "\(replies)")
        let gaps = replies.prefix(6).dropFirst().map { Int($0.split(separator: ":")[2])! }
        XCTAssertGreaterThanOrEqual(gaps.max()!, 100, "the busy plugin held the timer up: \(gaps)")
        XCTAssertGreaterThanOrEqual(gaps.min()!, 10, "ticks came in a burst: \(gaps)")
    }

    func testPostsRunInOrderAfterTheCallbackAndTheQueueIsBounded() throws {
        let harness = try harness()
        XCTAssertEqual(harness.call(from: client, "flood:20000"), ["flood:\(PluginPoster.capacity):\(20000 - PluginPoster.capacity):0"])
        harness.runLoop(for: 20_000_000)
        XCTAssertEqual(harness.call(from: client, "ran"), ["ran:\(PluginPoster.capacity)"], "every accepted post runs exactly once")
        harness.send("post", from: client)
        XCTAssertEqual(harness.replies(to: client, count: 3).last, "posted:hello")
    }

    func testAStoppingWorkerRefusesTimersAndPosts() throws {
        let harness = try harness()
        harness.host.beginStopping()
        let stopping = GWD_ERR_STOPPING.rawValue
        XCTAssertEqual(harness.call(from: client, "stopped"), ["stopped:\(stopping),\(stopping)"])
    }

    func testStatusStringsNameTheNewStatuses() {
        XCTAssertEqual(String(cString: hostStatusString(GWD_ERR_QUEUE_FULL.code)), "queue full")
        XCTAssertEqual(String(cString: hostStatusString(GWD_ERR_STOPPING.code)), "the worker is stopping")
    }

    func testNextDeadlineKeepsTheScheduleAndSkipsMissedIntervals() {
        let interval: Int64 = 1000
        func next(_ deadline: Int64, now: Int64) -> Int64 {
            PluginTimers.nextDeadline(
                after: .init(nanoseconds: deadline), interval: interval, now: .init(nanoseconds: now)
            ).nanoseconds
        }
        XCTAssertEqual(next(5000, now: 5003), 6000, "on time: anchored to the schedule, no drift")
        XCTAssertEqual(next(5000, now: 5999), 6000)
        XCTAssertEqual(next(5000, now: 6000), 7000, "a deadline that is now is not fired again at once")
        XCTAssertEqual(next(5000, now: 8500), 9500, "late: one interval from now, no burst")
    }
}

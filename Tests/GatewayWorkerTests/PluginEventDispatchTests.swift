import CGatewayABI
import Foundation
import GatewayWire
import XCTest

@testable import GatewayWorker

/// Typed events (ABI 1.2) on the real host table and a real C plugin: declarations and their
/// refusals, handlers called through libffi with every argument type, acknowledgements with
/// results, error frames, what falls through to on_message, and event_emit to every target.
final class PluginEventDispatchTests: XCTestCase {
    private let client = PluginHostHarness.client(port: 2900, 1)

    nonisolated(unsafe) private static var built: String?

    /// Declares in on_worker_start: `all` ("s:s S:t i:i d:d b:b j:j"), `none` (""), and the
    /// refused ones, whose statuses it reports on `declarations`; `emit:<kind>` emits to a target.
    private static func plugin() throws -> String {
        if let built { return built }
        let path = try CPluginCompiler.build("event-test", #"""
            #include <stdbool.h>
            #include <stdio.h>
            #include <string.h>
            #include "gatewayd.h"
            GWD_PLUGIN_API;
            static int32_t refused[6];
            static int32_t on_all(gwd_ctx *ctx, const char *client, const char *s, const char *t, size_t t_len,
                                  int64_t i, double d, bool b, const char *j, size_t j_len) {
                char reply[512];
                int n = snprintf(reply, sizeof reply, "all|%s|%zu:%.*s|%lld|%.17g|%d|%zu:%s|%zu", s, t_len, (int)t_len, t,
                                 (long long)i, d, (int)b, j_len, j, strlen(j));
                gwd_api->send_to_client(ctx, client, reply, (size_t)n, 0);
                gwd_api->event_result(ctx, "{\"seen\":true}", 13);
                return i == 13 ? GWD_ERR_FAILED : GWD_OK;
            }
            static int32_t on_none(gwd_ctx *ctx, const char *client) {
                gwd_api->send_to_client(ctx, client, "none", 4, 0);
                return GWD_OK;
            }
            static void on_message(gwd_ctx *ctx, const char *client, const void *data, size_t len, uint32_t kind) {
                char reply[256];
                if (len == 12 && memcmp(data, "declarations", 12) == 0) {
                    int n = snprintf(reply, sizeof reply, "declarations:%d,%d,%d,%d,%d,%d",
                                     refused[0], refused[1], refused[2], refused[3], refused[4], refused[5]);
                    gwd_api->send_to_client(ctx, client, reply, (size_t)n, 0);
                } else if (len > 5 && memcmp(data, "emit:", 5) == 0) {
                    gwd_arg args[4] = { gwd_arg_string("a\"b"), gwd_arg_int(-7), gwd_arg_bool(1), gwd_arg_json("[1,{}]", 6) };
                    uint32_t kind_ = (uint32_t)(((const char *)data)[5] - '0');
                    const char *target = kind_ == GWD_EMIT_CLIENT ? client : "room";
                    size_t target_len = kind_ == GWD_EMIT_CLIENT ? 20 : 4;
                    int32_t status = gwd_api->event_emit(ctx, kind_, target, target_len, "news", args, 4);
                    gwd_arg bad = gwd_arg_json("{oops", 5);
                    int32_t bad_status = gwd_api->event_emit(ctx, GWD_EMIT_ALL, NULL, 0, "bad", &bad, 1);
                    int n = snprintf(reply, sizeof reply, "emitted:%d,%d", status, bad_status);
                    gwd_api->send_to_client(ctx, client, reply, (size_t)n, 0);
                } else {
                    int n = snprintf(reply, sizeof reply, "message:%.*s", (int)len, (const char *)data);
                    gwd_api->send_to_client(ctx, client, reply, (size_t)n, 0);
                }
                (void)kind;
            }
            static int32_t on_start(gwd_ctx *ctx) {
                gwd_api->event_on(ctx, "all", "s:s S:t i:i d:d b:b j:j", GWD_EVENT_FN(on_all));
                gwd_api->event_on(ctx, "none", "", GWD_EVENT_FN(on_none));
                refused[0] = gwd_api->event_on(ctx, "all", "s", GWD_EVENT_FN(on_none));
                refused[1] = gwd_api->event_on(ctx, "x", "q", GWD_EVENT_FN(on_none));
                refused[2] = gwd_api->event_on(ctx, "x", "i i i i i i i i i i i i i i i i i", GWD_EVENT_FN(on_none));
                refused[3] = gwd_api->event_on(ctx, "x", "i", NULL);
                refused[4] = gwd_api->event_on(ctx, "", "i", GWD_EVENT_FN(on_none));
                refused[5] = gwd_api->event_on(ctx, NULL, "i", GWD_EVENT_FN(on_none));
                return GWD_OK;
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "event-test", .version = "1",
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


    func testRefusedDeclarationsHaveTheirStatusAndALogLine() throws {
        let harness = try harness()
        let invalid = GWD_ERR_INVALID_ARGUMENT.rawValue
        XCTAssertEqual(harness.call(from: client, "declarations"), ["declarations:\(GWD_ERR_EXISTS.rawValue),\(invalid),\(invalid),\(invalid),\(invalid),\(invalid)"])
        let warnings = harness.logs.warnings
        XCTAssertTrue(warnings.contains { $0.contains("event_on(\"all\"") }, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.contains("event_on(\"x\", \"q\")") }, "\(warnings)")
    }

    func testEveryArgumentTypeReachesTheHandlerThroughLibffi() throws {
        let harness = try harness()
        let message = #"["all", "héllo", "a\u0000b", -9223372036854775808, 0.1, true, {"k": [1, 2.5, "x"]}]"#
        XCTAssertEqual(
            harness.call(from: client, message),
            // printf's %.*s stops at the NUL; the length says all 3 bytes arrived.
            ["all|héllo|3:a|-9223372036854775808|0.10000000000000001|1|20:{\"k\": [1, 2.5, \"x\"]}|20"])
        XCTAssertEqual(harness.call(from: client, #"{"event": "all", "j": null, "b": false, "d": -1e300, "i": 9223372036854775807, "t": "", "s": ""}"#),
                       ["all||0:|9223372036854775807|-1.0000000000000001e+300|0|4:null|4"])
        XCTAssertEqual(harness.call(from: client, #"["none"]"#), ["none"])
    }

    func testAnAcknowledgementCarriesTheStatusAndTheResult() throws {
        let harness = try harness()
        let replies = harness.call(from: client, #"{"event": "all", "ack": 42, "args": ["s", "t", 13, 1, false, 0]}"#, expecting: 2)
        XCTAssertEqual(replies.last, #"{"ack":42,"status":11,"result":{"seen":true}}"#)
        XCTAssertEqual(harness.call(from: client, #"{"event": "none", "ack": -5}"#, expecting: 2).last, #"{"ack":-5,"status":0}"#)
    }

    func testBadArgumentsAreAnsweredAndCounted() throws {
        let harness = try harness()
        let frame = try XCTUnwrap(harness.call(from: client, #"["all", "s", "t", "not a number", 1, true, 0]"#).first)
        let json = try JSONValue.parse(Array(frame.utf8))
        XCTAssertEqual(json["error"]?.stringValue, "bad_argument")
        XCTAssertEqual(json["event"]?.stringValue, "all")
        XCTAssertEqual(json["argument"]?.intValue, 3)
        XCTAssertEqual(json["expected"]?.stringValue, "integer")
        XCTAssertEqual(harness.host.counters.snapshot.eventErrors, 1)
    }

    func testWhatIsNoDeclaredEventGoesToOnMessage() throws {
        let harness = try harness()
        for message in [#"["nosuch", 1]"#, "plain text", "[1, 2]", #"{"event": 3}"#, ""] {
            XCTAssertEqual(harness.call(from: client, message), ["message:\(message)"])
        }
    }

    func testEmitBuildsTheEventForEveryTarget() throws {
        let harness = try harness()
        let event = #"["news","a\"b",-7,true,[1,{}]]"#
        let invalid = GWD_ERR_INVALID_ARGUMENT.rawValue
        XCTAssertEqual(harness.call(from: client, "emit:\(GWD_EMIT_CLIENT)", expecting: 2), [event, "emitted:0,\(invalid)"])
        for kind in [GWD_EMIT_GROUP, GWD_EMIT_UID, GWD_EMIT_ALL] {
            _ = harness.call(from: client, "emit:\(kind)")
            let command: GatewayCommand = kind == GWD_EMIT_GROUP ? .sendToGroup : kind == GWD_EMIT_UID ? .sendToUID : .sendToAll
            let sent = harness.frames.filter { $0.frame.command == command }.map { String(buffer: $0.frame.body) }
            XCTAssertTrue(sent.contains(event), "\(command): \(sent)")
        }
    }
}

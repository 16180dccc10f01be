import CGatewayABI
import Foundation
import GatewayWire
import NIOCore
import XCTest

@testable import GatewayWorker

/// The real host table and plugin thread against two fake gateways: queries reach every
/// gateway and merge, a silent gateway gives a partial result with its status and a warning,
/// and sends are GatewayAPI's frames. The plugin is plugins/conformance-c, driven with `api:`.
final class PluginHostQueryTests: XCTestCase {
    private let a1 = PluginHostHarness.client(port: 2900, 1)
    private let a2 = PluginHostHarness.client(port: 2900, 2)
    private let b7 = PluginHostHarness.client(port: 2901, 7)

    /// Built once: a loaded library must never be rebuilt in place.
    nonisolated(unsafe) private static var conformance: String?

    private static func conformancePlugin() throws -> String {
        if let conformance { return conformance }
        let source = try String(
            contentsOf: CPluginCompiler.repositoryRoot.appendingPathComponent("plugins/conformance-c/conformance.c"), encoding: .utf8)
        let built = try CPluginCompiler.build("conformance-c-host", source)
        conformance = built
        return built
    }

    /// Both gateways answer as holding a1, a2 (gateway A) and b7 (gateway B); `silent` gives none.
    private func harness(
        plugin: String? = nil, silent: [String: HostError] = [:]
    ) throws -> PluginHostHarness {
        let harness = try PluginHostHarness(plugin: try plugin ?? Self.conformancePlugin()) { gateway, request in
            if let error = silent[gateway] { return .failure(error) }
            let connections: [Int] = gateway == PluginHostHarness.gatewayA ? [1, 2] : [7]
            switch request.command {
            case .getClientCountByGroup:
                return .success(.int(connections.count))
            case .select:  // [connection id => [uid => …]]: a1 is "alice", b7 "bob"
                let uids = [1: "alice", 2: "", 7: "bob"]
                return .success(.array(PHPArray(entries: connections.map { (PHPArrayKey.int($0), ["uid": .string(uids[$0]!)]) })))
            case .isOnline:
                return .success(.int(connections.contains(Int(request.connectionID)) ? 1 : 0))
            default:
                return .success(.null)
            }
        }
        addTeardownBlock { try harness.stop() }
        return harness
    }

    private func call(_ harness: PluginHostHarness, _ message: String, from client: ClientID? = nil) -> String {
        let from = client ?? a1
        let before = harness.replies(to: from, timeout: 0).count
        harness.send(message, from: from)
        return harness.replies(to: from, count: before + 1).last ?? "<no reply>"
    }

    func testAQueryOfEveryGatewayMergesTheirAnswers() throws {
        let harness = try harness()
        XCTAssertEqual(call(harness, "api:get_all_client_count"), "api:get_all_client_count:3")
        XCTAssertEqual(call(harness, "api:get_all_client_id_list"), #"api:get_all_client_id_list:["\#(a1)","\#(a2)","\#(b7)"]"#)
        XCTAssertEqual(call(harness, "api:get_all_uid_list"), #"api:get_all_uid_list:["alice","bob"]"#)
        XCTAssertEqual(call(harness, "api:get_all_uid_count"), "api:get_all_uid_count:2")
        XCTAssertEqual(call(harness, "api:get_uid_by_client_id \(b7)"), #"api:get_uid_by_client_id:"bob""#)
        XCTAssertEqual(call(harness, "api:get_uid_by_client_id \(a2)"), "api:get_uid_by_client_id:error:GWD_ERR_NOT_FOUND")
        XCTAssertTrue(harness.logs.warnings.isEmpty, "\(harness.logs.warnings)")
    }

    func testASilentGatewayGivesThePartialResultWithTheStatusAndAWarning() throws {
        let harness = try harness(silent: [PluginHostHarness.gatewayB: .timeout])
        XCTAssertEqual(call(harness, "api:get_all_client_count"), "api:get_all_client_count:error:GWD_ERR_TIMEOUT")
        let warning = try XCTUnwrap(harness.logs.warnings.first)
        XCTAssertTrue(warning.contains("getAllClientIdCount"), warning)
        XCTAssertTrue(warning.contains("\(PluginHostHarness.gatewayB) (no answer in time)"), warning)
        XCTAssertFalse(warning.contains(PluginHostHarness.gatewayA), warning)
    }

    /// What a C plugin receives with GWD_ERR_TIMEOUT / UNAVAILABLE: the other gateways' answers,
    /// in memory it must free.
    func testThePartialResultIsHandedOutWithTheStatus() throws {
        let plugin = try CPluginCompiler.build(
            "partial-results",
            """
            #include <stdio.h>
            #include "gatewayd.h"
            GWD_PLUGIN_API;
            static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
                gwd_list *list = NULL;
                uint64_t count = 0;
                char reply[128];
                int32_t status = gwd_api->get_all_client_id_list(ctx, &list);
                int32_t counted = gwd_api->get_all_client_count(ctx, &count);
                int n = snprintf(reply, sizeof reply, "%d:%zu:%s %d:%llu", (int)status, list ? list->count : 0,
                                 list && list->count ? list->items[0].data : "-", (int)counted, (unsigned long long)count);
                gwd_api->free(list);
                gwd_api->send_to_current_client(ctx, reply, (size_t)n, 0);
                (void)client_id; (void)data; (void)len; (void)kind;
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "partial", .on_message = on_message };
            GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
            """)
        let timedOut = try harness(plugin: plugin, silent: [PluginHostHarness.gatewayB: .timeout])
        XCTAssertEqual(call(timedOut, "go"), "5:2:\(a1) 5:2")
        let disconnected = try harness(plugin: plugin, silent: [PluginHostHarness.gatewayA: .unavailable])
        XCTAssertEqual(call(disconnected, "go"), "4:1:\(b7) 4:1")
        let both = try harness(plugin: plugin, silent: [PluginHostHarness.gatewayA: .unavailable, PluginHostHarness.gatewayB: .timeout])
        XCTAssertEqual(call(both, "go"), "5:0:- 5:0", "TIMEOUT wins over UNAVAILABLE")
    }

    func testAQueryOfOneClientsGatewayHasNoPartialResult() throws {
        let harness = try harness(silent: [PluginHostHarness.gatewayB: .timeout])
        XCTAssertEqual(call(harness, "api:is_online \(a2)"), "api:is_online:true")
        XCTAssertEqual(call(harness, "api:is_online \(b7)"), "api:is_online:error:GWD_ERR_TIMEOUT")
        XCTAssertEqual(call(harness, "api:get_uid_by_client_id \(b7)"), "api:get_uid_by_client_id:error:GWD_ERR_TIMEOUT")
        XCTAssertTrue(harness.logs.warnings.contains { $0.contains("isOnline") && $0.contains(PluginHostHarness.gatewayB) })
    }

    func testSendsAreGatewayAPIsFramesForEachGateway() throws {
        let harness = try harness()
        XCTAssertEqual(call(harness, "api:send_to_clients \(a2),\(b7) hi there"), "api:send_to_clients:null")
        XCTAssertEqual(call(harness, "api:send_to_groups g1,g2 \(a2) to groups"), "api:send_to_groups:null")
        XCTAssertEqual(call(harness, "api:destroy_client \(b7)"), "api:destroy_client:null")
        let frames = harness.frames.filter { $0.frame.command != .sendToOne }

        let toClients = frames.filter { $0.frame.command == .sendToAll }
        XCTAssertEqual(toClients.map(\.gateway), [PluginHostHarness.gatewayA, PluginHostHarness.gatewayB])
        XCTAssertEqual(try toClients.map { try SendToAllScope(extData: $0.frame.extData) }, [.only([2]), .only([7])])
        XCTAssertEqual(toClients.map { String(buffer: $0.frame.body) }, ["hi there", "hi there"])

        let toGroups = frames.filter { $0.frame.command == .sendToGroup }
        XCTAssertEqual(Set(toGroups.map(\.gateway)), [PluginHostHarness.gatewayA, PluginHostHarness.gatewayB])
        for entry in toGroups {
            let ext = try SendToGroupExt(extData: entry.frame.extData)
            XCTAssertEqual(ext.groups, ["g1", "g2"])
            XCTAssertEqual(ext.exclude, entry.gateway == PluginHostHarness.gatewayA ? [2] : nil, entry.gateway)
        }

        let destroys = frames.filter { $0.frame.command == .destroy }
        XCTAssertEqual(destroys.map(\.gateway), [PluginHostHarness.gatewayB])
        XCTAssertEqual(destroys.map(\.frame.connectionID), [7])
    }

    /// A plugin compiled against the header as ABI 1.0 shipped it (shorter table, descriptor
    /// abi_minor 0) loads and works on this host.
    func testAPluginBuiltAgainstABI1_0Works() throws {
        let plugin = try CPluginCompiler.build(
            "abi-1.0-plugin",
            """
            #include <stdio.h>
            #include "gatewayd.h"
            GWD_PLUGIN_API;
            static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
                uint64_t count = 0;
                char reply[96];
                int32_t status = gwd_api->get_all_client_count(ctx, &count);
                int n = snprintf(reply, sizeof reply, "%.*s %d:%llu table %u", (int)len, (const char *)data, (int)status,
                                 (unsigned long long)count, (unsigned)(gwd_api->struct_size >= sizeof(gwd_host_api)));
                gwd_api->send_to_current_client(ctx, reply, (size_t)n, 0);
                (void)client_id; (void)kind;
            }
            static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "abi-1.0", .on_message = on_message };
            GWD_PLUGIN_ENTRY(api, out, err, err_len) { GWD_PLUGIN_INIT(api, err, err_len); *out = &plugin; return GWD_OK; }
            """,
            headerDirectory: try CPluginCompiler.version1_0HeaderDirectory())
        XCTAssertEqual(try PluginLoader.describe(path: plugin).abi, "1.0")
        let harness = try harness(plugin: plugin)
        XCTAssertEqual(call(harness, "hello"), "hello 0:3 table 1")
    }
}
